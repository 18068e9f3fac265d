// What stands behind a MappedVector's memory: the reserved address range, and for a file the
// vector file, its journal and the writer lock. Opening (with recovery), growth, Sync() and a
// reader's snapshot live here; MappedVectorBase keeps the element count and the dirty pages.
#ifndef RECSTORE_SRC_MAPPED_VECTOR_STORAGE_H_
#define RECSTORE_SRC_MAPPED_VECTOR_STORAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/mapped_vector.h"
#include "src/format/mapped_file.h"
#include "src/mapped/region.h"
#include "src/os/file.h"
#include "src/os/lock_file.h"

namespace recstore::internal {

class VectorStorage {
 public:
  static absl::StatusOr<std::unique_ptr<VectorStorage>> Open(std::string path,
                                                             const MappedVectorOptions& options,
                                                             const RecordSchema& schema);
  static absl::StatusOr<std::unique_ptr<VectorStorage>> Scratch(const ScratchOptions& options,
                                                                const RecordSchema& schema);

  std::byte* base() const { return region_.base(); }
  // Elements of the state opened (or refreshed to).
  size_t size() const { return size_; }
  // Bytes usable for elements, a multiple of the page size.
  size_t capacity_bytes() const { return region_.mapped(); }
  bool writable() const { return writable_; }
  const std::string& path() const { return path_; }
  uint64_t sync_count() const { return seq_; }
  uint64_t synced_size() const { return size_; }

  // Makes capacity_bytes() >= bytes: file space first, then memory.
  absl::Status Grow(uint64_t bytes);
  // Syncs `size` elements whose changed pages are set in `dirty` (cleared on success), and
  // every element from `low_water` up.
  absl::Status Sync(size_t size, size_t low_water, std::vector<uint64_t>& dirty);
  // Read-only: loads the newest synced state.
  absl::Status Refresh();

 private:
  VectorStorage() = default;
  absl::Status OpenWriter(const MappedVectorOptions& options, const RecordSchema& schema);
  absl::Status Create(const RecordSchema& schema);
  absl::Status InitializeLocked(const RecordSchema& schema);
  // With the lock: redoes a committed journal, initializes an unfinished creation, checks
  // the header; sets file_id_, seq_, size_.
  absl::Status RecoverLocked(const MappedVectorOptions& options, const RecordSchema& schema);
  absl::Status Fail(absl::Status s);

  Env* env_ = nullptr;
  std::string path_;
  std::string journal_path_;
  bool writable_ = false;
  bool scratch_ = false;
  size_t elem_size_ = 0;
  uint64_t max_bytes_ = 0;
  RecordSchema schema_;
  os::LockFile file_;  // the vector file (writers: holds the lock)
  os::File journal_;
  mapped::Region region_;
  uint64_t file_id_ = 0;
  uint64_t seq_ = 0;
  size_t size_ = 0;
  absl::Status failed_;  // set by a failed flush: final
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_MAPPED_VECTOR_STORAGE_H_
