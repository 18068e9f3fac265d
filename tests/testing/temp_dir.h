// A fresh directory under $TEST_TMPDIR for each test.
#ifndef RECSTORE_TESTS_TESTING_TEMP_DIR_H_
#define RECSTORE_TESTS_TESTING_TEMP_DIR_H_

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

namespace recstore::testing {

// $TEST_TMPDIR/<suite>.<test>/<name>, created empty.
inline std::string TestDir(const std::string& name = "store") {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* root = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(root != nullptr ? root : "/tmp") /
                              (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir / name);
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// The names in `dir` (not "." and ".."), sorted; empty when it cannot be read.
inline std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_TEMP_DIR_H_
