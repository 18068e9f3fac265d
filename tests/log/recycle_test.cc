// Recycled segments (StoreOptions::recycle_segments): retention hands retired files to the
// writer's pool, new segments are made out of them, every record reads back as appended
// (never one of a file's earlier use), reopens of a recycled newest segment report nothing
// dropped, and no file is reused while a handle of this or another open file description
// still maps it.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/log/compaction_model.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::CollectionFolder;
using ::recstore::testing::Contents;
using ::recstore::testing::From;
using ::recstore::testing::ListSegments;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::ReadAll;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // Trade slots per segment

StoreOptions Opts(uint32_t recycle, bool read_only = false,
                  RecoveryMode mode = RecoveryMode::kTolerateTornTail) {
  return {.create_if_missing = !read_only,
          .read_only = read_only,
          .segment_size = kSegment,
          .recovery_mode = mode,
          .recycle_segments = recycle};
}

// A store and its Trade log "t" (closed in that order's reverse).
struct Opened {
  std::unique_ptr<Store> store;
  std::optional<Log<Trade>> log;
};
Opened OpenTrades(const std::string& path, const StoreOptions& opts) {
  Opened o;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path, opts);
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return o;
  }
  o.store = *std::move(store);
  absl::StatusOr<Log<Trade>> log = o.store->OpenLog<Trade>("t");
  if (!log.ok()) {
    ADD_FAILURE() << log.status();
    return o;
  }
  o.log.emplace(*std::move(log));
  return o;
}

std::string Payload(uint64_t i) {
  std::string s(16 + (i * 37) % 300, '\0');
  for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>('a' + (i * 7 + k) % 26);
  return s;
}

// Inode numbers of the ordinary segment files and the retired files in `folder`.
struct Files {
  std::set<uint64_t> segment_inodes;
  size_t retired = 0;
  size_t segments = 0;
};
Files Look(const std::string& folder) {
  Files f;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    struct stat st;
    if (::stat(e.path().c_str(), &st) != 0) continue;
    if (name.ends_with(".recycle")) {
      ++f.retired;
    } else if (name.size() == 24 && name.ends_with(".seg")) {
      ++f.segments;
      f.segment_inodes.insert(st.st_ino);
    }
  }
  return f;
}

// The format version in the header of the newest ordinary segment of `folder`.
uint32_t NewestVersion(const std::string& folder) {
  const testing::SegmentFiles s = ListSegments(folder);
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(s.active()));
  std::ifstream in(folder + "/" + name, std::ios::binary);
  char buf[12] = {};
  in.read(buf, sizeof(buf));
  uint32_t v;
  std::memcpy(&v, buf + 8, 4);
  return v;
}

TEST(RecycleTest, FixedLogReusesRetiredFilesAndReadsBackExactly) {
  const std::string path = TestDir();
  Contents model;
  std::set<uint64_t> inodes;  // every segment file ever seen
  uint64_t segments_made = 0;
  {
    Opened opened = OpenTrades(path, Opts(2));
    ASSERT_TRUE(opened.log.has_value());
    auto& log = opened.log;
    ASSERT_TRUE(log->SetRetention({.max_records = 2 * kPer}).ok());
    const std::string folder = CollectionFolder(path, "t");
    for (uint64_t i = 0; i < 12 * kPer + 100; ++i) {
      absl::StatusOr<uint64_t> seq = log->Append(MakeTrade(i));
      ASSERT_TRUE(seq.ok()) << seq.status();
      model.push_back({*seq, testing::BytesOf(MakeTrade(i))});
      if (i % 500 == 499) {
        ASSERT_TRUE(log->Sync().ok());
        const Files f = Look(folder);
        inodes.insert(f.segment_inodes.begin(), f.segment_inodes.end());
        EXPECT_LE(f.retired, 2u);
      }
    }
    segments_made = (12 * kPer + 100) / kPer + 1;
    EXPECT_EQ(ReadAll(*log), From(model, log->begin()));
    EXPECT_TRUE(log->Verify().ok());
    // Far fewer files than segments: the pool fed the rotations.
    EXPECT_LT(inodes.size(), segments_made / 2) << "files " << inodes.size();
    EXPECT_EQ(NewestVersion(folder), 4u);
  }
  // Reopens of the recycled newest segment: nothing dropped, in every recovery mode.
  // Absolute consistency first: the first open sees the earlier use's records past the end
  // (a writer's open then zeroes them).
  for (RecoveryMode mode : {RecoveryMode::kAbsoluteConsistency, RecoveryMode::kTolerateTornTail,
                            RecoveryMode::kSalvage}) {
    Opened opened = OpenTrades(path, Opts(2, false, mode));
    ASSERT_TRUE(opened.log.has_value());
    auto& log = opened.log;
    EXPECT_TRUE(log->recovery().clean()) << log->recovery().bytes_dropped;
    EXPECT_EQ(log->recovery().bytes_dropped, 0u);
    EXPECT_EQ(ReadAll(*log), From(model, log->begin()));
    EXPECT_EQ(log->end(), model.size());
  }
}

