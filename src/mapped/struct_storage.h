// What stands behind a MappedStruct: its file, the shared mapping of the live struct (or a
// read-only opener's private copy), the locks and the snapshot slots.
//
// Locks (open-file-description locks, one byte each): byte 0 is the opener lock (exclusive
// or shared, as opened); byte 1 tells the first opener (held exclusively while it restores
// the live struct from the newest snapshot, then shared by every opener); byte 2 serializes
// the syncs of all processes.
#ifndef RECSTORE_SRC_MAPPED_STRUCT_STORAGE_H_
#define RECSTORE_SRC_MAPPED_STRUCT_STORAGE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/mapped_struct.h"
#include "src/format/mapped_file.h"
#include "src/mapped/region.h"
#include "src/os/file.h"
#include "src/os/lock_file.h"

namespace recstore::internal {

class StructStorage {
 public:
  static absl::StatusOr<std::unique_ptr<StructStorage>> Open(std::string path,
                                                             const MappedStructOptions& options,
                                                             const RecordSchema& schema);

  std::byte* live() const { return live_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  uint64_t sync_count() const { return seq_; }

  absl::Status Sync();
  absl::Status Refresh();

  // Copies `size_` bytes of the live struct, each aligned 8-byte word with one atomic load.
  void Snapshot(void* out) const;

 private:
  struct Slot {
    uint64_t seq = 0;
    std::string payload;
  };

  StructStorage() = default;
  absl::Status OpenFile(const MappedStructOptions& options, const RecordSchema& schema);
  absl::Status Initialize(const RecordSchema& schema);
  absl::Status Validate(const RecordSchema& schema);
  absl::Status JoinOrRestore();
  // The slot `i` as read with pread; nullopt when empty, failing its checksum, or of another
  // file id than `file_id` (nullopt: any, the slot's own).
  absl::StatusOr<std::optional<Slot>> ReadSlot(int i, std::optional<uint64_t> file_id) const;
  // Whether the file is what a creation that stopped early leaves: no header page (short or
  // zero) and no slot that checks.
  absl::StatusOr<bool> UnfinishedCreation();
  // The newest valid slot's index, or nullopt.
  absl::StatusOr<std::optional<int>> NewestSlot(Slot* newest) const;
  // Copies the newest valid snapshot into live_ (DataLoss when neither slot is valid).
  absl::Status LoadNewestSnapshot();
  absl::Status LockWithRetry(uint64_t byte, LockKind kind, int tries);

  Env* env_ = nullptr;
  std::string path_;
  bool read_only_ = false;
  bool shared_ = false;
  size_t size_ = 0;
  format::StructLayout layout_;
  uint64_t file_id_ = 0;
  uint64_t seq_ = 0;
  os::LockFile file_;
  mapped::Region mapping_;  // writable opens: the whole file, shared
  mapped::Region copy_;     // read-only opens: the snapshot's copy
  std::byte* live_ = nullptr;
  absl::Status failed_;  // a failed flush of this open: final
  std::mutex sync_mu_;   // this process's syncs; other processes' are kept out by lock byte 2
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_MAPPED_STRUCT_STORAGE_H_
