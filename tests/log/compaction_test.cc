// Compaction by key (with tombstones and their grace), by predicate, and Merge, checked
// against an in-memory model of each collection's contents: surviving records keep their
// sequence numbers and bytes, scans skip the gaps, Get of a removed record is NotFound, and
// reopening gives the same contents.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/log/compaction_model.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::BytesOf;
using ::recstore::testing::ClockEnv;
using ::recstore::testing::CollectionFolder;
using ::recstore::testing::Contents;
using ::recstore::testing::From;
using ::recstore::testing::Keyed;
using ::recstore::testing::ListSegments;
using ::recstore::testing::ModelCompact;
using ::recstore::testing::ModelRecord;
using ::recstore::testing::ModelRules;
using ::recstore::testing::ReadAll;
using ::recstore::testing::SegmentFiles;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Keyed slots per segment
constexpr int64_t kT0 = 1'700'000'000;

StoreOptions Opts() { return {.create_if_missing = true, .segment_size = kSegment}; }

Keyed FromBytes(const std::string& b) {
  Keyed k;
  std::memcpy(&k, b.data(), sizeof(k));
  return k;
}

// Rules of a Keyed log compacted by `key` with tombstones in `deleted`, whose tombstones
// expire when at least `grace` records follow them in a log ending at `end`.
ModelRules KeyedRules(uint64_t grace, uint64_t end) {
  return {.key = [](const std::string& b) -> std::optional<std::string> {
            return b.substr(offsetof(Keyed, key), 8);
          },
          .tombstone = [](const ModelRecord& r) { return FromBytes(r.bytes).deleted != 0; },
          .expired = [grace, end](const ModelRecord& r) { return end - r.seq - 1 >= grace; }};
}

CompactOptions KeyedOptions(uint64_t grace) {
  return {.key = {.field = "key"}, .tombstone_field = "deleted", .tombstone_grace_records = grace};
}

// Records the progress callback's calls and checks them against the stats.
struct ProgressLog {
  std::vector<CompactionProgress> calls;
  std::function<void(const CompactionProgress&)> Callback() {
    return [this](const CompactionProgress& p) { calls.push_back(p); };
  }
  void Check(const CompactionStats& stats) const {
    ASSERT_FALSE(calls.empty());
    for (size_t i = 1; i < calls.size(); ++i) {
      EXPECT_GE(calls[i].records_done, calls[i - 1].records_done) << i;
      EXPECT_GE(calls[i].bytes_done, calls[i - 1].bytes_done) << i;
    }
    for (const CompactionProgress& p : calls) {
      EXPECT_LE(p.records_done, p.records_total);
      EXPECT_LE(p.bytes_done, p.bytes_total);
    }
    const CompactionProgress& last = calls.back();
    EXPECT_EQ(last.records_done, stats.records_in);
    EXPECT_EQ(last.records_total, stats.records_in);
    EXPECT_EQ(last.bytes_done, stats.bytes_in);
    EXPECT_EQ(last.bytes_total, stats.bytes_in);
  }
};

// Every seq in [begin, end): Get succeeds with the model's bytes, or is NotFound when the
// model lacks it. size() counts the model's records in [begin, end); seq_count() every seq.
void CheckGets(const Log<Keyed>& log, const Contents& model) {
  std::map<uint64_t, const std::string*> by_seq;
  uint64_t live = 0;
  for (const ModelRecord& r : model) {
    by_seq[r.seq] = &r.bytes;
    live += r.seq >= log.begin() && r.seq < log.end();
  }
  EXPECT_EQ(log.size(), live);
  EXPECT_EQ(log.seq_count(), log.end() - log.begin());
  // A reverse scan yields the same records newest first, skipping the gaps.
  std::vector<uint64_t> want, got;
  for (const ModelRecord& r : model) {
    if (r.seq >= log.begin() && r.seq < log.end()) want.push_back(r.seq);
  }
  std::reverse(want.begin(), want.end());
  EXPECT_OK(log.ScanReverse().ForEach([&](uint64_t seq, const Keyed& k) {
    got.push_back(seq);
    if (by_seq.count(seq) == 0 || BytesOf(k) != *by_seq[seq]) ADD_FAILURE() << "seq " << seq;
  }));
  EXPECT_EQ(got, want);
  int bad = 0;
  for (uint64_t seq = log.begin(); seq < log.end() && bad < 5; ++seq) {
    absl::StatusOr<const Keyed*> got = log.Get(seq);
    auto it = by_seq.find(seq);
    if (it == by_seq.end()) {
      if (got.status().code() != absl::StatusCode::kNotFound) {
        ++bad;
        ADD_FAILURE() << "seq " << seq << " was removed but Get gives " << got.status();
      }
    } else if (!got.ok() || BytesOf(**got) != *it->second) {
      ++bad;
      ADD_FAILURE() << "seq " << seq << " kept but Get gives " << got.status();
    }
  }
}

