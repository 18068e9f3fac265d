// Checkpoints (include/recstore/checkpoint.h): save/load round trips, keeping the last K
// versions and deleting whole segments of older ones, reopening, falling back past a damaged
// newest version (read-only, salvage and default recovery), errors, and concurrent saves.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct State {
  int64_t step;
  double loss;
  uint32_t layers[3];
};

// A store clock the test sets.
class ClockEnv : public testing::FaultEnv {
 public:
  int64_t NowUnixNanos() override { return now.load(); }
  std::atomic<int64_t> now{1'700'000'000'000'000'000};
};

// The payload of version `v`: `size` bytes that name v.
std::string Payload(uint64_t v, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (v * 7 + i) % 26);
  const std::string tag = "version-" + std::to_string(v) + "-";
  s.replace(0, std::min(tag.size(), size), tag.substr(0, size));
  return s;
}

std::string CollectionDir(const std::string& store, const std::string& name) {
  for (const auto& e : std::filesystem::directory_iterator(store)) {
    const std::string f = e.path().filename().string();
    if (f.ends_with("-checkpoint." + name)) return e.path().string();
  }
  return "";
}

std::vector<std::string> Segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void WriteAt(const std::string& path, uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(CheckpointTest, BytesRoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(TestDir(), {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("model"));
  EXPECT_THAT(ckpt.Load(), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> none, ckpt.List());
  EXPECT_TRUE(none.empty());

  ASSERT_OK_AND_ASSIGN(CheckpointInfo a, ckpt.Save(std::string_view("first")));
  const std::string bin("\0\x01\xff\x7f", 4);
  ASSERT_OK_AND_ASSIGN(CheckpointInfo b, ckpt.Save(std::span<const std::byte>(
                                             reinterpret_cast<const std::byte*>(bin.data()), 4)));
  EXPECT_EQ(a.size, 5u);
  EXPECT_EQ(b.size, 4u);
  EXPECT_LT(a.seq, b.seq);
  EXPECT_LE(a.time_ns, b.time_ns);
  EXPECT_GE(ckpt.log().durable(), b.seq + 1);

  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, bin);
  EXPECT_EQ(c.info.seq, b.seq);
  EXPECT_EQ(c.info.size, 4u);
  EXPECT_EQ(c.info.time_ns, b.time_ns);
  EXPECT_EQ(c.skipped, 0u);
  ASSERT_OK_AND_ASSIGN(Checkpoint old, ckpt.LoadAt(a.seq));
  EXPECT_EQ(old.data, "first");

  // An empty payload is a version too.
  ASSERT_OK(ckpt.Save(std::string_view()));
  ASSERT_OK_AND_ASSIGN(c, ckpt.Load());
  EXPECT_EQ(c.data, "");
}

TEST(CheckpointTest, StructRoundTripWithTheStoreClock) {
  ClockEnv env;
  ASSERT_OK_AND_ASSIGN(
      auto store, ::recstore::testing::OpenStore(&env, TestDir(), {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("trainer"));
  const State s{.step = 42, .loss = 0.125, .layers = {3, 5, 8}};
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, ckpt.Save(s));
  EXPECT_EQ(info.size, sizeof(State));
  EXPECT_EQ(info.time_ns, env.now.load());
  env.now += 1'000'000'000;
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info2,
                       ckpt.Save(State{.step = 43, .loss = 0.1, .layers = {}}));
  EXPECT_EQ(info2.time_ns, info.time_ns + 1'000'000'000);

  ASSERT_OK_AND_ASSIGN(State back, ckpt.Load<State>());
  EXPECT_EQ(back.step, 43);
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].seq, info2.seq);
  EXPECT_EQ(list[0].time_ns, info2.time_ns);
  EXPECT_EQ(list[1].seq, info.seq);
  EXPECT_EQ(list[1].time_ns, info.time_ns);
  ASSERT_OK_AND_ASSIGN(Checkpoint first, ckpt.LoadAt(info.seq));
  State old;
  std::memcpy(&old, first.data.data(), sizeof(old));
  EXPECT_EQ(old.step, 42);
  EXPECT_EQ(old.layers[2], 8u);

  // The wrong type: the sizes differ.
  EXPECT_THAT(ckpt.Load<int64_t>(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not the 8 bytes")));
}

TEST(CheckpointTest, KeepsTheLastK) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(TestDir(), {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("k3", {.keep = 3}));
  EXPECT_EQ(ckpt.keep(), 3u);
  for (uint64_t v = 0; v < 10; ++v) ASSERT_OK(ckpt.Save(Payload(v, 100)));
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  std::vector<uint64_t> seqs;
  for (const CheckpointInfo& i : list) seqs.push_back(i.seq);
  EXPECT_THAT(seqs, ElementsAre(9, 8, 7));
  EXPECT_THAT(ckpt.LoadAt(6), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(ckpt.LoadAt(10), StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.LoadAt(7));
  EXPECT_EQ(c.data, Payload(7, 100));
}

TEST(CheckpointTest, DeletesWholeSegmentsOfOldVersions) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("big"));
  const std::string coll = CollectionDir(dir, "big");
  size_t max_segments = 0;
  for (uint64_t v = 0; v < 200; ++v) {
    // 5 KiB to 40 KiB: one to eleven versions per 64 KiB segment.
    ASSERT_OK(ckpt.Save(Payload(v, 5000 + (v * 7919) % 36000))) << "version " << v;
    max_segments = std::max(max_segments, Segments(coll).size());
  }
  EXPECT_GT(ckpt.log().begin(), 150u);
  // Two kept versions and at most one segment's worth of dropped ones, plus the active one.
  EXPECT_LE(max_segments, 5u);
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(199, 5000 + (199 * 7919) % 36000));
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].seq, 198u);

  // Versions larger than a segment get segments of their own; they go too.
  for (uint64_t v = 200; v < 220; ++v) ASSERT_OK(ckpt.Save(Payload(v, 100000 + v)));
  EXPECT_LE(Segments(coll).size(), 5u);
  ASSERT_OK_AND_ASSIGN(c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(219, 100219));
}

