// Env over POSIX and Linux system calls, made through a Syscalls table (syscalls.h).
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "recstore/env.h"
#include "src/base/errno_status.h"
#include "src/os/syscalls.h"

namespace recstore::os {
namespace {

using base::ErrnoToStatus;

// EINTR: which calls are retried.
//
// A call that fails with EINTR was interrupted by a signal before it did its work (or, for
// pread and pwrite, before it moved a byte), so it is made again: open, fstat, stat,
// posix_fallocate, fallocate, ftruncate, pread, pwrite, the F_OFD_SETLK fcntl, mkdir,
// rename, unlink and rmdir. Allocating, zeroing, truncating and locking are idempotent;
// mkdir, rename, unlink and rmdir do not report EINTR after changing the directory on the
// file systems recstore supports (and a repeated mkdir is AlreadyExists, which its callers
// accept).
//
// fdatasync and fsync are retried on EINTR too, and on nothing else. An interrupted flush
// has not consumed the file's write-back error state: pages it did not write are still dirty
// and any write-back error is still reported, to the call that completes. Any other error
// (EIO, ENOSPC, ...) is returned at once and never retried: after a failed write-back the
// kernel may have marked the pages clean, so a second flush could succeed without the data
// ever reaching the disk.
//
// close is never retried: Linux releases the descriptor even when close reports EINTR, and a
// second close could close a descriptor another thread has just been given. mmap, munmap,
// fdopendir, readdir and fcntl(F_DUPFD_CLOEXEC) do not fail with EINTR.
// madvise(MADV_POPULATE_WRITE) is best effort and not retried.

// Makes `call` until it does not fail with EINTR; returns its last result.
template <typename Call>
auto RetryOnEintr(Call call) {
  while (true) {
    auto r = call();
    if (r != -1 || errno != EINTR) return r;
  }
}

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(const Syscalls& sys) : sys_(sys) {}

  absl::StatusOr<int> Open(const std::string& path, int flags, mode_t mode) override {
    const bool directory = (flags & O_DIRECTORY) != 0;
    // O_NONBLOCK: a FIFO put in a store file's place must not hang the open (it is refused
    // below). On regular files the flag has no effect.
    const int extra = O_CLOEXEC | (directory ? 0 : O_NONBLOCK);
    const int fd = RetryOnEintr([&] { return sys_.open(path.c_str(), flags | extra, mode); });
    if (fd < 0) {
      if (errno == ELOOP && (flags & O_NOFOLLOW) != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("open ", path,
                         ": is a symbolic link (or a loop of them); recstore refuses symlinked "
                         "store files (errno ",
                         ELOOP, ")"));
      }
      return ErrnoToStatus(errno, "open", path);
    }
    absl::StatusOr<int> high = AboveStdio(fd, path);
    if (!high.ok() || directory) return high;
    struct stat st;
    if (RetryOnEintr([&] { return sys_.fstat(*high, &st); }) != 0) {
      const int err = errno;
      sys_.close(*high);
      return ErrnoToStatus(err, "fstat", path);
    }
    if (!S_ISREG(st.st_mode)) {
      sys_.close(*high);
      return absl::FailedPreconditionError(
          absl::StrCat("open ", path, ": is not a regular file (", FileTypeName(st.st_mode),
                       "); recstore opens only regular files and directories"));
    }
    return high;
  }

