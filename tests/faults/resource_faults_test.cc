// A full disk (ENOSPC) where recstore needs space: creating a segment while appending past a
// rotation, and rewriting the manifest to create or drop a collection. Each failure is a clear
// error naming the file, changes nothing that was there before, leaves nothing that breaks a
// later open, and once space is back the same handle carries on (a failed segment creation
// does not put the log in its failed state; only a failed flush of records does).
#include <cerrno>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/faults/checks.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/open_store.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::FaultEnv;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Trade slots per segment

std::vector<Trade> Trades(uint64_t from, uint64_t n) {
  std::vector<Trade> v;
  for (uint64_t i = from; i < from + n; ++i) v.push_back(MakeTrade(i));
  return v;
}

// Where segment creation can run out of space: allocating the file, or writing its header.
struct SegmentFault {
  const char* op;
  const char* name;
  friend void PrintTo(const SegmentFault& f, std::ostream* os) { *os << f.name; }
};

class SegmentEnospcTest : public ::testing::TestWithParam<SegmentFault> {};

TEST_P(SegmentEnospcTest, FixedLogAppendFailsCleanlyAndContinuesOnTheSameHandle) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "trades");
  const uint64_t synced = 2 * kPer + 100;  // three segments, the last one partly full
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(
                             &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, synced)).status());
    ASSERT_OK(trades.Sync().status());
    const std::vector<std::string> before = FilesIn(coll);
    ASSERT_EQ(before.size(), 3u);

    env.Fail(GetParam().op, ENOSPC, 0, ".seg");
    // A batch that crosses into a new segment: all or nothing.
    EXPECT_THAT(trades.AppendBatch(Trades(synced, kPer)),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         AllOf(HasSubstr(GetParam().op), HasSubstr(coll),
                               HasSubstr("0000000000000004608.seg"), HasSubstr("errno 28"))));
    EXPECT_EQ(trades.size(), synced);
    EXPECT_EQ(FilesIn(coll), before) << "a half-made segment was left behind";
    // Room left in the active segment needs no space from the disk.
    ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(synced)));
    EXPECT_EQ(seq, synced);
    ASSERT_OK(trades.Sync().status());

    env.Clear();  // space is back: the same handle goes on, sequence numbers stay dense
    ASSERT_OK_AND_ASSIGN(seq, trades.AppendBatch(Trades(synced + 1, kPer)));
    EXPECT_EQ(seq, synced + 1);
    ASSERT_OK(trades.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(trades.recovery().clean());
  EXPECT_EQ(trades.size(), synced + 1 + kPer);
  EXPECT_TRUE(TradesIntact(trades, synced + 1 + kPer));
}

TEST_P(SegmentEnospcTest, ByteLogAppendFailsCleanlyAndReopenSeesTheSyncedRecords) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "events");
  FaultEnv env;
  uint64_t synced = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(
                             &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    while (FilesIn(coll).size() < 3) ASSERT_OK(events.Append(ByteRecord(synced++)).status());
    ASSERT_OK(events.Sync().status());
    const std::vector<std::string> before = FilesIn(coll);

    env.Fail(GetParam().op, ENOSPC, 0, ".seg");
    // Records until one needs a new segment; then a batch that needs two more.
    absl::Status s;
    uint64_t n = synced;
    while ((s = events.Append(ByteRecord(n)).status()).ok()) ++n;
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted,
                            AllOf(HasSubstr(GetParam().op), HasSubstr(coll), HasSubstr(".seg"),
                                  HasSubstr("errno 28"))));
    const std::string big(kSegment, 'x');
    const std::vector<std::string_view> batch = {big, big};
    EXPECT_THAT(events.AppendBatch(batch), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(events.size(), n);
    EXPECT_EQ(FilesIn(coll), before);
    ASSERT_OK(events.Sync().status());
    synced = n;
    env.Clear();
    ASSERT_OK_AND_ASSIGN(uint64_t seq, events.Append(ByteRecord(n)));
    EXPECT_EQ(seq, n);
    ASSERT_OK(events.Sync().status());
    ++synced;
  }
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_TRUE(events.recovery().clean());
  EXPECT_EQ(events.size(), synced);
  EXPECT_TRUE(BytesIntact(events, synced));
}

