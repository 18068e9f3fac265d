#include "src/os/lock_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <vector>

#include "src/base/errno_status.h"

namespace recstore::os {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<int> fds;  // the descriptors of every open LockFile
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: fork handlers may run at exit
  return *r;
}

// prepare and parent: no fork copies the registry (or a descriptor being opened or closed)
// halfway.
void LockBeforeFork() { TheRegistry().mu.lock(); }
void UnlockInParent() { TheRegistry().mu.unlock(); }

// In the child, before fork() returns there; the child has one thread. Only
// async-signal-safe calls. If /dev/null cannot be opened (no descriptor left), the
// descriptor is closed instead: the child still lets the lock go.
void DropInChild() {
  Registry& r = TheRegistry();
  const int saved_errno = errno;
  int null_fd;
  do {
    null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  } while (null_fd < 0 && errno == EINTR);
  for (int fd : r.fds) {
    if (null_fd < 0) {
      ::close(fd);
      continue;
    }
    while (::dup3(null_fd, fd, O_CLOEXEC) < 0 && errno == EINTR) {
    }
  }
  if (null_fd >= 0) ::close(null_fd);
  errno = saved_errno;
  r.mu.unlock();
}

absl::Status InstallForkHandlers() {
  static const int err = pthread_atfork(&LockBeforeFork, &UnlockInParent, &DropInChild);
  if (err != 0) return base::ErrnoToStatus(err, "pthread_atfork", "(lock file fork handlers)");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LockFile> LockFile::Open(Env* env, std::string path, int flags, mode_t mode) {
  if (absl::Status s = InstallForkHandlers(); !s.ok()) return s;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  absl::StatusOr<File> file = File::Open(env, std::move(path), flags, mode);
  if (!file.ok()) return file.status();
  r.fds.push_back(file->fd());
  return LockFile(*std::move(file));
}

LockFile& LockFile::operator=(LockFile&& o) noexcept {
  if (this != &o) {
    Reset();
    file_ = std::move(o.file_);
  }
  return *this;
}

void LockFile::Reset() {
  if (!file_.valid()) return;
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = std::find(r.fds.begin(), r.fds.end(), file_.fd());
  if (it != r.fds.end()) r.fds.erase(it);
  file_ = File();  // closes the descriptor
}

}  // namespace recstore::os
