// Disk space allocated ahead of the writer (docs/design.md section 3, "Allocation ahead of the
// writer"): a segment file is sparse, and the appender reserves (posix_fallocate) what a batch
// writes before writing any of it. These tests record every allocation an Env sees and check,
// after every batch, that each byte the log has written lies in allocated space (a store into
// a hole of the mapping is where a full disk would raise SIGBUS); that an empty collection
// costs one reservation unit, not a segment; and that a full disk in the middle of a segment
// fails the append cleanly, with the log unchanged and writable once space is back.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"
#include "tests/faults/checks.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
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
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 4 << 20;
constexpr uint64_t kUnit = 64 << 10;
constexpr uint64_t kStride = 40;  // Trade: 32 bytes, checksum, no padding
constexpr uint64_t kPer = (kSegment - 4096) / kStride;

// A FaultEnv that remembers every allocation that succeeded, by file (a segment is allocated
// under its ".tmp" name before the rename: the name is taken without it).
class AllocationsEnv : public FaultEnv {
 public:
  absl::Status Allocate(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    absl::Status s = FaultEnv::Allocate(fd, path, offset, len);
    if (s.ok()) {
      std::string name = path;
      if (name.ends_with(".tmp")) name.resize(name.size() - 4);
      std::lock_guard<std::mutex> lock(mu_);
      ranges_[name].push_back({offset, offset + len});
    }
    return s;
  }

  // A zeroed range may be deallocated (Env::ZeroRange): the whole 4 KiB blocks inside it
  // count as unallocated from then on.
  absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    absl::Status s = FaultEnv::ZeroRange(fd, path, offset, len);
    const uint64_t from = (offset + 4095) / 4096 * 4096, to = (offset + len) / 4096 * 4096;
    if (s.ok() && from < to) {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<std::pair<uint64_t, uint64_t>> kept;
      for (const auto& [a, b] : ranges_[path]) {
        if (a < from) kept.push_back({a, std::min(b, from)});
        if (b > to) kept.push_back({std::max(a, to), b});
      }
      ranges_[path] = std::move(kept);
    }
    return s;
  }

  // Whether [from, to) of `path` lies in what was allocated.
  bool Covered(const std::string& path, uint64_t from, uint64_t to) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<uint64_t, uint64_t>> r = ranges_[path];
    std::sort(r.begin(), r.end());
    for (const auto& [a, b] : r) {
      if (a > from) break;
      from = std::max(from, b);
      if (from >= to) return true;
    }
    return from >= to;
  }
  // Bytes of `path` allocated, overlaps counted once.
  uint64_t Allocated(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<uint64_t, uint64_t>> r = ranges_[path];
    std::sort(r.begin(), r.end());
    uint64_t total = 0, end = 0;
    for (const auto& [a, b] : r) {
      if (b > std::max(a, end)) total += b - std::max(a, end);
      end = std::max(end, b);
    }
    return total;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> ranges_;
};

std::string SegmentPath(const std::string& coll, uint64_t first) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first));
  return coll + "/" + name;
}

uint64_t DiskBytes(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(AllocationTest, FixedRecordsLandInAllocatedSpaceAndAnEmptyLogCostsOneUnit) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "trades");
  AllocationsEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  const std::string first = SegmentPath(coll, 0);
  EXPECT_EQ(env.Allocated(first), kUnit);
  EXPECT_LE(DiskBytes(first), 2 * kUnit) << "an empty collection takes a whole segment";

  // Batches of many sizes, across two rotations.
  uint64_t n = 0;
  for (uint64_t batch : {1, 7, 100, 1000, 1, 5000, 30000, 100000, 3, 77777}) {
    std::vector<Trade> v;
    for (uint64_t i = 0; i < batch; ++i) v.push_back(MakeTrade(n + i));
    ASSERT_OK(trades.AppendBatch(v).status());
    n += batch;
    for (uint64_t seg = 0; seg * kPer < n; ++seg) {
      const uint64_t in_seg = std::min(kPer, n - seg * kPer);
      const std::string path = SegmentPath(coll, seg * kPer);
      const uint64_t written = 4096 + in_seg * kStride;
      ASSERT_TRUE(env.Covered(path, 0, written))
          << path << ": records up to " << written << " written outside allocated space";
      // Growth by doubling: at most twice what is written, or one unit.
      EXPECT_LE(env.Allocated(path), std::max(2 * written + kUnit, 2 * kUnit)) << path;
    }
  }
  ASSERT_GT(n, 2 * kPer);
  ASSERT_OK(trades.Sync().status());
  EXPECT_TRUE(TradesIntact(trades, n));
}

