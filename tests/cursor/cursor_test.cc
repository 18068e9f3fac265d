// Consumer cursors: create, commit, reopen; one holder at a time (this process and a forked
// child); commits from a read-only store while the writer appends; a damaged slot falls back
// to the other; damage to both, and hostile values under valid checksums, are refused naming
// the file; a failed flush keeps the old position; dropping cursors and collections.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/child.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::WriteFileBytes;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kMaxPosition = uint64_t{1} << 62;

class CursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    auto store = Store::Open(dir_, {.create_if_missing = true, .segment_size = kSegment});
    ASSERT_THAT(store, IsOk());
    auto log = (*store)->OpenByteLog("events");
    ASSERT_THAT(log, IsOk());
    for (int i = 0; i < 10; ++i) ASSERT_THAT(log->Append("record"), IsOk());
    ASSERT_THAT(log->Sync(), IsOk());
  }
  std::unique_ptr<Store> Open(bool read_only) {
    auto store = Store::Open(dir_, {.read_only = read_only, .segment_size = kSegment});
    EXPECT_THAT(store, IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }
  // The file of cursor `name` of "events" (collection id 1).
  std::string CursorFile(const std::string& name) const {
    return dir_ + "/cursors/000001-events/" + name + ".cursor";
  }

  std::string dir_;
};

TEST_F(CursorTest, CreateCommitReopen) {
  auto store = Open(/*read_only=*/true);
  {
    auto c = store->OpenCursor("events", "indexer");
    ASSERT_THAT(c, IsOk());
    EXPECT_EQ(c->position(), 0u);
    EXPECT_EQ(c->info().commits, 0u);
    EXPECT_EQ(c->name(), "indexer");
    EXPECT_EQ(c->collection(), "events");
    EXPECT_EQ(c->path(), CursorFile("indexer"));
    ASSERT_THAT(c->Commit(5), IsOk());
    ASSERT_THAT(c->Commit(5), IsOk());  // the same position again is allowed
    ASSERT_THAT(c->Commit(7), IsOk());
    EXPECT_EQ(c->position(), 7u);
    EXPECT_EQ(c->info().commits, 3u);
    EXPECT_GT(c->info().time_ns, 0);
  }
  EXPECT_TRUE(std::filesystem::exists(CursorFile("indexer")));
  EXPECT_FALSE(std::filesystem::exists(CursorFile("indexer") + ".tmp"));
  auto again =
      Open(/*read_only=*/true)->OpenCursor("events", "indexer", {.create_if_missing = false});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->position(), 7u);
  EXPECT_EQ(again->info().commits, 3u);
  auto list = store->ListCursors("events");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "indexer");
  EXPECT_EQ((*list)[0].position, 7u);
  EXPECT_EQ((*list)[0].commits, 3u);
}

TEST_F(CursorTest, NewCursorStartsAtBegin) {
  auto store = Open(/*read_only=*/false);
  auto log = store->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT(log->TruncateBefore(4), IsOk());
  auto c = store->OpenCursor("events", "late");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->position(), 4u);
}

