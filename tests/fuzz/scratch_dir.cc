// ScratchDir: one temporary directory per process (see scratch_dir.h).
#include "tests/fuzz/scratch_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace recstore::fuzz {
namespace {

std::string* dir_to_remove = nullptr;

void RemoveScratch() {
  std::error_code ec;
  if (dir_to_remove != nullptr) std::filesystem::remove_all(*dir_to_remove, ec);
}

std::string MakeScratch() {
  const char* test_tmp = std::getenv("TEST_TMPDIR");
  const char* tmp = std::getenv("TMPDIR");
  std::string base = test_tmp != nullptr ? test_tmp : (tmp != nullptr ? tmp : "/tmp");
  std::string pattern = base + "/recstore-fuzz-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  dir_to_remove = new std::string(pattern);
  std::atexit(RemoveScratch);
  return pattern;
}

}  // namespace

const std::string& ScratchDir() {
  static const std::string* dir = new std::string(MakeScratch());
  return *dir;
}

void EmptyDir(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::filesystem::remove_all(e.path(), ec);
  }
}

}  // namespace recstore::fuzz