// A batch needs two new segments; the disk fills up after the first was made. The batch
// fails as a whole, and the segment made for it must not outlive the failure: left in place
// it would hold no record, and the next open would take it for data past the end.
TEST_P(SegmentEnospcTest, FixedBatchNeedingTwoSegmentsLeavesNoEmptySegment) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "trades");
  const uint64_t synced = 100;
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(
                             &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, synced)).status());
    ASSERT_OK(trades.Sync().status());
    env.Fail(GetParam().op, ENOSPC, /*skip=*/1, ".seg");
    EXPECT_THAT(trades.AppendBatch(Trades(synced, 2 * kPer)),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("3072.seg")));
    EXPECT_EQ(trades.size(), synced);
    EXPECT_THAT(FilesIn(coll), ElementsAre("00000000000000000000.seg"));
    env.Clear();
    ASSERT_OK(trades.Sync().status());
  }
  // The log ends in its first segment; nothing may follow it.
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(trades.recovery().clean());
  EXPECT_EQ(trades.size(), synced);
  EXPECT_TRUE(TradesIntact(trades, synced));
}

INSTANTIATE_TEST_SUITE_P(Points, SegmentEnospcTest,
                         ::testing::Values(SegmentFault{"Allocate", "Allocate"},
                                           SegmentFault{"PWrite", "HeaderWrite"}),
                         [](const auto& info) { return std::string(info.param.name); });

// Where a manifest rewrite can fail: creating MANIFEST.tmp, writing it, flushing it, or
// renaming it over MANIFEST. Before the rename the old manifest is untouched.
struct ManifestFault {
  const char* op;
  int err;
  absl::StatusCode code;
  const char* name;
  friend void PrintTo(const ManifestFault& f, std::ostream* os) { *os << f.name; }
};

class ManifestFaultTest : public ::testing::TestWithParam<ManifestFault> {
 protected:
  // A store with collection "trades" holding 10 synced records.
  void SetUp() override {
    dir_ = TestDir();
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir_, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, 10)).status());
    ASSERT_OK(trades.Sync().status());
  }

  void Fail() { env_.Fail(GetParam().op, GetParam().err, 0, "MANIFEST"); }
  auto IsTheFault() const {
    return StatusIs(GetParam().code, AllOf(HasSubstr(GetParam().op), HasSubstr("/MANIFEST.tmp")));
  }
  // Reopens without faults: the collections are `names` and trades is intact.
  void ExpectReopens(std::vector<std::string> names) {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_));
    std::vector<std::string> found;
    for (const CollectionInfo& c : store->ListCollections()) found.push_back(c.name);
    EXPECT_EQ(found, names);
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    EXPECT_EQ(trades.size(), 10u);
    EXPECT_TRUE(TradesIntact(trades, 10));
  }

  FaultEnv env_;
  std::string dir_;
};

TEST_P(ManifestFaultTest, CreatingACollectionFailsAndTheOldManifestStays) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env_, dir_, {}));
    Fail();
    EXPECT_THAT(store->OpenByteLog("events").status(), IsTheFault());
    EXPECT_EQ(store->ListCollections().size(), 1u);
    env_.Clear();
  }
  // Whatever the failed rewrite left in MANIFEST.tmp (here: half a manifest) is ignored.
  std::ofstream(dir_ + "/MANIFEST.tmp", std::ios::binary | std::ios::trunc)
      << std::string(37, '\x5a');
  ExpectReopens({"trades"});
  // Space is back: creating it works, on a store handle that saw the failure too.
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env_, dir_, {}));
    Fail();
    EXPECT_THAT(store->OpenByteLog("events").status(), IsTheFault());
    env_.Clear();
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    ASSERT_OK(events.Append(ByteRecord(0)).status());
    ASSERT_OK(events.Sync().status());
  }
  ExpectReopens({"trades", "events"});
}