TEST_F(CursorTest, RefusalsNameWhatIsWrong) {
  auto store = Open(/*read_only=*/true);
  EXPECT_THAT(store->OpenCursor("nope", "c"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("collection 'nope'")));
  EXPECT_THAT(store->OpenCursor("events", "a/b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->OpenCursor("events", ".."), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->OpenCursor("events", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->OpenCursor("events", "c", {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cursor 'c'")));
  EXPECT_THAT(store->ListCursors("nope"), StatusIs(absl::StatusCode::kNotFound));
  auto none = store->ListCursors("events");
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(CursorTest, NeverMovesBack) {
  auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(c->Commit(6), IsOk());
  EXPECT_THAT(c->Commit(5), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("cannot move back from 6 to 5")));
  EXPECT_THAT(c->Commit(kMaxPosition + 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(c->position(), 6u);
  ASSERT_THAT(c->Commit(kMaxPosition), IsOk());
}

TEST_F(CursorTest, SecondOpenerInThisProcessIsUnavailable) {
  auto reader = Open(/*read_only=*/true);
  auto writer = Open(/*read_only=*/false);
  auto c = reader->OpenCursor("events", "c");
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(reader->OpenCursor("events", "c"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cursor 'c'")));
  EXPECT_THAT(writer->OpenCursor("events", "c"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cursor 'c'")));
  EXPECT_THAT(reader->DropCursor("events", "c"), StatusIs(absl::StatusCode::kUnavailable));
  // Moving the handle keeps the lock; destroying it lets the next holder in.
  Cursor moved = *std::move(c);
  EXPECT_THAT(reader->OpenCursor("events", "c"), StatusIs(absl::StatusCode::kUnavailable));
  { Cursor gone = std::move(moved); }
  EXPECT_THAT(reader->OpenCursor("events", "c"), IsOk());
}

TEST_F(CursorTest, SecondOpenerInAnotherProcessIsUnavailable) {
  auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
  ASSERT_THAT(c, IsOk());
  const std::string dir = dir_;
  auto child = [dir](void (*)(int)) {
    auto store = Store::Open(dir, {.read_only = true});
    if (!store.ok()) return 2;
    absl::StatusOr<Cursor> other = (*store)->OpenCursor("events", "c");
    if (other.ok()) return 1;
    return other.status().code() == absl::StatusCode::kUnavailable &&
                   absl::StrContains(other.status().message(), "cursor 'c'")
               ? 0
               : 3;
  };
  EXPECT_EQ(RunInChild(child), 0);
  // A child made by fork() does not keep the parent's lock: once the parent lets go, another
  // process takes the cursor, while that child is still alive.
  testing::ChildProcess holder([](testing::ChildProcess::Side& parent) {
    parent.Report("forked");
    return parent.Await() == 'x' ? 0 : 1;
  });
  ASSERT_EQ(holder.ReadLine(), "forked");
  c = absl::UnavailableError("released");
  EXPECT_EQ(RunInChild([dir](void (*)(int)) {
              auto store = Store::Open(dir, {.read_only = true});
              return store.ok() && (*store)->OpenCursor("events", "c").ok() ? 0 : 1;
            }),
            0);
  holder.Send('x');
  EXPECT_EQ(holder.Wait(), 0);
}

// A consumer in a read-only store follows the writer and commits as it goes.
TEST_F(CursorTest, ReadOnlyConsumerCommitsWhileWriterAppends) {
  auto writer = Open(/*read_only=*/false);
  auto log = writer->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  constexpr uint64_t kTotal = 3000;
  std::thread appender([&] {
    for (uint64_t i = 10; i < kTotal; ++i) {
      ASSERT_THAT(log->Append(std::string(100, 'x')), IsOk());
      if (i % 100 == 0) {
        ASSERT_THAT(log->Sync(), IsOk());
      }
    }
    ASSERT_THAT(log->Sync(), IsOk());
  });
  auto reader = Open(/*read_only=*/true);
  auto follow = reader->OpenByteLog("events");
  ASSERT_THAT(follow, IsOk());
  auto c = reader->OpenCursor("events", "follower");
  ASSERT_THAT(c, IsOk());
  uint64_t commits = 0;
  while (c->position() < kTotal) {
    ASSERT_THAT(follow->Refresh(), IsOk());
    uint64_t next = c->position();
    for (const auto& [seq, rec] : follow->Scan(next)) next = seq + 1;
    if (next > c->position()) {
      ASSERT_THAT(c->Commit(next), IsOk());
      ++commits;
    }
  }
  appender.join();
  EXPECT_EQ(c->position(), kTotal);
  EXPECT_EQ(c->info().commits, commits);
  auto list = writer->ListCursors("events");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].position, kTotal);
}

// Slot 0 lives at offset 0, slot 1 at 4096; commit k writes slot k % 2. After creation
// (counters 0 and 1) and commits to 5 (counter 2, slot 0) and 7 (counter 3, slot 1), slot 1
// is in force and slot 0 holds the commit before it.
class CursorFileTest : public CursorTest {
 protected:
  void SetUp() override {
    CursorTest::SetUp();
    auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
    ASSERT_THAT(c, IsOk());
    ASSERT_THAT(c->Commit(5), IsOk());
    ASSERT_THAT(c->Commit(7), IsOk());
    path_ = CursorFile("c");
    bytes_ = ReadFileBytes(path_);
    ASSERT_EQ(bytes_.size(), 8192u);
  }
  absl::StatusOr<uint64_t> Reopen() {
    auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
    if (!c.ok()) return c.status();
    return c->position();
  }
  // Sets the `width`-byte field at `at` of slot `slot` and recomputes the slot's checksum.
  void Patch(int slot, size_t at, int width, uint64_t value) {
    std::string b = ReadFileBytes(path_);
    char* p = b.data() + slot * 4096;
    if (width == 4) base::EncodeFixed32(p + at, static_cast<uint32_t>(value));
    if (width == 8) base::EncodeFixed64(p + at, value);
    testing::FixCursorSlotChecksum(p);
    WriteFileBytes(path_, b);
  }

  std::string path_;
  std::string bytes_;
};

TEST_F(CursorFileTest, DamagedNewerSlotFallsBackToTheOther) {
  std::string b = bytes_;
  b[4096 + 33] ^= 0x40;  // the position of slot 1, under its checksum
  WriteFileBytes(path_, b);
  EXPECT_THAT(Reopen(), testing::IsOkAndHolds(5u));
}

TEST_F(CursorFileTest, DamagedOlderSlotIsIgnored) {
  std::string b = bytes_;
  b[20] ^= 1;
  WriteFileBytes(path_, b);
  EXPECT_THAT(Reopen(), testing::IsOkAndHolds(7u));
  // The next commit rewrites the damaged slot whole.
  auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(c->Commit(8), IsOk());
}

TEST_F(CursorFileTest, BothSlotsDamagedIsDataLossNamingTheFile) {
  for (const auto& [a, b] : {std::pair{3, 4096 + 3}, std::pair{48, 4096 + 50}}) {
    std::string bytes = bytes_;
    bytes[a] ^= 1;
    bytes[b] ^= 1;
    WriteFileBytes(path_, bytes);
    EXPECT_THAT(Reopen(), StatusIs(absl::StatusCode::kDataLoss,
                                   AllOf(HasSubstr(path_), HasSubstr("both cursor slots"))));
  }
  WriteFileBytes(path_, bytes_.substr(0, 100));  // truncated: slot 1 is gone, slot 0 is kept
  EXPECT_THAT(Reopen(), testing::IsOkAndHolds(5u));
  WriteFileBytes(path_, "");
  EXPECT_THAT(Reopen(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path_)));
  auto store = Open(/*read_only=*/true);
  EXPECT_THAT(store->ListCursors("events"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path_)));
}

TEST_F(CursorFileTest, HostileValuesUnderValidChecksumsAreRefused) {
  struct Case {
    const char* name;
    int slot;
    size_t at;
    int width;
    uint64_t value;
    absl::StatusCode code;
    const char* what;
  };
  const Case cases[] = {
      {"version 0", 1, 8, 4, 0, absl::StatusCode::kDataLoss, "format version 0"},
      {"version 2", 1, 8, 4, 2, absl::StatusCode::kFailedPrecondition, "format version 2"},
      {"slot index", 1, 12, 4, 0, absl::StatusCode::kDataLoss, "names slot 0"},
      {"slot index max", 0, 12, 4, UINT32_MAX, absl::StatusCode::kDataLoss, "names slot"},
      {"collection id", 1, 16, 4, 2, absl::StatusCode::kDataLoss, "collection id 2"},
      {"counter parity", 1, 24, 8, 4, absl::StatusCode::kDataLoss, "belongs in slot 0"},
      {"counter past 2^62", 1, 24, 8, kMaxPosition + 1, absl::StatusCode::kDataLoss, "2^62"},
      {"counter max", 1, 24, 8, UINT64_MAX, absl::StatusCode::kDataLoss, "2^62"},
      {"counters far apart", 1, 24, 8, 11, absl::StatusCode::kDataLoss, "not consecutive"},
      {"older slot newer, behind", 0, 24, 8, 4, absl::StatusCode::kDataLoss,
       "moves the position back"},
      {"older slot far ahead", 0, 24, 8, 8, absl::StatusCode::kDataLoss, "not consecutive"},
      {"position past 2^62", 1, 32, 8, kMaxPosition + 1, absl::StatusCode::kDataLoss, "2^62"},
      {"position max", 0, 32, 8, UINT64_MAX, absl::StatusCode::kDataLoss, "2^62"},
      {"position moves back", 1, 32, 8, 4, absl::StatusCode::kDataLoss, "moves the position back"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WriteFileBytes(path_, bytes_);
    Patch(c.slot, c.at, c.width, c.value);
    EXPECT_THAT(Reopen(), StatusIs(c.code, AllOf(HasSubstr(path_), HasSubstr(c.what))));
  }
  // Values the format admits.
  WriteFileBytes(path_, bytes_);
  Patch(1, 32, 8, kMaxPosition);
  EXPECT_THAT(Reopen(), testing::IsOkAndHolds(kMaxPosition));
  WriteFileBytes(path_, bytes_);
  Patch(1, 40, 8, static_cast<uint64_t>(INT64_MIN));  // any time
  EXPECT_THAT(Reopen(), testing::IsOkAndHolds(7u));
}

TEST_F(CursorTest, FailedFlushKeepsTheOldPosition) {
  testing::FaultEnv env;
  auto store = testing::OpenStore(&env, dir_, {.read_only = true});
  ASSERT_THAT(store, IsOk());
  auto c = (*store)->OpenCursor("events", "c");
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(c->Commit(3), IsOk());
  env.Fail("SyncData", EIO, 0, ".cursor");
  EXPECT_THAT(c->Commit(9), StatusIs(absl::StatusCode::kInternal, HasSubstr(c->path())));
  EXPECT_EQ(c->position(), 3u);
  EXPECT_EQ(c->info().commits, 1u);
  env.Clear();
  env.Fail("PWrite", ENOSPC, 0, ".cursor");
  EXPECT_THAT(c->Commit(9), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(c->position(), 3u);
  env.Clear();
  ASSERT_THAT(c->Commit(9), IsOk());  // a later commit tries again
  EXPECT_EQ(c->info().commits, 2u);
  c = absl::UnavailableError("closed");
  auto again = Open(/*read_only=*/true)->OpenCursor("events", "c");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->position(), 9u);
}

TEST_F(CursorTest, FailedCreationLeavesNoCursor) {
  for (const char* op : {"PWrite", "SyncData", "Rename", "SyncDir"}) {
    SCOPED_TRACE(op);
    testing::FaultEnv env;
    auto store = testing::OpenStore(&env, dir_, {.read_only = true});
    ASSERT_THAT(store, IsOk());
    env.Fail(op, EIO);
    EXPECT_THAT((*store)->OpenCursor("events", op), StatusIs(absl::StatusCode::kInternal));
    env.Clear();
    if (std::string(op) != "SyncDir") {
      EXPECT_THAT((*store)->OpenCursor("events", op, {.create_if_missing = false}),
                  StatusIs(absl::StatusCode::kNotFound));
    }
    // A creation that failed is tried again from the start (the leftover .tmp is reused).
    auto c = (*store)->OpenCursor("events", op);
    ASSERT_THAT(c, IsOk());
    EXPECT_EQ(c->position(), 0u);
  }
}

TEST_F(CursorTest, DropCursor) {
  auto store = Open(/*read_only=*/true);
  ASSERT_THAT(store->OpenCursor("events", "a"), IsOk());
  ASSERT_THAT(store->OpenCursor("events", "b"), IsOk());
  auto list = store->ListCursors("events");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a");
  EXPECT_EQ((*list)[1].name, "b");
  ASSERT_THAT(store->DropCursor("events", "a"), IsOk());
  EXPECT_THAT(store->DropCursor("events", "a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->OpenCursor("events", "a", {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));
  list = store->ListCursors("events");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "b");
}

TEST_F(CursorTest, DropCollectionRemovesItsCursors) {
  {
    auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
    ASSERT_THAT(c, IsOk());
    ASSERT_THAT(c->Commit(8), IsOk());
  }
  auto store = Open(/*read_only=*/false);
  ASSERT_THAT(store->DropCollection("events"), IsOk());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/cursors/000001-events"));
  ASSERT_THAT(store->OpenByteLog("events"), IsOk());  // id 2 now
  auto list = store->ListCursors("events");
  ASSERT_THAT(list, IsOk());
  EXPECT_TRUE(list->empty());
  EXPECT_THAT(store->OpenCursor("events", "c", {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CursorTest, WriterOpenRemovesCursorFoldersOfDroppedCollections) {
  // What a crash between DropCollection's manifest rewrite and its removals leaves.
  std::filesystem::create_directories(dir_ + "/cursors/000001-gone");
  WriteFileBytes(dir_ + "/cursors/000001-gone/c.cursor", "x");
  std::filesystem::create_directories(dir_ + "/cursors/not-a-folder-of-ours");
  {
    auto c = Open(/*read_only=*/true)->OpenCursor("events", "c");
    ASSERT_THAT(c, IsOk());
  }
  ASSERT_NE(Open(/*read_only=*/false), nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/cursors/000001-gone"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/cursors/not-a-folder-of-ours"));
  EXPECT_TRUE(std::filesystem::exists(CursorFile("c")));
}

}  // namespace
}  // namespace recstore
