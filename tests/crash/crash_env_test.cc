// CrashEnv: what its crash images keep of contents and names, and when its crash happens.
#include "tests/crash/crash_env.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "src/os/file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::crash {
namespace {

using Mode = CrashEnv::Mode;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A root directory with a CrashEnv over it, and an image directory beside it.
class CrashEnvTest : public ::testing::Test {
 protected:
  CrashEnvTest() : root_(TestDir("root")), image_(TestDir("image")), env_(MakeRoot(root_)) {}

  static std::string MakeRoot(const std::string& root) {
    std::filesystem::create_directories(root);
    return root;
  }
  std::string P(const std::string& name) const { return root_ + "/" + name; }
  std::string I(const std::string& name) const { return image_ + "/" + name; }

  int Create(const std::string& name) {
    absl::StatusOr<int> fd = env_.Open(P(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.value_or(-1);
  }
  void Write(int fd, const std::string& name, const std::string& data, uint64_t off = 0) {
    ASSERT_TRUE(env_.PWrite(fd, P(name), data, off).ok());
  }
  void Image(Mode mode = Mode::kDropUnsynced, uint64_t seed = 1) {
    ASSERT_TRUE(env_.WriteCrashImage(image_, mode, seed).ok());
  }

  const std::string root_;
  const std::string image_;
  CrashEnv env_;
};

TEST_F(CrashEnvTest, UnsyncedWriteIsLostInDropMode) {
  int fd = Create("f");
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Write(fd, "f", "hello");
  Image();
  EXPECT_EQ(ReadFile(I("f")), "");  // the name is durable, the bytes are not
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
}

TEST_F(CrashEnvTest, SyncDataMakesContentDurableAndLaterWritesAreLost) {
  int fd = Create("f");
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Write(fd, "f", "hello");
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());
  Write(fd, "f", "HELLO world", 0);
  Image();
  EXPECT_EQ(ReadFile(I("f")), "hello");
  ASSERT_TRUE(env_.SyncAll(fd, P("f")).ok());
  Image();
  EXPECT_EQ(ReadFile(I("f")), "HELLO world");
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
}

TEST_F(CrashEnvTest, WritesThroughASharedMappingAreReadBackAtSync) {
  int fd = Create("m");
  ASSERT_TRUE(env_.Allocate(fd, P("m"), 0, 8192).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  absl::StatusOr<void*> map = env_.Map(fd, P("m"), 8192, true);
  ASSERT_TRUE(map.ok());
  std::memcpy(static_cast<char*>(*map) + 5000, "mapped", 6);
  ASSERT_TRUE(env_.SyncData(fd, P("m")).ok());
  std::memcpy(static_cast<char*>(*map) + 100, "later", 5);
  Image();
  std::optional<std::string> got = ReadFile(I("m"));
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->size(), 8192u);
  EXPECT_EQ(got->substr(5000, 6), "mapped");
  EXPECT_EQ(got->substr(100, 5), std::string(5, '\0'));
  ASSERT_TRUE(env_.Unmap(*map, 8192, P("m")).ok());
  ASSERT_TRUE(env_.Close(fd, P("m")).ok());
}

TEST_F(CrashEnvTest, FileCreatedWithoutSyncDirVanishes) {
  int fd = Create("new");
  Write(fd, "new", "data");
  ASSERT_TRUE(env_.SyncData(fd, P("new")).ok());  // content durable, name not
  Image();
  EXPECT_FALSE(std::filesystem::exists(I("new")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_EQ(ReadFile(I("new")), "data");
  ASSERT_TRUE(env_.Close(fd, P("new")).ok());
}

TEST_F(CrashEnvTest, FilesInADirectoryWhoseOwnNameIsNotDurableVanish) {
  ASSERT_TRUE(env_.MakeDir(P("d"), 0755).ok());
  int fd = Create("d/f");
  Write(fd, "d/f", "x");
  ASSERT_TRUE(env_.SyncData(fd, P("d/f")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, P("d")).ok());
  Image();
  EXPECT_FALSE(std::filesystem::exists(I("d")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_EQ(ReadFile(I("d/f")), "x");
  ASSERT_TRUE(env_.Close(fd, P("d/f")).ok());
}

TEST_F(CrashEnvTest, RenameWithoutSyncDirIsUndone) {
  int fd = Create("a");
  Write(fd, "a", "content");
  ASSERT_TRUE(env_.SyncData(fd, P("a")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  ASSERT_TRUE(env_.Rename(P("a"), P("b")).ok());
  Image();
  EXPECT_EQ(ReadFile(I("a")), "content");
  EXPECT_FALSE(std::filesystem::exists(I("b")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_FALSE(std::filesystem::exists(I("a")));
  EXPECT_EQ(ReadFile(I("b")), "content");
  ASSERT_TRUE(env_.Close(fd, P("b")).ok());
}

// The manifest's atomic replace: until the directory is synced, the old file keeps the name.
TEST_F(CrashEnvTest, RenameOverAnExistingFileWithoutSyncDirKeepsTheOldOne) {
  int old_fd = Create("M");
  Write(old_fd, "M", "v1");
  ASSERT_TRUE(env_.SyncAll(old_fd, P("M")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  ASSERT_TRUE(env_.Close(old_fd, P("M")).ok());
  int fd = Create("M.tmp");
  Write(fd, "M.tmp", "v2");
  ASSERT_TRUE(env_.SyncAll(fd, P("M.tmp")).ok());
  ASSERT_TRUE(env_.Close(fd, P("M.tmp")).ok());
  ASSERT_TRUE(env_.Rename(P("M.tmp"), P("M")).ok());
  EXPECT_EQ(ReadFile(P("M")), "v2");
  Image();
  EXPECT_EQ(ReadFile(I("M")), "v1");
  EXPECT_FALSE(std::filesystem::exists(I("M.tmp")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_EQ(ReadFile(I("M")), "v2");
}

TEST_F(CrashEnvTest, RemoveWithoutSyncDirIsUndone) {
  int fd = Create("f");
  Write(fd, "f", "kept");
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Write(fd, "f", "lost");
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
  ASSERT_TRUE(env_.Remove(P("f")).ok());
  EXPECT_FALSE(std::filesystem::exists(P("f")));
  Image();
  EXPECT_EQ(ReadFile(I("f")), "kept");
  // Unsynced bytes of the removed file may come back too, in the modes that keep some.
  Image(Mode::kTornWrite, 3);
  std::optional<std::string> torn = ReadFile(I("f"));
  ASSERT_TRUE(torn.has_value());
  EXPECT_EQ(torn->size(), 4u);
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_FALSE(std::filesystem::exists(I("f")));
}

TEST_F(CrashEnvTest, ARenamedDirectoryTakesItsFilesAlong) {
  ASSERT_TRUE(env_.MakeDir(P("d"), 0755).ok());
  int fd = Create("d/f");
  Write(fd, "d/f", "one");
  ASSERT_TRUE(env_.SyncData(fd, P("d/f")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, P("d")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  ASSERT_TRUE(env_.Close(fd, P("d/f")).ok());
  ASSERT_TRUE(env_.Rename(P("d"), P("e")).ok());
  // The file is known under its new path: opening it finds the same file.
  absl::StatusOr<int> again = env_.Open(P("e/f"), O_RDWR, 0);
  ASSERT_TRUE(again.ok());
  Write(*again, "e/f", "two");
  ASSERT_TRUE(env_.SyncData(*again, P("e/f")).ok());
  Image();
  EXPECT_EQ(ReadFile(I("d/f")), "two");  // the rename is undone, the synced content is not
  EXPECT_FALSE(std::filesystem::exists(I("e")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_EQ(ReadFile(I("e/f")), "two");
  EXPECT_FALSE(std::filesystem::exists(I("d")));
  ASSERT_TRUE(env_.Close(*again, P("e/f")).ok());
}

TEST_F(CrashEnvTest, RemoveDirWithoutSyncDirIsUndone) {
  ASSERT_TRUE(env_.MakeDir(P("d"), 0755).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  ASSERT_TRUE(env_.RemoveDir(P("d")).ok());
  Image();
  EXPECT_TRUE(std::filesystem::is_directory(I("d")));
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_FALSE(std::filesystem::exists(I("d")));
}

// The kernel may give a new file the inode number of one just removed; the model must not
// confuse the two.
TEST_F(CrashEnvTest, ANewFileUnderARemovedNameIsADifferentFile) {
  int fd = Create("f");
  Write(fd, "f", "old");
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
  ASSERT_TRUE(env_.Remove(P("f")).ok());
  fd = Create("f");
  Write(fd, "f", "new!");
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());
  Image();
  EXPECT_EQ(ReadFile(I("f")), "old");  // the directory still names the old file
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Image();
  EXPECT_EQ(ReadFile(I("f")), "new!");
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
}

TEST(CrashEnvRootTest, WhatIsThereAtConstructionIsDurable) {
  const std::string root = TestDir("root");
  const std::string image = TestDir("image");
  std::filesystem::create_directories(root + "/sub");
  std::ofstream(root + "/sub/f") << "before";
  CrashEnv env(root);
  ASSERT_TRUE(env.WriteCrashImage(image, CrashEnv::Mode::kDropUnsynced, 1).ok());
  EXPECT_EQ(ReadFile(image + "/sub/f"), "before");
}

TEST_F(CrashEnvTest, FileSizeIsDurableInDropModeAndCurrentInTheOthers) {
  int fd = Create("f");
  Write(fd, "f", std::string(100, 'a'));
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());
  Write(fd, "f", std::string(3 * kCrashPage, 'b'), 100);
  Image(Mode::kDropUnsynced);
  EXPECT_EQ(ReadFile(I("f")), std::string(100, 'a'));
  for (Mode mode : {Mode::kKeepSomeUnsynced, Mode::kTornWrite, Mode::kZeroUnsynced}) {
    Image(mode, 7);
    std::optional<std::string> got = ReadFile(I("f"));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->size(), 100 + 3 * kCrashPage) << CrashModeName(mode);
    EXPECT_EQ(got->substr(0, 100), std::string(100, 'a'));
    for (size_t i = 100; i < got->size(); ++i) {
      ASSERT_TRUE((*got)[i] == 'b' || (*got)[i] == '\0') << CrashModeName(mode) << " at " << i;
    }
  }
  ASSERT_TRUE(env_.Close(fd, P("f")).ok());
}

TEST_F(CrashEnvTest, CrashAfterTheNthCallWritesTheImageThenFailsAllButCloseAndUnmap) {
  env_.Reset();
  int fd = Create("f");                         // call 1
  Write(fd, "f", "synced");                     // 2
  ASSERT_TRUE(env_.SyncData(fd, P("f")).ok());  // 3
  ASSERT_TRUE(os::SyncDir(&env_, root_).ok());  // 4 Open, 5 SyncAll of it, 6 Close
  EXPECT_EQ(env_.calls(), 6u);
  bool hook = false;
  env_.CrashAfterCall(8, {{Mode::kDropUnsynced, 1, image_}}, [&] { hook = true; });
  Write(fd, "f", "SYNCED");  // 7
  EXPECT_FALSE(env_.crashed());
  ASSERT_TRUE(env_.Exists(P("f")).ok());  // 8: the crash follows it
  EXPECT_TRUE(env_.crashed());
  EXPECT_TRUE(hook);
  EXPECT_TRUE(env_.image_status().ok());
  EXPECT_EQ(ReadFile(I("f")), "synced");
  EXPECT_THAT(env_.SyncData(fd, P("f")), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(env_.Open(P("g"), O_RDWR | O_CREAT, 0644), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(env_.Exists(P("f")), StatusIs(absl::StatusCode::kInternal));
  EXPECT_FALSE(std::filesystem::exists(P("g")));
  EXPECT_TRUE(env_.Close(fd, P("f")).ok());
  EXPECT_EQ(env_.calls(), 12u);
  env_.Reset();
  EXPECT_EQ(env_.calls(), 0u);
  EXPECT_TRUE(env_.Exists(P("f")).ok());
}

// SurvivingContent, over many seeds: each mode keeps only bytes that were written or were
// durable, in the pattern the mode promises.
TEST(SurvivingContentTest, DropKeepsTheDurableContent) {
  EXPECT_EQ(SurvivingContent("abc", "xyzw", CrashMode::kDropUnsynced, 1), "abc");
}

TEST(SurvivingContentTest, TornKeepsAPrefixOfTheDirtyRange) {
  const std::string durable(3 * kCrashPage, 'd');
  std::string current = durable;
  for (size_t i = 1000; i < 9000; ++i) current[i] = 'c';
  bool saw_part = false;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const std::string out = SurvivingContent(durable, current, CrashMode::kTornWrite, seed);
    ASSERT_EQ(out.size(), durable.size());
    const size_t cut = out.find_first_not_of('c', 1000);
    ASSERT_EQ(out.substr(0, 1000), durable.substr(0, 1000));
    for (size_t i = 1000; i < out.size(); ++i) {
      ASSERT_EQ(out[i], i < cut ? 'c' : 'd') << "seed " << seed << " at " << i;
    }
    saw_part |= cut > 1000 && cut < 9000;
  }
  EXPECT_TRUE(saw_part);
}

TEST(SurvivingContentTest, KeepPartKeepsWholePagesOfCurrentOrDurable) {
  const std::string durable(4 * kCrashPage, 'd');
  const std::string current(4 * kCrashPage, 'c');
  int kept = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const std::string out = SurvivingContent(durable, current, CrashMode::kKeepSomeUnsynced, seed);
    ASSERT_EQ(out.size(), durable.size());
    for (size_t page = 0; page < out.size(); page += kCrashPage) {
      const std::string p = out.substr(page, kCrashPage);
      ASSERT_TRUE(p == current.substr(page, kCrashPage) || p == durable.substr(page, kCrashPage))
          << "seed " << seed << " page " << page / kCrashPage;
      kept += p[0] == 'c';
    }
  }
  EXPECT_GT(kept, 50);
  EXPECT_LT(kept, 150);
}

TEST(SurvivingContentTest, ZeroAndGarbageOnlyTouchDirtyBytes) {
  std::string durable(2 * kCrashPage, 'd');
  std::string current = durable;
  for (size_t i = 0; i < current.size(); i += 3) current[i] = 'c';  // every third byte dirty
  for (CrashMode mode : {CrashMode::kZeroUnsynced, CrashMode::kGarbageUnsynced}) {
    bool changed = false;
    for (uint64_t seed = 0; seed < 30; ++seed) {
      const std::string out = SurvivingContent(durable, current, mode, seed);
      ASSERT_EQ(out.size(), durable.size());
      for (size_t i = 0; i < out.size(); ++i) {
        if (i % 3 != 0) {
          ASSERT_EQ(out[i], 'd') << CrashModeName(mode) << " at " << i;
        }
        changed |= i % 3 == 0 && out[i] != 'c' && out[i] != 'd';
      }
    }
    EXPECT_TRUE(changed) << CrashModeName(mode);
  }
}

TEST(SurvivingContentTest, ShrunkFileKeepsCurrentSizeOutsideDropMode) {
  EXPECT_EQ(SurvivingContent("abcdef", "ab", CrashMode::kTornWrite, 1), "ab");
  EXPECT_EQ(SurvivingContent("abcdef", "ab", CrashMode::kDropUnsynced, 1), "abcdef");
}

}  // namespace
}  // namespace recstore::crash
