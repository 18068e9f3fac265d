// Real process kills (CI's short run of the kill harness): a multi-threaded writer process is
// killed with SIGKILL at random moments and right after segment rotations, and the store is
// checked against its reports after each kill. The long run is kill_harness (see
// kill_harness_main.cc). The checker itself is tested on stores it must reject.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/kill/checker.h"
#include "tests/kill/harness.h"
#include "tests/kill/kill_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::kill {
namespace {

using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::HasSubstr;

// KILL_TEST_SEED replays a failed run.
uint64_t Seed(uint64_t fallback) {
  const char* s = std::getenv("KILL_TEST_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : fallback;
}

void RunAndCheck(KillOptions o) {
  std::printf("seed %llu (set KILL_TEST_SEED to replay)\n",
              static_cast<unsigned long long>(o.seed));
  auto summary = RunKills(o, stdout);
  ASSERT_OK(summary);
  std::printf("%s\n", summary->ToString().c_str());
  EXPECT_EQ(summary->kills, o.kills);
  EXPECT_GT(summary->stats.reported_records, 0u);
  EXPECT_GT(summary->stats.acked_records, 0u);
}

TEST(KillTest, RandomMoments) {
  RunAndCheck({.root = TestDir("kills"),
               .seed = Seed(20240501),
               .kills = 40,
               .kills_per_store = 20,
               .min_delay_us = 1000,
               .max_delay_us = 60000,
               .timing = KillTiming::kRandom,
               .progress_every = 20});
}

TEST(KillTest, RightAfterSegmentRotations) {
  KillOptions o{.root = TestDir("kills"),
                .seed = Seed(7),
                .kills = 24,
                .kills_per_store = 12,
                .timing = KillTiming::kAtRotation,
                .progress_every = 12};
  RunAndCheck(o);
}

// Writes `n` records of epoch 1, thread 0 to both collections and closes cleanly.
void WriteEpoch(const std::string& dir, uint64_t n) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(auto fixed, store->OpenLog<KillRecord>(kCollNames[kFixedColl]));
  ASSERT_OK_AND_ASSIGN(auto bytes, store->OpenByteLog(kCollNames[kByteColl]));
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_OK(fixed.Append(MakeFixedRecord({1, 0, i})));
    ASSERT_OK(bytes.Append(MakeByteRecord({1, 0, i})));
  }
}

TEST(CheckerTest, AcceptsWhatWasWritten) {
  const std::string dir = TestDir();
  WriteEpoch(dir, 10);
  StoreChecker checker(dir);
  EpochAcks acks;
  acks.Add({.kind = ReportKind::kDurable, .coll = kFixedColl, .seq = 10});
  acks.Add({.kind = ReportKind::kAppended, .coll = kByteColl, .seq = 3, .counter = 3, .count = 2});
  CheckStats stats;
  ASSERT_OK(checker.Check(1, 1, acks, &stats));
  EXPECT_EQ(stats.records_checked, 20u);
  EXPECT_EQ(stats.acked_records, 10u);
  EXPECT_EQ(stats.reported_records, 2u);
}

TEST(CheckerTest, RejectsAMissingAcknowledgedRecord) {
  const std::string dir = TestDir();
  WriteEpoch(dir, 10);
  StoreChecker checker(dir);
  EpochAcks acks;
  acks.Add({.kind = ReportKind::kDurable, .coll = kByteColl, .seq = 11});
  CheckStats stats;
  EXPECT_THAT(checker.Check(1, 1, acks, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("acknowledged durable end 11")));
}

TEST(CheckerTest, RejectsAWrongIdentityAndAnUnexpectedEpoch) {
  const std::string dir = TestDir();
  WriteEpoch(dir, 10);
  StoreChecker checker(dir);
  EpochAcks acks;
  acks.Add({.kind = ReportKind::kAppended, .coll = kFixedColl, .seq = 4, .counter = 5, .count = 1});
  CheckStats stats;
  EXPECT_THAT(checker.Check(1, 1, acks, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("the writer reported")));
  EXPECT_THAT(checker.Check(2, 1, EpochAcks{}, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unexpected writer")));
}

TEST(CheckerTest, RejectsAChangedOldRecordAndAGap) {
  const std::string dir = TestDir();
  WriteEpoch(dir, 5);
  StoreChecker checker(dir);
  CheckStats stats;
  ASSERT_OK(checker.Check(1, 1, EpochAcks{}, &stats));
  {
    // Epoch 2 skips counter 1 of thread 0.
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto fixed, store->OpenLog<KillRecord>(kCollNames[kFixedColl]));
    ASSERT_OK(fixed.Append(MakeFixedRecord({2, 0, 0})));
    ASSERT_OK(fixed.Append(MakeFixedRecord({2, 0, 2})));
  }
  EXPECT_THAT(checker.Check(2, 1, EpochAcks{}, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("expected counter 1")));
  // A store rebuilt with different old records.
  std::filesystem::remove_all(dir);
  WriteEpoch(dir, 3);
  EXPECT_THAT(checker.Check(1, 1, EpochAcks{}, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("lost records checked before")));
}

TEST(CheckerTest, RejectsAnInconsistentRecord) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
    ASSERT_OK_AND_ASSIGN(auto bytes, store->OpenByteLog(kCollNames[kByteColl]));
    std::string rec = MakeByteRecord({1, 0, 0});
    rec.back() ^= 1;
    ASSERT_OK(bytes.Append(rec));
  }
  StoreChecker checker(dir);
  CheckStats stats;
  EXPECT_THAT(checker.Check(1, 1, EpochAcks{}, &stats),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("inconsistent")));
}

}  // namespace
}  // namespace recstore::kill