TEST(RecycleTest, ByteLogReusesRetiredFilesAndReadsBackExactly) {
  const std::string path = TestDir();
  Contents model;
  std::set<uint64_t> inodes;
  {
    auto store = Store::Open(path, Opts(3));
    ASSERT_TRUE(store.ok()) << store.status();
    auto log = (*store)->OpenByteLog("b");
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(log->SetRetention({.max_records = 600}).ok());
    const std::string folder = CollectionFolder(path, "b");
    for (uint64_t i = 0; i < 6000; ++i) {
      absl::StatusOr<uint64_t> seq = log->Append(Payload(i));
      ASSERT_TRUE(seq.ok()) << seq.status();
      model.push_back({*seq, Payload(i)});
      if (i % 97 == 0) {
        ASSERT_TRUE(log->Sync().ok());
        const Files f = Look(folder);
        inodes.insert(f.segment_inodes.begin(), f.segment_inodes.end());
      }
    }
    EXPECT_EQ(ReadAll(*log), From(model, log->begin()));
    for (uint64_t seq = log->begin(); seq < log->end(); seq += 13) {
      absl::StatusOr<std::span<const std::byte>> r = log->Get(seq);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(std::string(AsString(*r)), Payload(seq));
    }
    EXPECT_TRUE(log->Verify().ok());
    EXPECT_LT(inodes.size(), 20u);
  }
  // Absolute consistency first: the first open sees the earlier use's records past the end
  // (a writer's open then zeroes them).
  for (RecoveryMode mode : {RecoveryMode::kAbsoluteConsistency, RecoveryMode::kTolerateTornTail,
                            RecoveryMode::kSalvage}) {
    auto store = Store::Open(path, Opts(3, false, mode));
    ASSERT_TRUE(store.ok()) << store.status();
    auto log = (*store)->OpenByteLog("b");
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE(log->recovery().clean());
    EXPECT_EQ(ReadAll(*log), From(model, log->begin()));
    // Appends go on after the reopen, into the recycled segment.
    absl::StatusOr<uint64_t> seq = log->Append(Payload(model.size()));
    ASSERT_TRUE(seq.ok()) << seq.status();
    model.push_back({*seq, Payload(model.size())});
  }
}

TEST(RecycleTest, TurningRecyclingOffRemovesTheRetiredFiles) {
  const std::string path = TestDir();
  {
    Opened opened = OpenTrades(path, Opts(4));
    ASSERT_TRUE(opened.log.has_value());
    auto& log = opened.log;
    for (uint64_t i = 0; i < 6 * kPer; ++i) ASSERT_TRUE(log->Append(MakeTrade(i)).ok());
    ASSERT_TRUE(log->TruncateBefore(5 * kPer).ok());
    EXPECT_EQ(Look(CollectionFolder(path, "t")).retired, 4u);
  }
  {
    // A writer with a smaller limit keeps that many.
    Opened opened = OpenTrades(path, Opts(1));
    ASSERT_TRUE(opened.log.has_value());
    EXPECT_EQ(Look(CollectionFolder(path, "t")).retired, 1u);
  }
  {
    // A reader changes nothing.
    Opened opened = OpenTrades(path, Opts(0, /*read_only=*/true));
    ASSERT_TRUE(opened.log.has_value());
    EXPECT_EQ(Look(CollectionFolder(path, "t")).retired, 1u);
  }
  Opened opened = OpenTrades(path, Opts(0));
  ASSERT_TRUE(opened.log.has_value());
  auto& log = opened.log;
  EXPECT_EQ(Look(CollectionFolder(path, "t")).retired, 0u);
  EXPECT_EQ(log->begin(), 5 * kPer);
  EXPECT_EQ(log->end(), 6 * kPer);
}

// Appends `n` Trades from record number `from` on, syncing.
void AppendTrades(const Log<Trade>& log, uint64_t from, uint64_t n) {
  for (uint64_t i = from; i < from + n; ++i) ASSERT_TRUE(log.Append(MakeTrade(i)).ok());
  ASSERT_TRUE(log.Sync().ok());
}

// Every record a scan yields is the one appended under its sequence number.
template <typename Scan>
void ExpectScanExact(Scan& scan, uint64_t first, uint64_t end) {
  uint64_t expect = first;
  for (auto [seq, rec] : scan) {
    ASSERT_EQ(seq, expect);
    ASSERT_EQ(testing::BytesOf(rec), testing::BytesOf(MakeTrade(seq))) << "record " << seq;
    ++expect;
  }
  EXPECT_TRUE(scan.status().ok()) << scan.status();
  EXPECT_EQ(expect, end);
}

TEST(RecycleTest, AFileAReaderStillMapsIsNotReused) {
  const std::string path = TestDir();
  auto writer = Store::Open(path, Opts(4));
  ASSERT_TRUE(writer.ok());
  auto log = (*writer)->OpenLog<Trade>("t");
  ASSERT_TRUE(log.ok());
  AppendTrades(*log, 0, 3 * kPer);
  // A read-only handle (its own open file description, as another process would have) pins a
  // scan over the first three segments.
  const std::string folder = CollectionFolder(path, "t");
  std::set<uint64_t> pinned = Look(folder).segment_inodes;
  {
    auto reader = Store::Open(path, Opts(0, /*read_only=*/true));
    ASSERT_TRUE(reader.ok());
    auto rlog = (*reader)->OpenLog<Trade>("t");
    ASSERT_TRUE(rlog.ok());
    auto scan = rlog->Scan();
    // The writer drops them and goes on for several segments: its pool fills with the
    // reader's files, and every new segment must be a new file.
    ASSERT_TRUE(log->TruncateBefore(3 * kPer).ok());
    EXPECT_GE(Look(folder).retired, 2u);
    for (uint64_t ino : Look(folder).segment_inodes) pinned.erase(ino);  // retired ones stay
    ASSERT_GE(pinned.size(), 2u);
    AppendTrades(*log, 3 * kPer, 4 * kPer);
    for (uint64_t ino : Look(folder).segment_inodes) EXPECT_EQ(pinned.count(ino), 0u);
    ExpectScanExact(scan, 0, 3 * kPer);
  }
  // With the reader gone, the files are free: the next rotations reuse them.
  AppendTrades(*log, 7 * kPer, 2 * kPer);
  size_t reused = 0;
  for (uint64_t ino : Look(folder).segment_inodes) reused += pinned.count(ino);
  EXPECT_GE(reused, 1u);
  EXPECT_EQ(ReadAll(*log).size(), log->end() - log->begin());
}

TEST(RecycleTest, TheWritersOwnScanKeepsItsFiles) {
  const std::string path = TestDir();
  Opened opened = OpenTrades(path, Opts(4));
  ASSERT_TRUE(opened.log.has_value());
  auto& log = opened.log;
  AppendTrades(*log, 0, 3 * kPer);
  const std::string folder = CollectionFolder(path, "t");
  std::set<uint64_t> pinned = Look(folder).segment_inodes;
  {
    auto scan = log->Scan();
    ASSERT_TRUE(log->TruncateBefore(3 * kPer).ok());
    for (uint64_t ino : Look(folder).segment_inodes) pinned.erase(ino);  // retired ones stay
    ASSERT_GE(pinned.size(), 2u);
    AppendTrades(*log, 3 * kPer, 4 * kPer);
    for (uint64_t ino : Look(folder).segment_inodes) EXPECT_EQ(pinned.count(ino), 0u);
    ExpectScanExact(scan, 0, 3 * kPer);
  }
  AppendTrades(*log, 7 * kPer, 2 * kPer);
  size_t reused = 0;
  for (uint64_t ino : Look(folder).segment_inodes) reused += pinned.count(ino);
  EXPECT_GE(reused, 1u);
}