TEST_P(ManifestFaultTest, DroppingACollectionFailsAndKeepsIt) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir_));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    ASSERT_OK(events.Append(ByteRecord(0)).status());
    ASSERT_OK(events.Sync().status());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env_, dir_, {}));
    Fail();
    EXPECT_THAT(store->DropCollection("events"), IsTheFault());
    env_.Clear();
    EXPECT_EQ(store->ListCollections().size(), 2u);
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    EXPECT_TRUE(BytesIntact(events, 1));
  }
  ExpectReopens({"trades", "events"});
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env_, dir_, {}));
    ASSERT_OK(store->DropCollection("events"));
  }
  ExpectReopens({"trades"});
}

TEST_P(ManifestFaultTest, CreatingAStoreFailsAndCanBeRetried) {
  const std::string dir = TestDir("fresh");
  Fail();
  EXPECT_THAT(::recstore::testing::OpenStore(&env_, dir, {.create_if_missing = true}).status(),
              IsTheFault());
  env_.Clear();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  EXPECT_TRUE(store->ListCollections().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Points, ManifestFaultTest,
    ::testing::Values(
        ManifestFault{"Open", ENOSPC, absl::StatusCode::kResourceExhausted, "OpenEnospc"},
        ManifestFault{"PWrite", ENOSPC, absl::StatusCode::kResourceExhausted, "WriteEnospc"},
        ManifestFault{"PWrite", EDQUOT, absl::StatusCode::kResourceExhausted, "WriteEdquot"},
        ManifestFault{"SyncAll", EIO, absl::StatusCode::kInternal, "FlushEio"},
        ManifestFault{"SyncAll", ENOSPC, absl::StatusCode::kResourceExhausted, "FlushEnospc"},
        ManifestFault{"Rename", ENOSPC, absl::StatusCode::kResourceExhausted, "RenameEnospc"}),
    [](const auto& info) { return std::string(info.param.name); });

// The manifest was renamed into place, then flushing the store directory failed. Whether a
// crash would keep the new or the old manifest is unknown, but without one every later open
// reads the new one, so the open store must agree with it: a dropped collection is gone (a
// collection still open for appends would lose them at the next open), a created one exists.
std::vector<std::string> Names(const Store& store) {
  std::vector<std::string> names;
  for (const CollectionInfo& c : store.ListCollections()) names.push_back(c.name);
  return names;
}

TEST(ManifestDirFlushTest, DropFailingAfterTheRenameForgetsTheCollection) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK(store->OpenLog<Trade>("trades").status());
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    ASSERT_OK(events.Append(ByteRecord(0)).status());
    ASSERT_OK(events.Sync().status());
  }
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
    env.Fail("SyncDir", EIO);
    EXPECT_THAT(store->DropCollection("events"),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("SyncDir")));
    env.Clear();
    EXPECT_THAT(Names(*store), ElementsAre("trades"));
    EXPECT_THAT(store->OpenByteLog("events", {.create_if_missing = false}).status(),
                StatusIs(absl::StatusCode::kNotFound));
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  EXPECT_THAT(Names(*store), ElementsAre("trades"));
  EXPECT_THAT(FilesIn(dir), ElementsAre("000001-trades", "LOCK", "MANIFEST"));
}

TEST(ManifestDirFlushTest, CreateFailingAfterTheRenameKeepsTheCollection) {
  const std::string dir = TestDir();
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(
                             &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
    // Creating flushes the store directory twice: for the new folder, then for the manifest.
    env.Fail("SyncDir", EIO, /*skip=*/1);
    EXPECT_THAT(store->OpenByteLog("events").status(),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("SyncDir")));
    env.Clear();
    EXPECT_THAT(Names(*store), ElementsAre("events"));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events", {.create_if_missing = false}));
    ASSERT_OK(events.Append(ByteRecord(0)).status());
    ASSERT_OK(events.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  EXPECT_THAT(Names(*store), ElementsAre("events"));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_TRUE(BytesIntact(events, 1));
}

}  // namespace
}  // namespace recstore::faults
