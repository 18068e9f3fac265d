// Power loss while a writer recycles segments (StoreOptions::recycle_segments): a workload whose
// retention retires segment files into the pool (renamed to `<old first>.recycle`) and whose
// rotations make new segments out of them (the old records stay in the file's data area) runs
// over a CrashEnv and is crashed after its n-th Env call, for every n of an uninterrupted run.
// Each crash image is reopened as a writer with the real Env and checked against the oracle
// taken at the crash (recycle_check.h): no synced record lost, no record of a recycled file's
// earlier use shown. The workload: recycle_workload.h; the sweep: crash_sweep.h.
//
// Every crash point is checked in the drop and torn modes, one in two in keep-part mode and one
// in four in the zero and garbage modes; one image in four is also reopened (on copies) under
// kSalvage and kAbsoluteConsistency. RECSTORE_CRASH_EXHAUSTIVE=1 checks every point in every
// mode and recovery mode; RECSTORE_CRASH_POINT=n checks point n alone, in every mode;
// RECSTORE_CRASH_SEED=s varies the modes' random choices. The points are split into kSlices
// test instances (runs of consecutive points), which Bazel spreads over its shards.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/image_check.h"
#include "tests/crash/recycle_check.h"
#include "tests/crash/recycle_workload.h"
#include "tests/crash/scratch.h"

namespace recstore::crash::recycle {
namespace {

namespace fs = std::filesystem;
using Mode = CrashEnv::Mode;

constexpr int kSlices = 8;

struct FullRunResult {
  uint64_t calls = 0;
  RecycleOracle oracle;
  std::vector<std::string> violations;
  absl::Status first_error;
  std::map<std::string, uint64_t> recycled;
};

FullRunResult FullRun(const std::string& root) {
  fs::remove_all(root);
  fs::create_directories(root);
  RecycleEnv env(root);
  RecycleWorkload w(&env, root + "/store");
  w.Run();
  return {env.calls(), w.oracle(), w.violations(), w.first_error(), env.recycled()};
}

SliceTotals<CheckStats>& totals() { return ProcessTotals<CheckStats>(); }

const bool kPrintTotals = PrintAtEnd([] {
  const SliceTotals<CheckStats>& t = totals();
  if (t.sweep.points == 0) return std::string();
  return absl::StrCat("recycle crash points: ", SweepSummary(t.sweep), "; images reopened ",
                      t.stats.images, ", also in salvage and absolute modes ",
                      t.stats.recovery_mode_images, "; records verified ", t.stats.records_verified,
                      "; tails cut ", t.stats.tails_cut, "; begins above 0 ",
                      t.stats.begins_above_zero, "; salvage holes ", t.stats.salvage_holes,
                      "; absolute-consistency refusals ", t.stats.absolute_refusals);
});

TEST(RecycleCrashWorkloadTest, FullRunRecyclesIsRepeatableAndLeavesEverythingDurable) {
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const FullRunResult full = FullRun(base + "/root");
  EXPECT_TRUE(full.violations.empty()) << absl::StrJoin(full.violations, "\n");
  EXPECT_TRUE(full.first_error.ok()) << full.first_error;
  printf("workload: %zu operations, %llu Env calls\n", RecycleWorkload::Script().size(),
         static_cast<unsigned long long>(full.calls));
  for (size_t c = 0; c < kNum; ++c) {
    const CollectionOracle& o = full.oracle.c[c];
    printf("  %-6s appended %llu durable %llu\n", kNames[c],
           static_cast<unsigned long long>(o.appended), static_cast<unsigned long long>(o.durable));
    EXPECT_TRUE(o.create_ok);
    EXPECT_EQ(o.durable, o.appended);  // the script ends with syncs
  }
  EXPECT_GE(full.oracle.c[kFixed].appended, 8 * kFixedPerSegment);
  // Recycling really happened: each collection made new segments out of retired files.
  ASSERT_EQ(full.recycled.size(), kNum) << "folders that recycled a file";
  for (const auto& [folder, n] : full.recycled) {
    printf("  recycled into a new segment in %s: %llu\n", fs::path(folder).filename().c_str(),
           static_cast<unsigned long long>(n));
    EXPECT_GE(n, 3u) << folder;
  }
  // Same Env calls, same oracle, same recycling on every run.
  const FullRunResult again = FullRun(base + "/root");
  EXPECT_EQ(again.calls, full.calls);
  EXPECT_TRUE(again.oracle == full.oracle);
  EXPECT_EQ(again.recycled, full.recycled);
  // After the final syncs and a clean close even the drop image holds every record.
  {
    CrashEnv env(base + "/root");
    ASSERT_TRUE(env.WriteCrashImage(base + "/image", Mode::kDropUnsynced, 1).ok());
  }
  CheckStats stats;
  std::vector<std::string> problems = CheckImage(base + "/image", full.oracle, true, &stats);
  EXPECT_TRUE(problems.empty()) << absl::StrJoin(problems, "\n");
  EXPECT_EQ(stats.absolute_refusals, 0u);
}

class RecycleCrashTest : public ::testing::TestWithParam<int> {};

TEST_P(RecycleCrashTest, EveryCrashPointRecovers) {
  const int slice = GetParam();
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const std::string root = base + "/root";
  const FullRunResult full = FullRun(root);
  ASSERT_TRUE(full.violations.empty()) << absl::StrJoin(full.violations, "\n");
  SweepSlice<RecycleEnv, RecycleWorkload>(
      base, full.calls, slice, kSlices,
      [](uint64_t n, size_t m) { return CrashSeedFor(n, m, /*offset=*/77); },
      [](const std::string& dir, const RecycleOracle& oracle, bool recovery_modes) {
        return CheckImage(dir, oracle, recovery_modes, &totals().stats);
      },
      &totals().sweep);
}

INSTANTIATE_TEST_SUITE_P(Slices, RecycleCrashTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash::recycle