  absl::Status Close(int fd, const std::string& path) override {
    // Never retried (see above): the descriptor is gone either way.
    if (sys_.close(fd) != 0 && errno != EINTR) return ErrnoToStatus(errno, "close", path);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) override {
    struct stat st;
    if (RetryOnEintr([&] { return sys_.fstat(fd, &st); }) != 0) {
      return ErrnoToStatus(errno, "fstat", path);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<FileId> Identify(int fd, const std::string& path) override {
    struct stat st;
    if (RetryOnEintr([&] { return sys_.fstat(fd, &st); }) != 0) {
      return ErrnoToStatus(errno, "fstat", path);
    }
    return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }

  absl::Status Allocate(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    int err;  // posix_fallocate returns the error number instead of setting errno
    do {
      err = sys_.posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
    } while (err == EINTR);
    if (err != 0) return ErrnoToStatus(err, "posix_fallocate", path);
    return absl::OkStatus();
  }

  absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    if (len == 0) return absl::OkStatus();
    // A hole reads as zeros and gives the space back: a recovered segment's tail costs no disk
    // until it is written again (and reserved first). ZERO_RANGE, then writing zeros, where
    // the file system cannot punch holes.
    if (RetryOnEintr([&] {
          return sys_.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                static_cast<off_t>(offset), static_cast<off_t>(len));
        }) == 0) {
      return absl::OkStatus();
    }
    if (errno != EOPNOTSUPP) return ErrnoToStatus(errno, "fallocate(PUNCH_HOLE)", path);
    if (RetryOnEintr([&] {
          return sys_.fallocate(fd, FALLOC_FL_ZERO_RANGE, static_cast<off_t>(offset),
                                static_cast<off_t>(len));
        }) == 0) {
      return absl::OkStatus();
    }
    if (errno != EOPNOTSUPP) return ErrnoToStatus(errno, "fallocate(ZERO_RANGE)", path);
    // File systems without ZERO_RANGE: write zeros.
    static const char kZeros[64 << 10] = {};
    while (len > 0) {
      size_t n = len < sizeof(kZeros) ? static_cast<size_t>(len) : sizeof(kZeros);
      if (absl::Status s = PWrite(fd, path, std::string_view(kZeros, n), offset); !s.ok()) return s;
      offset += n;
      len -= n;
    }
    return absl::OkStatus();
  }