// Appends `records`; returns the model.
Contents AppendAll(const Log<Keyed>& log, const std::vector<Keyed>& records) {
  Contents model;
  for (const Keyed& k : records) {
    absl::StatusOr<uint64_t> seq = log.Append(k);
    EXPECT_TRUE(seq.ok()) << seq.status();
    model.push_back({*seq, BytesOf(k)});
  }
  return model;
}

// Checks that the files are those of generation `gen` below `active` and the ordinary ones
// from it, and that the stats describe them.
void CheckFiles(const std::string& folder, uint64_t gen, uint64_t active,
                const CompactionStats& stats) {
  SegmentFiles files = ListSegments(folder);
  EXPECT_EQ(files.ordinary.front(), active);
  for (const auto& [g, first] : files.compacted) {
    EXPECT_EQ(g, gen);
    EXPECT_LT(first, active);
  }
  EXPECT_EQ(stats.segments_out, files.compacted.size());
  EXPECT_EQ(stats.bytes_written, files.compacted_bytes);
}

// Record i of the scripted log: mostly unique keys, every fifth one of 20 hot keys, and
// keys 100..104 set up case by case (see the test).
std::vector<Keyed> ScriptedRecords(uint64_t n) {
  std::map<uint64_t, std::pair<uint64_t, uint32_t>> special = {
      {50, {100, 0}},   {1000, {100, 1}},  // record, then an old tombstone: both go
      {60, {101, 0}},   {4600, {101, 1}},  // a young tombstone stays
      {1100, {102, 1}}, {3000, {102, 0}},  // a tombstone superseded by a new value
      {70, {103, 0}},   {4700, {103, 1}},  // a tombstone in the active segment
      {80, {104, 0}},   {4750, {104, 0}},  // a newer value in the active segment
  };
  std::vector<Keyed> out;
  for (uint64_t i = 0; i < n; ++i) {
    Keyed k{.key = i % 5 == 0 ? (i / 5) % 20 : 1'000'000 + i, .value = i * 7 + 3};
    if (auto it = special.find(i); it != special.end()) {
      k.key = it->second.first;
      k.deleted = it->second.second;
    }
    out.push_back(k);
  }
  return out;
}