// Byte records: frames from the front, slots from the back; the slot area grows too.
TEST(AllocationTest, FramesAndSlotsLandInAllocatedSpace) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "events");
  AllocationsEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  // Small records (8 to 40 bytes): 16,384 slots fill the first 64 KiB at the back.
  std::vector<uint64_t> firsts = {0};
  std::map<uint64_t, std::string> records;
  uint64_t n = 0;
  for (uint64_t batch : {1, 10, 1000, 20000, 3, 60000, 90000}) {
    std::vector<std::string> owned;
    for (uint64_t i = 0; i < batch; ++i)
      owned.push_back(std::string(8 + (n + i) % 33, 'a' + i % 26));
    std::vector<std::string_view> views(owned.begin(), owned.end());
    ASSERT_OK_AND_ASSIGN(uint64_t seq, events.AppendBatch(views));
    for (uint64_t i = 0; i < batch; ++i) records[seq + i] = owned[i];
    n += batch;
    // Segments: a new one starts where Get's record lives in another file.
    for (const auto& e : std::filesystem::directory_iterator(coll)) {
      const std::string name = e.path().filename().string();
      if (!name.ends_with(".seg")) continue;
      const uint64_t f = std::stoull(name.substr(0, 20));
      if (std::find(firsts.begin(), firsts.end(), f) == firsts.end()) firsts.push_back(f);
    }
    std::sort(firsts.begin(), firsts.end());
    for (size_t k = 0; k < firsts.size(); ++k) {
      const uint64_t from = firsts[k], to = k + 1 < firsts.size() ? firsts[k + 1] : n;
      const std::string path = SegmentPath(coll, from);
      const std::string bytes = ::recstore::testing::ReadFileBytes(path);
      ASSERT_EQ(bytes.size(), kSegment);
      const uint64_t count = to - from;
      // The slot area, and the frames up to the end of the last one.
      const uint64_t slots = kSegment - 4 * count;
      const uint64_t last = base::DecodeFixed32(bytes.data() + slots);
      const uint64_t frame_end = last + (16 + records[to - 1].size() + 7) / 8 * 8;
      ASSERT_TRUE(env.Covered(path, 0, frame_end)) << path << ": frames up to " << frame_end;
      ASSERT_TRUE(env.Covered(path, slots, kSegment)) << path << ": slots from " << slots;
    }
  }
  ASSERT_GT(firsts.size(), 1u);
  for (uint64_t seq : {uint64_t{0}, n / 2, n - 1}) {
    ASSERT_OK_AND_ASSIGN(auto got, events.Get(seq));
    EXPECT_EQ(AsString(got), records[seq]);
  }
}

// A full disk when the writer needs more space in the middle of a segment: the append fails
// with ResourceExhausted, nothing of it is written, and the log carries on once space is back.
TEST(AllocationTest, AFullDiskInTheMiddleOfASegmentFailsTheAppendOnly) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "trades");
  FaultEnv env;
  uint64_t n = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         ::recstore::testing::OpenStore(
                             &env, dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    ASSERT_OK(trades.Append(MakeTrade(n++)).status());
    ASSERT_OK(events.Append(ByteRecord(0)).status());
    ASSERT_OK(trades.Sync().status());
    ASSERT_OK(events.Sync().status());

    env.Fail("Allocate", ENOSPC, 0, ".seg");
    absl::Status s;
    while ((s = trades.Append(MakeTrade(n)).status()).ok()) ++n;
    EXPECT_THAT(
        s, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("00000000000000000000.seg")));
    EXPECT_LT(n, kPer / 4) << "the first reservation unit should have run out first";
    EXPECT_EQ(trades.end(), n);
    uint64_t m = 1;
    while ((s = events.Append(ByteRecord(m)).status()).ok()) ++m;
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(events.end(), m);
    ASSERT_OK(trades.Sync().status());  // the log did not fail: what it holds syncs
    ASSERT_OK(events.Sync().status());
    EXPECT_TRUE(TradesIntact(trades, n));
    EXPECT_TRUE(BytesIntact(events, m));

    env.Clear();  // space is back
    for (uint64_t end = n + 2 * kPer; n < end; ++n) ASSERT_OK(trades.Append(MakeTrade(n)).status());
    ASSERT_OK(trades.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(trades.recovery().clean());
  EXPECT_EQ(trades.end(), n);
  EXPECT_TRUE(TradesIntact(trades, n));
  // A full segment is allocated whole (within the file system's rounding).
  EXPECT_GE(DiskBytes(SegmentPath(coll, 0)), kSegment);
}

