// Retention: TruncateBefore and the stored policies (last N records, last N bytes, younger
// than a duration by append time or by a schema time field), checked against an in-memory
// model of each collection's contents, across reopens.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/log/compaction_model.h"
#include "tests/testing/open_store.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ClockEnv;
using ::recstore::testing::CollectionFolder;
using ::recstore::testing::Contents;
using ::recstore::testing::From;
using ::recstore::testing::ListSegments;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::ReadAll;
using ::recstore::testing::SegmentFiles;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::std::chrono::hours;
using ::std::chrono::seconds;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Trade slots per segment
constexpr int64_t kT0 = 1'700'000'000;             // the test clock's start, Unix seconds

StoreOptions Opts() { return {.create_if_missing = true, .segment_size = kSegment}; }

// A byte record whose length (0 to 89 bytes) and contents depend on i.
std::string Payload(uint64_t i) {
  std::string s((i * 37) % 90, '\0');
  for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>('a' + (i + k) % 26);
  return s;
}

// A Trade whose time field is `sec` Unix seconds.
Trade TradeAt(uint64_t i, int64_t sec) {
  Trade t = MakeTrade(i);
  t.ts_ns = static_cast<uint64_t>(sec) * ClockEnv::kSecond;
  return t;
}

// The ordinary segments of `before` that still hold a record at or after `first`.
std::vector<uint64_t> Surviving(const std::vector<uint64_t>& before, uint64_t first) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < before.size(); ++i)
    if (i + 1 == before.size() || before[i + 1] > first) out.push_back(before[i]);
  return out;
}

// Appends n Trades; returns the model.
Contents AppendTrades(const Log<Trade>& log, uint64_t n) {
  Contents model;
  for (uint64_t i = 0; i < n; ++i) {
    absl::StatusOr<uint64_t> seq = log.Append(MakeTrade(i));
    EXPECT_TRUE(seq.ok()) << seq.status();
    model.push_back({*seq, testing::BytesOf(MakeTrade(i))});
  }
  return model;
}

// Appends n byte records, the clock moving `step` seconds before each; returns the model.
Contents AppendPayloads(const ByteLog& log, ClockEnv& env, uint64_t n, int64_t step) {
  Contents model;
  for (uint64_t i = 0; i < n; ++i) {
    env.AdvanceSeconds(step);
    absl::StatusOr<uint64_t> seq = log.Append(Payload(i));
    EXPECT_TRUE(seq.ok()) << seq.status();
    model.push_back({*seq, Payload(i)});
  }
  return model;
}

TEST(TruncateBeforeTest, MovesBeginDeletesWholeSegmentsAndPersists) {
  const std::string dir = TestDir();
  Contents model;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
    model = AppendTrades(log, 5000);  // segments at 0, 1536, 3072, 4608
    const std::string folder = CollectionFolder(dir, "trades");
    SegmentFiles before = ListSegments(folder);
    ASSERT_EQ(before.ordinary, (std::vector<uint64_t>{0, kPer, 2 * kPer, 3 * kPer}));

    ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.TruncateBefore(2000));
    EXPECT_EQ(stats.first_seq, 2000u);
    EXPECT_EQ(log.begin(), 2000u);
    EXPECT_EQ(log.end(), 5000u);
    EXPECT_EQ(log.size(), 3000u);
    EXPECT_EQ(log.info().first_seq, 2000u);
    EXPECT_THAT(log.Get(1999), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(log.Get(0), StatusIs(absl::StatusCode::kOutOfRange));
    ASSERT_OK_AND_ASSIGN(const Trade* t, log.Get(2000));
    EXPECT_EQ(testing::BytesOf(*t), model[2000].bytes);
    // Only the segment wholly below 2000 is deleted; the one holding 1536..3071 stays.
    EXPECT_EQ(ListSegments(folder).ordinary, Surviving(before.ordinary, 2000));
    EXPECT_EQ(ListSegments(folder).ordinary.size(), 3u);
    // Scans from below begin start at begin.
    EXPECT_EQ(ReadAll(log), From(model, 2000));
    auto scan = log.Scan(5);
    auto it = scan.begin();
    ASSERT_NE(it, scan.end());
    EXPECT_EQ((*it).seq, 2000u);
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
    EXPECT_TRUE(v.ok);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(log.begin(), 2000u);
  EXPECT_EQ(ReadAll(log), From(model, 2000));
  EXPECT_THAT(log.Get(1999), StatusIs(absl::StatusCode::kOutOfRange));
  // Appends continue with the same numbering.
  ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(MakeTrade(77)));
  EXPECT_EQ(seq, 5000u);
  ASSERT_OK_AND_ASSIGN(const Trade* t, log.Get(5000));
  EXPECT_EQ(t->ts_ns, MakeTrade(77).ts_ns);
}