TEST(KeyCompactionTest, ScriptedTombstonesGapsAndReopen) {
  const std::string dir = TestDir();
  constexpr uint64_t kGrace = 1000;
  Contents model;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
    const uint64_t n = 3 * kPer + 200;  // the active segment starts at 4608
    Contents before = AppendAll(log, ScriptedRecords(n));
    model = ModelCompact(before, 3 * kPer, KeyedRules(kGrace, n));
    ProgressLog progress;
    CompactOptions options = KeyedOptions(kGrace);
    options.progress = progress.Callback();
    ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(options));
    EXPECT_EQ(ReadAll(log), model);
    CheckGets(log, model);
    for (uint64_t gone : {50, 1000, 60, 1100, 70, 80})
      EXPECT_THAT(log.Get(gone), StatusIs(absl::StatusCode::kNotFound)) << gone;
    for (uint64_t kept : {4600, 3000, 4700, 4750, 4601}) EXPECT_OK(log.Get(kept).status());
    EXPECT_EQ(stats.records_in, 3 * kPer);
    EXPECT_EQ(stats.records_kept, model.size() - 200);
    EXPECT_EQ(stats.bytes_in, 3 * kPer * sizeof(Keyed));
    EXPECT_EQ(stats.segments_in, 3u);
    EXPECT_EQ(stats.first_seq, 0u);
    EXPECT_EQ(stats.generation, 1u);
    progress.Check(stats);
    CollectionInfo info = log.info();
    EXPECT_EQ(info.generation, 1u);
    EXPECT_EQ(info.compacted_end, 3 * kPer);
    CheckFiles(CollectionFolder(dir, "keyed"), 1, 3 * kPer, stats);
    // Scans from inside the gaps start at the next survivor.
    for (uint64_t from : {1, 51, 1001, 4000}) {
      auto scan = log.Scan(from);
      auto it = scan.begin();
      ASSERT_NE(it, scan.end());
      EXPECT_EQ((*it).seq, From(model, from).front().seq) << from;
    }
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
    EXPECT_TRUE(v.ok);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  EXPECT_EQ(ReadAll(log), model);
  CheckGets(log, model);
  EXPECT_EQ(log.info().generation, 1u);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);

  // Compacting the compacted collection: two more segments, then generation 2, in which the
  // tombstone at 4600 has more than kGrace records after it.
  std::vector<Keyed> more;
  for (uint64_t i = 0; i < 2 * kPer; ++i)
    more.push_back(Keyed{.key = i % 3 == 0 ? 2'000'000 + i % 30 : 3'000'000 + i, .value = i});
  Contents appended = AppendAll(log, more);
  model.insert(model.end(), appended.begin(), appended.end());
  const uint64_t end = log.end();
  const uint64_t active = ListSegments(CollectionFolder(dir, "keyed")).active();
  ASSERT_EQ(active, 5 * kPer);
  model = ModelCompact(model, active, KeyedRules(kGrace, end));
  ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(KeyedOptions(kGrace)));
  EXPECT_EQ(ReadAll(log), model);
  CheckGets(log, model);
  EXPECT_THAT(log.Get(4600), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(stats.generation, 2u);
  EXPECT_EQ(log.info().generation, 2u);
  EXPECT_EQ(log.info().compacted_end, active);
  CheckFiles(CollectionFolder(dir, "keyed"), 2, active, stats);

  // Retention into the compacted range: size() counts from the new begin().
  const uint64_t cut = model[model.size() / 3].seq + 1;
  ASSERT_OK(log.TruncateBefore(cut).status());
  ASSERT_EQ(log.begin(), cut);
  CheckGets(log, model);
  EXPECT_LT(log.size(), log.seq_count());
}

TEST(KeyCompactionTest, RandomKeysMatchTheModel) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(absl::StrFormat("seed %u", seed));
    const std::string dir = TestDir(absl::StrFormat("store%u", seed));
    std::mt19937_64 rng(seed);
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
    Contents model;
    for (int round = 0; round < 3; ++round) {
      std::vector<Keyed> records;
      const uint64_t n = 2000 + rng() % 3000;
      for (uint64_t i = 0; i < n; ++i)
        records.push_back(Keyed{.key = rng() % 500,
                                .value = rng(),
                                .deleted = rng() % 33 == 0 ? 1u : 0u,
                                .tag = static_cast<uint32_t>(round)});
      Contents appended = AppendAll(log, records);
      model.insert(model.end(), appended.begin(), appended.end());
      const uint64_t active = ListSegments(CollectionFolder(dir, "keyed")).active();
      model = ModelCompact(model, active, KeyedRules(0, log.end()));
      ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(KeyedOptions(0)));
      EXPECT_EQ(ReadAll(log), model) << "round " << round;
      EXPECT_EQ(stats.generation, uint64_t(round + 1));
      EXPECT_EQ(log.info().compacted_end, active);
      CheckGets(log, model);
    }
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
    EXPECT_TRUE(v.ok);
  }
}

