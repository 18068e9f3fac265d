// Checkpoint kills (CI's short run): a child saving checkpoints of 1 KiB to 200 KiB in a store
// of 1 MiB segments (so saves rotate segments and old versions are truncated) is killed with
// SIGKILL at random moments; after each kill Load() must return the last acknowledged version
// or the next one, byte for byte. The long run is checkpoint_kill_harness.
#include "tests/kill/checkpoint_kill.h"

#include <cstdio>
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::kill {
namespace {

using ::recstore::testing::TestDir;

// KILL_TEST_SEED replays a failed run.
uint64_t Seed(uint64_t fallback) {
  const char* s = std::getenv("KILL_TEST_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : fallback;
}

// Sanitizer builds run slower: fewer kills keep the test short.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kKills = 80;
#else
constexpr int kKills = 240;
#endif

TEST(CheckpointKillTest, LoadReturnsACompletelySavedVersion) {
  CheckpointKillOptions o{.root = TestDir("kills"),
                          .seed = Seed(20261124),
                          .kills = kKills,
                          .kills_per_store = 60,
                          .progress_every = 40};
  std::printf("seed %llu (set KILL_TEST_SEED to replay)\n",
              static_cast<unsigned long long>(o.seed));
  auto summary = RunCheckpointKills(o, stdout);
  ASSERT_OK(summary);
  std::printf("%s\n", summary->ToString().c_str());
  EXPECT_EQ(summary->kills, kKills);
  // How many saves finish between kills depends on the machine's flush latency and load; the
  // checks that matter are the checker's, after every kill. Some saves must have been
  // acknowledged for them to mean anything.
  EXPECT_GT(summary->acked, uint64_t{kKills} / 10);
  EXPECT_GT(summary->loads_checked, uint64_t{kKills});
  // Old versions are dropped: at most about two segments of them beside the kept ones.
  EXPECT_LE(summary->max_segments, 6u);
}

// Small segments: nearly every version gets a segment of its own.
TEST(CheckpointKillTest, VersionsLargerThanASegment) {
  CheckpointKillOptions o{.root = TestDir("kills"),
                          .seed = Seed(77),
                          .kills = kKills / 4,
                          .kills_per_store = 30,
                          .segment_size = 64 << 10,
                          .keep = 3};
  std::printf("seed %llu (set KILL_TEST_SEED to replay)\n",
              static_cast<unsigned long long>(o.seed));
  auto summary = RunCheckpointKills(o, stdout);
  ASSERT_OK(summary);
  std::printf("%s\n", summary->ToString().c_str());
  EXPECT_GT(summary->acked, 0u);
}

TEST(CheckpointKillTest, PayloadsDependOnTheVersionAlone) {
  EXPECT_EQ(CheckpointPayload(5, 1000, 2000), CheckpointPayload(5, 1000, 2000));
  EXPECT_NE(CheckpointPayload(5, 1000, 2000), CheckpointPayload(6, 1000, 2000));
  const std::string p = CheckpointPayload(9, 10, 10);
  EXPECT_EQ(p.size(), 10u);
  EXPECT_EQ(p[0], 9);
}

}  // namespace
}  // namespace recstore::kill
