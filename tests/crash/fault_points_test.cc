// Fault-point enumeration: the crash workload runs over a FaultEnv that fails only its n-th
// Env call (EIO, ENOSPC or EINTR, by n), for one n in five of a full run (every n with
// RECSTORE_CRASH_EXHAUSTIVE=1), and then runs to its end
// (the reopen in its middle recovers a collection that a failed sync left failed). No crash:
// afterwards the store, and the image a power loss right after the run would leave (a CrashEnv
// under the FaultEnv, drop mode), are reopened with the real Env and must hold what the oracle
// says (image_check.h): every record a returned Sync() covered, nothing never appended, dense
// sequence numbers, creations and drops as they returned.
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/image_check.h"
#include "tests/crash/scratch.h"
#include "tests/crash/workload.h"
#include "tests/testing/fault_env.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;
using ::recstore::testing::FaultEnv;

constexpr int kSlices = 4;

int ErrnoFor(uint64_t n) {
  constexpr int kErrnos[] = {EIO, ENOSPC, EINTR};
  return kErrnos[Mix(n) % 3];
}

// One point in five; every point with RECSTORE_CRASH_EXHAUSTIVE=1.
bool Sampled(uint64_t n) { return CrashExhaustive() || Mix(n + 3) % 5 == 0; }

class FaultPointsTest : public ::testing::TestWithParam<int> {};

TEST_P(FaultPointsTest, EverySingleFaultLeavesTheContractIntact) {
  const int slice = GetParam();
  ScratchDir scratch;
  const std::string root = scratch.path() + "/root";
  const std::string image = scratch.path() + "/image";
  int calls = 0;
  {
    fs::create_directories(root);
    CrashEnv model(root);
    FaultEnv env(&model);
    Workload w(&env, root + "/store");
    w.Run();
    ASSERT_TRUE(w.first_error().ok()) << w.first_error();
    calls = env.Calls(FaultEnv::kAnyCall);
  }
  uint64_t points = 0, failed_ops = 0;
  CheckStats stats;
  for (int n = 1 + slice; n <= calls; n += kSlices) {
    if (!Sampled(n)) continue;
    fs::remove_all(root);
    fs::create_directories(root);
    CrashEnv model(root);
    FaultEnv env(&model);
    env.FailNth(FaultEnv::kAnyCall, n, ErrnoFor(n));
    Workload w(&env, root + "/store");
    w.Run();
    ASSERT_EQ(env.Failures(), 1) << "fault point " << n << " never reached";
    // What a power loss right after the run would keep: every promise must hold there too.
    ASSERT_TRUE(model.WriteCrashImage(image, CrashEnv::Mode::kDropUnsynced, 1).ok());
    ++points;
    failed_ops += w.errors();
    EXPECT_TRUE(w.violations().empty()) << "fault point " << n << " (errno " << ErrnoFor(n)
                                        << "): " << absl::StrJoin(w.violations(), "\n");
    for (const std::string& dir : {image, root}) {
      std::vector<std::string> problems = CheckCrashImage(dir, w.oracle(), false, &stats);
      EXPECT_TRUE(problems.empty())
          << "fault point " << n << " of " << calls << " (errno " << ErrnoFor(n) << ", first error "
          << w.first_error() << "), " << (dir == image ? "then a crash (drop mode)" : "no crash")
          << ":\n  " << absl::StrJoin(problems, "\n  ");
    }
  }
  printf(
      "slice %d: %llu fault points of %d Env calls; %llu operations failed; %llu records "
      "verified\n",
      slice, static_cast<unsigned long long>(points), calls,
      static_cast<unsigned long long>(failed_ops),
      static_cast<unsigned long long>(stats.records_verified));
}

INSTANTIATE_TEST_SUITE_P(Slices, FaultPointsTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash
