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
#include "tests/crash/image_check.h"
#include "tests/crash/scratch.h"
#include "tests/crash/workload.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;
using Mode = CrashEnv::Mode;

constexpr int kSlices = 16;
constexpr Mode kAllModes[] = {Mode::kDropUnsynced, Mode::kKeepSomeUnsynced, Mode::kTornWrite,
                              Mode::kZeroUnsynced, Mode::kGarbageUnsynced};
constexpr size_t kModes = std::size(kAllModes);

bool Exhaustive() {
  const char* v = std::getenv("RECSTORE_CRASH_EXHAUSTIVE");
  return v != nullptr && std::string(v) == "1";
}

// 0: every point; otherwise the one point to check.
uint64_t OnlyPoint() {
  const char* v = std::getenv("RECSTORE_CRASH_POINT");
  return v == nullptr ? 0 : std::strtoull(v, nullptr, 10);
}

// Drop and torn: every point; keep-part: one in two; zero and garbage: one in four.
bool ModeAt(uint64_t n, size_t m) {
  if (m == 0 || m == 2 || Exhaustive() || OnlyPoint() != 0) return true;
  return Mix(n + m) % (m == 1 ? 2 : 4) == 0;
}

// Whether image (n, m) is also checked under kSalvage and kAbsoluteConsistency (one in four).
bool RecoveryModesAt(uint64_t n, size_t m) {
  return Exhaustive() || OnlyPoint() != 0 || Mix(n * 16 + m + 8) % 4 == 0;
}

// RECSTORE_CRASH_SEED=s varies every random choice of the crash modes (default 0).
uint64_t SeedBase() {
  const char* v = std::getenv("RECSTORE_CRASH_SEED");
  return v == nullptr ? 0 : std::strtoull(v, nullptr, 10);
}

uint64_t SeedFor(uint64_t n, size_t m) { return Mix(Mix(SeedBase()) ^ (n * 16 + m)); }

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

// Totals over the slices this process ran, printed at exit.
struct Totals {
  uint64_t calls = 0;
  uint64_t points = 0;
  uint64_t per_mode[kModes] = {};
  uint64_t repeats = 0;  // drop images equal to the previous point's, with the same oracle
  CheckStats stats;
};
Totals& totals() {
  static Totals t;
  return t;
}

class PrintTotals : public ::testing::Environment {
 public:
  void TearDown() override {
    const Totals& t = totals();
    if (t.points == 0) return;
    std::vector<std::string> modes;
    for (size_t m = 0; m < kModes; ++m) {
      modes.push_back(absl::StrCat(CrashModeName(kAllModes[m]), " ", t.per_mode[m]));
    }
    printf(
        "crash points: %llu checked of %llu Env calls; images per mode: %s (%llu drop images "
        "repeat the previous point's); images reopened %llu, also in salvage and absolute "
        "modes %llu; records verified %llu; tails cut %llu; salvage holes %llu; "
        "absolute-consistency refusals %llu (%llu where the default recovery reported no "
        "cut)\n",
        static_cast<unsigned long long>(t.points), static_cast<unsigned long long>(t.calls),
        absl::StrJoin(modes, ", ").c_str(), static_cast<unsigned long long>(t.repeats),
        static_cast<unsigned long long>(t.stats.images),
        static_cast<unsigned long long>(t.stats.recovery_mode_images),
        static_cast<unsigned long long>(t.stats.records_verified),
        static_cast<unsigned long long>(t.stats.tails_cut),
        static_cast<unsigned long long>(t.stats.salvage_holes),
        static_cast<unsigned long long>(t.stats.absolute_refusals),
        static_cast<unsigned long long>(t.stats.absolute_refusals_unreported));
  }
};
const auto* const kPrintTotals = ::testing::AddGlobalTestEnvironment(new PrintTotals);

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
  Totals& t = totals();
  t.calls = calls;
  // The drop image changes only when something is synced: a point whose drop image and oracle
  // equal the previous point's is that same check again, and is counted but not repeated.
  uint64_t last_drop_hash = 0;
  Oracle last_drop_oracle;
  // Slices are runs of consecutive points, so that such repeats fall in one slice.
  const uint64_t from = calls * slice / kSlices + 1, to = calls * (slice + 1) / kSlices;
  for (uint64_t n = from; n <= to; ++n) {
    if (OnlyPoint() != 0 && n != OnlyPoint()) continue;
    std::vector<CrashEnv::Image> images;
    std::vector<size_t> modes;
    for (size_t m = 0; m < kModes; ++m) {
      if (!ModeAt(n, m)) continue;
      modes.push_back(m);
      images.push_back({kAllModes[m], SeedFor(n, m),
                        absl::StrCat(base, "/image-", CrashModeName(kAllModes[m]))});
    }
    fs::remove_all(root);
    fs::create_directories(root);
    CrashEnv env(root);
    Workload w(&env, root + "/store");
    Oracle at_crash;
    env.CrashAfterCall(n, images, [&] { at_crash = w.oracle(); });
    w.Run();
    ASSERT_TRUE(env.crashed()) << "crash point " << n << " never reached: the workload made "
                               << env.calls() << " calls, the full run " << calls;
    ASSERT_TRUE(env.image_status().ok()) << env.image_status();
    // Broken promises seen before the crash (after it, every call fails).
    EXPECT_TRUE(w.violations().empty())
        << "crash point " << n << ": " << absl::StrJoin(w.violations(), "\n");
    ++t.points;
    for (size_t i = 0; i < images.size(); ++i) {
      ++t.per_mode[modes[i]];
      if (images[i].mode == Mode::kDropUnsynced) {
        const uint64_t h = TreeHash(images[i].dir);
        if (h == last_drop_hash && at_crash == last_drop_oracle && n != from) {
          ++t.repeats;
          continue;
        }
        last_drop_hash = h;
        last_drop_oracle = at_crash;
      }
      std::vector<std::string> problems =
          CheckCrashImage(images[i].dir, at_crash, RecoveryModesAt(n, modes[i]), &t.stats);
      EXPECT_TRUE(problems.empty())
          << "crash point " << n << " of " << calls << " (after " << env.crash_call() << "), mode "
          << CrashModeName(images[i].mode) << ", seed " << images[i].seed
          << " (replay: RECSTORE_CRASH_SEED=" << SeedBase() << " RECSTORE_CRASH_POINT=" << n
          << "):\n  " << absl::StrJoin(problems, "\n  ");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Slices, CrashPointsTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash
