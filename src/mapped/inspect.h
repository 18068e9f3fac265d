// Reading a vector or struct file without its C++ record type, for tools: the schema comes from
// the file's header page, and the state is the one a read-only MappedVector or MappedStruct
// would show (the last synced state; a vector's committed journal included), read through
// VectorStorage and StructStorage opened read-only with that schema. Besides the state: the
// header facts, the vector's journal (absent, empty, or which sync it holds and whether the
// file already holds it) and the struct's two snapshot slots.
#ifndef RECSTORE_SRC_MAPPED_INSPECT_H_
#define RECSTORE_SRC_MAPPED_INSPECT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "recstore/schema.h"
#include "src/format/mapped_file.h"

namespace recstore::internal {
class StructStorage;
class VectorStorage;
}  // namespace recstore::internal

namespace recstore::mapped {

// Whether `path` is a regular file starting with the magic of a vector or struct file.
// Errors only for a failing read of an existing regular file.
absl::StatusOr<bool> IsMappedFile(Env* env, const std::string& path);

// What "<path>-journal" holds, beside the vector file.
struct JournalState {
  enum class Kind {
    kAbsent,     // no journal file
    kEmpty,      // 0 bytes (a new vector file, never synced)
    kInvalid,    // no valid journal: torn before its commit point, or damaged; ignored
    kOtherFile,  // a valid journal of another file (another file id); ignored
    kStale,      // a sync older than the file's; ignored
    kApplied,    // the file holds every page of the journal's sync
    kPending,    // committed, the file lacks some of its pages: the next writable open redoes it
    kLost,       // a sync more than one past the file's: the syncs between are lost
  };
  Kind kind = Kind::kAbsent;
  uint64_t bytes = 0;  // the journal file's size
  uint64_t seq = 0;    // the sync it holds (valid journals)
  uint64_t pages = 0;  // pages it carries, the header page included (valid journals)
};

// A struct file's snapshot slot.
struct SlotState {
  uint64_t offset = 0;  // in the file
  uint64_t seq = 0;     // 0: empty
  bool valid = false;   // checksum matches (an empty slot is not valid)
};

class Inspection {
 public:
  Inspection(Inspection&&) noexcept;
  Inspection& operator=(Inspection&&) noexcept;
  ~Inspection();

  format::MappedKind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  const RecordSchema& schema() const { return schema_; }
  uint64_t file_size() const { return file_size_; }

  // The state shown (what a read-only open shows): its sync count (vector: syncs applied or
  // committed; struct: the newest snapshot's seq), records (vector: elements; struct: 1) and
  // their bytes, records() * schema().size.
  uint64_t seq() const { return seq_; }
  uint64_t records() const { return records_; }
  std::span<const std::byte> data() const { return data_; }

  // Vector files. The header page as it decoded (nullopt: damaged, header_error() says how;
  // the journal then stands in for it, as at a writable open), elements the file has room
  // for, and the journal.
  const std::optional<format::MappedHeader>& file_header() const { return file_header_; }
  const std::string& header_error() const { return header_error_; }
  uint64_t capacity() const { return capacity_; }
  const std::string& journal_path() const { return journal_path_; }
  const JournalState& journal() const { return journal_; }

  // Struct files: both slots, and the newest valid one.
  const std::array<SlotState, 2>& slots() const { return slots_; }
  int newest_slot() const { return newest_slot_; }

 private:
  friend absl::StatusOr<Inspection> Inspect(Env* env, const std::string& path);
  Inspection();

  format::MappedKind kind_ = format::MappedKind::kVector;
  std::string path_;
  RecordSchema schema_;
  uint64_t file_size_ = 0;
  uint64_t seq_ = 0;
  uint64_t records_ = 0;
  std::span<const std::byte> data_;
  std::optional<format::MappedHeader> file_header_;
  std::string header_error_;
  uint64_t capacity_ = 0;
  std::string journal_path_;
  JournalState journal_;
  std::array<SlotState, 2> slots_;
  int newest_slot_ = -1;
  std::unique_ptr<internal::VectorStorage> vector_;
  std::unique_ptr<internal::StructStorage> struct_;
};

// Reads the vector or struct file at `path` (env nullptr: Env::Default()), taking no lock: a
// writer may work beside it. FailedPrecondition when it is not such a file (or of a newer
// format version); DataLoss for a damaged file (a damaged header with no valid journal to
// restore it, a file shorter than its header says, no valid struct snapshot); errno errors.
// Every error names the file.
absl::StatusOr<Inspection> Inspect(Env* env, const std::string& path);

}  // namespace recstore::mapped

#endif  // RECSTORE_SRC_MAPPED_INSPECT_H_
