// Read-only handles following the writer through the moments their view of the files could
// go wrong, each forced through the Env seam instead of left to timing:
//
// * a compaction that switches the manifest and removes the files of the state the reader
//   just read, between its manifest read and its folder listing (before, the reader published
//   a view with the compacted records missing: a scan of 300 records yielded 60, status OK);
// * the empty first segment of a byte log replaced, under the same name, by one sized for an
//   oversized first record (before, the reader kept the old file and never saw a record);
// * the next segment retired by the writer between the reader's manifest read and its open of
//   that segment's file (before, the reader took the missing file for one not created yet
//   and published a view ending before records appended ahead of the Refresh);
// * a Get racing the reader's own Refresh across a rotation.
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::FaultEnv;
using ::recstore::testing::TestDir;

constexpr uint64_t kSegment = 64 << 10;

std::string Event(uint64_t i) { return std::string(20 + i % 50, static_cast<char>('a' + i % 26)); }

// Runs `hook` once, in the thread of the first ListDir of a path containing `part` after Arm().
class ListDirHookEnv : public FaultEnv {
 public:
  void Arm(std::string part, std::function<void()> hook) {
    part_ = std::move(part);
    hook_ = std::move(hook);
    armed_ = true;
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    if (armed_.load() && absl::StrContains(path, part_) && armed_.exchange(false)) hook_();
    return FaultEnv::ListDir(path);
  }

 private:
  std::atomic<bool> armed_{false};
  std::string part_;
  std::function<void()> hook_;
};

TEST(FollowerTest, RefreshNeverPublishesAStateWhoseFilesWentMissing) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto writer_store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto writer, writer_store->OpenByteLog("events"));
  constexpr uint64_t kRecords = 3000;  // several segments
  for (uint64_t i = 0; i < kRecords; ++i) ASSERT_OK(writer.Append(Event(i)).status());
  ASSERT_OK(writer.Merge().status());  // generation 1

  ListDirHookEnv env;
  ASSERT_OK_AND_ASSIGN(auto reader_store,
                       ::recstore::testing::OpenStore(&env, dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto reader, reader_store->OpenByteLog("events"));
  ASSERT_EQ(reader.info().generation, 1u);

  // The writer merges again (generation 2). The reader's Refresh reads that state from the
  // manifest; just before it lists the folder, the writer merges once more (generation 3, the
  // same compacted_end, no append between) and removes generation 2's files.
  ASSERT_OK(writer.Merge().status());
  env.Arm("-events", [&] { ASSERT_OK(writer.Merge().status()); });
  ASSERT_OK(reader.Refresh());
  EXPECT_EQ(reader.info().generation, 3u);
  uint64_t n = 0;
  auto scan = reader.Scan();
  for (const auto& [seq, e] : scan) {
    ASSERT_EQ(seq, n);
    ASSERT_EQ(AsString(e), Event(seq));
    ++n;
  }
  EXPECT_OK(scan.status());
  EXPECT_EQ(n, kRecords);
  for (uint64_t seq : {uint64_t{0}, kRecords / 2, kRecords - 1}) {
    ASSERT_OK_AND_ASSIGN(auto e, reader.Get(seq));
    EXPECT_EQ(AsString(e), Event(seq));
  }
}

TEST(FollowerTest, ReaderFollowsTheFirstSegmentReplacedForAnOversizedRecord) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto writer_store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto writer, writer_store->OpenByteLog("events"));
  ASSERT_OK_AND_ASSIGN(auto reader_store, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto reader, reader_store->OpenByteLog("events"));
  ASSERT_OK(reader.Refresh());
  EXPECT_EQ(reader.end(), 0u);
  const std::string big(3 * kSegment, 'B');  // replaces the empty first segment
  ASSERT_OK(writer.Append(big).status());
  ASSERT_OK(writer.Append("small").status());
  ASSERT_OK(writer.Sync().status());
  ASSERT_OK(reader.Refresh());
  ASSERT_EQ(reader.end(), 2u);
  ASSERT_OK_AND_ASSIGN(auto first, reader.Get(0));
  EXPECT_EQ(AsString(first), big);
  ASSERT_OK_AND_ASSIGN(auto second, reader.Get(1));
  EXPECT_EQ(AsString(second), "small");
  ASSERT_OK_AND_ASSIGN(VerifyReport v, reader.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, 2u);
}

// The reader's Refresh reads the manifest (unchanged), scans its newest segment to the end
// and opens the next segment's file; just before that open, the writer's TruncateBefore drops
// that segment and the reader's newest one. Both records were appended and synced before the
// Refresh, so it must show the newer one, under the new state.
TEST(FollowerTest, RefreshFollowsTheNextSegmentRetiredBeforeItsOpen) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto writer_store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto writer, writer_store->OpenByteLog("events"));
  for (uint64_t i = 0; i < 10; ++i) ASSERT_OK(writer.Append(Event(i)).status());
  ASSERT_OK(writer.Sync().status());

  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto reader_store,
                       ::recstore::testing::OpenStore(&env, dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto reader, reader_store->OpenByteLog("events"));
  ASSERT_EQ(reader.end(), 10u);

  // Records 10 and 11 each take a segment of their own (oversized).
  const std::string big10(kSegment, 'x'), big11(kSegment + 100, 'y');
  ASSERT_OK(writer.Append(big10).status());
  ASSERT_OK(writer.Append(big11).status());
  ASSERT_OK(writer.Sync().status());
  const std::string next_segment = absl::StrFormat("%020d.seg", 10);
  std::atomic<bool> fired{false};
  env.BeforeEachCall([&](std::string_view op, const std::string& path) {
    if (op == "Open" && absl::EndsWith(path, next_segment) && !fired.exchange(true)) {
      ASSERT_OK(writer.TruncateBefore(11).status());  // drops segments 0 and 10
    }
  });
  ASSERT_OK(reader.Refresh());
  env.BeforeEachCall(nullptr);
  ASSERT_TRUE(fired.load());
  EXPECT_EQ(reader.begin(), 11u);
  EXPECT_EQ(reader.end(), 12u);
  ASSERT_OK_AND_ASSIGN(auto e, reader.Get(11));
  EXPECT_EQ(AsString(e), big11);
}

// A reader thread polls Get(next) while another thread of the same read-only handle
// Refreshes and the writer appends across many rotations: every Get below an end() the
// poller saw returns the record.
TEST(FollowerTest, GetRacingRefreshAcrossRotations) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto writer_store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment}));
  ASSERT_OK_AND_ASSIGN(auto writer, writer_store->OpenByteLog("events"));
  ASSERT_OK_AND_ASSIGN(auto reader_store, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto reader, reader_store->OpenByteLog("events"));
  constexpr uint64_t kRecords = 20000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bad{0};
  std::thread refresher([&] {
    while (!done.load()) {
      if (!reader.Refresh().ok()) bad.fetch_add(1);
    }
  });
  std::thread poller([&] {
    uint64_t next = 0;
    while (next < kRecords) {
      if (next >= reader.end()) continue;
      absl::StatusOr<std::span<const std::byte>> e = reader.Get(next);
      if (!e.ok() || AsString(*e) != Event(next)) bad.fetch_add(1);
      ++next;
    }
  });
  for (uint64_t i = 0; i < kRecords; ++i) ASSERT_OK(writer.Append(Event(i)).status());
  poller.join();
  done = true;
  refresher.join();
  EXPECT_EQ(bad.load(), 0u);
}

}  // namespace
}  // namespace recstore
