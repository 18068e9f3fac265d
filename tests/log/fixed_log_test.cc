// Fixed-size typed logs: round trips across many segment rotations, reopen, zero-copy reads.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::MakeTrade;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::HasSubstr;

constexpr uint64_t kSmallSegment = 64 << 10;
// 64 KiB segments, 4 KiB header, 40-byte slots.
constexpr uint64_t kPerSegment = (kSmallSegment - 4096) / 40;

StoreOptions Small() { return {.create_if_missing = true, .segment_size = kSmallSegment}; }

void ExpectTrade(const Trade& t, uint64_t i) {
  const Trade want = MakeTrade(i);
  ASSERT_EQ(std::memcmp(&t, &want, sizeof(Trade)), 0) << "record " << i;
}

TEST(FixedLogTest, RoundTripsAcrossManySegmentsAndReopens) {
  const std::string dir = TestDir();
  const uint64_t n = kPerSegment * 7 + 123;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(i)));
      ASSERT_EQ(seq, i);
    }
    ASSERT_OK_AND_ASSIGN(uint64_t durable, trades.Sync());
    EXPECT_EQ(durable, n);
    EXPECT_EQ(trades.durable(), n);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.size(), n);
  EXPECT_TRUE(trades.recovery().clean());
  EXPECT_EQ(trades.recovery().tail_records_kept, 0u);  // the close recorded the durable point
  uint64_t expect = 0;
  auto scan = trades.Scan();
  for (const auto& [seq, t] : scan) {
    ASSERT_EQ(seq, expect);
    ExpectTrade(t, seq);
    ++expect;
  }
  EXPECT_OK(scan.status());
  EXPECT_EQ(expect, n);
  for (uint64_t i : {uint64_t{0}, kPerSegment - 1, kPerSegment, n - 1}) {
    ASSERT_OK_AND_ASSIGN(const Trade* t, trades.Get(i));
    ExpectTrade(*t, i);
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, n);
  EXPECT_EQ(v.segments_checked, 8u);
  // Appending continues the sequence.
  ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(n)));
  EXPECT_EQ(seq, n);
}

TEST(FixedLogTest, SyncAfterReopeningAMultiSegmentLog) {
  const std::string dir = TestDir();
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    const uint64_t start = trades.end();
    EXPECT_EQ(start, round * (2 * kPerSegment + 10));
    EXPECT_EQ(trades.durable(), start);
    for (uint64_t i = start; i < start + 2 * kPerSegment + 10; ++i) {
      ASSERT_OK(trades.Append(MakeTrade(i)).status());
      if (i == start) {
        ASSERT_OK(trades.Sync().status());  // only the active segment is mapped
      }
    }
    ASSERT_OK_AND_ASSIGN(uint64_t durable, trades.Sync());
    EXPECT_EQ(durable, start + 2 * kPerSegment + 10);
  }
}

TEST(FixedLogTest, ScanFromAnySequenceNumber) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  std::vector<Trade> batch;
  for (uint64_t i = 0; i < 3 * kPerSegment; ++i) batch.push_back(MakeTrade(i));
  ASSERT_OK_AND_ASSIGN(uint64_t first, trades.AppendBatch(batch));
  EXPECT_EQ(first, 0u);
  for (uint64_t from : {uint64_t{0}, uint64_t{1}, kPerSegment - 1, kPerSegment, 2 * kPerSegment + 5,
                        3 * kPerSegment, 3 * kPerSegment + 10}) {
    uint64_t expect = from;
    for (const auto& [seq, t] : trades.Scan(from)) {
      ASSERT_EQ(seq, expect);
      ASSERT_EQ(t.ts_ns, MakeTrade(seq).ts_ns);
      ++expect;
    }
    EXPECT_EQ(expect, std::max(from, 3 * kPerSegment)) << "from " << from;
  }
}

TEST(FixedLogTest, ScanSeesASnapshotAndHandlesSurviveTheStore) {
  const std::string dir = TestDir();
  Log<Trade> trades;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
    ASSERT_OK_AND_ASSIGN(trades, store->OpenLog<Trade>("trades"));
  }
  ASSERT_OK(trades.Append(MakeTrade(0)).status());
  auto scan = trades.Scan();
  ASSERT_OK(trades.Append(MakeTrade(1)).status());
  uint64_t n = 0;
  for (const auto& entry : scan) n += 1 + entry.seq;
  EXPECT_EQ(n, 1u);  // the scan ends where end() was when it was made
  EXPECT_EQ(trades.size(), 2u);
}

TEST(FixedLogTest, BatchesSpanSegmentsAtomically) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  ASSERT_OK(trades.Append(MakeTrade(0)).status());
  std::vector<Trade> batch;
  for (uint64_t i = 1; i <= 2 * kPerSegment + 7; ++i) batch.push_back(MakeTrade(i));
  ASSERT_OK_AND_ASSIGN(uint64_t first, trades.AppendBatch(batch));
  EXPECT_EQ(first, 1u);
  ASSERT_OK_AND_ASSIGN(uint64_t empty, trades.AppendBatch({}));
  EXPECT_EQ(empty, trades.end());
  for (uint64_t i = 0; i < trades.end(); i += 97) {
    ASSERT_OK_AND_ASSIGN(const Trade* t, trades.Get(i));
    ExpectTrade(*t, i);
  }
}

TEST(FixedLogTest, EveryFieldKindRoundTripsWithItsSchema) {
  const std::string dir = TestDir();
  testing::Wide w{};
  w.i8 = -8;
  w.u8 = 200;
  w.i16 = -16000;
  w.u16 = 60000;
  w.flag = true;
  w.side = testing::Side::kSell;
  w.i32 = -2000000000;
  w.u32 = 4000000000u;
  w.f32 = 1.5f;
  w.i64 = -(int64_t{1} << 60);
  w.f64 = 2.25;
  std::memcpy(w.name, "ACME", 5);
  w.levels[3] = 9;
  w.grid[1][0] = -3;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<testing::Wide>("wide"));
    ASSERT_OK(log.Append(w).status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<testing::Wide>("wide"));
  ASSERT_OK_AND_ASSIGN(const testing::Wide* got, log.Get(0));
  EXPECT_EQ(std::memcmp(got, &w, sizeof(w)), 0);
  const RecordSchema& s = log.info().schema;
  ASSERT_EQ(s.fields.size(), 14u);
  EXPECT_EQ(s.type_name, "recstore::testing::Wide");
  EXPECT_EQ(s.fields[5].type, FieldType::kUInt8);  // enum stored as its underlying type
  EXPECT_EQ(s.fields[11].type, FieldType::kChar);
  EXPECT_EQ(s.fields[11].count, 8u);
  EXPECT_EQ(s.fields[12].count, 4u);
  EXPECT_EQ(s.fields[12].size, 8u);
  EXPECT_EQ(s.fields[13].count, 2u);
  EXPECT_EQ(s.fields[13].offset, offsetof(testing::Wide, grid));
}

TEST(FixedLogTest, OverAlignedRecordsComeBackAligned) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<testing::Aligned>("aligned"));
  for (uint64_t i = 0; i < 3000; ++i) ASSERT_OK(log.Append({.a = i, .b = 7}).status());
  for (const auto& [seq, rec] : log.Scan()) {
    ASSERT_EQ(reinterpret_cast<uintptr_t>(&rec) % 64, 0u) << seq;
    ASSERT_EQ(rec.a, seq);
  }
  ASSERT_OK_AND_ASSIGN(const testing::Aligned* p, log.Get(2999));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
}

TEST(FixedLogTest, OpeningTwiceSharesOneCollection) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto a, store->OpenLog<Trade>("trades"));
  ASSERT_OK_AND_ASSIGN(auto b, store->OpenLog<Trade>("trades"));
  ASSERT_OK(a.Append(MakeTrade(0)).status());
  EXPECT_EQ(b.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto u, store->OpenUntyped("trades"));
  ASSERT_OK_AND_ASSIGN(auto bytes, u.Get(0));
  EXPECT_EQ(bytes.size(), sizeof(Trade));
}

