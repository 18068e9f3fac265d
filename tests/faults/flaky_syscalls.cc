#include "tests/faults/flaky_syscalls.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>

namespace recstore::faults {
namespace {

constexpr int kKinds = static_cast<int>(Sys::kCount);

struct State {
  std::array<std::atomic<int>, kKinds> calls{};
  std::array<std::atomic<int>, kKinds> interrupted{};
  std::atomic<int> interrupt_k{0};
  std::atomic<bool> interrupt_repeat{false};
  std::atomic<bool> short_io{false};
  std::atomic<int> fail_sys{-1};
  std::atomic<int> fail_nth{-1};
  std::atomic<int> fail_err{0};
  std::atomic<bool> failed{false};
};

State& S() {
  static State* s = new State();
  return *s;
}

// Calls that may return EINTR (mmap, munmap, fcntl(F_DUPFD_CLOEXEC), fdopendir, readdir and
// closedir never do).
bool CanInterrupt(Sys s) {
  return s != Sys::kMmap && s != Sys::kMunmap && s != Sys::kDupfd && s != Sys::kFdopendir &&
         s != Sys::kReaddir && s != Sys::kClosedir;
}

// The errno this attempt of `s` fails with, or 0 to make the real call.
int Inject(Sys s) {
  State& st = S();
  const int i = static_cast<int>(s);
  const int n = st.calls[i].fetch_add(1);
  if (st.fail_sys.load() == i && st.fail_nth.load() == n) {
    st.failed = true;
    return st.fail_err.load();
  }
  const int k = st.interrupt_k.load();
  if (k > 0 && CanInterrupt(s) && (st.interrupt_repeat ? n % (k + 1) < k : n < k)) {
    ++st.interrupted[i];
    return EINTR;
  }
  return 0;
}

size_t Cut(size_t n) { return S().short_io && n > 1 ? n / 2 : n; }

const os::Syscalls& Real() { return os::RealSyscalls(); }

// -1 with errno `err`, as a failed system call returns.
template <typename T = int>
T Fail(int err) {
  errno = err;
  return static_cast<T>(-1);
}

}  // namespace

std::string_view SysName(Sys s) {
  static constexpr std::string_view kNames[] = {
      "open",      "close",   "fstat",     "stat",      "posix_fallocate", "fallocate",
      "ftruncate", "pwrite",  "pread",     "fdatasync", "fsync",           "mmap",
      "munmap",    "madvise", "fcntl",     "dupfd",     "mkdir",           "rename",
      "unlink",    "rmdir",   "fdopendir", "readdir",   "closedir"};
  static_assert(std::size(kNames) == kKinds);
  return kNames[static_cast<int>(s)];
}

void FlakySyscalls::Reset() {
  State& st = S();
  for (auto& c : st.calls) c = 0;
  for (auto& c : st.interrupted) c = 0;
  st.interrupt_k = 0;
  st.interrupt_repeat = false;
  st.short_io = false;
  st.fail_sys = -1;
  st.fail_nth = -1;
  st.fail_err = 0;
  st.failed = false;
}

void FlakySyscalls::Interrupt(int k, bool repeat) {
  S().interrupt_repeat = repeat;
  S().interrupt_k = k;
}

void FlakySyscalls::ShortTransfers(bool on) { S().short_io = on; }

void FlakySyscalls::FailOnce(Sys sys, int nth, int err) {
  S().fail_err = err;
  S().fail_nth = nth;
  S().fail_sys = static_cast<int>(sys);
}

int FlakySyscalls::Calls(Sys sys) { return S().calls[static_cast<int>(sys)]; }
int FlakySyscalls::Interrupted(Sys sys) { return S().interrupted[static_cast<int>(sys)]; }
bool FlakySyscalls::Failed() { return S().failed; }

const os::Syscalls& FlakySyscalls::Table() {
  static const os::Syscalls calls = {
      .open =
          [](const char* path, int flags, mode_t mode) {
            if (int e = Inject(Sys::kOpen)) return Fail(e);
            return Real().open(path, flags, mode);
          },
      .close =
          [](int fd) {
            if (int e = Inject(Sys::kClose)) {
              Real().close(fd);  // Linux releases the descriptor even when close says EINTR
              return Fail(e);
            }
            return Real().close(fd);
          },
      .fstat =
          [](int fd, struct stat* st) {
            if (int e = Inject(Sys::kFstat)) return Fail(e);
            return Real().fstat(fd, st);
          },
      .stat =
          [](const char* path, struct stat* st) {
            if (int e = Inject(Sys::kStat)) return Fail(e);
            return Real().stat(path, st);
          },
      .posix_fallocate =
          [](int fd, off_t offset, off_t len) {
            if (int e = Inject(Sys::kPosixFallocate)) return e;
            return Real().posix_fallocate(fd, offset, len);
          },
      .fallocate =
          [](int fd, int mode, off_t offset, off_t len) {
            if (int e = Inject(Sys::kFallocate)) return Fail(e);
            return Real().fallocate(fd, mode, offset, len);
          },
      .ftruncate =
          [](int fd, off_t size) {
            if (int e = Inject(Sys::kFtruncate)) return Fail(e);
            return Real().ftruncate(fd, size);
          },
      .pwrite =
          [](int fd, const void* buf, size_t n, off_t offset) {
            if (int e = Inject(Sys::kPwrite)) return Fail<ssize_t>(e);
            return Real().pwrite(fd, buf, Cut(n), offset);
          },
      .pread =
          [](int fd, void* buf, size_t n, off_t offset) {
            if (int e = Inject(Sys::kPread)) return Fail<ssize_t>(e);
            return Real().pread(fd, buf, Cut(n), offset);
          },
      .fdatasync =
          [](int fd) {
            if (int e = Inject(Sys::kFdatasync)) return Fail(e);
            return Real().fdatasync(fd);
          },
      .fsync =
          [](int fd) {
            if (int e = Inject(Sys::kFsync)) return Fail(e);
            return Real().fsync(fd);
          },
      .mmap =
          [](void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
            if (int e = Inject(Sys::kMmap)) {
              errno = e;
              return MAP_FAILED;
            }
            return Real().mmap(addr, len, prot, flags, fd, offset);
          },
      .munmap =
          [](void* addr, size_t len) {
            if (int e = Inject(Sys::kMunmap)) return Fail(e);
            return Real().munmap(addr, len);
          },
      .madvise =
          [](void* addr, size_t len, int advice) {
            if (int e = Inject(Sys::kMadvise)) return Fail(e);
            return Real().madvise(addr, len, advice);
          },
      .fcntl_lock =
          [](int fd, int cmd, struct flock* lock) {
            if (int e = Inject(Sys::kFcntl)) return Fail(e);
            return Real().fcntl_lock(fd, cmd, lock);
          },
      .dupfd_cloexec =
          [](int fd, int min) {
            if (int e = Inject(Sys::kDupfd)) return Fail(e);
            return Real().dupfd_cloexec(fd, min);
          },
      .mkdir =
          [](const char* path, mode_t mode) {
            if (int e = Inject(Sys::kMkdir)) return Fail(e);
            return Real().mkdir(path, mode);
          },
      .rename =
          [](const char* from, const char* to) {
            if (int e = Inject(Sys::kRename)) return Fail(e);
            return Real().rename(from, to);
          },
      .unlink =
          [](const char* path) {
            if (int e = Inject(Sys::kUnlink)) return Fail(e);
            return Real().unlink(path);
          },
      .rmdir =
          [](const char* path) {
            if (int e = Inject(Sys::kRmdir)) return Fail(e);
            return Real().rmdir(path);
          },
      .fdopendir =
          [](int fd) {
            if (int e = Inject(Sys::kFdopendir)) {
              errno = e;
              return static_cast<DIR*>(nullptr);
            }
            return Real().fdopendir(fd);
          },
      .readdir =
          [](DIR* dir) {
            if (int e = Inject(Sys::kReaddir)) {
              errno = e;
              return static_cast<struct dirent*>(nullptr);
            }
            return Real().readdir(dir);
          },
      .closedir =
          [](DIR* dir) {
            if (int e = Inject(Sys::kClosedir)) {
              Real().closedir(dir);
              return Fail(e);
            }
            return Real().closedir(dir);
          },
      // Waits are not made flaky: WaitWord and WakeWord report no errno a workload depends on.
      .futex = Real().futex,
  };
  return calls;
}

}  // namespace recstore::faults