TEST(CheckpointTest, LoadAfterReopenAndFromAReader) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
    ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
    for (uint64_t v = 0; v < 5; ++v) ASSERT_OK(ckpt.Save(Payload(v, 300)));
  }
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ro, reader->OpenCheckpoints("m"));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ro.Load());
  EXPECT_EQ(c.data, Payload(4, 300));
  EXPECT_THAT(ro.Save(std::string_view("x")), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->OpenCheckpoints("missing"), StatusIs(absl::StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
  ASSERT_OK_AND_ASSIGN(c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(4, 300));
  ASSERT_OK(ckpt.Save(Payload(5, 300)));
  // The reader picks up the writer's new version.
  ASSERT_OK_AND_ASSIGN(c, ro.Load());
  EXPECT_EQ(c.data, Payload(5, 300));
  EXPECT_THAT(store->OpenCheckpoints("absent", {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(CheckpointTest, BadOptionsAndNames) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(TestDir(), {.create_if_missing = true}));
  EXPECT_THAT(store->OpenCheckpoints("m", {.keep = kMaxCheckpointKeep + 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("65535")));
  EXPECT_THAT(store->OpenCheckpoints("a/b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->OpenCheckpoints(".x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->OpenCheckpoints(std::string(120, 'n')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Checkpoints unopened;
  EXPECT_THAT(unopened.Load(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(CheckpointTest, TheKeepIsRecordedWithEachVersion) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  {
    // A new set opened with keep 0 uses the default until a version records another.
    ASSERT_OK_AND_ASSIGN(Checkpoints fresh, store->OpenCheckpoints("m"));
    EXPECT_EQ(fresh.keep(), kDefaultCheckpointKeep);
  }
  {
    ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m", {.keep = 5}));
    for (int i = 0; i < 7; ++i) ASSERT_OK(ckpt.Save(Payload(i, 100)));
    ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
    EXPECT_EQ(c.info.keep, 5u);
  }
  // Reopened without a keep (as the CLI and readers do): the recorded one, 5 versions listed.
  ASSERT_OK_AND_ASSIGN(Checkpoints again, store->OpenCheckpoints("m"));
  EXPECT_EQ(again.keep(), 5u);
  ASSERT_OK_AND_ASSIGN(auto listed, again.List());
  EXPECT_EQ(listed.size(), 5u);
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ro, reader->OpenCheckpoints("m", {.create_if_missing = false}));
  EXPECT_EQ(ro.keep(), 5u);
  // An explicit keep overrides it, and the next version records the new one.
  ASSERT_OK_AND_ASSIGN(Checkpoints three, store->OpenCheckpoints("m", {.keep = 3}));
  ASSERT_OK(three.Save(Payload(7, 100)));
  ASSERT_OK_AND_ASSIGN(Checkpoints after, store->OpenCheckpoints("m"));
  EXPECT_EQ(after.keep(), 3u);
}

TEST(CheckpointTest, SetsGetSmallSegmentsByDefault) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints small, store->OpenCheckpoints("small"));
  EXPECT_EQ(small.log().info().segment_size, kDefaultCheckpointSegmentSize);
  ASSERT_OK_AND_ASSIGN(Checkpoints chosen,
                       store->OpenCheckpoints("chosen", {.segment_size = 256 << 10}));
  EXPECT_EQ(chosen.log().info().segment_size, uint64_t{256} << 10);
  // A version larger than a segment gets a segment of its own.
  const std::string big(3 << 20, 'x');
  ASSERT_OK(small.Save(big));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, small.Load());
  EXPECT_EQ(c.data, big);
  // A store whose segments are smaller than the default keeps its own size.
  ASSERT_OK_AND_ASSIGN(
      auto tiny, Store::Open(TestDir(), {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(Checkpoints t, tiny->OpenCheckpoints("t"));
  EXPECT_EQ(t.log().info().segment_size, uint64_t{64} << 10);
}

// Saves versions 0..2 (2000 bytes each) and closes; returns the segment file.
std::string SaveThreeAndClose(const std::string& dir) {
  {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10});
    EXPECT_OK(store);
    auto ckpt = (*store)->OpenCheckpoints("m");
    EXPECT_OK(ckpt);
    for (uint64_t v = 0; v < 3; ++v) EXPECT_OK(ckpt->Save(Payload(v, 2000)));
  }
  std::vector<std::string> segs = Segments(CollectionDir(dir, "m"));
  EXPECT_EQ(segs.size(), 1u);
  return segs.empty() ? "" : segs[0];
}

// Flips one byte in the middle of version 2's payload.
void DamageNewest(const std::string& seg) {
  const std::string file = ReadFileBytes(seg);
  const size_t at = file.find(Payload(2, 2000));
  ASSERT_NE(at, std::string::npos);
  WriteAt(seg, at + 1000, std::string(1, static_cast<char>(file[at + 1000] ^ 0x20)));
}

void ExpectVersionOneAfterSkipping(const Checkpoints& ckpt, uint64_t skipped) {
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(1, 2000));
  EXPECT_EQ(c.info.seq, 1u);
  EXPECT_EQ(c.skipped, skipped);
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  ASSERT_EQ(list.size(), 1u);  // version 2 is damaged; version 0 is no longer kept
  EXPECT_EQ(list[0].seq, 1u);
}

TEST(CheckpointTest, FallsBackPastADamagedNewestVersion) {
  const std::string dir = TestDir();
  const std::string seg = SaveThreeAndClose(dir);
  DamageNewest(seg);
  {
    // A reader does not recover: the damaged record stays and fails its checksum.
    ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
    ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, reader->OpenCheckpoints("m"));
    ExpectVersionOneAfterSkipping(ckpt, 1);
    EXPECT_THAT(ckpt.LoadAt(2), StatusIs(absl::StatusCode::kDataLoss));
  }
  {
    // The record was synced (below the durable point), so no mode re-reads it at open.
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.recovery_mode = RecoveryMode::kSalvage}));
    ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
    ExpectVersionOneAfterSkipping(ckpt, 1);
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
  ExpectVersionOneAfterSkipping(ckpt, 1);
  // A new save is the newest again.
  ASSERT_OK(ckpt.Save(Payload(3, 10)));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(3, 10));
}

TEST(CheckpointTest, FallsBackWhenRecoveryCutsTheDamagedVersion) {
  const std::string dir = TestDir();
  const std::string seg = SaveThreeAndClose(dir);
  DamageNewest(seg);
  // Without a commit block recovery checks every record and cuts the log at the damaged one.
  WriteAt(seg, 2048, std::string(32, '\0'));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
  EXPECT_TRUE(ckpt.log().recovery().truncated);
  EXPECT_EQ(ckpt.log().end(), 2u);
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, Payload(1, 2000));
  EXPECT_EQ(c.skipped, 0u);
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].seq, 1u);
  EXPECT_EQ(list[1].seq, 0u);
}

