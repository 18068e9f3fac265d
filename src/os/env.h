// The OS seam: every file, mapping, lock and sync call recstore makes goes through Env, so
// tests can inject faults (see tests/testing/fault_env.h). Paths are passed with every call
// so errors can name the file involved.
//
// Thread safety: Env implementations must be safe to call from several threads at once.
#ifndef RECSTORE_SRC_OS_ENV_H_
#define RECSTORE_SRC_OS_ENV_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recstore::os {

enum class LockKind { kShared, kExclusive };

class Env {
 public:
  virtual ~Env() = default;

  // Files (descriptors are plain ints; callers own them and close them with Close).
  // Open hands out descriptors of 3 and above only (never stdin, stdout or stderr, so a
  // program's own writes to a closed 1 or 2 cannot reach a store file), always close-on-exec.
  // It opens regular files, or directories with O_DIRECTORY; anything else (a FIFO, a device,
  // a socket) is refused with FailedPrecondition naming the path, and with O_NOFOLLOW a
  // symbolic link is refused the same way.
  [[nodiscard]] virtual absl::StatusOr<int> Open(const std::string& path, int flags,
                                                 mode_t mode) = 0;
  [[nodiscard]] virtual absl::Status Close(int fd, const std::string& path) = 0;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) = 0;
  // Allocates [offset, offset+len) so later writes cannot fail for lack of space.
  [[nodiscard]] virtual absl::Status Allocate(int fd, const std::string& path, uint64_t offset,
                                              uint64_t len) = 0;
  // Turns [offset, offset+len) into zeros, keeping it allocated.
  [[nodiscard]] virtual absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset,
                                               uint64_t len) = 0;
  [[nodiscard]] virtual absl::Status Truncate(int fd, const std::string& path, uint64_t size) = 0;
  [[nodiscard]] virtual absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                                            uint64_t offset) = 0;
  [[nodiscard]] virtual absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf,
                                                     size_t len, uint64_t offset) = 0;
  // fdatasync: file data, including pages dirtied through a shared mapping.
  [[nodiscard]] virtual absl::Status SyncData(int fd, const std::string& path) = 0;
  // fsync: data and metadata.
  [[nodiscard]] virtual absl::Status SyncAll(int fd, const std::string& path) = 0;

  // Mappings. Map never maps past the file size the caller read.
  [[nodiscard]] virtual absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len,
                                                  bool writable) = 0;
  [[nodiscard]] virtual absl::Status Unmap(void* addr, size_t len, const std::string& path) = 0;
  // Pre-faults [addr, addr+len) of a writable mapping for writing (MADV_POPULATE_WRITE).
  // Best effort: an error only means the pages will fault on first store instead.
  [[nodiscard]] virtual absl::Status PopulateWrite(void* addr, size_t len,
                                                   const std::string& path) = 0;

  // Open-file-description locks (F_OFD_SETLK) on one byte of the file; non-blocking.
  // A conflicting lock yields Unavailable.
  [[nodiscard]] virtual absl::Status Lock(int fd, const std::string& path, uint64_t byte,
                                          LockKind kind) = 0;

  // Directories and names.
  [[nodiscard]] virtual absl::Status MakeDir(const std::string& path, mode_t mode) = 0;
  [[nodiscard]] virtual absl::Status SyncDir(const std::string& path) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual absl::Status Remove(const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status RemoveDir(const std::string& path) = 0;
  // OK if `path` exists, NotFound if not, another error if it cannot be told.
  [[nodiscard]] virtual absl::Status Exists(const std::string& path) = 0;

  // The wall clock, in nanoseconds since the Unix epoch (record append times, retention by
  // age). Tests override it to move time.
  virtual int64_t NowUnixNanos();
};

// The real thing: POSIX and Linux calls. Never null; lives forever.
Env* DefaultEnv();

}  // namespace recstore::os

#endif  // RECSTORE_SRC_OS_ENV_H_