TEST(FixedLogTest, CorruptRecordIsDataLossOnGetScanAndVerify) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  for (uint64_t i = 0; i < 10; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
  ASSERT_OK_AND_ASSIGN(const Trade* t, trades.Get(4));
  const_cast<Trade*>(t)->qty ^= 1;  // flip a bit through the shared mapping
  EXPECT_THAT(trades.Get(4), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr("offset " + std::to_string(4096 + 4 * 40))));
  auto scan = trades.Scan();
  uint64_t seen = 0;
  for (const auto& entry : scan) seen += (entry.value.ts_ns != 0);
  EXPECT_EQ(seen, 4u);
  EXPECT_THAT(scan.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("record 4")));
  ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad.seq, 4u);
  EXPECT_EQ(v.first_bad.offset, 4096u + 4 * 40);
  EXPECT_THAT(v.first_bad.file, HasSubstr("00000000000000000000.seg"));
}

TEST(FixedLogTest, ForEachReturnsWhyTheScanEnded) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Small()));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  const uint64_t n = 2 * kPerSegment + 7;  // three segments
  for (uint64_t i = 0; i < n; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());

  // Every record, in order, from 0 and from a later position; OK at the end.
  for (uint64_t from : {uint64_t{0}, kPerSegment + 3}) {
    uint64_t expect = from;
    ASSERT_OK(trades.ForEach(
        [&](uint64_t seq, const Trade& t) {
          EXPECT_EQ(seq, expect);
          EXPECT_EQ(t.ts_ns, MakeTrade(seq).ts_ns);
          ++expect;
        },
        from));
    EXPECT_EQ(expect, n) << "from " << from;
  }

  // fn's error stops the scan and is returned.
  uint64_t calls = 0;
  EXPECT_THAT(trades.Scan().ForEach([&](uint64_t seq, const Trade&) -> absl::Status {
    ++calls;
    if (seq == 10) return absl::AbortedError("stop at 10");
    return absl::OkStatus();
  }),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stop at 10")));
  EXPECT_EQ(calls, 11u);

  // Seek: binary search on a monotone predicate (ts_ns = 1000 i + 7).
  for (uint64_t i : {uint64_t{0}, uint64_t{1}, kPerSegment - 1, kPerSegment, n - 1}) {
    EXPECT_THAT(trades.Seek([&](const Trade& r) { return r.ts_ns >= 1000 * i + 7; }),
                ::recstore::testing::IsOkAndHolds(i));
    EXPECT_THAT(trades.Seek([&](const Trade& r) { return r.ts_ns >= 1000 * i + 1; }),
                ::recstore::testing::IsOkAndHolds(i));
  }
  EXPECT_THAT(trades.Seek([](const Trade&) { return false; }),
              ::recstore::testing::IsOkAndHolds(n));
  EXPECT_THAT(trades.Seek([](const Trade&) { return true; }),
              ::recstore::testing::IsOkAndHolds(0u));
  // Newest first, from any bounds.
  for (auto [from, before] : {std::pair<uint64_t, uint64_t>{0, UINT64_MAX},
                              {kPerSegment - 2, kPerSegment + 3},
                              {5, 5},
                              {n - 1, n + 100}}) {
    uint64_t expect = std::min(before, n);
    auto scan = trades.ScanReverse(from, before);
    for (const auto& [seq, t] : scan) {
      ASSERT_EQ(seq, expect - 1);
      ASSERT_EQ(t.ts_ns, MakeTrade(seq).ts_ns);
      --expect;
    }
    EXPECT_OK(scan.status());
    EXPECT_EQ(expect, std::min(from, std::min(before, n))) << from << ".." << before;
  }

  // An invalid record in the middle: the records before it, then DataLoss (a range-for loop
  // would end there the same way as at the end).
  ASSERT_OK_AND_ASSIGN(const Trade* t, trades.Get(kPerSegment + 1));
  const_cast<Trade*>(t)->qty ^= 1;
  uint64_t seen = 0;
  EXPECT_THAT(trades.ForEach([&](uint64_t, const Trade&) { ++seen; }),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("record " + std::to_string(kPerSegment + 1))));
  EXPECT_EQ(seen, kPerSegment + 1);
  // Newest first: the records after it, then DataLoss.
  seen = 0;
  EXPECT_THAT(trades.ScanReverse().ForEach([&](uint64_t, const Trade&) { ++seen; }),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(seen, n - (kPerSegment + 2));
}

}  // namespace
}  // namespace recstore
