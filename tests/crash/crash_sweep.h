// The crash-point sweep the crash tests share: the crash modes, the environment variables that
// steer a sweep, which modes (and recovery modes) each point is checked in, the seeds of its
// images, and the slice loop that crashes a scripted workload after every Env call of a slice.
//
//   RECSTORE_CRASH_EXHAUSTIVE=1  every point in every mode and recovery mode
//   RECSTORE_CRASH_POINT=n       point n alone, in every mode and recovery mode
//   RECSTORE_CRASH_SEED=s        varies every random choice of the crash modes (default 0)
//
// Sampled: every point in the drop and torn modes, one in two in keep-part mode, one in four in
// the zero and garbage modes; one image in four also under kSalvage and kAbsoluteConsistency.
#ifndef RECSTORE_TESTS_CRASH_CRASH_SWEEP_H_
#define RECSTORE_TESTS_CRASH_CRASH_SWEEP_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/scratch.h"

namespace recstore::crash {

inline constexpr CrashEnv::Mode kCrashModes[] = {
    CrashEnv::Mode::kDropUnsynced, CrashEnv::Mode::kKeepSomeUnsynced, CrashEnv::Mode::kTornWrite,
    CrashEnv::Mode::kZeroUnsynced, CrashEnv::Mode::kGarbageUnsynced};
inline constexpr size_t kNumCrashModes = std::size(kCrashModes);

// RECSTORE_CRASH_EXHAUSTIVE=1.
bool CrashExhaustive();
// RECSTORE_CRASH_POINT: 0 (unset) for every point, otherwise the one point to check.
uint64_t CrashOnlyPoint();
// RECSTORE_CRASH_SEED (0 when unset).
uint64_t CrashSeedBase();

// Whether point n is checked in mode kCrashModes[m].
bool CrashModeAt(uint64_t n, size_t m);
// Whether image (n, m) is also checked under kSalvage and kAbsoluteConsistency.
bool RecoveryModesAt(uint64_t n, size_t m);
// The seed of image (n, m): Mix(Mix(CrashSeedBase() + offset) ^ salt ^ (n * 16 + m)). A test
// gives its own `offset` or `salt` to draw other images than another test's.
uint64_t CrashSeedFor(uint64_t n, size_t m, uint64_t offset = 0, uint64_t salt = 0);

// Slice `slice` of `slices` of the points 1..calls: the run [from, to] of consecutive points.
struct SliceBounds {
  uint64_t from;
  uint64_t to;
};
SliceBounds SliceOf(uint64_t calls, int slice, int slices);

// The images of point n: one for each mode CrashModeAt samples, written to
// `base`/image-<mode name>, with the seed seed_for(n, m).
struct PointImages {
  std::vector<CrashEnv::Image> images;
  std::vector<size_t> modes;  // the index in kCrashModes of each image's mode
};
PointImages ImagesAt(uint64_t n, const std::string& base,
                     const std::function<uint64_t(uint64_t, size_t)>& seed_for);

// "crash point <n> of <calls> (after <call>), mode <m>, seed <s> (replay: RECSTORE_CRASH_SEED=..
// RECSTORE_CRASH_POINT=<n><replay_extra>):\n  <problems>": the failure of one image's check.
std::string CrashPointFailure(uint64_t n, uint64_t calls, const std::string& crash_call,
                              const CrashEnv::Image& image,
                              const std::vector<std::string>& problems,
                              const std::string& replay_extra = "");

// "<mode> <count>, ..." for each of kCrashModes.
std::string ModeCounts(const uint64_t (&per_mode)[kNumCrashModes]);

// What a slice sweep counts.
struct SweepTotals {
  uint64_t calls = 0;
  uint64_t points = 0;
  uint64_t per_mode[kNumCrashModes] = {};
  uint64_t repeats = 0;  // drop images equal to the previous point's, with the same oracle
};

// Totals over the slices this process ran: the sweep's, and its checks' (`Stats`).
template <typename Stats>
struct SliceTotals {
  SweepTotals sweep;
  Stats stats;
};
template <typename Stats>
SliceTotals<Stats>& ProcessTotals() {
  static SliceTotals<Stats> t;
  return t;
}

// "<points> checked of <calls> Env calls; images per mode: <counts> (<repeats> drop images
// repeat the previous point's)".
std::string SweepSummary(const SweepTotals& t);

// Prints line() at the end of the test program, unless it is empty. Returns true (call it in a
// namespace-scope initializer, before the tests run).
bool PrintAtEnd(std::function<std::string()> line);

// Crashes a scripted workload after each point n of `slice` (of `slices`) of its `calls` Env
// calls (point CrashOnlyPoint() alone when it is set), and checks every image of the point.
// For each point: a fresh `base`/root, an EnvT(root) armed with ImagesAt(n, base, seed_for)
// and a WorkloadT(&env, root + "/store") run to its end (its oracle is taken at the crash);
// then check(image dir, oracle at the crash, RecoveryModesAt(n, m)) for each image, which
// returns the problems found. The drop image changes only when something is synced: one whose
// tree and oracle equal the previous point's in this slice is counted in `repeats`, not checked
// again (slices are runs of consecutive points so that such repeats fall in one slice).
template <typename EnvT, typename WorkloadT, typename Check>
void SweepSlice(const std::string& base, uint64_t calls, int slice, int slices,
                const std::function<uint64_t(uint64_t, size_t)>& seed_for, Check check,
                SweepTotals* t) {
  using Oracle = std::decay_t<decltype(std::declval<const WorkloadT&>().oracle())>;
  namespace fs = std::filesystem;
  const std::string root = base + "/root";
  t->calls = calls;
  uint64_t last_drop_hash = 0;
  Oracle last_drop_oracle;
  const SliceBounds s = SliceOf(calls, slice, slices);
  for (uint64_t n = s.from; n <= s.to; ++n) {
    if (CrashOnlyPoint() != 0 && n != CrashOnlyPoint()) continue;
    const PointImages p = ImagesAt(n, base, seed_for);
    fs::remove_all(root);
    fs::create_directories(root);
    EnvT env(root);
    WorkloadT w(&env, root + "/store");
    Oracle at_crash;
    env.CrashAfterCall(n, p.images, [&] { at_crash = w.oracle(); });
    w.Run();
    ASSERT_TRUE(env.crashed()) << "crash point " << n << " never reached: the workload made "
                               << env.calls() << " calls, the full run " << calls;
    ASSERT_TRUE(env.image_status().ok()) << env.image_status();
    // Broken promises seen before the crash (after it, every call fails).
    EXPECT_TRUE(w.violations().empty())
        << "crash point " << n << ": " << absl::StrJoin(w.violations(), "\n");
    ++t->points;
    for (size_t i = 0; i < p.images.size(); ++i) {
      const CrashEnv::Image& image = p.images[i];
      ++t->per_mode[p.modes[i]];
      if (image.mode == CrashEnv::Mode::kDropUnsynced) {
        const uint64_t h = TreeHash(image.dir);
        if (h == last_drop_hash && at_crash == last_drop_oracle && n != s.from) {
          ++t->repeats;
          continue;
        }
        last_drop_hash = h;
        last_drop_oracle = at_crash;
      }
      const std::vector<std::string> problems =
          check(image.dir, at_crash, RecoveryModesAt(n, p.modes[i]));
      EXPECT_TRUE(problems.empty())
          << CrashPointFailure(n, calls, env.crash_call(), image, problems);
    }
  }
}

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_CRASH_SWEEP_H_
