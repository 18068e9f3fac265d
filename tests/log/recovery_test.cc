// Crash recovery: a writer dies without closing (forked child, _exit), the tail after its
// last sync is torn in different ways, and reopening keeps the longest valid prefix.
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::MakeTrade;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Trade slots per segment
constexpr uint64_t kSynced = 1000;
constexpr uint64_t kWritten = 1400;

std::string SegPath(const std::string& dir, uint64_t first) {
  char name[32];
  snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first));
  return dir + "/000001-trades/" + name;
}

uint64_t SlotOffset(uint64_t seq) { return 4096 + (seq % kPer) * 40; }

void Poke(const std::string& path, uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Peek(const std::string& path, uint64_t offset, size_t n) {
  std::ifstream f(path, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  std::string s(n, '\0');
  f.read(s.data(), static_cast<std::streamsize>(n));
  return s;
}

// A writer that syncs `synced` records, appends up to `written`, and dies.
void CrashAfterWriting(const std::string& dir, uint64_t synced, uint64_t written) {
  int rc = RunInChild([&](auto crash) {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) return 10;
    auto trades = (*store)->OpenLog<Trade>("trades");
    if (!trades.ok()) return 11;
    for (uint64_t i = 0; i < written; ++i) {
      if (!trades->Append(MakeTrade(i)).ok()) return 12;
      if (i + 1 == synced && !trades->Sync().ok()) return 13;
    }
    crash(0);  // no close, no sync
    return 1;
  });
  ASSERT_EQ(rc, 0);
}

StoreOptions Mode(RecoveryMode m) { return {.segment_size = kSegment, .recovery_mode = m}; }

TEST(RecoveryTest, ProcessCrashKeepsEverythingPublished) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kWritten);
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  // The page cache outlives the process: nothing is torn.
  EXPECT_EQ(trades.size(), kWritten);
  const RecoveryReport& r = trades.recovery();
  EXPECT_EQ(r.durable_point, kSynced);
  EXPECT_EQ(r.tail_records_kept, kWritten - kSynced);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(trades.durable(), kWritten);  // recovery made the kept tail durable
}

// Each way a crash can tear the record at `cut`: the open keeps [0, cut).
struct Tear {
  const char* name;
  uint64_t cut;
  uint64_t offset_in_slot;
  std::string bytes;
};

class TornTailTest : public ::testing::TestWithParam<Tear> {};

TEST_P(TornTailTest, KeepsLongestValidPrefixAndZeroesTheRest) {
  const Tear& tear = GetParam();
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kWritten);
  const std::string seg = SegPath(dir, 0);
  Poke(seg, SlotOffset(tear.cut) + tear.offset_in_slot, tear.bytes);
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    EXPECT_EQ(trades.size(), tear.cut);
    const RecoveryReport& r = trades.recovery();
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.truncated_offset, SlotOffset(tear.cut));
    EXPECT_THAT(r.truncated_file, HasSubstr("00000000000000000000.seg"));
    EXPECT_GT(r.bytes_dropped, 0u);
    EXPECT_GE(r.bytes_dropped + 4096, (kWritten - tear.cut) * 40);
    EXPECT_EQ(r.tail_records_kept, tear.cut - kSynced);
    ASSERT_OK_AND_ASSIGN(const Trade* last, trades.Get(tear.cut - 1));
    EXPECT_EQ(last->ts_ns, MakeTrade(tear.cut - 1).ts_ns);
    EXPECT_THAT(trades.Get(tear.cut), StatusIs(absl::StatusCode::kOutOfRange));
    ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
    EXPECT_TRUE(v.ok);
  }
  // Records that were written after the tear are gone from the file, so they can never be
  // mistaken for new records after a later crash.
  EXPECT_EQ(Peek(seg, SlotOffset(kWritten - 1), 40), std::string(40, '\0'));
  EXPECT_EQ(Peek(seg, SlotOffset(tear.cut), 40), std::string(40, '\0'));
  // The log continues at the cut.
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(trades.recovery().clean());
  ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(tear.cut)));
  EXPECT_EQ(seq, tear.cut);
}

