// EIO from a flush, followed through to the reopen: a failed fdatasync of a segment or fsync
// of a collection folder puts the log in its failed state (appends and syncs return the
// original error, reads go on), and reopening recovers every synced record, intact, with
// dense sequence numbers after it. tests/log/sync_test.cc covers the failed state itself;
// this covers rotations, both record kinds, the sync policies and what the reopen finds.
#include <cerrno>
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
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Trade slots per segment

std::vector<Trade> Trades(uint64_t from, uint64_t n) {
  std::vector<Trade> v;
  for (uint64_t i = from; i < from + n; ++i) v.push_back(MakeTrade(i));
  return v;
}

StoreOptions Options(SyncPolicy policy = {}) {
  return {.create_if_missing = true, .segment_size = kSegment, .sync_policy = policy};
}

// Reopens `dir` without faults, under `mode`, and checks trades: at least `synced` records,
// all intact, the durable point where the last good sync left it, and appends continue.
void ExpectTradesRecovered(const std::string& dir, uint64_t synced, RecoveryMode mode) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.recovery_mode = mode}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_GE(trades.size(), synced);
  EXPECT_TRUE(TradesIntact(trades, trades.size()));
  ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
  EXPECT_TRUE(v.ok) << v.first_bad.file << ": " << v.first_bad.reason;
  const uint64_t n = trades.size();
  ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(n)));
  EXPECT_EQ(seq, n);
  ASSERT_OK(trades.Sync().status());
}

TEST(SyncEioTest, FailedSegmentFlushAcrossARotationKeepsTheSyncedPrefix) {
  const std::string dir = TestDir();
  const uint64_t synced = 2 * kPer + 500, appended = synced + 700;  // into a fourth segment
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Options()));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    for (uint64_t i = 0; i < synced; i += 500) {
      ASSERT_OK(trades.AppendBatch(Trades(i, std::min<uint64_t>(500, synced - i))).status());
      ASSERT_OK(trades.Sync().status());
    }
    ASSERT_OK(trades.AppendBatch(Trades(synced, appended - synced)).status());
    env.Fail("SyncData", EIO);
    EXPECT_THAT(trades.Sync(), StatusIs(absl::StatusCode::kInternal,
                                        AllOf(HasSubstr("SyncData"), HasSubstr("000001-trades/"),
                                              HasSubstr(".seg"), HasSubstr("errno 5"))));
    env.Clear();
    // The failed state: the original error, every write refused, nothing retried.
    const int flushes = env.Calls("SyncData");
    const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition,
                                  AllOf(HasSubstr("refuses writes"), HasSubstr("errno 5")));
    EXPECT_THAT(trades.Sync(), refused);
    EXPECT_THAT(trades.Append(MakeTrade(appended)), refused);
    EXPECT_THAT(trades.AppendBatch(Trades(appended, kPer)), refused);
    EXPECT_EQ(env.Calls("SyncData"), flushes);
    EXPECT_EQ(trades.durable(), synced);
    // Reads go on, over everything appended.
    EXPECT_EQ(trades.size(), appended);
    EXPECT_TRUE(TradesIntact(trades, appended));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    // The last commit block is the last good sync's; the page cache kept the rest.
    EXPECT_EQ(trades.recovery().durable_point, synced);
    EXPECT_EQ(trades.size(), appended);
  }
  ExpectTradesRecovered(dir, synced, RecoveryMode::kTolerateTornTail);
  ExpectTradesRecovered(dir, synced, RecoveryMode::kAbsoluteConsistency);
}

