// HeapMapEnv: real files, heap-buffer mappings, no-op syncs (see heap_map_env.h).
#include "tests/corruption/heap_map_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/errno_status.h"

namespace recstore::testing {

HeapMapEnv::~HeapMapEnv() {
  for (auto& [buf, r] : regions_) {
    ::close(r.fd);
    std::free(buf);
  }
}

size_t HeapMapEnv::live_mappings() {
  std::lock_guard<std::mutex> lock(mu_);
  return regions_.size();
}

std::set<std::string> HeapMapEnv::TakeChangedPaths() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(changed_, {});
}

void HeapMapEnv::Changed(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.insert(path);
}

template <typename Fn>
void HeapMapEnv::ForEachMappingOf(int fd, Fn fn) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [buf, r] : regions_) {
    if (r.dev == st.st_dev && r.ino == st.st_ino) fn(buf, r);
  }
}

absl::StatusOr<int> HeapMapEnv::Open(const std::string& path, int flags, mode_t mode) {
  if ((flags & (O_CREAT | O_TRUNC)) != 0) Changed(path);
  return real_->Open(path, flags, mode);
}
absl::Status HeapMapEnv::Close(int fd, const std::string& path) { return real_->Close(fd, path); }
absl::StatusOr<uint64_t> HeapMapEnv::FileSize(int fd, const std::string& path) {
  return real_->FileSize(fd, path);
}
absl::Status HeapMapEnv::Allocate(int fd, const std::string& path, uint64_t off, uint64_t len) {
  Changed(path);
  return real_->Allocate(fd, path, off, len);
}

absl::Status HeapMapEnv::ZeroRange(int fd, const std::string& path, uint64_t off, uint64_t len) {
  Changed(path);
  absl::Status s = real_->ZeroRange(fd, path, off, len);
  if (!s.ok()) return s;
  ForEachMappingOf(fd, [&](char* buf, Region& r) {
    if (off >= r.len) return;
    const size_t n = std::min<uint64_t>(len, r.len - off);
    std::memset(buf + off, 0, n);
    if (r.writable) std::memset(r.original.data() + off, 0, n);  // the file holds it already
  });
  return s;
}

absl::Status HeapMapEnv::Truncate(int fd, const std::string& path, uint64_t size) {
  Changed(path);
  return real_->Truncate(fd, path, size);
}

absl::Status HeapMapEnv::PWrite(int fd, const std::string& path, std::string_view data,
                                uint64_t off) {
  Changed(path);
  absl::Status s = real_->PWrite(fd, path, data, off);
  if (!s.ok()) return s;
  ForEachMappingOf(fd, [&](char* buf, Region& r) {
    if (off >= r.len) return;
    const size_t n = std::min<uint64_t>(data.size(), r.len - off);
    std::memcpy(buf + off, data.data(), n);
    if (r.writable) std::memcpy(r.original.data() + off, data.data(), n);
  });
  return s;
}

absl::StatusOr<size_t> HeapMapEnv::PRead(int fd, const std::string& path, void* buf, size_t len,
                                         uint64_t off) {
  return real_->PRead(fd, path, buf, len, off);
}

absl::Status HeapMapEnv::SyncData(int, const std::string&) { return absl::OkStatus(); }
absl::Status HeapMapEnv::SyncAll(int, const std::string&) { return absl::OkStatus(); }

absl::StatusOr<void*> HeapMapEnv::Map(int fd, const std::string& path, size_t len, bool writable) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return base::ErrnoToStatus(errno, "fstat", path);
  if (static_cast<uint64_t>(st.st_size) < len) {
    return absl::InternalError(absl::StrCat("HeapMapEnv: mapping ", len, " bytes of ", path,
                                            ", which holds ", st.st_size, " (a SIGBUS with mmap)"));
  }
  void* mem = nullptr;
  if (posix_memalign(&mem, 4096, len == 0 ? 1 : len) != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("HeapMapEnv: no memory for ", path));
  }
  char* buf = static_cast<char*>(mem);
  absl::StatusOr<size_t> got = real_->PRead(fd, path, buf, len, 0);
  if (!got.ok() || *got != len) {
    std::free(buf);
    return got.ok() ? absl::InternalError(absl::StrCat("HeapMapEnv: short read of ", path))
                    : got.status();
  }
  Region r{::dup(fd), st.st_dev, st.st_ino, len, writable, path, {}};
  if (writable) r.original.assign(buf, len);
  if (r.fd < 0) {
    std::free(buf);
    return base::ErrnoToStatus(errno, "dup", path);
  }
  std::lock_guard<std::mutex> lock(mu_);
  regions_.emplace(buf, std::move(r));
  return static_cast<void*>(buf);
}

absl::Status HeapMapEnv::Unmap(void* addr, size_t len, const std::string& path) {
  Region r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = regions_.find(static_cast<char*>(addr));
    if (it == regions_.end() || it->second.len != len) {
      return absl::InternalError(absl::StrCat("HeapMapEnv: unmapping an unknown region of ", path));
    }
    r = std::move(it->second);
    regions_.erase(it);
  }
  absl::Status s;
  const char* buf = static_cast<const char*>(addr);
  for (size_t page = 0; r.writable && page < len && s.ok(); page += 4096) {
    const size_t n = std::min<size_t>(4096, len - page);
    if (std::memcmp(buf + page, r.original.data() + page, n) == 0) continue;
    Changed(r.path);
    s = real_->PWrite(r.fd, r.path, std::string_view(buf + page, n), page);
  }
  ::close(r.fd);
  std::free(addr);
  return s;
}

absl::Status HeapMapEnv::PopulateWrite(void*, size_t, const std::string&) {
  return absl::OkStatus();
}
absl::Status HeapMapEnv::Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) {
  return real_->Lock(fd, path, byte, kind);
}
absl::Status HeapMapEnv::MakeDir(const std::string& path, mode_t mode) {
  return real_->MakeDir(path, mode);
}
absl::StatusOr<std::vector<std::string>> HeapMapEnv::ListDir(const std::string& path) {
  return real_->ListDir(path);
}
absl::Status HeapMapEnv::Rename(const std::string& from, const std::string& to) {
  Changed(from);
  Changed(to);
  return real_->Rename(from, to);
}
absl::Status HeapMapEnv::Remove(const std::string& path) {
  Changed(path);
  return real_->Remove(path);
}
absl::Status HeapMapEnv::RemoveDir(const std::string& path) { return real_->RemoveDir(path); }
absl::Status HeapMapEnv::Exists(const std::string& path) { return real_->Exists(path); }

}  // namespace recstore::testing
