// Crash-point enumeration: the scripted workload (workload.h) runs over a CrashEnv and is
// crashed after its n-th Env call, for every n of a full run; each crash image is reopened
// with the real Env and checked against the workload's oracle (image_check.h).
//
// Every crash point is checked in the drop and torn modes, one in two in keep-part mode and
// one in four in the zero and garbage modes; one image in four is also reopened (on copies)
// under kSalvage and kAbsoluteConsistency. RECSTORE_CRASH_EXHAUSTIVE=1 checks every point in
// every mode and recovery mode. The points are split into kSlices test instances (runs of
// consecutive points), which Bazel spreads over its shards.
// RECSTORE_CRASH_POINT=n checks crash point n alone, in every mode (to replay a failure, with
// the RECSTORE_CRASH_SEED the failure message names).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/image_check.h"
#include "tests/crash/scratch.h"
#include "tests/crash/workload.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;
using Mode = CrashEnv::Mode;

constexpr int kSlices = 16;

// Runs the workload in a fresh `root` with nothing armed; returns its Env call count.
uint64_t FullRun(const std::string& root, Oracle* oracle, std::vector<std::string>* violations,
                 absl::Status* first_error = nullptr) {
  fs::remove_all(root);
  fs::create_directories(root);
  CrashEnv env(root);
  Workload w(&env, root + "/store");
  w.Run();
  *oracle = w.oracle();
  *violations = w.violations();
  if (first_error != nullptr) *first_error = w.first_error();
  return env.calls();
}

SliceTotals<CheckStats>& totals() { return ProcessTotals<CheckStats>(); }

const bool kPrintTotals = PrintAtEnd([] {
  const SliceTotals<CheckStats>& t = totals();
  if (t.sweep.points == 0) return std::string();
  return absl::StrCat(
      "crash points: ", SweepSummary(t.sweep), "; images reopened ", t.stats.images,
      ", also in salvage and absolute modes ", t.stats.recovery_mode_images, "; records verified ",
      t.stats.records_verified, "; tails cut ", t.stats.tails_cut, "; salvage holes ",
      t.stats.salvage_holes, "; absolute-consistency refusals ", t.stats.absolute_refusals, " (",
      t.stats.absolute_refusals_unreported, " where the default recovery reported no cut)");
});

TEST(CrashWorkloadTest, FullRunIsRepeatableAndLeavesEverythingDurable) {
  ScratchDir scratch;
  const std::string& base = scratch.path();
  Oracle oracle, again;
  std::vector<std::string> violations;
  absl::Status first_error;
  const uint64_t calls = FullRun(base + "/root", &oracle, &violations, &first_error);
  EXPECT_EQ(FullRun(base + "/root", &again, &violations), calls);
  EXPECT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
  EXPECT_TRUE(first_error.ok()) << first_error;
  EXPECT_GE(Workload::Script().size(), 200u);
  printf("workload: %zu operations, %llu Env calls\n", Workload::Script().size(),
         static_cast<unsigned long long>(calls));
  for (size_t c = 0; c < kNumCollections; ++c) {
    const CollectionOracle& o = oracle.c[c];
    printf("  %-8s appended %llu durable %llu%s\n", kCollections[c].name,
           static_cast<unsigned long long>(o.appended), static_cast<unsigned long long>(o.durable),
           o.drop_ok ? " (dropped)" : "");
    EXPECT_TRUE(o.create_ok) << kCollections[c].name;
    if (!o.drop_ok) {
      EXPECT_EQ(o.durable, o.appended) << kCollections[c].name;  // the script ends with syncs
      EXPECT_GT(o.appended, 50u) << kCollections[c].name;
    }
  }
  // After the final syncs and a clean close nothing is left to lose: even the drop image holds
  // every record.
  {
    CrashEnv env(base + "/root");
    ASSERT_TRUE(env.WriteCrashImage(base + "/image", Mode::kDropUnsynced, 1).ok());
  }
  CheckStats stats;
  std::vector<std::string> problems = CheckCrashImage(base + "/image", oracle, true, &stats);
  EXPECT_TRUE(problems.empty()) << absl::StrJoin(problems, "\n");
  uint64_t appended = 0;
  for (size_t c = 0; c < kNumCollections; ++c) {
    if (!oracle.c[c].drop_ok) appended += oracle.c[c].appended;
  }
  EXPECT_EQ(stats.records_verified, appended);
}

class CrashPointsTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashPointsTest, EveryCrashPointRecovers) {
  const int slice = GetParam();
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const std::string root = base + "/root";
  Oracle full;
  std::vector<std::string> violations;
  const uint64_t calls = FullRun(root, &full, &violations);
  ASSERT_TRUE(violations.empty()) << absl::StrJoin(violations, "\n");
  SweepSlice<CrashEnv, Workload>(
      base, calls, slice, kSlices, [](uint64_t n, size_t m) { return CrashSeedFor(n, m); },
      [](const std::string& dir, const Oracle& oracle, bool recovery_modes) {
        return CheckCrashImage(dir, oracle, recovery_modes, &totals().stats);
      },
      &totals().sweep);
}

INSTANTIATE_TEST_SUITE_P(Slices, CrashPointsTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash
