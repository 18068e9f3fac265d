#include "src/mapped/file_names.h"

#include <unistd.h>

#include <atomic>

#include "src/base/checksum.h"

namespace recstore::mapped {

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

uint64_t NewFileId(Env* env, const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t seed[4] = {static_cast<uint64_t>(env->NowUnixNanos()),
                            static_cast<uint64_t>(getpid()), counter.fetch_add(1),
                            reinterpret_cast<uintptr_t>(&counter)};
  const uint64_t id = base::Checksum64(seed, sizeof(seed), base::StringChecksum64(path));
  return id == 0 ? 1 : id;
}

}  // namespace recstore::mapped
