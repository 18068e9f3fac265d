// Which synced state a vector's files hold: the header page, the journal beside it, and the
// rules that decide between them (docs/design.md 12.1), shared by the writer's recovery and a
// reader's snapshot; and the reader's snapshot itself.
#ifndef RECSTORE_SRC_MAPPED_VECTOR_STATE_H_
#define RECSTORE_SRC_MAPPED_VECTOR_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "recstore/schema.h"
#include "src/format/mapped_file.h"
#include "src/mapped/journal.h"
#include "src/mapped/region.h"

namespace recstore::mapped {

bool AllZero(std::string_view bytes);

// The first page of the file (shorter at the end of a short file).
absl::StatusOr<std::string> ReadHeaderPage(Env* env, int fd, const std::string& path);

// Whether `journal` stands in for the header page it was read beside: the header decodes and
// the journal carries the same file's next sync or the one the header names (a crash while
// the file was written leaves that), or the page is damaged (DataLoss) or all zero.
bool JournalApplies(const absl::StatusOr<format::MappedHeader>& header, std::string_view page,
                    const format::JournalHeader& journal);

// Bytes of elements the file (of `file_size` bytes) holds once `journal` (null: none) is laid
// over it: its pages may reach past the file's durable length, which a crash can cut back to
// before the sync that grew it.
uint64_t CoveredBytes(uint64_t file_size, const Journal* journal);

// `h` describes a vector of `schema` whose elements fit in `covered` bytes. FailedPrecondition
// for another kind or schema; DataLoss for a size past `covered` (overflow-safe).
absl::Status CheckVectorHeader(const std::string& path, const format::MappedHeader& h,
                               const RecordSchema& schema, uint64_t covered);

// The state a reader copied: what it names, and its elements in `region`.
struct VectorSnapshot {
  uint64_t file_id = 0;
  uint64_t seq = 0;
  uint64_t size = 0;
  Region region;
};

// Copies the newest synced state of the vector in `fd` (journal `journal_fd`, -1 if there is
// none) into a fresh region of `max_bytes` address space, retrying while a writer syncs under
// the copy (design.md 12.1, "Readers"). Unavailable after 100 attempts.
absl::StatusOr<VectorSnapshot> ReadVectorSnapshot(Env* env, int fd, const std::string& path,
                                                  int journal_fd, const std::string& journal_path,
                                                  const RecordSchema& schema, uint64_t max_bytes);

}  // namespace recstore::mapped

#endif  // RECSTORE_SRC_MAPPED_VECTOR_STATE_H_