  absl::Status Truncate(int fd, const std::string& path, uint64_t size) override {
    if (RetryOnEintr([&] { return sys_.ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
      return ErrnoToStatus(errno, "ftruncate", path);
    }
    return absl::OkStatus();
  }

  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t offset) override {
    while (!data.empty()) {
      ssize_t n = sys_.pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "pwrite", path);
      }
      data.remove_prefix(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf, size_t len,
                               uint64_t offset) override {
    size_t done = 0;
    while (done < len) {
      ssize_t n = sys_.pread(fd, static_cast<char*>(buf) + done, len - done,
                             static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "pread", path);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  absl::Status SyncData(int fd, const std::string& path) override {
    // Retried on EINTR only (see above): after a failed write-back the kernel may have
    // dropped the dirty pages.
    if (RetryOnEintr([&] { return sys_.fdatasync(fd); }) != 0) {
      return ErrnoToStatus(errno, "fdatasync", path);
    }
    return absl::OkStatus();
  }

  absl::Status SyncAll(int fd, const std::string& path) override {
    if (RetryOnEintr([&] { return sys_.fsync(fd); }) != 0) {
      return ErrnoToStatus(errno, "fsync", path);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len, bool writable) override {
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void* addr = sys_.mmap(nullptr, len, prot, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) return ErrnoToStatus(errno, "mmap", path);
    return addr;
  }

  absl::Status Unmap(void* addr, size_t len, const std::string& path) override {
    if (sys_.munmap(addr, len) != 0) return ErrnoToStatus(errno, "munmap", path);
    return absl::OkStatus();
  }

  absl::Status PopulateWrite(void* addr, size_t len, const std::string& path) override {
#ifdef MADV_POPULATE_WRITE
    if (sys_.madvise(addr, len, MADV_POPULATE_WRITE) != 0) {
      return ErrnoToStatus(errno, "madvise(POPULATE_WRITE)", path);
    }
    return absl::OkStatus();
#else
    (void)addr;
    (void)len;
    return absl::UnimplementedError(absl::StrCat("madvise(POPULATE_WRITE) ", path));
#endif
  }

  absl::StatusOr<void*> ReserveAddress(size_t len, const std::string& path) override {
    void* addr =
        sys_.mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (addr == MAP_FAILED) return ErrnoToStatus(errno, "mmap(reserve)", path);
    return addr;
  }

  absl::Status MapAt(void* addr, size_t len, int fd, const std::string& path, uint64_t offset,
                     bool shared) override {
    int flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE);
    if (fd < 0) flags |= MAP_ANONYMOUS;
    void* got = sys_.mmap(addr, len, PROT_READ | PROT_WRITE, flags, fd < 0 ? -1 : fd,
                          fd < 0 ? 0 : static_cast<off_t>(offset));
    if (got == MAP_FAILED) return ErrnoToStatus(errno, "mmap(fixed)", path);
    return absl::OkStatus();
  }

  absl::Status Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) override {
    struct flock fl;
    std::memset(&fl, 0, sizeof(fl));
    fl.l_type = kind == LockKind::kExclusive ? F_WRLCK
                : kind == LockKind::kShared  ? F_RDLCK
                                             : F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(byte);
    fl.l_len = 1;
    if (RetryOnEintr([&] { return sys_.fcntl_lock(fd, F_OFD_SETLK, &fl); }) != 0) {
      int err = errno;
      if (err == EACCES || err == EAGAIN) {
        return absl::UnavailableError(absl::StrCat("fcntl(F_OFD_SETLK) ", path,
                                                   ": held by another"
                                                   " open of the file"));
      }
      return ErrnoToStatus(err, "fcntl(F_OFD_SETLK)", path);
    }
    return absl::OkStatus();
  }

  absl::Status MakeDir(const std::string& path, mode_t mode) override {
    if (RetryOnEintr([&] { return sys_.mkdir(path.c_str(), mode); }) != 0) {
      return ErrnoToStatus(errno, "mkdir", path);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    // open + fdopendir rather than opendir, so the descriptor obeys the rule of Open (never
    // 0, 1 or 2). fdopendir does not fail with EINTR.
    absl::StatusOr<int> fd = Open(path, O_RDONLY | O_DIRECTORY, 0);
    if (!fd.ok()) return fd.status();
    DIR* dir = sys_.fdopendir(*fd);
    if (dir == nullptr) {
      const int err = errno;
      sys_.close(*fd);
      return ErrnoToStatus(err, "fdopendir", path);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = sys_.readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    int err = errno;
    sys_.closedir(dir);
    if (err != 0) return ErrnoToStatus(err, "readdir", path);
    return names;
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (RetryOnEintr([&] { return sys_.rename(from.c_str(), to.c_str()); }) != 0) {
      return ErrnoToStatus(errno, "rename", absl::StrCat(from, " -> ", to));
    }
    return absl::OkStatus();
  }

  absl::Status Remove(const std::string& path) override {
    if (RetryOnEintr([&] { return sys_.unlink(path.c_str()); }) != 0) {
      return ErrnoToStatus(errno, "unlink", path);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& path) override {
    if (RetryOnEintr([&] { return sys_.rmdir(path.c_str()); }) != 0) {
      return ErrnoToStatus(errno, "rmdir", path);
    }
    return absl::OkStatus();
  }

  absl::Status WaitWord(const uint32_t* word, uint32_t expected,
                        std::chrono::nanoseconds timeout) override {
    timespec ts;
    const timespec* limit = nullptr;
    if (timeout.count() >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout.count() / 1000000000);
      ts.tv_nsec = static_cast<long>(timeout.count() % 1000000000);
      limit = &ts;
    }
    if (sys_.futex(word, FUTEX_WAIT, expected, limit) == 0) return absl::OkStatus();
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    if (errno == ETIMEDOUT) return absl::DeadlineExceededError("futex wait timed out");
    return ErrnoToStatus(errno, "futex(FUTEX_WAIT)", "state page");
  }

  absl::Status WakeWord(const uint32_t* word) override {
    if (sys_.futex(word, FUTEX_WAKE, INT32_MAX, nullptr) < 0) {
      return ErrnoToStatus(errno, "futex(FUTEX_WAKE)", "state page");
    }
    return absl::OkStatus();
  }

  int64_t NowUnixNanos() override {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  }

  absl::Status Exists(const std::string& path) override {
    struct stat st;
    if (RetryOnEintr([&] { return sys_.stat(path.c_str(), &st); }) != 0) {
      return ErrnoToStatus(errno, "stat", path);
    }
    return absl::OkStatus();
  }

 private:
  // Descriptors 0, 1 and 2: recstore never keeps a file there. A program started with one of
  // them closed gets its next open there, and whatever it then writes to stdout or stderr
  // (an error message, a log line) would land in a store file: a segment header overwritten
  // by a message. So a descriptor below 3 is moved to the lowest free one from 3 on
  // (F_DUPFD_CLOEXEC) and the low one closed, as SQLite keeps its files at or above a minimum
  // descriptor. The move is not atomic: between the open and the close, another thread of
  // the program writing to that closed standard descriptor would reach the file. A program
  // that may start with 0-2 closed should open /dev/null on them first (the recstore tool
  // does).
  absl::StatusOr<int> AboveStdio(int fd, const std::string& path) {
    if (fd > STDERR_FILENO) return fd;
    const int high = sys_.dupfd_cloexec(fd, STDERR_FILENO + 1);
    const int err = errno;
    sys_.close(fd);
    if (high < 0) return ErrnoToStatus(err, "fcntl(F_DUPFD_CLOEXEC)", path);
    return high;
  }

  static const char* FileTypeName(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "of an unknown type";
  }

  const Syscalls sys_;
};

}  // namespace

const Syscalls& RealSyscalls() {
  static const Syscalls calls = {
      .open = [](const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); },
      .close = [](int fd) { return ::close(fd); },
      .fstat = [](int fd, struct stat* st) { return ::fstat(fd, st); },
      .stat = [](const char* path, struct stat* st) { return ::stat(path, st); },
      .posix_fallocate = [](int fd, off_t offset,
                            off_t len) { return ::posix_fallocate(fd, offset, len); },
      .fallocate = [](int fd, int mode, off_t offset,
                      off_t len) { return ::fallocate(fd, mode, offset, len); },
      .ftruncate = [](int fd, off_t size) { return ::ftruncate(fd, size); },
      .pwrite = [](int fd, const void* buf, size_t n,
                   off_t offset) { return ::pwrite(fd, buf, n, offset); },
      .pread = [](int fd, void* buf, size_t n,
                  off_t offset) { return ::pread(fd, buf, n, offset); },
      .fdatasync = [](int fd) { return ::fdatasync(fd); },
      .fsync = [](int fd) { return ::fsync(fd); },
      .mmap = [](void* addr, size_t len, int prot, int flags, int fd,
                 off_t offset) { return ::mmap(addr, len, prot, flags, fd, offset); },
      .munmap = [](void* addr, size_t len) { return ::munmap(addr, len); },
      .madvise = [](void* addr, size_t len, int advice) { return ::madvise(addr, len, advice); },
      .fcntl_lock = [](int fd, int cmd, struct flock* lock) { return ::fcntl(fd, cmd, lock); },
      .dupfd_cloexec = [](int fd, int min) { return ::fcntl(fd, F_DUPFD_CLOEXEC, min); },
      .mkdir = [](const char* path, mode_t mode) { return ::mkdir(path, mode); },
      .rename = [](const char* from, const char* to) { return ::rename(from, to); },
      .unlink = [](const char* path) { return ::unlink(path); },
      .rmdir = [](const char* path) { return ::rmdir(path); },
      .fdopendir = [](int fd) { return ::fdopendir(fd); },
      .readdir = [](DIR* dir) { return ::readdir(dir); },
      .closedir = [](DIR* dir) { return ::closedir(dir); },
      .futex =
          [](const uint32_t* word, int op, uint32_t value, const struct timespec* timeout) {
            return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
          },
  };
  return calls;
}

std::unique_ptr<Env> NewPosixEnv(const Syscalls& calls) {
  return std::make_unique<PosixEnv>(calls);
}

}  // namespace recstore::os

namespace recstore {

Env* Env::Default() {
  static os::PosixEnv* env = new os::PosixEnv(os::RealSyscalls());
  return env;
}

}  // namespace recstore
