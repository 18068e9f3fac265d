#include "src/os/file.h"

#include <fcntl.h>

namespace recstore::os {

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    Reset();
    env_ = std::exchange(o.env_, nullptr);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

absl::StatusOr<File> File::Open(Env* env, std::string path, int flags, mode_t mode) {
  absl::StatusOr<int> fd = env->Open(path, flags, mode);
  if (!fd.ok()) return fd.status();
  return File(env, *fd, std::move(path));
}

void File::Reset() {
  if (fd_ >= 0) env_->Close(fd_, path_).IgnoreError();  // nothing left to do on failure
  fd_ = -1;
}

Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    Reset();
    env_ = std::exchange(o.env_, nullptr);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    writable_ = std::exchange(o.writable_, false);
    path_ = std::move(o.path_);
  }
  return *this;
}

absl::StatusOr<Mapping> Mapping::Map(const File& file, size_t len, bool writable) {
  absl::StatusOr<void*> addr = file.env()->Map(file.fd(), file.path(), len, writable);
  if (!addr.ok()) return addr.status();
  Mapping m;
  m.env_ = file.env();
  m.data_ = static_cast<std::byte*>(*addr);
  m.size_ = len;
  m.writable_ = writable;
  m.path_ = file.path();
  return m;
}

void Mapping::Reset() {
  if (data_ != nullptr) env_->Unmap(data_, size_, path_).IgnoreError();
  data_ = nullptr;
}

absl::Status SyncDir(Env* env, const std::string& path, bool* flush_failed) {
  if (flush_failed != nullptr) *flush_failed = false;
  absl::StatusOr<File> dir = File::Open(env, path, O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) return dir.status();
  absl::Status s = env->SyncAll(dir->fd(), path);
  if (!s.ok() && flush_failed != nullptr) *flush_failed = true;
  return s;
}

}  // namespace recstore::os
