// A fresh directory under $TEST_TMPDIR for each test.
#ifndef RECSTORE_TESTS_TESTING_TEMP_DIR_H_
#define RECSTORE_TESTS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

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

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_TEMP_DIR_H_
