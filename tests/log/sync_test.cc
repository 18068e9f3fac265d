// Sync points: durability contract, group commit, sync policies, and the failed state after a
// failed fdatasync.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/open_store.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::FaultEnv;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(SyncTest, SyncReturnsTheDurableEnd) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(&env, dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.durable(), 0u);
  for (int i = 0; i < 10; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
  EXPECT_EQ(trades.durable(), 0u);
  const int before = env.Calls("SyncData");
  ASSERT_OK_AND_ASSIGN(uint64_t durable, trades.Sync());
  EXPECT_EQ(durable, 10u);
  EXPECT_EQ(trades.durable(), 10u);
  EXPECT_EQ(env.Calls("SyncData"), before + 1);
  // Nothing new: no flush.
  ASSERT_OK_AND_ASSIGN(durable, trades.Sync());
  EXPECT_EQ(durable, 10u);
  EXPECT_EQ(env.Calls("SyncData"), before + 1);
}

TEST(SyncTest, NewSegmentsMakeSyncFlushTheDirectory) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  ASSERT_OK(trades.Append(MakeTrade(0)).status());
  int dirs = env.Calls("SyncDir");
  ASSERT_OK(trades.Sync().status());
  EXPECT_EQ(env.Calls("SyncDir"), dirs);  // no new segment since the open
  std::vector<Trade> batch(3000, MakeTrade(1));
  ASSERT_OK(trades.AppendBatch(batch).status());  // two more segments
  ASSERT_OK(trades.Sync().status());
  EXPECT_EQ(env.Calls("SyncDir"), dirs + 1);
}

TEST(SyncTest, FailedFsyncRefusesWritesKeepsReadsAndReopenRecovers) {
  const std::string dir = TestDir();
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(&env, dir, {.create_if_missing = true}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    for (int i = 0; i < 5; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
    ASSERT_OK(trades.Sync().status());
    for (int i = 5; i < 8; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
    env.Fail("SyncData", EIO);
    EXPECT_THAT(trades.Sync(),
                StatusIs(absl::StatusCode::kInternal,
                         AllOf(HasSubstr("SyncData"), HasSubstr(".seg"), HasSubstr("errno 5"))));
    env.Clear();  // even when the disk recovers, the log never trusts a retried fsync
    // The failed state is a precondition that no longer holds, carrying the original cause.
    const auto refused = StatusIs(
        absl::StatusCode::kFailedPrecondition,
        AllOf(HasSubstr("refuses writes"), HasSubstr("INTERNAL"), HasSubstr("errno 5")));
    EXPECT_THAT(trades.Sync(), refused);
    EXPECT_THAT(trades.Append(MakeTrade(8)), refused);
    EXPECT_THAT(trades.TruncateBefore(1), refused);
    EXPECT_THAT(trades.Merge(), refused);
    EXPECT_EQ(trades.durable(), 5u);
    EXPECT_EQ(trades.size(), 8u);
    ASSERT_OK_AND_ASSIGN(const Trade* t, trades.Get(7));
    EXPECT_EQ(t->ts_ns, MakeTrade(7).ts_ns);
    uint64_t n = 0;
    for (const auto& entry : trades.Scan()) n += entry.value.ts_ns > 0;
    EXPECT_EQ(n, 8u);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_GE(trades.size(), 5u);
  ASSERT_OK(trades.Append(MakeTrade(100)).status());
  ASSERT_OK(trades.Sync().status());
}

TEST(SyncTest, FailedDirectoryFsyncAlsoFailsTheLog) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  std::vector<Trade> batch(2000, MakeTrade(1));
  ASSERT_OK(trades.AppendBatch(batch).status());
  env.Fail("SyncDir", EIO);
  EXPECT_THAT(trades.Sync(), StatusIs(absl::StatusCode::kInternal, HasSubstr("000001-trades")));
  EXPECT_THAT(trades.Append(MakeTrade(2)), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                    HasSubstr("000001-trades: Input/output")));
}

// Running out of descriptors is not a failed flush: nothing was flushed, the log stays
// writable, and the next Sync makes everything durable (before, EMFILE opening the folder
// for its fsync failed the log for good).
TEST(SyncTest, DescriptorsRunningOutDuringSyncIsAnErrorToRetry) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  std::vector<Trade> batch(2000, MakeTrade(1));  // new segments: the folder needs a flush
  ASSERT_OK(trades.AppendBatch(batch).status());
  env.Fail("Open", EMFILE);
  EXPECT_THAT(trades.Sync(), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("errno 24")));
  EXPECT_LT(trades.durable(), trades.end());
  EXPECT_OK(trades.Append(MakeTrade(2)).status());
  const int dir_flushes = env.Calls("SyncDir");
  env.Clear();
  ASSERT_OK_AND_ASSIGN(uint64_t durable, trades.Sync());
  EXPECT_EQ(durable, trades.end());
  EXPECT_EQ(env.Calls("SyncDir"), dir_flushes + 1);  // the folder's flush was not forgotten
}

TEST(SyncTest, ConcurrentSyncsShareFlushes) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(&env, dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  constexpr int kThreads = 4, kCommits = 100;
  const int before = env.Calls("SyncData");
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        absl::StatusOr<uint64_t> seq = trades.Append(MakeTrade(t * kCommits + i));
        absl::StatusOr<uint64_t> durable = trades.Sync();
        if (!seq.ok() || !durable.ok() || *durable <= *seq) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(trades.durable(), uint64_t{kThreads * kCommits});
  const int flushes = env.Calls("SyncData") - before;
  EXPECT_LT(flushes, kThreads * kCommits) << "every Sync flushed on its own";
  RecordProperty("flushes", flushes);
}

TEST(SyncTest, EveryAppendPolicySyncsEachAppend) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true,
                                                     .sync_policy = SyncPolicy::EveryAppend()}));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(events.Append("x").status());
    EXPECT_EQ(events.durable(), events.end());
  }
}

TEST(SyncTest, BackgroundPolicySyncsByCountAndByTime) {
  const std::string dir = TestDir();
  using std::chrono::milliseconds;
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(dir, {.create_if_missing = true,
                                    .sync_policy = SyncPolicy::Background(100, milliseconds(20))}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  for (int i = 0; i < 250; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (trades.durable() < 250 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(trades.durable(), 250u);
}

}  // namespace
}  // namespace recstore