// Byte records: a 4-byte key, then the value; exactly 4 bytes is a tombstone, fewer no key.
TEST(KeyCompactionTest, ByteLogPrefixKeysAndTombstoneGraceByAppendTime) {
  for (uint32_t seed : {7u, 8u}) {
    SCOPED_TRACE(absl::StrFormat("seed %u", seed));
    const std::string dir = TestDir(absl::StrFormat("store%u", seed));
    std::mt19937_64 rng(seed);
    ClockEnv env(kT0);
    Contents model;
    std::map<uint64_t, int64_t> times;
    {
      ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
      ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
      for (uint64_t i = 0; i < 6000; ++i) {
        std::string rec = absl::StrFormat("k%03u", static_cast<unsigned>(rng() % 300));
        const uint64_t r = rng() % 100;
        if (r < 2) {
          rec = std::string(rng() % 4, 'x');  // no key
        } else if (r >= 5) {
          rec += std::string(rng() % 60, static_cast<char>('a' + i % 26));
        }  // else a tombstone
        env.AdvanceSeconds(2);
        ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(rec));
        model.push_back({seq, rec});
        times[seq] = env.Seconds();
      }
      env.AdvanceSeconds(1);  // ages are odd: none is exactly the grace
      const int64_t now = env.Seconds();
      const uint64_t active = ListSegments(CollectionFolder(dir, "events")).active();
      ASSERT_GT(active, 3000u);
      ModelRules rules{.key = [](const std::string& b) -> std::optional<std::string> {
                         if (b.size() < 4) return std::nullopt;
                         return b.substr(0, 4);
                       },
                       .tombstone = [](const ModelRecord& r) { return r.bytes.size() == 4; },
                       .expired = [&](const ModelRecord& r) { return now - times[r.seq] > 3600; }};
      uint64_t bytes_below = 0;
      for (const ModelRecord& r : model) bytes_below += r.seq < active ? r.bytes.size() : 0;
      model = ModelCompact(model, active, rules);
      ProgressLog progress;
      ASSERT_OK_AND_ASSIGN(CompactionStats stats,
                           log.Compact({.key = {.prefix = 4},
                                        .tombstone_grace = std::chrono::hours(1),
                                        .progress = progress.Callback()}));
      EXPECT_EQ(ReadAll(log), model);
      progress.Check(stats);
      uint64_t kept = 0, young_tombstones = 0;
      for (const ModelRecord& r : model) {
        if (r.seq >= active) break;
        ++kept;
        young_tombstones += r.bytes.size() == 4;
      }
      EXPECT_GT(young_tombstones, 0u);  // the test covers tombstones still in their grace
      EXPECT_EQ(stats.records_in, active);
      EXPECT_EQ(stats.bytes_in, bytes_below);
      EXPECT_EQ(stats.records_kept, kept);
      EXPECT_EQ(log.info().generation, 1u);
      // Survivors keep their append times; removed records are NotFound.
      for (uint64_t s = 0; s < log.end(); ++s) {
        const bool present = std::any_of(model.begin(), model.end(),
                                         [s](const ModelRecord& r) { return r.seq == s; });
        if (present) {
          EXPECT_THAT(log.AppendTime(s), testing::IsOkAndHolds(times[s])) << s;
        } else {
          EXPECT_THAT(log.Get(s), StatusIs(absl::StatusCode::kNotFound)) << s;
          EXPECT_THAT(log.AppendTime(s), StatusIs(absl::StatusCode::kNotFound)) << s;
        }
      }
      // Seeking by append time lands on the first survivor at or after the time, across
      // the gaps; a time between two seconds counts its whole second.
      for (int64_t t = times.begin()->second - 5; t <= now + 2; t += 37) {
        uint64_t want = log.end();
        for (const ModelRecord& r : model) {
          if (times[r.seq] >= t) {
            want = r.seq;
            break;
          }
        }
        EXPECT_THAT(log.SeekTime(absl::FromUnixSeconds(t)), testing::IsOkAndHolds(want)) << t;
        EXPECT_THAT(log.SeekTime(absl::FromUnixSeconds(t) + absl::Milliseconds(500)),
                    testing::IsOkAndHolds(want))
            << t;
      }
    }
    ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
    EXPECT_EQ(ReadAll(log), model);
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
    EXPECT_TRUE(v.ok);
  }
}

