// Crashes during recovery: recovery itself writes (it zeroes a cut tail, deletes later
// segments, rewrites slots, syncs, and removes orphaned folders), so a second crash can strike
// while it runs. For a sample of the workload's crash images, the reopen of the image runs over
// a CrashEnv and is crashed after each of its Env calls in turn; every second-level image must
// pass the same checks against the oracle of the first crash.
//
// RECSTORE_CRASH_EXHAUSTIVE=1 takes every first-level crash point instead of a sample.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/image_check.h"
#include "tests/crash/scratch.h"
#include "tests/crash/workload.h"
#include "tests/testing/open_store.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;
using Mode = CrashEnv::Mode;

constexpr int kSlices = 4;

// The first-level points whose images are recovered under crashes: kSampled points spread
// evenly over the run (every point with RECSTORE_CRASH_EXHAUSTIVE=1), dealt to the slices in
// turn.
constexpr uint64_t kSampled = 8;
std::vector<uint64_t> PointsOfSlice(uint64_t calls, int slice) {
  std::vector<uint64_t> all;
  if (CrashExhaustive()) {
    for (uint64_t n = 1; n <= calls; ++n) all.push_back(n);
  } else {
    for (uint64_t k = 0; k < kSampled; ++k) all.push_back(1 + (2 * k + 1) * calls / (2 * kSampled));
  }
  std::vector<uint64_t> mine;
  for (size_t i = slice; i < all.size(); i += kSlices) mine.push_back(all[i]);
  return mine;
}

void FreshCopy(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// What an application does after a crash: open the store and every collection in it.
void Reopen(Env* env, const std::string& dir, const Oracle& oracle) {
  absl::StatusOr<std::unique_ptr<Store>> store = ::recstore::testing::OpenStore(
      env, dir, {.create_if_missing = !oracle.store_ok, .segment_size = kSegmentSize});
  if (!store.ok()) return;
  for (const CollectionInfo& info : (*store)->ListCollections()) {
    for (size_t c = 0; c < kNumCollections; ++c) {
      if (info.name != kCollections[c].name) continue;
      const CollectionOptions options{.create_if_missing = false};
      if (kCollections[c].fixed) {
        (*store)->OpenLog<CrashRecord>(info.name, options).status().IgnoreError();
      } else {
        (*store)->OpenByteLog(info.name, options).status().IgnoreError();
      }
    }
  }
}

class RecoveryCrashTest : public ::testing::TestWithParam<int> {};

TEST_P(RecoveryCrashTest, CrashDuringRecoveryLosesNothingDurable) {
  const int slice = GetParam();
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const std::string root = base + "/root";
  const std::string first = base + "/first";    // the first crash's image
  const std::string second = base + "/second";  // its recovery, crashed
  uint64_t calls = 0;
  {
    fs::create_directories(root);
    CrashEnv env(root);
    Workload w(&env, root + "/store");
    w.Run();
    calls = env.calls();
  }
  uint64_t first_points = 0, recovery_points = 0, images = 0, repeats = 0;
  CheckStats stats;
  for (uint64_t n : PointsOfSlice(calls, slice)) {
    // Torn images have the most to recover: a tail kept up to a random byte.
    const uint64_t seed = Mix(n * 31 + 5);
    Oracle oracle;
    {
      fs::remove_all(root);
      fs::create_directories(root);
      CrashEnv env(root);
      Workload w(&env, root + "/store");
      env.CrashAfterCall(n, {{Mode::kTornWrite, seed, first}}, [&] { oracle = w.oracle(); });
      w.Run();
      ASSERT_TRUE(env.crashed() && env.image_status().ok()) << "crash point " << n;
    }
    ++first_points;
    // How many calls the recovery makes, then a crash after each.
    uint64_t recovery_calls = 0;
    {
      FreshCopy(first, root);
      CrashEnv env(root);
      Reopen(&env, root + "/store", oracle);
      recovery_calls = env.calls();
    }
    // One seed for every recovery crash point of this image: a call that changed nothing then
    // leaves the image of the call before, which is not checked twice.
    uint64_t last_hash[2] = {0, 0};
    for (uint64_t m = 1; m <= recovery_calls; ++m) {
      FreshCopy(first, root);
      std::vector<CrashEnv::Image> shots = {
          {Mode::kDropUnsynced, 1, second + "-drop"},
          {Mode::kTornWrite, Mix(n + 1000), second + "-torn"},
      };
      CrashEnv env(root);
      env.CrashAfterCall(m, shots);
      Reopen(&env, root + "/store", oracle);
      ASSERT_TRUE(env.crashed() && env.image_status().ok()) << n << "/" << m;
      ++recovery_points;
      for (size_t k = 0; k < shots.size(); ++k) {
        const uint64_t h = TreeHash(shots[k].dir);
        if (h == last_hash[k]) {
          ++repeats;
          continue;
        }
        last_hash[k] = h;
        ++images;
        std::vector<std::string> problems = CheckCrashImage(shots[k].dir, oracle, false, &stats);
        EXPECT_TRUE(problems.empty())
            << "crash point " << n << " (torn, seed " << seed << "), then recovery crash point "
            << m << " of " << recovery_calls << " (after " << env.crash_call() << "), mode "
            << CrashModeName(shots[k].mode) << ":\n  " << absl::StrJoin(problems, "\n  ");
      }
    }
  }
  printf(
      "slice %d: %llu first-level crash images recovered under %llu recovery crash points; "
      "%llu images checked (%llu repeated the one before), %llu records verified\n",
      slice, static_cast<unsigned long long>(first_points),
      static_cast<unsigned long long>(recovery_points), static_cast<unsigned long long>(images),
      static_cast<unsigned long long>(repeats),
      static_cast<unsigned long long>(stats.records_verified));
}

INSTANTIATE_TEST_SUITE_P(Slices, RecoveryCrashTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash
