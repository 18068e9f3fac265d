// The vector's journal: the pages one Sync() changes, made durable before the vector file is
// touched, so a crash in the middle of writing them into the file is redone at the next open
// (docs/design.md 10, docs/format.md 10.3).
#ifndef RECSTORE_SRC_MAPPED_JOURNAL_H_
#define RECSTORE_SRC_MAPPED_JOURNAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "src/format/mapped_file.h"

namespace recstore::mapped {

// A run of consecutive dirty element pages [first, first+count), by element page number (page
// p holds element bytes [4096p, 4096p+4096), file page p+1).
struct PageRun {
  uint64_t first = 0;
  uint64_t count = 0;
};

// Writes the journal of sync `seq`: `header_page` as file page 0, then each run's pages taken
// from `elements` (the vector's memory). Not synced; the caller calls SyncData.
absl::Status WriteJournal(Env* env, int fd, const std::string& path, uint64_t file_id, uint64_t seq,
                          const std::string& header_page, const std::byte* elements,
                          const std::vector<PageRun>& runs);

// A journal read back and verified.
struct Journal {
  format::JournalHeader header;
  format::MappedHeader file_header;  // its page 0
  std::vector<uint64_t> numbers;     // file page numbers, strictly increasing, numbers[0] == 0
  std::string pages;                 // numbers.size() pages
  // The raw header bytes, to tell whether the journal changed since it was read.
  std::string raw_header;
};

// Reads only the journal's header: nullopt when there is none (the checksum is not checked).
absl::StatusOr<std::optional<format::JournalHeader>> ReadJournalHead(Env* env, int fd,
                                                                     const std::string& path);

// Marks the journal applied (format.md 10.3): the vector file holds its sync durably. Not
// flushed: a crash that loses the mark costs the next open a redo, nothing else.
absl::Status MarkJournalApplied(Env* env, int fd, const std::string& path,
                                const format::JournalHeader& header);

// Whether `head` is the applied journal of the sync `header` describes: nothing to redo and
// nothing to lay over the file.
bool AppliedTo(const std::optional<format::JournalHeader>& head,
               const absl::StatusOr<format::MappedHeader>& header);

// Reads the journal in `fd`. nullopt when it is empty, not a journal, fails its checksum or is
// malformed in any way (a journal torn by a crash before its commit looks so). Every value is
// range-checked: page numbers past the elements its own header page declares are refused.
// Errors only for failing reads.
absl::StatusOr<std::optional<Journal>> ReadJournal(Env* env, int fd, const std::string& path);

// The first kJournalHeaderSize bytes of the journal ("" when shorter), to compare.
absl::StatusOr<std::string> ReadJournalHeaderBytes(Env* env, int fd, const std::string& path);

// Writes the journal's pages into the vector file `fd` (its header page last).
absl::Status ApplyJournal(Env* env, int fd, const std::string& path, const Journal& journal);

}  // namespace recstore::mapped

#endif  // RECSTORE_SRC_MAPPED_JOURNAL_H_
