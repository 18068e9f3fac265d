// Small POSIX helpers shared by the file baselines and the workloads.
#ifndef RECSTORE_TOOLS_BENCH_PEERS_FILE_UTIL_H_
#define RECSTORE_TOOLS_BENCH_PEERS_FILE_UTIL_H_

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "fmt/core.h"

namespace recstore::bench {

// An error status naming the call, the path and errno.
inline absl::Status Errno(std::string_view call, const std::string& path, int err = errno) {
  return absl::InternalError(fmt::format("{} {}: {}", call, path, std::strerror(err)));
}

// pread/pwrite of the whole range, retrying short transfers.
absl::Status PWriteAll(int fd, const std::string& path, const void* buf, size_t n, off_t off);
absl::Status PReadAll(int fd, const std::string& path, void* buf, size_t n, off_t off);

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PEERS_FILE_UTIL_H_
