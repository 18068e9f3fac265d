// An Env over the real file system whose mappings are heap buffers instead of mmap, and whose
// syncs do nothing. Tests that feed damaged files to the engine use it for two reasons:
//
// * AddressSanitizer does not watch mmap'ed memory, so a read a few bytes past the end of a
//   mapped segment goes unnoticed (or lands in a neighbouring mapping). A heap buffer of exactly
//   the mapped length has redzones on both sides: any read outside it is reported.
// * Corruption trials reopen a store tens of thousands of times; fdatasync/fsync would make that
//   slow and prove nothing about detection (durability has its own tests).
//
// A writable mapping behaves like MAP_SHARED for a single mapper: the buffer is loaded from the
// file at Map, kept in step with ZeroRange/PWrite on the same file, and its changed pages are
// written back when unmapped. Mapping past the end of the file (a SIGBUS with mmap) is
// reported as an error. The Env remembers every path it changed, so a test can restore just
// those files between trials.
#ifndef RECSTORE_TESTS_CORRUPTION_HEAP_MAP_ENV_H_
#define RECSTORE_TESTS_CORRUPTION_HEAP_MAP_ENV_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "recstore/env.h"

namespace recstore::testing {

class HeapMapEnv : public EnvWrapper {
 public:
  HeapMapEnv() : EnvWrapper(Env::Default()) {}
  ~HeapMapEnv() override;

  // Mappings currently held (for leak checks in tests).
  size_t live_mappings();
  // Paths written, truncated, created, renamed or removed since the last call.
  std::set<std::string> TakeChangedPaths();

  absl::StatusOr<int> Open(const std::string& path, int flags, mode_t mode) override;
  absl::Status Close(int fd, const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) override;
  absl::Status Allocate(int fd, const std::string& path, uint64_t off, uint64_t len) override;
  absl::Status ZeroRange(int fd, const std::string& path, uint64_t off, uint64_t len) override;
  absl::Status Truncate(int fd, const std::string& path, uint64_t size) override;
  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t off) override;
  absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf, size_t len,
                               uint64_t off) override;
  absl::Status SyncData(int fd, const std::string& path) override;
  absl::Status SyncAll(int fd, const std::string& path) override;
  absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len, bool writable) override;
  absl::Status Unmap(void* addr, size_t len, const std::string& path) override;
  absl::Status PopulateWrite(void* addr, size_t len, const std::string& path) override;
  absl::Status Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) override;
  absl::Status MakeDir(const std::string& path, mode_t mode) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status Exists(const std::string& path) override;

 private:
  struct Region {
    int fd = -1;  // a dup of the mapped descriptor: follows the file across renames
    dev_t dev = 0;
    ino_t ino = 0;
    size_t len = 0;
    bool writable = false;
    std::string path;
    std::string original;  // writable: what the file holds, to find the pages that changed
  };
  void Changed(const std::string& path);
  // Applies `fn(buffer, region)` to every mapping of the file open as `fd`.
  template <typename Fn>
  void ForEachMappingOf(int fd, Fn fn);

  Env* const real_ = Env::Default();
  std::mutex mu_;
  std::map<char*, Region> regions_;
  std::set<std::string> changed_;
};

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_CORRUPTION_HEAP_MAP_ENV_H_