// A writer reopening a partly written segment reserves again from its start (recovery knows
// nothing of what was allocated) and goes on appending into allocated space.
TEST(AllocationTest, AReopenedWriterReservesBeforeWriting) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "trades");
  uint64_t n = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    for (; n < 5000; ++n) ASSERT_OK(trades.Append(MakeTrade(n)).status());
    ASSERT_OK(trades.Sync().status());
  }
  AllocationsEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  for (uint64_t end = n + 20000; n < end; ++n) {
    ASSERT_OK(trades.Append(MakeTrade(n)).status());
  }
  const std::string path = SegmentPath(coll, 0);
  EXPECT_TRUE(env.Covered(path, 0, 4096 + n * kStride));
  ASSERT_OK(trades.Sync().status());
  EXPECT_TRUE(TradesIntact(trades, n));
}

// A writer open that repairs a slot reserves the slot area, then zeroes the segment past its
// last record, which may deallocate part of what it reserved: later appends must reserve it
// again before their slots land there.
TEST(AllocationTest, SlotsAfterARepairAndTheZeroedTailLandInAllocatedSpace) {
  const std::string dir = TestDir();
  const std::string coll = CollectionDir(dir, 1, "events");
  const std::string path = SegmentPath(coll, 0);
  constexpr uint64_t kFirst = 100;
  // A writer that synced half of its records and died (no clean close, which would sync).
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) _exit(1);
    absl::StatusOr<ByteLog> events = (*store)->OpenByteLog("events");
    if (!events.ok()) _exit(2);
    for (uint64_t i = 0; i < kFirst; ++i) {
      if (!events->Append("record").ok()) _exit(3);
      if (i == kFirst / 2 && !events->Sync().ok()) _exit(4);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The last record's slot lost, as when its frame reached the disk and its slot did not:
  // the next writer open repairs it.
  std::string bytes = ::recstore::testing::ReadFileBytes(path);
  ASSERT_EQ(bytes.size(), kSegment);
  bytes.replace(kSegment - 4 * kFirst, 4, std::string(4, '\0'));
  ::recstore::testing::WriteFileBytes(path, bytes);

  AllocationsEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  ASSERT_EQ(events.end(), kFirst);  // repaired, not dropped
  // 20,000 more slots: 80 KiB of slot area, past the first 64 KiB unit at the back.
  std::vector<std::string_view> views(20000, "x");
  ASSERT_OK(events.AppendBatch(views).status());
  const uint64_t n = events.end();
  EXPECT_TRUE(env.Covered(path, kSegment - 4 * n, kSegment)) << "slots of " << n << " records";
  ASSERT_OK(events.Sync().status());
  ASSERT_OK_AND_ASSIGN(auto got, events.Get(kFirst - 1));
  EXPECT_EQ(AsString(got), "record");
}

// Whether the file system under `dir` gives space back for a punched hole.
bool PunchesHoles(const std::string& dir) {
  const std::string path = dir + "/probe";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  bool ok = ::posix_fallocate(fd, 0, 1 << 20) == 0;
  const uint64_t before = DiskBytes(path);
  ok = ok && ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
  ok = ok && DiskBytes(path) + (512 << 10) < before;
  ::close(fd);
  ::unlink(path.c_str());
  return ok;
}

// Every writer open zeroes the newest segment past its last record (recovery), so that bytes a
// crashed writer left there are never taken for new records. The zeroed range is a hole: a
// reopened store keeps the footprint of what it holds, not of its segments' capacity.
TEST(AllocationTest, ReopeningAWriterKeepsTheTailSparse) {
  const std::string dir = TestDir();
  std::filesystem::create_directories(dir);
  if (!PunchesHoles(dir)) GTEST_SKIP() << "the file system under " << dir << " punches no holes";
  const std::string coll = CollectionDir(dir, 1, "trades");
  const std::string path = SegmentPath(coll, 0);
  uint64_t n = 0;
  for (int open = 0; open < 3; ++open) {
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    EXPECT_EQ(trades.end(), n);
    EXPECT_TRUE(TradesIntact(trades, n));
    // Well under the segment's 4 MiB: the records (about 40 KiB per open) and the space
    // reserved ahead of them, plus the file system's rounding.
    EXPECT_LT(DiskBytes(path), 1u << 20) << "after open " << open;
    for (uint64_t end = n + 1000; n < end; ++n) ASSERT_OK(trades.Append(MakeTrade(n)).status());
    ASSERT_OK(trades.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(TradesIntact(trades, n));
  EXPECT_LT(DiskBytes(path), 1u << 20);
}

}  // namespace
}  // namespace recstore::faults