TEST(SyncEioTest, FailedFolderFlushOfAByteLogKeepsTheSyncedPrefix) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "events");
  FaultEnv env;
  uint64_t synced = 0, appended = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Options()));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    while (FilesIn(coll).size() < 3) {
      ASSERT_OK(events.Append(ByteRecord(appended++)).status());
      if (appended % 25 == 0) {
        ASSERT_OK(events.Sync().status());
      }
    }
    ASSERT_OK(events.Sync().status());
    synced = appended;
    // A new segment makes the next sync flush the folder too.
    while (FilesIn(coll).size() < 4) ASSERT_OK(events.Append(ByteRecord(appended++)).status());
    env.Fail("SyncDir", EIO);
    EXPECT_THAT(events.Sync(), StatusIs(absl::StatusCode::kInternal,
                                        AllOf(HasSubstr("SyncDir"), HasSubstr(coll))));
    env.Clear();
    EXPECT_THAT(events.Append(ByteRecord(appended)),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refuses writes")));
    EXPECT_EQ(events.durable(), synced);
    EXPECT_TRUE(BytesIntact(events, appended));
  }
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_GE(events.size(), synced);
  EXPECT_TRUE(BytesIntact(events, events.size()));
  ASSERT_OK_AND_ASSIGN(uint64_t seq, events.Append(ByteRecord(events.size())));
  EXPECT_EQ(seq, events.size() - 1);
  ASSERT_OK(events.Sync().status());
}

// The flush of a new segment's header (before it gets its name) concerns only that file,
// which is removed: the append fails, the log does not enter the failed state.
TEST(SyncEioTest, FailedFlushOfANewSegmentFailsTheAppendOnly) {
  const std::string dir = TestDir();
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Options()));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, kPer)).status());
    ASSERT_OK(trades.Sync().status());
    env.Fail("SyncData", EIO, 0, ".seg.tmp");
    EXPECT_THAT(trades.Append(MakeTrade(kPer)),
                StatusIs(absl::StatusCode::kInternal,
                         AllOf(HasSubstr("00000000000000001536.seg.tmp"), HasSubstr("errno 5"))));
    EXPECT_THAT(FilesIn(CollectionDir(dir, 1, "trades")),
                ::testing::ElementsAre("00000000000000000000.seg"));
    env.Clear();
    ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(kPer)));
    EXPECT_EQ(seq, kPer);
    ASSERT_OK(trades.Sync().status());
  }
  ExpectTradesRecovered(dir, kPer + 1, RecoveryMode::kAbsoluteConsistency);
}

// Sync policy kEveryAppend (options.h): the append whose sync failed returns the error, but
// its records were appended and stay visible; the reopen finds at least the synced ones.
TEST(SyncEioTest, EveryAppendPolicyReportsTheFailureAndReopenRecovers) {
  const std::string dir = TestDir();
  FaultEnv env;
  const uint64_t synced = 100;
  {
    ASSERT_OK_AND_ASSIGN(
        auto store, ::recstore::testing::OpenStore(&env, dir, Options(SyncPolicy::EveryAppend())));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, synced)).status());
    EXPECT_EQ(trades.durable(), synced);
    env.Fail("SyncData", EIO);
    EXPECT_THAT(trades.AppendBatch(Trades(synced, 10)),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("errno 5")));
    env.Clear();
    EXPECT_EQ(trades.size(), synced + 10);
    EXPECT_EQ(trades.durable(), synced);
    EXPECT_THAT(trades.Append(MakeTrade(synced + 10)),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_TRUE(TradesIntact(trades, synced + 10));
  }
  ExpectTradesRecovered(dir, synced, RecoveryMode::kTolerateTornTail);
}

// EIO from the flush recovery makes at open: the open fails (nothing is half-open), and the
// next open without the fault recovers the same records.
TEST(SyncEioTest, FailedRecoveryFlushFailsTheOpenAndTheNextOpenRecovers) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Options()));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK(trades.AppendBatch(Trades(0, 2 * kPer + 10)).status());
    ASSERT_OK(trades.Sync().status());
  }
  FaultEnv env;
  env.Fail("SyncData", EIO, 0, "000001-trades");
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
    EXPECT_THAT(store->OpenLog<Trade>("trades").status(),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("000001-trades/")));
    env.Clear();
    // The same store handle can open it once the disk answers again.
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    EXPECT_EQ(trades.size(), 2 * kPer + 10);
  }
  ExpectTradesRecovered(dir, 2 * kPer + 10, RecoveryMode::kAbsoluteConsistency);
}

}  // namespace
}  // namespace recstore::faults
