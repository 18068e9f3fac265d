// A store's own files (MANIFEST, MANIFEST.tmp, LOCK) replaced by a symbolic link or by
// something that is not a regular file. Before, recstore wrote through a symlink: a LOCK
// linked to another file had that file truncated and overwritten with the writer's pid, a
// MANIFEST.tmp link made the next manifest rewrite write through it, and a FIFO named
// MANIFEST hung every open. Now each is refused with FailedPrecondition naming the file,
// and the file the link points to is left alone. A store reached through a symlinked
// directory is fine: only the store's own files must not be links.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

// A store with byte log "events" holding one record; returns its directory.
std::string MakeStore() {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  EXPECT_OK(store.status());
  if (!store.ok()) return dir;
  auto events = (*store)->OpenByteLog("events");
  EXPECT_OK(events.status());
  if (events.ok()) {
    EXPECT_OK(events->Append("kept").status());
    EXPECT_OK(events->Sync().status());
  }
  return dir;
}

// A file outside the store that a link points to.
std::string Victim(const std::string& dir) {
  const std::string victim = fs::path(dir).parent_path() / "victim";
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << "not recstore's";
  return victim;
}

auto RefusedLink(const std::string& file) {
  return StatusIs(absl::StatusCode::kFailedPrecondition,
                  AllOf(HasSubstr(file), HasSubstr("symbolic link")));
}

TEST(StoreFileKindsTest, SymlinkedLockIsRefusedAndItsTargetLeftAlone) {
  const std::string dir = MakeStore();
  const std::string victim = Victim(dir);
  fs::remove(dir + "/LOCK");
  fs::create_symlink(victim, dir + "/LOCK");
  EXPECT_THAT(Store::Open(dir).status(), RefusedLink(dir + "/LOCK"));
  EXPECT_THAT(Store::Open(dir, {.read_only = true}).status(), RefusedLink(dir + "/LOCK"));
  EXPECT_EQ(ReadFileBytes(victim), "not recstore's");
}

// A segment file replaced by a link is refused too (segments are opened with O_NOFOLLOW), as
// writer and as reader, and the file it points to is never written (a writer's recovery
// would zero its tail and write its commit block through the mapping).
TEST(StoreFileKindsTest, SymlinkedSegmentIsRefusedAndItsTargetLeftAlone) {
  const std::string dir = MakeStore();
  std::string segment;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with("-events")) {
      segment = (e.path() / "00000000000000000000.seg").string();
    }
  }
  ASSERT_TRUE(fs::exists(segment));
  const std::string target = fs::path(dir).parent_path() / "segment.elsewhere";
  fs::rename(segment, target);
  fs::create_symlink(target, segment);
  const std::string before = ReadFileBytes(target);
  for (bool read_only : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.read_only = read_only}));
    EXPECT_THAT(store->OpenByteLog("events").status(), RefusedLink(segment));
  }
  EXPECT_EQ(ReadFileBytes(target), before);
}

TEST(StoreFileKindsTest, SymlinkedManifestIsRefused) {
  const std::string dir = MakeStore();
  const std::string elsewhere = fs::path(dir).parent_path() / "MANIFEST.elsewhere";
  fs::rename(dir + "/MANIFEST", elsewhere);
  fs::create_symlink(elsewhere, dir + "/MANIFEST");
  const std::string before = ReadFileBytes(elsewhere);
  EXPECT_THAT(Store::Open(dir).status(), RefusedLink(dir + "/MANIFEST"));
  EXPECT_THAT(Store::Open(dir, {.read_only = true}).status(), RefusedLink(dir + "/MANIFEST"));
  EXPECT_THAT(Store::Open(dir, {.create_if_missing = true}).status(),
              RefusedLink(dir + "/MANIFEST"));
  EXPECT_EQ(ReadFileBytes(elsewhere), before);
}

TEST(StoreFileKindsTest, SymlinkedManifestTmpIsRefusedAndTheManifestStays) {
  const std::string dir = MakeStore();
  const std::string victim = Victim(dir);
  fs::create_symlink(victim, dir + "/MANIFEST.tmp");
  const std::string manifest = ReadFileBytes(dir + "/MANIFEST");
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    // Creating a collection rewrites the manifest through MANIFEST.tmp.
    EXPECT_THAT(store->OpenByteLog("other").status(), RefusedLink(dir + "/MANIFEST.tmp"));
  }
  EXPECT_EQ(ReadFileBytes(victim), "not recstore's");
  EXPECT_EQ(ReadFileBytes(dir + "/MANIFEST"), manifest);
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir + "/MANIFEST")));
  // Once the link is gone, the store works as before.
  fs::remove(dir + "/MANIFEST.tmp");
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK(store->OpenByteLog("other").status());
  ASSERT_OK_AND_ASSIGN(ByteLog events, store->OpenByteLog("events"));
  EXPECT_EQ(events.size(), 1u);
}

// Opening a FIFO for reading blocks until a writer comes: the open must not wait. Run in a
// child under an alarm, so a hang fails the test instead of timing it out.
TEST(StoreFileKindsTest, FifoInsteadOfManifestOrLockIsRefusedWithoutBlocking) {
  const std::string dir = MakeStore();
  fs::rename(dir + "/MANIFEST", dir + "/MANIFEST.saved");
  ASSERT_EQ(::mkfifo((dir + "/MANIFEST").c_str(), 0644), 0);
  auto refused = [&](const StoreOptions& options, const std::string& file) {
    return RunInChild([&](auto) {
      ::alarm(20);
      absl::Status s = Store::Open(dir, options).status();
      return s.code() == absl::StatusCode::kFailedPrecondition &&
                     s.message().find(file + ": is not a regular file (a FIFO)") !=
                         absl::string_view::npos
                 ? 0
                 : 1;
    });
  };
  EXPECT_EQ(refused({.read_only = true}, dir + "/MANIFEST"), 0);
  EXPECT_EQ(refused({}, dir + "/MANIFEST"), 0);
  fs::remove(dir + "/MANIFEST");
  fs::rename(dir + "/MANIFEST.saved", dir + "/MANIFEST");
  fs::remove(dir + "/LOCK");
  ASSERT_EQ(::mkfifo((dir + "/LOCK").c_str(), 0644), 0);
  EXPECT_EQ(refused({}, dir + "/LOCK"), 0);
  EXPECT_EQ(refused({.read_only = true}, dir + "/LOCK"), 0);
}

TEST(StoreFileKindsTest, DirectoryInsteadOfLockIsRefused) {
  const std::string dir = MakeStore();
  fs::remove(dir + "/LOCK");
  fs::create_directory(dir + "/LOCK");
  EXPECT_THAT(Store::Open(dir).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(dir + "/LOCK"), HasSubstr("Is a directory"))));
  EXPECT_THAT(Store::Open(dir, {.read_only = true}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(dir + "/LOCK: is not a regular file (a directory)")));
}

TEST(StoreFileKindsTest, StoreReachedThroughASymlinkedDirectoryOpens) {
  const std::string dir = MakeStore();
  const std::string link = fs::path(dir).parent_path() / "link";
  fs::create_directory_symlink(dir, link);
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(link));
    ASSERT_OK_AND_ASSIGN(ByteLog events, store->OpenByteLog("events"));
    EXPECT_EQ(events.size(), 1u);
    ASSERT_OK(events.Append("more").status());
    ASSERT_OK(events.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(ByteLog events, store->OpenByteLog("events"));
  EXPECT_EQ(events.size(), 2u);
}

}  // namespace
}  // namespace recstore
