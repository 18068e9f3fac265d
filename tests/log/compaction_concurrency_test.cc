// Readers and appenders in the same process while a compaction or retention call runs: a
// scan keeps yielding what it started on, Get under a Pin() stays readable, readers see each
// record either as it was or removed, and appends made meanwhile all land with dense sequence
// numbers and survive a reopen. Run under --config=tsan.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/log/compaction_model.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::BytesOf;
using ::recstore::testing::CollectionFolder;
using ::recstore::testing::Contents;
using ::recstore::testing::Keyed;
using ::recstore::testing::ListSegments;
using ::recstore::testing::ModelCompact;
using ::recstore::testing::ModelRecord;
using ::recstore::testing::ModelRules;
using ::recstore::testing::ReadAll;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Keyed slots per segment

StoreOptions Opts() { return {.create_if_missing = true, .segment_size = kSegment}; }

const ModelRules kByKey{.key = [](const std::string& b) -> std::optional<std::string> {
  return b.substr(offsetof(Keyed, key), 8);
}};
const CompactOptions kCompactByKey{.key = {.field = "key"}};

// n records of `keys` random keys, appended; returns the model.
Contents Fill(const Log<Keyed>& log, uint64_t n, uint64_t keys, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Contents model;
  for (uint64_t i = 0; i < n; ++i) {
    Keyed k{.key = rng() % keys, .value = rng(), .tag = seed};
    absl::StatusOr<uint64_t> seq = log.Append(k);
    EXPECT_TRUE(seq.ok()) << seq.status();
    model.push_back({*seq, BytesOf(k)});
  }
  return model;
}

bool Has(const Contents& model, uint64_t seq) {
  auto it = std::lower_bound(model.begin(), model.end(), seq,
                             [](const ModelRecord& r, uint64_t s) { return r.seq < s; });
  return it != model.end() && it->seq == seq;
}

TEST(CompactionReadersTest, ScanStartedBeforeCompactionKeepsItsView) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  const Contents before = Fill(log, 5 * kPer + 100, 50, 11);
  const Contents after = ModelCompact(before, 5 * kPer, kByKey);
  Contents seen;
  auto scan = log.Scan();
  auto it = scan.begin();
  for (int i = 0; i < 100 && it != scan.end(); ++i, ++it)
    seen.push_back({(*it).seq, BytesOf((*it).value)});
  std::atomic<bool> done{false};
  absl::Status compacted;
  std::thread compactor([&] {
    compacted = log.Compact(kCompactByKey).status();
    done = true;
  });
  // Read on while the compaction runs, then after it.
  for (; it != scan.end(); ++it) seen.push_back({(*it).seq, BytesOf((*it).value)});
  compactor.join();
  ASSERT_OK(compacted);
  EXPECT_TRUE(done);
  EXPECT_OK(scan.status());
  EXPECT_EQ(seen, before);
  EXPECT_EQ(ReadAll(log), after);
  EXPECT_TRUE(ListSegments(CollectionFolder(dir, "keyed")).ordinary.front() == 5 * kPer);
}

TEST(CompactionReadersTest, ReadersSeeEachRecordAsItWasOrRemoved) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  const Contents before = Fill(log, 6 * kPer + 100, 300, 12);
  const Contents after = ModelCompact(before, 6 * kPer, kByKey);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, gets{0}, scans{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(100 + r);
      // At least one pass after the compaction has finished.
      for (bool last = false; !last;) {
        last = done.load();
        for (int i = 0; i < 500; ++i) {
          const uint64_t seq = rng() % before.size();
          ReadPin pin = log.Pin();
          absl::StatusOr<const Keyed*> got = log.Get(seq);
          ++gets;
          if (got.ok()) {
            if (BytesOf(**got) != before[seq].bytes) ++bad;
          } else if (got.status().code() != absl::StatusCode::kNotFound || Has(after, seq)) {
            ++bad;
          }
        }
      }
    });
  }
  readers.emplace_back([&] {
    for (bool last = false; !last;) {
      last = done.load();
      Contents c = ReadAll(log);
      ++scans;
      if (c != before && c != after) ++bad;
    }
  });
  ASSERT_OK(log.Compact(kCompactByKey).status());
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0) << gets.load() << " gets, " << scans.load() << " scans";
  EXPECT_EQ(ReadAll(log), after);
}

