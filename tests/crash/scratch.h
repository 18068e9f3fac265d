// Scratch space for the crash tests, and a hash of a directory tree to spot repeated images.
#ifndef RECSTORE_TESTS_CRASH_SCRATCH_H_
#define RECSTORE_TESTS_CRASH_SCRATCH_H_

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace recstore::crash {

// A fresh directory for the running test's stores, images and copies: in RAM (/dev/shm) when
// it can be, since the checks reopen every image with the real Env, whose fsyncs would
// otherwise reach the disk thousands of times; else under $TEST_TMPDIR.
// RECSTORE_CRASH_TMPDIR names another parent. Removed when it goes.
class ScratchDir {
 public:
  ScratchDir() {
    namespace fs = std::filesystem;
    const char* over = std::getenv("RECSTORE_CRASH_TMPDIR");
    const std::string parent = over != nullptr ? over : "/dev/shm";
    std::error_code ec;
    if (!fs::is_directory(parent, ec) || access(parent.c_str(), W_OK) != 0) {
      path_ = ::recstore::testing::TestDir("work");
      return;
    }
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        absl::StrCat("recstore-crash-", getpid(), "-", info->test_suite_name(), ".", info->name());
    std::replace(name.begin(), name.end(), '/', '.');
    path_ = absl::StrCat(parent, "/", name);
    fs::remove_all(path_, ec);
    fs::create_directories(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A hash of every name and byte under `dir`, in name order (stable within one process only).
inline uint64_t TreeHash(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> paths;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  uint64_t h = 0;
  for (const fs::path& p : paths) {
    if (fs::is_directory(p)) {
      h = absl::HashOf(h, p.string().substr(dir.size()));
      continue;
    }
    std::ifstream f(p, std::ios::binary);
    std::string bytes(fs::file_size(p), '\0');
    f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    h = absl::HashOf(h, p.string().substr(dir.size()), bytes);
  }
  return h;
}

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_SCRATCH_H_
