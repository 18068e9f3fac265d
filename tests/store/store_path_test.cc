// Store::Open given a path that cannot be a store directory, and the public entry points given
// an empty name or path: each error names the path (or what the name is for) and says what is
// wrong with it. Before, a regular file as the store path read "MANIFEST does not exist" (and
// NotFound from opendir with create_if_missing), a missing parent with create_if_missing gave
// the bare mkdir error, and an empty path printed an empty name.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "recstore/recstore.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::WriteFileBytes;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

auto NotADirectory(const std::string& path) {
  return StatusIs(absl::StatusCode::kFailedPrecondition,
                  AllOf(HasSubstr("store path " + path), HasSubstr("is not a directory"),
                        Not(HasSubstr("MANIFEST"))));
}

TEST(StorePathTest, RegularFileIsNotADirectoryAndStaysAsItWas) {
  const std::string path = TestDir("data.rsv");
  WriteFileBytes(path, "not a store");
  EXPECT_THAT(Store::Open(path), NotADirectory(path));
  EXPECT_THAT(Store::Open(path, {.create_if_missing = true}), NotADirectory(path));
  EXPECT_THAT(Store::Open(path, {.read_only = true}), NotADirectory(path));
  // "file/" names the same file.
  EXPECT_THAT(Store::Open(path + "/"), NotADirectory(path + "/"));
  EXPECT_THAT(Store::Open(path + "/", {.create_if_missing = true}), NotADirectory(path + "/"));
  EXPECT_EQ(ReadFileBytes(path), "not a store");
}

TEST(StorePathTest, FifoIsNotADirectory) {
  const std::string path = TestDir("fifo");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  EXPECT_THAT(Store::Open(path, {.create_if_missing = true}), NotADirectory(path));
}

TEST(StorePathTest, MissingParentWithCreateIfMissingSaysSo) {
  const std::string parent = TestDir("missing");
  const std::string path = parent + "/store";
  EXPECT_THAT(Store::Open(path, {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("cannot create store directory " + path),
                             HasSubstr("parent directory " + parent + " does not exist"),
                             HasSubstr("not its parents"))));
  EXPECT_THAT(Store::Open(path + "/", {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("parent directory " + parent + " does not exist")));
  EXPECT_FALSE(fs::exists(parent));
  // Without create_if_missing the store directory itself is what is missing.
  EXPECT_THAT(Store::Open(path),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("store directory " + path + " does not exist")));
}

TEST(StorePathTest, ParentThatIsAFileSaysSo) {
  const std::string file = TestDir("file");
  WriteFileBytes(file, "x");
  const std::string path = file + "/store";
  const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition,
                                AllOf(HasSubstr("store directory " + path),
                                      HasSubstr("its parent " + file + " is not a directory")));
  EXPECT_THAT(Store::Open(path, {.create_if_missing = true}), refused);
  // Without create_if_missing the store directory is reported missing, as it was found.
  EXPECT_THAT(Store::Open(path),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("store directory " + path + " does not exist")));
  EXPECT_THAT(Store::Open(path, {.read_only = true}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(StorePathTest, TrailingSlashCreatesAndReopens) {
  const std::string path = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path + "/", {.create_if_missing = true}));
    ASSERT_OK(store->OpenByteLog("events").status());
  }
  EXPECT_TRUE(fs::is_regular_file(path + "/MANIFEST"));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path));
  EXPECT_EQ(store->ListCollections().size(), 1u);
}

TEST(StorePathTest, EmptyStorePathIsInvalidArgument) {
  const auto empty = StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("store path is empty"));
  EXPECT_THAT(Store::Open(""), empty);
  EXPECT_THAT(Store::Open("", {.create_if_missing = true}), empty);
  EXPECT_THAT(Store::Open("", {.read_only = true}), empty);
}

TEST(StorePathTest, EmptyNamesSayWhatTheNameIsFor) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK(store->OpenByteLog("events").status());
  const auto is = [](std::string_view message) {
    return StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(std::string(message)));
  };
  EXPECT_THAT(store->OpenByteLog(""), is("collection name is empty"));
  EXPECT_THAT(store->OpenLog<testing::Point>(""), is("collection name is empty"));
  EXPECT_THAT(store->OpenUntyped(""), is("collection name is empty"));
  EXPECT_THAT(store->DropCollection(""), is("collection name is empty"));
  EXPECT_THAT(Store::ValidateName(""), is("collection name is empty"));
  EXPECT_THAT(store->OpenCheckpoints(""), is("checkpoint set name is empty"));
  EXPECT_THAT(store->OpenCursor("events", ""), is("cursor name is empty"));
  EXPECT_THAT(store->DropCursor("events", ""), is("cursor name is empty"));
  EXPECT_THAT(store->OpenCursor("", "indexer"), is("collection name is empty"));
  EXPECT_THAT(store->ListCursors(""), is("collection name is empty"));
  // Other bad names are quoted, escaped, with the reason.
  EXPECT_THAT(store->OpenCursor("events", "a/b"), is("invalid cursor name 'a/b': contains '/'"));
  EXPECT_THAT(store->OpenByteLog(std::string("t\tx")),
              is("invalid collection name 't\\tx': contains a NUL or control character"));
  EXPECT_THAT(store->OpenCheckpoints(".x"),
              is("invalid checkpoint set name '.x': the name of its log is refused (invalid "
                 "collection name 'checkpoint..x'"));
  EXPECT_THAT(store->OpenCheckpoints(std::string(120, 'c')),
              AllOf(is("invalid checkpoint set name"), is("longer than 128 bytes")));
}

TEST(StorePathTest, EmptyMappedPathsAreInvalidArgument) {
  EXPECT_THAT(MappedVector<testing::Point>::Open("", {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the path is empty")));
  EXPECT_THAT(MappedStruct<testing::Counters>::Open("", {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the path is empty")));
}

}  // namespace
}  // namespace recstore