TEST(TruncateBeforeTest, OutOfRangeNoOpAndEverything) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  Contents model = AppendTrades(log, 4000);
  EXPECT_THAT(log.TruncateBefore(4001), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(log.begin(), 0u);
  ASSERT_OK(log.TruncateBefore(1000).status());
  // At or below begin: nothing changes.
  ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.TruncateBefore(1000));
  EXPECT_EQ(stats.first_seq, 1000u);
  ASSERT_OK(log.TruncateBefore(10).status());
  EXPECT_EQ(log.begin(), 1000u);
  EXPECT_EQ(ReadAll(log), From(model, 1000));
  // Up to end(): the collection is empty and appends continue at the old end.
  ASSERT_OK(log.TruncateBefore(4000).status());
  EXPECT_EQ(log.begin(), 4000u);
  EXPECT_EQ(log.size(), 0u);
  EXPECT_TRUE(ReadAll(log).empty());
  ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(MakeTrade(1)));
  EXPECT_EQ(seq, 4000u);
  EXPECT_EQ(ReadAll(log), (Contents{{4000, testing::BytesOf(MakeTrade(1))}}));
}

TEST(TruncateBeforeTest, ByteLogDeletesWholeSegments) {
  const std::string dir = TestDir();
  ClockEnv env;
  Contents model;
  const uint64_t cut = 3333;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
    model = AppendPayloads(log, env, 6000, 1);
    const std::string folder = CollectionFolder(dir, "events");
    SegmentFiles before = ListSegments(folder);
    ASSERT_GE(before.ordinary.size(), 4u);
    ASSERT_OK(log.TruncateBefore(cut).status());
    EXPECT_EQ(ListSegments(folder).ordinary, Surviving(before.ordinary, cut));
    EXPECT_EQ(ReadAll(log), From(model, cut));
    EXPECT_THAT(log.Get(cut - 1), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(log.AppendTime(cut - 1), StatusIs(absl::StatusCode::kOutOfRange));
  }
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  EXPECT_EQ(log.begin(), cut);
  EXPECT_EQ(ReadAll(log), From(model, cut));
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
}

