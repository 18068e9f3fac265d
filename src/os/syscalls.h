// The raw system calls under PosixEnv, as a table of function pointers. Env::Default() uses the
// real calls; tests build a PosixEnv over a table whose calls fail or return short counts, to
// show that the retry loops of PosixEnv (EINTR, partial reads and writes) are right. Every
// entry follows the calling convention of the call it stands for (-1 and errno, or for
// posix_fallocate the error number returned).
#ifndef RECSTORE_SRC_OS_SYSCALLS_H_
#define RECSTORE_SRC_OS_SYSCALLS_H_

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "recstore/env.h"

namespace recstore::os {

struct Syscalls {
  int (*open)(const char* path, int flags, mode_t mode);
  int (*close)(int fd);
  int (*fstat)(int fd, struct stat* st);
  int (*stat)(const char* path, struct stat* st);
  int (*posix_fallocate)(int fd, off_t offset, off_t len);  // returns the error number
  int (*fallocate)(int fd, int mode, off_t offset, off_t len);
  int (*ftruncate)(int fd, off_t size);
  ssize_t (*pwrite)(int fd, const void* buf, size_t n, off_t offset);
  ssize_t (*pread)(int fd, void* buf, size_t n, off_t offset);
  int (*fdatasync)(int fd);
  int (*fsync)(int fd);
  void* (*mmap)(void* addr, size_t len, int prot, int flags, int fd, off_t offset);
  int (*munmap)(void* addr, size_t len);
  int (*madvise)(void* addr, size_t len, int advice);
  int (*fcntl_lock)(int fd, int cmd, struct flock* lock);  // fcntl with a struct flock
  int (*dupfd_cloexec)(int fd, int min);                   // fcntl(fd, F_DUPFD_CLOEXEC, min)
  int (*mkdir)(const char* path, mode_t mode);
  int (*rename)(const char* from, const char* to);
  int (*unlink)(const char* path);
  int (*rmdir)(const char* path);
  DIR* (*fdopendir)(int fd);  // takes `fd` over: closedir closes it
  struct dirent* (*readdir)(DIR* dir);
  int (*closedir)(DIR* dir);
  // futex(2) FUTEX_WAIT / FUTEX_WAKE on a shared word (`timeout` null: none).
  long (*futex)(const uint32_t* word, int op, uint32_t value, const struct timespec* timeout);
};

// The real calls of the C library.
const Syscalls& RealSyscalls();

// A PosixEnv over `calls` (copied). For tests; everything else uses Env::Default().
std::unique_ptr<Env> NewPosixEnv(const Syscalls& calls);

}  // namespace recstore::os

#endif  // RECSTORE_SRC_OS_SYSCALLS_H_