TEST(KeyCompactionTest, InvalidKeySpecsChangeNothing) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  ASSERT_OK_AND_ASSIGN(auto bytes, store->OpenByteLog("events"));
  Contents model = AppendAll(log, ScriptedRecords(2 * kPer + 10));
  for (int i = 0; i < 3000; ++i) ASSERT_OK(bytes.Append("abcdefgh").status());
  const Contents byte_model = ReadAll(bytes);
  EXPECT_THAT(log.Compact({.key = {.field = "nope"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log.Compact({.key = {.prefix = 4}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log.Compact({.key = {.field = "key"}, .tombstone_field = "nope"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bytes.Compact({.key = {.field = "key"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ReadAll(log), model);
  EXPECT_EQ(ReadAll(bytes), byte_model);
  EXPECT_EQ(log.info().generation, 0u);
  EXPECT_EQ(bytes.info().generation, 0u);
  EXPECT_TRUE(ListSegments(CollectionFolder(dir, "keyed")).compacted.empty());
}

TEST(PredicateCompactionTest, KeepsWhatTheFunctionAccepts) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  Contents before = AppendAll(log, ScriptedRecords(4 * kPer + 300));
  const uint64_t active = 4 * kPer;
  auto keep = [](uint64_t seq, std::span<const std::byte> rec) {
    Keyed k;
    std::memcpy(&k, rec.data(), sizeof(k));
    return k.value % 3 != 0 || seq % 10 == 0;
  };
  Contents model = ModelCompact(before, active, {.keep = [&](const ModelRecord& r) {
                                  return keep(r.seq, std::as_bytes(std::span(r.bytes)));
                                }});
  std::vector<uint64_t> asked;
  int wrong_bytes = 0;
  ASSERT_OK_AND_ASSIGN(CompactionStats stats,
                       log.Compact({.keep = [&](uint64_t seq, std::span<const std::byte> rec) {
                         asked.push_back(seq);
                         if (seq >= before.size() || rec.size() != sizeof(Keyed) ||
                             std::memcmp(rec.data(), before[seq].bytes.data(), rec.size()) != 0)
                           ++wrong_bytes;
                         return keep(seq, rec);
                       }}));
  EXPECT_EQ(wrong_bytes, 0);
  // Every record below the active segment, once, in sequence order.
  ASSERT_EQ(asked.size(), active);
  for (uint64_t i = 0; i < active; ++i) ASSERT_EQ(asked[i], i);
  EXPECT_EQ(ReadAll(log), model);
  CheckGets(log, model);
  EXPECT_EQ(stats.records_in, active);
  EXPECT_EQ(stats.records_kept, model.size() - 300);
  EXPECT_EQ(log.info().generation, 1u);
  CheckFiles(CollectionFolder(dir, "keyed"), 1, active, stats);
  // The predicate sees only what the key rules keep.
  asked.clear();
  const uint64_t end = log.end();
  model = ModelCompact(model, active, KeyedRules(0, end));
  ASSERT_OK(log.Compact({.key = {.field = "key"},
                         .tombstone_field = "deleted",
                         .tombstone_grace_records = 0,
                         .keep =
                             [&](uint64_t seq, std::span<const std::byte>) {
                               asked.push_back(seq);
                               return true;
                             }})
                .status());
  EXPECT_EQ(ReadAll(log), model);
  for (size_t i = 1; i < asked.size(); ++i) EXPECT_LT(asked[i - 1], asked[i]);
  for (uint64_t seq : asked) {
    EXPECT_TRUE(std::any_of(model.begin(), model.end(),
                            [seq](const ModelRecord& r) { return r.seq == seq; }))
        << "the predicate was asked about " << seq << ", which the key rules drop";
  }
}

TEST(PredicateCompactionTest, ByteLogKeepsSeqsAndBytes) {
  const std::string dir = TestDir();
  ClockEnv env(kT0);
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  for (uint64_t i = 0; i < 5000; ++i)
    ASSERT_OK(log.Append(std::string(i % 101, static_cast<char>('a' + i % 26))).status());
  Contents before = ReadAll(log);
  const uint64_t active = ListSegments(CollectionFolder(dir, "events")).active();
  Contents model = ModelCompact(
      before, active, {.keep = [](const ModelRecord& r) { return r.bytes.size() % 2 == 0; }});
  ASSERT_OK(
      log.Compact(
             {.keep = [](uint64_t, std::span<const std::byte> rec) { return rec.size() % 2 == 0; }})
          .status());
  EXPECT_EQ(ReadAll(log), model);
  for (uint64_t from : std::initializer_list<uint64_t>{0, 1, 1001, active - 1, active}) {
    auto scan = log.Scan(from);
    auto it = scan.begin();
    ASSERT_NE(it, scan.end());
    EXPECT_EQ((*it).seq, From(model, from).front().seq) << from;
  }
  EXPECT_THAT(log.Get(1), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
}

// A compaction leaves three compacted files (1280 Keyed records fit one: 1280, 1280, 100),
// TruncateBefore leaves 100 live records in the second, and one full ordinary segment follows:
// Merge folds the 1736 live records of those three files into two.
TEST(MergeTest, FoldsPartlyDroppedSegmentsIntoFewerFiles) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  std::vector<Keyed> records;
  for (uint64_t i = 0; i < 10 * kPer - 5; ++i) records.push_back(Keyed{.key = i, .value = i});
  Contents model = AppendAll(log, records);
  const std::string folder = CollectionFolder(dir, "keyed");
  ASSERT_EQ(ListSegments(folder).active(), 9 * kPer);
  auto keep = [](uint64_t seq) { return (seq % 5 == 0 && seq < 12800) || seq >= 9 * kPer - 100; };
  ASSERT_OK(
      log.Compact({.keep = [&](uint64_t seq, std::span<const std::byte>) { return keep(seq); }})
          .status());
  model =
      ModelCompact(model, 9 * kPer, {.keep = [&](const ModelRecord& r) { return keep(r.seq); }});
  EXPECT_EQ(ReadAll(log), model);
  // More records: the old active segment fills and goes below the new one.
  for (uint64_t i = 10 * kPer - 5; i < 10 * kPer + 10; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(Keyed{.key = i, .value = i}));
    model.push_back({seq, BytesOf(Keyed{.key = i, .value = i})});
  }
  SegmentFiles files = ListSegments(folder);
  ASSERT_EQ(files.ordinary, (std::vector<uint64_t>{9 * kPer, 10 * kPer}));
  ASSERT_EQ(files.compacted.size(), 3u);
  // Keep the last 100 records of the first 2560 kept (seqs 12300, 12305, ..., 12795).
  const uint64_t cut = 12300;
  ASSERT_OK(log.TruncateBefore(cut).status());
  model = From(model, cut);
  const size_t files_before = ListSegments(folder).total();
  EXPECT_EQ(files_before, 4u);
  ProgressLog progress;
  CompactOptions merge_progress{.progress = progress.Callback()};
  ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(merge_progress));
  progress.Check(stats);
  EXPECT_EQ(stats.records_in, 100 + 100 + kPer);
  EXPECT_EQ(stats.records_kept, 100 + 100 + kPer);
  EXPECT_EQ(stats.first_seq, cut);
  EXPECT_EQ(ReadAll(log), model);
  CheckGets(log, model);
  EXPECT_EQ(log.begin(), cut);
  files = ListSegments(folder);
  EXPECT_EQ(files.ordinary, (std::vector<uint64_t>{10 * kPer}));
  EXPECT_LT(files.total(), files_before);
  EXPECT_EQ(files.compacted.size(), 2u);
  CheckFiles(folder, 2, 10 * kPer, stats);
  // Merge once more: nothing changes but the generation.
  ASSERT_OK_AND_ASSIGN(stats, log.Merge());
  EXPECT_EQ(ReadAll(log), model);
  EXPECT_EQ(log.info().generation, 3u);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
}

TEST(MergeTest, NothingBelowTheActiveSegment) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Opts()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog<Keyed>("keyed"));
  ASSERT_OK_AND_ASSIGN(auto bytes, store->OpenByteLog("events"));
  ASSERT_OK_AND_ASSIGN(CompactionStats empty, log.Compact(KeyedOptions(0)));
  EXPECT_EQ(empty.records_in, 0u);
  EXPECT_EQ(log.size(), 0u);
  Contents model = AppendAll(log, ScriptedRecords(100));
  for (int i = 0; i < 100; ++i) ASSERT_OK(bytes.Append("k001").status());  // tombstones
  ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(KeyedOptions(0)));
  EXPECT_EQ(stats.records_in, 0u);
  EXPECT_EQ(stats.records_kept, 0u);
  ASSERT_OK_AND_ASSIGN(stats, bytes.Compact({.key = {.prefix = 4}}));
  EXPECT_EQ(stats.records_in, 0u);
  EXPECT_EQ(ReadAll(log), model);
  EXPECT_EQ(bytes.size(), 100u);
  EXPECT_EQ(ReadAll(bytes).size(), 100u);
  ASSERT_OK(log.Append(Keyed{.key = 5}).status());
  EXPECT_EQ(log.end(), 101u);
}

}  // namespace
}  // namespace recstore