TEST(CompactionReadersTest, AppendsDuringCompactionLandDenseAndSurvive) {
  const std::string dir = TestDir();
  Contents model;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
    const Contents old = Fill(log, 5 * kPer + 100, 200, 13);
    const uint64_t start = log.end();
    constexpr uint64_t kAppends = 3 * kPer;
    std::vector<uint64_t> seqs;
    std::atomic<int> failed{0};
    std::atomic<bool> go{false};
    std::thread appender([&] {
      while (!go.load()) std::this_thread::yield();
      for (uint64_t j = 0; j < kAppends; ++j) {
        // Keys of their own: these records never supersede the old ones.
        absl::StatusOr<uint64_t> seq = log.Append(Keyed{.key = 1'000'000'000 + j, .value = j});
        if (!seq.ok()) {
          ++failed;
          return;
        }
        seqs.push_back(*seq);
      }
    });
    go = true;
    ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(kCompactByKey));
    appender.join();
    ASSERT_EQ(failed.load(), 0);
    ASSERT_EQ(seqs.size(), kAppends);
    for (uint64_t j = 0; j < kAppends; ++j) ASSERT_EQ(seqs[j], start + j) << j;
    EXPECT_EQ(log.end(), start + kAppends);
    const uint64_t boundary = log.info().compacted_end;
    EXPECT_GE(boundary, 5 * kPer);
    EXPECT_EQ(stats.generation, 1u);
    model = old;
    for (uint64_t j = 0; j < kAppends; ++j)
      model.push_back({start + j, BytesOf(Keyed{.key = 1'000'000'000 + j, .value = j})});
    model = ModelCompact(model, boundary, kByKey);
    EXPECT_EQ(ReadAll(log), model);
    ASSERT_OK(log.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  EXPECT_EQ(ReadAll(log), model);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
}

TEST(CompactionReadersTest, PinKeepsGetPointersAfterTheirSegmentIsRetired) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  const Contents before = Fill(log, 4 * kPer + 10, 20, 14);
  ReadPin pin = log.Pin();
  ASSERT_OK_AND_ASSIGN(const Keyed* early, log.Get(10));
  ASSERT_OK_AND_ASSIGN(const Keyed* middle, log.Get(2 * kPer + 5));
  ASSERT_OK(log.TruncateBefore(kPer + 1).status());  // deletes the first segment's file
  EXPECT_EQ(ListSegments(CollectionFolder(dir, "keyed")).ordinary.front(), kPer);
  EXPECT_THAT(log.Get(10), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(BytesOf(*early), before[10].bytes);
  ASSERT_OK(log.Compact(kCompactByKey).status());  // retires every ordinary file below 4*kPer
  EXPECT_TRUE(ListSegments(CollectionFolder(dir, "keyed")).ordinary.front() == 4 * kPer);
  EXPECT_EQ(BytesOf(*early), before[10].bytes);
  EXPECT_EQ(BytesOf(*middle), before[2 * kPer + 5].bytes);
  pin.reset();
  EXPECT_EQ(ReadAll(log), ModelCompact(testing::From(before, kPer + 1), 4 * kPer, kByKey));
}

// Compact, Merge and TruncateBefore from three threads wait for each other; in any order they
// leave the records at or after the cut that key compaction keeps.
TEST(CompactionReadersTest, RewritesFromSeveralThreadsSerialize) {
  for (uint32_t seed : {21u, 22u, 23u}) {
    SCOPED_TRACE(absl::StrFormat("seed %u", seed));
    const std::string dir = TestDir(absl::StrFormat("store%u", seed));
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
    const Contents before = Fill(log, 6 * kPer + 50, 400, seed);
    const uint64_t cut = 2 * kPer + 700 + seed;
    absl::Status compacted, merged, truncated;
    std::atomic<bool> go{false};
    std::thread a([&] {
      while (!go.load()) std::this_thread::yield();
      compacted = log.Compact(kCompactByKey).status();
    });
    std::thread b([&] {
      while (!go.load()) std::this_thread::yield();
      merged = log.Merge().status();
    });
    std::thread c([&] {
      while (!go.load()) std::this_thread::yield();
      truncated = log.TruncateBefore(cut).status();
    });
    go = true;
    a.join();
    b.join();
    c.join();
    ASSERT_OK(compacted);
    ASSERT_OK(merged);
    ASSERT_OK(truncated);
    const Contents want = testing::From(ModelCompact(before, 6 * kPer, kByKey), cut);
    EXPECT_EQ(log.begin(), cut);
    EXPECT_EQ(ReadAll(log), want);
    EXPECT_GE(log.info().generation, 2u);
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
    EXPECT_TRUE(v.ok);
  }
}

}  // namespace
}  // namespace recstore