TEST(TruncateBeforeTest, ReadOnlyHandleRefusesEveryRewrite) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
    AppendTrades(log, 2000);
    ASSERT_OK(log.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  EXPECT_THAT(log.TruncateBefore(100), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(log.SetRetention({.max_records = 10}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(log.ApplyRetention(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(log.Merge(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(log.begin(), 0u);
  EXPECT_EQ(log.size(), 2000u);
}

TEST(RetentionTest, MaxRecordsAppliedAtOnceOnNewSegmentsAndStored) {
  const std::string dir = TestDir();
  const RetentionPolicy policy{.max_records = 1000};
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
    Contents model = AppendTrades(log, 4000);  // segments at 0, 1536, 3072
    ASSERT_OK(log.SetRetention(policy));
    EXPECT_EQ(log.info().retention, policy);
    EXPECT_EQ(log.begin(), 3000u);
    EXPECT_EQ(ReadAll(log), From(model, 3000));
    EXPECT_EQ(ListSegments(CollectionFolder(dir, "trades")).ordinary,
              (std::vector<uint64_t>{kPer, 2 * kPer}));
    // Appends within the active segment may leave more; the append that starts a new
    // segment applies the policy.
    for (uint64_t i = 4000; i < 3 * kPer; ++i) ASSERT_OK(log.Append(MakeTrade(i)).status());
    ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(MakeTrade(3 * kPer)));
    ASSERT_EQ(seq, 3 * kPer);  // the first record of a new segment
    EXPECT_EQ(log.size(), 1000u);
    EXPECT_EQ(log.begin(), 3 * kPer + 1 - 1000);
    // ApplyRetention keeps the last 1000 too.
    for (uint64_t i = 0; i < 200; ++i) ASSERT_OK(log.Append(MakeTrade(i)).status());
    ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.ApplyRetention());
    EXPECT_EQ(log.size(), 1000u);
    EXPECT_EQ(stats.first_seq, log.begin());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(log.info().retention, policy);
  EXPECT_EQ(log.size(), 1000u);
  EXPECT_EQ(log.end(), 3 * kPer + 201);
}

TEST(RetentionTest, MaxBytesKeepsTheNewestBytes) {
  const std::string dir = TestDir();
  ClockEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  Contents model = AppendPayloads(log, env, 5000, 1);
  const uint64_t limit = 100'000;
  uint64_t first = model.size(), sum = 0;
  while (first > 0 && sum + model[first - 1].bytes.size() <= limit)
    sum += model[--first].bytes.size();
  ASSERT_OK(log.SetRetention({.max_bytes = limit}));
  EXPECT_EQ(log.begin(), first);
  EXPECT_EQ(ReadAll(log), From(model, first));
}

TEST(RetentionTest, ByteLogMaxAgeByAppendTime) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  const RetentionPolicy policy{.max_age = hours(1)};
  Contents model;
  {
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
    // Record i is appended at kT0 + 2 (i + 1) seconds.
    model = AppendPayloads(log, env, 4000, 2);
    for (uint64_t seq : {0, 1, 1234, 3999})
      EXPECT_THAT(log.AppendTime(seq), testing::IsOkAndHolds(kT0 + 2 * int64_t(seq + 1)));
    EXPECT_THAT(log.AppendTime(4000), StatusIs(absl::StatusCode::kOutOfRange));
    // Ages are odd seconds, so no record sits exactly at the limit.
    env.AdvanceSeconds(1);
    auto first_young = [&] {
      const int64_t oldest = env.Seconds() - 3600;
      uint64_t s = 0;
      while (s < 4000 && kT0 + 2 * int64_t(s + 1) < oldest) ++s;
      return s;
    };
    ASSERT_OK(log.SetRetention(policy));
    EXPECT_EQ(log.begin(), first_young());
    EXPECT_EQ(ReadAll(log), From(model, first_young()));
    env.AdvanceSeconds(1000);
    ASSERT_OK(log.ApplyRetention().status());
    EXPECT_EQ(log.begin(), first_young());
    EXPECT_EQ(ReadAll(log), From(model, first_young()));
  }
  // Applied at open: after half an hour more, the next open drops more.
  env.AdvanceSeconds(1800);
  const int64_t oldest = env.Seconds() - 3600;
  uint64_t first = 0;
  while (first < 4000 && kT0 + 2 * int64_t(first + 1) < oldest) ++first;
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  EXPECT_EQ(log.info().retention, policy);
  EXPECT_EQ(log.begin(), first);
  EXPECT_EQ(ReadAll(log), From(model, first));
  EXPECT_THAT(log.AppendTime(first), testing::IsOkAndHolds(kT0 + 2 * int64_t(first + 1)));
}

TEST(RetentionTest, FixedLogMaxAgeByTimeField) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  Contents model;
  for (uint64_t i = 0; i < 5000; ++i) {
    Trade t = TradeAt(i, kT0 + 2 * int64_t(i));
    ASSERT_OK(log.Append(t).status());
    model.push_back({i, testing::BytesOf(t)});
  }
  env.SetSeconds(kT0 + 2 * 5000 + 1);
  const int64_t oldest = env.Seconds() - 3600;
  uint64_t first = 0;
  while (kT0 + 2 * int64_t(first) < oldest) ++first;
  ASSERT_GT(first, kPer);  // whole segments go
  ASSERT_OK(log.SetRetention({.max_age = hours(1), .time_field = "ts_ns"}));
  EXPECT_EQ(log.begin(), first);
  EXPECT_EQ(ReadAll(log), From(model, first));
  EXPECT_EQ(ListSegments(CollectionFolder(dir, "trades")).ordinary.front(), first / kPer * kPer);
}

TEST(RetentionTest, AgeStopsAtTheFirstYoungRecord) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  for (uint64_t i = 0; i < 3000; ++i) {
    // Record 700 carries a time far in the future; everything else is a day old.
    ASSERT_OK(log.Append(TradeAt(i, i == 700 ? kT0 + 86400 * 10 : kT0 - 86400)).status());
  }
  ASSERT_OK(log.SetRetention({.max_age = hours(1), .time_field = "ts_ns"}));
  EXPECT_EQ(log.begin(), 700u);
}

TEST(RetentionTest, TimeFieldMustBeAnEightByteInteger) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  AppendTrades(log, 100);
  for (const char* field : {"nope", "symbol_id", "price"}) {
    SCOPED_TRACE(field);
    EXPECT_THAT(log.SetRetention({.max_age = hours(1), .time_field = field}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_TRUE(log.info().retention.empty());
  EXPECT_EQ(log.size(), 100u);
  ASSERT_OK(log.SetRetention({.max_age = hours(1), .time_field = "qty"}));  // int64
}

TEST(RetentionTest, StrictestLimitWins) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  Contents model = AppendPayloads(log, env, 6000, 2);  // record i at kT0 + 2 (i + 1)
  env.AdvanceSeconds(1);
  // Each limit alone keeps: records 3000 on, (by bytes) about 2400 on, (by age) 2400 on.
  uint64_t by_bytes = model.size(), sum = 0;
  while (by_bytes > 0 && sum + model[by_bytes - 1].bytes.size() <= 160'000)
    sum += model[--by_bytes].bytes.size();
  ASSERT_GT(by_bytes, 1000u);
  ASSERT_LT(by_bytes, 3000u);
  RetentionPolicy policy{.max_records = 3000, .max_bytes = 160'000, .max_age = hours(2)};
  ASSERT_OK(log.SetRetention(policy));
  EXPECT_EQ(log.begin(), 3000u);  // max_records is the strictest
  policy.max_age = seconds(3600);
  ASSERT_OK(log.SetRetention(policy));
  const uint64_t by_age = 6000 - 1800;  // the last 3601 seconds hold 1800 records
  EXPECT_EQ(log.begin(), by_age);
  EXPECT_EQ(ReadAll(log), From(model, by_age));
  EXPECT_EQ(log.info().retention, policy);
  // A looser policy never brings records back.
  ASSERT_OK(log.SetRetention({}));
  EXPECT_EQ(log.begin(), by_age);
  EXPECT_TRUE(log.info().retention.empty());
}

TEST(RetentionTest, AppendTimeFollowsTheClock) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  const std::vector<int64_t> times = {kT0, kT0, kT0 + 1, kT0 + 59, kT0 + 86400 * 400};
  for (int64_t t : times) {
    env.SetSeconds(t);
    ASSERT_OK(log.Append("x").status());
  }
  for (uint64_t seq = 0; seq < times.size(); ++seq)
    EXPECT_THAT(log.AppendTime(seq), testing::IsOkAndHolds(times[seq])) << seq;
  EXPECT_GE(log.info().time_base, kT0 - 1);
  EXPECT_LE(log.info().time_base, kT0);
}

// A clock set back: a record's time is the clock's reading, stored as given, even before the
// collection's time base (before, every record appended while the clock was behind the time
// base was stamped with the time base itself, so age retention never dropped them).
TEST(RetentionTest, ClockSetBackStampsTheGivenTimeAndAgeRetentionWorks) {
  const std::string dir = TestDir();
  const int64_t ahead = kT0 + 86400 * 365;  // a clock a year fast when the log was created
  ClockEnv env(ahead);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  EXPECT_EQ(log.info().time_base, ahead);
  // The clock is corrected; a day of records follows, one a minute.
  env.SetSeconds(kT0);
  Contents model;
  for (uint64_t i = 0; i < 1440; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(Payload(i)));
    model.push_back({seq, Payload(i)});
    env.AdvanceSeconds(60);
  }
  for (uint64_t seq : {0, 1, 700, 1439}) {
    EXPECT_THAT(log.AppendTime(seq), testing::IsOkAndHolds(kT0 + 60 * int64_t(seq))) << seq;
  }
  // Keep the last six hours: the records of the first 18 go.
  ASSERT_OK(log.SetRetention({.max_age = hours(6)}));
  const uint64_t first_young = 1440 - 6 * 60;
  EXPECT_EQ(log.begin(), first_young);
  EXPECT_EQ(ReadAll(log), From(model, first_young));
  // A clock set back by hours more: later records carry the earlier time, as given.
  env.AdvanceSeconds(-3 * 3600);
  ASSERT_OK_AND_ASSIGN(uint64_t back, log.Append("after the second correction"));
  EXPECT_THAT(log.AppendTime(back), testing::IsOkAndHolds(env.Seconds()));
}

// A scan reads the segments as they were when it started, also after the writer reopened
// (when every segment is mapped at open) and retention then removed the files (before, the
// older segments were mapped lazily by path and the scan stopped with NotFound).
TEST(RetentionTest, PinnedScanOfAReopenedWriterOutlivesRetention) {
  const std::string dir = TestDir();
  constexpr uint64_t kRecords = 8000;
  Contents model;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
    model = AppendTrades(log, kRecords);
    ASSERT_OK(log.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Trade>("trades"));
  ASSERT_GT(ListSegments(CollectionFolder(dir, "trades")).total(), 4u);
  auto scan = log.Scan();
  auto it = scan.begin();
  ASSERT_EQ((*it).seq, 0u);
  ASSERT_OK(log.TruncateBefore(kRecords - 10).status());
  ASSERT_OK(log.SetRetention({.max_records = 5}));
  EXPECT_EQ(ListSegments(CollectionFolder(dir, "trades")).total(), 1u);
  uint64_t n = 0;
  for (; it != scan.end(); ++it) {
    const auto [seq, trade] = *it;
    ASSERT_EQ(seq, n);
    ASSERT_EQ(testing::BytesOf(trade), model[n].bytes) << seq;
    ++n;
  }
  EXPECT_OK(scan.status());
  EXPECT_EQ(n, kRecords);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, 5u);
}

}  // namespace
}  // namespace recstore
