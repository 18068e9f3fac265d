#include "tools/bench/peers/file_util.h"

#include <unistd.h>

namespace recstore::bench {

absl::Status PWriteAll(int fd, const std::string& path, const void* buf, size_t n, off_t off) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("pwrite", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return absl::OkStatus();
}

absl::Status PReadAll(int fd, const std::string& path, void* buf, size_t n, off_t off) {
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno("pread", path);
    }
    if (r == 0) return absl::OutOfRangeError(fmt::format("pread {}: short file", path));
    p += r;
    n -= static_cast<size_t>(r);
    off += r;
  }
  return absl::OkStatus();
}

}  // namespace recstore::bench