// Compaction retires the ordinary segments it copied: they go to the pool too, and the records
// the compaction kept (now in compacted segments) and those appended into reused files read
// back exactly.
TEST(RecycleTest, CompactionRetiresIntoThePool) {
  const std::string path = TestDir();
  Opened opened = OpenTrades(path, Opts(3));
  ASSERT_TRUE(opened.log.has_value());
  auto& log = opened.log;
  AppendTrades(*log, 0, 4 * kPer + 10);
  const std::string folder = CollectionFolder(path, "t");
  std::set<uint64_t> copied = Look(folder).segment_inodes;
  // Keep the even records below the active segment.
  auto stats =
      log->Compact({.keep = [](uint64_t seq, std::span<const std::byte>) { return seq % 2 == 0; }});
  ASSERT_TRUE(stats.ok()) << stats.status();
  for (uint64_t ino : Look(folder).segment_inodes) copied.erase(ino);
  EXPECT_EQ(Look(folder).retired, 3u);
  AppendTrades(*log, 4 * kPer + 10, 3 * kPer);
  size_t reused = 0;
  for (uint64_t ino : Look(folder).segment_inodes) reused += copied.count(ino);
  EXPECT_EQ(reused, 3u);
  Contents want;
  for (uint64_t seq = 0; seq < 7 * kPer + 10; ++seq) {
    if (seq >= 4 * kPer || seq % 2 == 0) want.push_back({seq, testing::BytesOf(MakeTrade(seq))});
  }
  EXPECT_EQ(ReadAll(*log), want);
  EXPECT_TRUE(log->Verify().ok());
}

// Retired files are read from disk like everything else: a writer's open keeps only files that
// open as this collection's segment of the name's first record. Garbage, a symbolic link,
// another collection's segment and one whose header names another first record are removed
// (a directory under such a name is left alone), the open succeeds, nothing outside the folder
// is written, and only the collection's own records are ever read.
TEST(RecycleTest, HostileRetiredFilesAreNeverReused) {
  namespace fs = std::filesystem;
  const std::string path = TestDir();
  const std::string victim = path + "-victim";
  {
    std::ofstream(victim) << "must not change";
    auto store = Store::Open(path, Opts(0));
    ASSERT_TRUE(store.ok());
    auto a = (*store)->OpenLog<Trade>("a");
    auto b = (*store)->OpenLog<Trade>("b");
    ASSERT_TRUE(a.ok() && b.ok());
    AppendTrades(*a, 0, kPer / 2);
    // Another collection of the same record type, other contents under the same numbers.
    for (uint64_t i = 0; i < 2 * kPer; ++i) ASSERT_TRUE(b->Append(MakeTrade(i + 1000000)).ok());
  }
  const std::string fa = CollectionFolder(path, "a"), fb = CollectionFolder(path, "b");
  auto name = [](uint64_t first, const char* ext) {
    char n[40];
    std::snprintf(n, sizeof(n), "%020llu%s", static_cast<unsigned long long>(first), ext);
    return std::string(n);
  };
  // b's second segment under the name a's next segment would be made from: its header names
  // that first record, and its records would validate as a's records kPer onwards.
  fs::copy_file(fb + "/" + name(kPer, ".seg"), fa + "/" + name(kPer, ".recycle"));
  std::ofstream(fa + "/" + name(5 * kPer, ".recycle")) << "garbage";
  fs::create_symlink(victim, fa + "/" + name(2 * kPer, ".recycle"));
  fs::create_directory(fa + "/" + name(3 * kPer, ".recycle"));
  for (int round = 0; round < 2; ++round) {
    auto store = Store::Open(path, Opts(4));
    ASSERT_TRUE(store.ok()) << store.status();
    auto a = (*store)->OpenLog<Trade>("a");
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_TRUE(a->recovery().clean());
    EXPECT_EQ(Look(fa).retired, 1u);  // the directory, left alone
    EXPECT_TRUE(fs::is_directory(fa + "/" + name(3 * kPer, ".recycle")));
    Contents want;
    for (uint64_t seq = 0; seq < a->end(); ++seq)
      want.push_back({seq, testing::BytesOf(MakeTrade(seq))});
    EXPECT_EQ(ReadAll(*a), want);
    // Round 0: a few records into the next segment, then a reopen that scans past them.
    if (round == 0) AppendTrades(*a, kPer / 2, kPer / 2 + 10);
    if (round == 1) {
      EXPECT_EQ(a->end(), kPer + 10);
    }
  }
  std::ifstream in(victim);
  std::string got;
  std::getline(in, got);
  EXPECT_EQ(got, "must not change");
}

// Readers racing a recycling writer at every rotation: a read-only handle (its own open file
// descriptions, as another process) refreshing and scanning, and the writer's own Get and
// scans. Every record any of them reads must be the one appended under its sequence number:
// a file reused under a reader would show the new segment's records (or zeros) instead.
TEST(RecycleTest, ReadersRacingRotationsNeverSeeAReusedFile) {
  const std::string path = TestDir();
  auto writer = Store::Open(path, Opts(2));
  ASSERT_TRUE(writer.ok());
  auto log = (*writer)->OpenLog<Trade>("t");
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->SetRetention({.max_records = kPer + kPer / 2}).ok());
  AppendTrades(*log, 0, 2 * kPer);
  auto reader = Store::Open(path, Opts(0, /*read_only=*/true));
  ASSERT_TRUE(reader.ok());
  auto rlog = (*reader)->OpenLog<Trade>("t");
  ASSERT_TRUE(rlog.ok());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0}, reads{0};
  auto check_scan = [&](const Log<Trade>& l) {
    auto scan = l.Scan(l.begin());
    for (auto [seq, rec] : scan) {
      if (testing::BytesOf(rec) != testing::BytesOf(MakeTrade(seq))) ++bad;
      ++reads;
    }
    // A scan may end early only by retention passing it (OutOfRange/NotFound), never DataLoss.
    if (scan.status().code() == absl::StatusCode::kDataLoss) ++bad;
  };
  std::thread other([&] {
    while (!stop.load()) {
      if (!rlog->Refresh().ok()) ++bad;
      check_scan(*rlog);
    }
  });
  std::thread own([&] {
    uint64_t k = 0;
    while (!stop.load()) {
      const uint64_t b = log->begin(), e = log->end();
      if (e > b) {
        ReadPin pin = log->Pin();
        const uint64_t seq = b + (k++ * 7919) % (e - b);
        absl::StatusOr<const Trade*> r = log->Get(seq);
        if (r.ok()) {
          if (testing::BytesOf(**r) != testing::BytesOf(MakeTrade(seq))) ++bad;
        } else if (r.status().code() == absl::StatusCode::kDataLoss) {
          ++bad;
        }
      }
      if (k % 64 == 0) check_scan(*log);
    }
  });
  uint64_t next = 2 * kPer;
  for (int round = 0; round < 40; ++round) {
    AppendTrades(*log, next, kPer / 2);
    next += kPer / 2;
  }
  stop.store(true);
  other.join();
  own.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(ReadAll(*log), [&] {
    Contents want;
    for (uint64_t seq = log->begin(); seq < log->end(); ++seq)
      want.push_back({seq, testing::BytesOf(MakeTrade(seq))});
    return want;
  }());
}

// A failure anywhere on the way from a retired file to a segment (the header write, its flush,
// the rename, the writer's lock test, the retirement's rename) costs only the reuse: the append
// that needed the segment gets a new file, and nothing appended is lost.
TEST(RecycleTest, AFailedReuseFallsBackToANewFile) {
  struct Case {
    const char* op;
    const char* path_part;
    bool at_retire;  // armed before the retirement instead of before the reuse
  };
  const Case cases[] = {{"PWrite", ".recycle", false},
                        {"SyncData", ".recycle", false},
                        {"Rename", ".recycle", false},
                        {"Lock", "STATE", false},
                        {"Rename", "00000000000000000000.seg", true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.op) + " " + c.path_part);
    const std::string path = TestDir("store-" + std::to_string(&c - cases));
    testing::FaultEnv env;
    StoreOptions opts = Opts(2);
    opts.env = &env;
    {
      auto store = Store::Open(path, opts);
      ASSERT_TRUE(store.ok()) << store.status();
      auto log = (*store)->OpenLog<Trade>("t");
      ASSERT_TRUE(log.ok());
      AppendTrades(*log, 0, 3 * kPer);
      const int failures = env.Failures();
      if (c.at_retire) env.Fail(c.op, EIO, /*skip=*/0, c.path_part, /*times=*/1);
      ASSERT_TRUE(log->TruncateBefore(2 * kPer).ok());
      // The file whose retirement failed was deleted instead.
      EXPECT_EQ(Look(CollectionFolder(path, "t")).retired, c.at_retire ? 1u : 2u);
      if (!c.at_retire) env.Fail(c.op, EIO, /*skip=*/0, c.path_part, /*times=*/1);
      AppendTrades(*log, 3 * kPer, 3 * kPer);
      env.Clear();
      EXPECT_EQ(env.Failures(), failures + 1);
      EXPECT_EQ(log->end(), 6 * kPer);
      Contents want;
      for (uint64_t seq = log->begin(); seq < log->end(); ++seq)
        want.push_back({seq, testing::BytesOf(MakeTrade(seq))});
      EXPECT_EQ(ReadAll(*log), want);
    }
    Opened opened = OpenTrades(path, Opts(2));
    ASSERT_TRUE(opened.log.has_value());
    auto& log = opened.log;
    EXPECT_TRUE(log->recovery().clean());
    EXPECT_EQ(log->end(), 6 * kPer);
    EXPECT_TRUE(log->Verify().ok());
  }
}

}  // namespace
}  // namespace recstore