INSTANTIATE_TEST_SUITE_P(Tears, TornTailTest,
                         ::testing::Values(Tear{"FirstUnsyncedPayload", kSynced, 3, "\x7f"},
                                           Tear{"MiddlePayload", 1200, 17, "\x01\x02"},
                                           Tear{"Checksum", 1300, 32, std::string(8, '\0')},
                                           Tear{"ZeroedSlot", 1250, 0, std::string(40, '\0')},
                                           Tear{"LastRecord", kWritten - 1, 39, "\xff"}),
                         [](const ::testing::TestParamInfo<Tear>& info) {
                           return info.param.name;
                         });

TEST(RecoveryTest, TailSpanningSegmentsIsCutAndLaterSegmentsRemoved) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, 100, 2 * kPer + 50);  // three segments, only 100 records synced
  Poke(SegPath(dir, 0), SlotOffset(kPer - 10) + 5, "\x55");
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.size(), kPer - 10);
  EXPECT_EQ(trades.recovery().segments_removed, 2u);
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, kPer)));
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, 2 * kPer)));
  // Appends refill the removed segments.
  for (uint64_t i = kPer - 10; i < kPer + 5; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t seq, trades.Append(MakeTrade(i)));
    ASSERT_EQ(seq, i);
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
  EXPECT_TRUE(v.ok);
}

TEST(RecoveryTest, TornSegmentCreationIsRemoved) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kWritten);
  // A crash while creating the next segment leaves only its temporary file: a segment is
  // named once its header is durable.
  std::ofstream(SegPath(dir, kPer) + ".tmp") << "partial";
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.size(), kWritten);
  EXPECT_FALSE(std::filesystem::exists(SegPath(dir, kPer) + ".tmp"));
}

// A named segment whose header is zeros is damage, never a torn creation: the open refuses,
// naming the file, and deletes nothing (before, it was taken for a torn creation and deleted
// with every synced record in it).
TEST(RecoveryTest, ZeroedHeaderOfTheNewestSegmentFailsTheOpenAndKeepsTheFile) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true,
                                                       .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    for (uint64_t i = 0; i < kPer + 100; ++i) ASSERT_OK(trades.Append(MakeTrade(i)).status());
    ASSERT_OK(trades.Sync().status());
  }
  const std::string bytes = Peek(SegPath(dir, kPer), 0, kSegment);
  Poke(SegPath(dir, kPer), 0, std::string(72, '\0'));
  for (RecoveryMode mode : {RecoveryMode::kTolerateTornTail, RecoveryMode::kAbsoluteConsistency,
                            RecoveryMode::kSalvage}) {
    for (bool read_only : {false, true}) {
      ASSERT_OK_AND_ASSIGN(auto store,
                           Store::Open(dir, {.read_only = read_only, .recovery_mode = mode}));
      EXPECT_THAT(store->OpenLog<Trade>("trades"),
                  StatusIs(absl::StatusCode::kDataLoss,
                           AllOf(HasSubstr(SegPath(dir, kPer)), HasSubstr("all zeros"))));
    }
  }
  const std::string after = Peek(SegPath(dir, kPer), 0, kSegment);
  EXPECT_EQ(std::filesystem::file_size(SegPath(dir, kPer)), kSegment);
  EXPECT_EQ(after.substr(72), bytes.substr(72));  // the synced records are all still there
}

TEST(RecoveryTest, AbsoluteConsistencyRefusesToTruncate) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kWritten);
  Poke(SegPath(dir, 0), SlotOffset(1200) + 3, "\x42");
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Mode(RecoveryMode::kAbsoluteConsistency)));
  EXPECT_THAT(store->OpenLog<Trade>("trades"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("offset " + std::to_string(SlotOffset(1200)))));
  // Nothing was changed: the later records are still in the file.
  EXPECT_NE(Peek(SegPath(dir, 0), SlotOffset(1300), 40), std::string(40, '\0'));
}