TEST(CheckpointTest, NoIntactVersionIsDataLoss) {
  const std::string dir = TestDir();
  const std::string seg = SaveThreeAndClose(dir);
  DamageNewest(seg);
  const std::string file = ReadFileBytes(seg);
  const size_t at = file.find(Payload(1, 2000));
  ASSERT_NE(at, std::string::npos);
  WriteAt(seg, at + 5, "X");
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, reader->OpenCheckpoints("m"));
  EXPECT_THAT(ckpt.Load(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("none of the 2")));
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  EXPECT_TRUE(list.empty());
}

TEST(CheckpointTest, AnInvalidHeaderIsPassedOver) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("m"));
  ASSERT_OK(ckpt.Save(std::string_view("good")));
  // A record appended to the log directly, without a checkpoint header.
  ASSERT_OK(ckpt.log().Append(std::string_view("not a checkpoint record at all")));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.data, "good");
  EXPECT_EQ(c.skipped, 1u);
  EXPECT_THAT(ckpt.LoadAt(1), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("invalid header")));
}

TEST(CheckpointTest, ConcurrentSaves) {
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(TestDir(), {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(Checkpoints ckpt, store->OpenCheckpoints("t", {.keep = 4}));
  constexpr int kThreads = 4, kSaves = 40;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Checkpoints mine = ckpt;  // copies share the state
      for (int i = 0; i < kSaves; ++i) {
        auto info = mine.Save(Payload(t * 1000 + i, 3000 + 100 * t));
        EXPECT_OK(info);
        if (info.ok()) seqs[t].push_back(info->seq);
        auto c = mine.Load();
        EXPECT_OK(c);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& s : seqs) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kThreads * kSaves});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ckpt.Load());
  EXPECT_EQ(c.info.seq, all.back());
  ASSERT_OK_AND_ASSIGN(std::vector<CheckpointInfo> list, ckpt.List());
  EXPECT_EQ(list.size(), 4u);
  EXPECT_GT(ckpt.log().begin(), 0u);
}

}  // namespace
}  // namespace recstore