TEST(RecoveryTest, AbsoluteConsistencyChecksRecordsBeforeTheDurablePoint) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kSynced);
  Poke(SegPath(dir, 0), SlotOffset(10) + 3, "\x42");
  {
    // The default mode trusts the durable point and opens fast; reads find the damage.
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    EXPECT_EQ(trades.size(), kSynced);
    EXPECT_THAT(trades.Get(10), StatusIs(absl::StatusCode::kDataLoss));
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Mode(RecoveryMode::kAbsoluteConsistency)));
  EXPECT_THAT(store->OpenLog<Trade>("trades"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(RecoveryTest, SalvageKeepsValidRecordsAfterABadOne) {
  const std::string dir = TestDir();
  CrashAfterWriting(dir, kSynced, kWritten);
  Poke(SegPath(dir, 0), SlotOffset(1200) + 3, "\x42");
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, Mode(RecoveryMode::kSalvage)));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.size(), kWritten);
  ASSERT_EQ(trades.recovery().skipped.size(), 1u);
  EXPECT_EQ(trades.recovery().skipped[0].seq, 1200u);
  EXPECT_EQ(trades.recovery().skipped[0].offset, SlotOffset(1200));
  EXPECT_THAT(trades.Get(1200), StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK(trades.Get(1201).status());
  auto scan = trades.Scan();
  uint64_t n = 0;
  for (const auto& [seq, t] : scan) {
    ASSERT_NE(seq, 1200u);
    ASSERT_EQ(t.ts_ns, MakeTrade(seq).ts_ns);
    ++n;
  }
  EXPECT_OK(scan.status());
  EXPECT_EQ(scan.skipped(), 1u);
  EXPECT_EQ(n, kWritten - 1);
}

TEST(RecoveryTest, ByteLogTornFrameIsCut) {
  const std::string dir = TestDir();
  std::vector<uint64_t> offsets;
  int rc = RunInChild([&](auto crash) {
    auto store = Store::Open(dir, {.create_if_missing = true});
    if (!store.ok()) return 10;
    auto log = (*store)->OpenByteLog("events");
    if (!log.ok()) return 11;
    for (int i = 0; i < 300; ++i) {
      if (!log->Append(std::string(50 + i, static_cast<char>('a' + i % 26))).ok()) return 12;
      if (i == 99 && !log->Sync().ok()) return 13;
    }
    crash(0);
    return 1;
  });
  ASSERT_EQ(rc, 0);
  // Frame i starts at 4096 + sum of round_up(16 + 50 + j, 8) for j < i.
  uint64_t off = 4096;
  for (int i = 0; i < 200; ++i) off += (16 + 50 + i + 7) / 8 * 8;
  const std::string seg = dir + "/000001-events/00000000000000000000.seg";
  Poke(seg, off + 20, "#");  // payload byte of record 200
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  EXPECT_EQ(log.size(), 200u);
  EXPECT_TRUE(log.recovery().truncated);
  EXPECT_EQ(log.recovery().truncated_offset, off);
  EXPECT_EQ(log.recovery().durable_point, 100u);
  ASSERT_OK_AND_ASSIGN(auto last, log.Get(199));
  EXPECT_EQ(AsString(last), std::string(249, static_cast<char>('a' + 199 % 26)));
  ASSERT_OK(log.Append("next").status());
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, 201u);
}

// An OS crash can keep a byte record's frame but lose its slot (they are on different pages).
// A read-only open cannot repair the slot and reads find records through it, so its log ends
// before that record; the writer's recovery rewrites the slot and keeps the record.
TEST(RecoveryTest, ReaderStopsAtAByteRecordWhoseSlotIsLost) {
  const std::string dir = TestDir();
  int rc = RunInChild([&](auto crash) {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) return 10;
    auto log = (*store)->OpenByteLog("events");
    if (!log.ok()) return 11;
    for (int i = 0; i < 30; ++i) {
      if (!log->Append(std::string(20 + i, static_cast<char>('a' + i))).ok()) return 12;
      if (i == 9 && !log->Sync().ok()) return 13;
    }
    crash(0);
    return 1;
  });
  ASSERT_EQ(rc, 0);
  const std::string seg = dir + "/000001-events/00000000000000000000.seg";
  Poke(seg, kSegment - 4 * 21, std::string(4, '\0'));  // the slot of record 20
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.read_only = true}));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
    EXPECT_EQ(log.end(), 20u);
    uint64_t n = 0;
    auto scan = log.Scan();
    for (auto [seq, rec] : scan) {
      EXPECT_EQ(AsString(rec), std::string(20 + seq, static_cast<char>('a' + seq)));
      ++n;
    }
    ASSERT_OK(scan.status());
    EXPECT_EQ(n, 20u);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  EXPECT_EQ(log.end(), 30u);
  ASSERT_OK_AND_ASSIGN(auto rec, log.Get(20));
  EXPECT_EQ(AsString(rec), std::string(40, 'u'));
}

}  // namespace
}  // namespace recstore
