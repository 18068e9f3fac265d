// The crash-point loop (see crash_points.h).
#include "tests/mapped/crash_points.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/testing/copy_tree.h"

namespace recstore::mapped_test {
namespace {

namespace fs = std::filesystem;
using crash::CrashEnv;
using crash::CrashMode;

constexpr size_t kKillMode = crash::kNumCrashModes;  // index of "kill" in per_mode

const char* ModeName(size_t m) {
  return m == kKillMode ? "kill" : crash::CrashModeName(crash::kCrashModes[m]);
}

// Every name and byte under `dir`, in name order (stable within one process).
uint64_t TreeHash(const std::string& dir) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir, ec)) {
    paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  uint64_t h = 0;
  for (const fs::path& p : paths) {
    const std::string name = p.string().substr(dir.size());
    if (fs::is_directory(p)) {
      h = absl::HashOf(h, name);
      continue;
    }
    std::string bytes(fs::file_size(p, ec), '\0');
    std::ifstream f(p, std::ios::binary);
    f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    h = absl::HashOf(h, name, bytes);
  }
  return h;
}

void FreshDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
}

// Whether recovery crash point k of `calls` is checked: all of a short recovery; of a long one
// (a redo of many pages, one write each) the first 8, the last 6 and 8 between.
bool SampledRecoveryPoint(uint64_t k, uint64_t calls) {
  if (calls <= 24 || k <= 8 || k + 6 > calls) return true;
  return k % ((calls - 14) / 8 + 1) == 0;
}

// Crashes the recovery of the image in `pristine` after its Env calls in turn; each image of
// that crash must show `which`, the state a complete recovery of `pristine` showed.
void CrashRecovery(const std::string& base, const std::string& pristine, Recovered which,
                   CrashWorkload& w, const std::string& context,
                   absl::flat_hash_set<std::pair<uint64_t, uint64_t>>& seen,
                   CrashPointStats* stats) {
  const std::string dir = base + "/recovery";
  uint64_t calls = 0;
  {
    if (absl::Status s = testing::CopyTree(pristine, dir); !s.ok()) {
      ADD_FAILURE() << s;
      return;
    }
    CrashEnv env(dir);
    if (absl::Status s = w.Recover(&env, dir); !s.ok()) {
      ADD_FAILURE() << context << ": a clean recovery failed: " << s;
      return;
    }
    calls = env.calls();
  }
  ++stats->recovery_images;
  w.Narrow(which);
  const uint64_t key = absl::HashOf(w.ExpectationKey(), static_cast<int>(which));
  for (uint64_t k = 1; k <= calls; ++k) {
    if (!SampledRecoveryPoint(k, calls)) continue;
    if (absl::Status s = testing::CopyTree(pristine, dir); !s.ok()) {
      ADD_FAILURE() << s;
      break;
    }
    std::vector<CrashEnv::Image> images = {
        {CrashMode::kDropUnsynced, 0, base + "/recovery-drop"},
        {CrashMode::kKeepSomeUnsynced, Mix(k), base + "/recovery-keep-part"}};
    const std::string kill_dir = base + "/recovery-kill";
    absl::Status kill_copy;
    std::string crash_call;
    {
      CrashEnv env(dir);
      env.CrashAfterCall(k, images, [&] { kill_copy = testing::CopyTree(dir, kill_dir); });
      w.Recover(&env, dir).IgnoreError();  // fails once crashed
      if (!env.crashed() || !env.image_status().ok() || !kill_copy.ok()) {
        ADD_FAILURE() << context << ": recovery crash point " << k << " of " << calls
                      << " not reached or images not written: " << env.image_status() << " "
                      << kill_copy;
        break;
      }
      crash_call = env.crash_call();
    }
    ++stats->recovery_points;
    images.push_back({CrashMode::kDropUnsynced, 0, kill_dir});
    for (size_t i = 0; i < images.size(); ++i) {
      if (!seen.insert({TreeHash(images[i].dir), key}).second) continue;
      ++stats->recovery_checked;
      std::vector<std::string> problems;
      if (w.CheckImage(images[i].dir, &problems) != which && problems.empty()) {
        problems.push_back("CheckImage found another state");
      }
      EXPECT_TRUE(problems.empty())
          << context << ", then a crash during its recovery after call " << k << " of " << calls
          << " (" << crash_call << "), mode " << (i == 2 ? "kill" : ModeName(i)) << ":\n  "
          << absl::StrJoin(problems, "\n  ");
    }
  }
  w.Narrow(Recovered::kNeither);
}

}  // namespace

std::string CrashPointStats::ToString() const {
  std::vector<std::string> modes;
  for (size_t m = 0; m <= kKillMode; ++m) {
    modes.push_back(absl::StrCat(ModeName(m), " ", per_mode[m]));
  }
  return absl::StrCat("crash points: ", points, " of ", calls, " Env calls; images ", images, " (",
                      absl::StrJoin(modes, ", "), "); checked ", checked, " (", repeats,
                      " repeats of an image already checked skipped); recovered the last "
                      "acknowledged sync ",
                      acknowledged, ", the sync in progress ", in_progress,
                      "; recoveries crashed at every call: ", recovery_images, " (",
                      recovery_points, " crash points, ", recovery_checked, " images checked)");
}

CrashPointStats RunEveryCrashPoint(
    const std::string& base, const WorkloadFactory& make, uint64_t stride,
    const std::function<bool(const std::string& crash_call)>& crash_recovery) {
  CrashPointStats stats;
  const std::string root = base + "/root";
  {
    FreshDir(root);
    CrashEnv env(root);
    std::unique_ptr<CrashWorkload> w = make(&env, root);
    w->Run();
    const std::vector<std::string> problems = w->RunProblems();
    EXPECT_TRUE(problems.empty()) << "clean run:\n  " << absl::StrJoin(problems, "\n  ");
    stats.calls = env.calls();
  }
  absl::flat_hash_set<std::pair<uint64_t, uint64_t>> seen;  // (image hash, expectation key)
  for (uint64_t n = 1; n <= stats.calls; ++n) {
    if (crash::CrashOnlyPoint() != 0 && n != crash::CrashOnlyPoint()) continue;
    const bool all_modes = stride <= 1 || crash::CrashOnlyPoint() != 0 || Mix(n) % stride == 0;
    std::vector<CrashEnv::Image> images;
    std::vector<size_t> modes;
    for (size_t m = 0; m < crash::kNumCrashModes; ++m) {
      if (m != 0 && !all_modes) continue;
      modes.push_back(m);
      images.push_back({crash::kCrashModes[m], crash::CrashSeedFor(n, m),
                        absl::StrCat(base, "/image-", ModeName(m))});
    }
    const std::string kill_dir = base + "/image-kill";
    FreshDir(root);
    CrashEnv env(root);
    std::unique_ptr<CrashWorkload> w = make(&env, root);
    absl::Status kill_copy;
    env.CrashAfterCall(n, images, [&] {
      w->OnCrash();
      kill_copy = testing::CopyTree(root, kill_dir);
    });
    w->Run();
    if (!env.crashed()) {
      ADD_FAILURE() << "crash point " << n << " never reached: the workload made " << env.calls()
                    << " Env calls, the clean run " << stats.calls;
      return stats;
    }
    if (!env.image_status().ok() || !kill_copy.ok()) {
      ADD_FAILURE() << "crash point " << n << ": images not written: " << env.image_status() << " "
                    << kill_copy;
      return stats;
    }
    ++stats.points;
    const std::vector<std::string> run_problems = w->RunProblems();
    EXPECT_TRUE(run_problems.empty())
        << "crash point " << n << " (after " << env.crash_call() << "): before the crash:\n  "
        << absl::StrJoin(run_problems, "\n  ");
    images.push_back({CrashMode::kDropUnsynced, 0, kill_dir});
    modes.push_back(kKillMode);
    const bool recover = all_modes && crash_recovery && crash_recovery(env.crash_call());
    for (size_t i = 0; i < images.size(); ++i) {
      ++stats.images;
      ++stats.per_mode[modes[i]];
      if (!seen.insert({TreeHash(images[i].dir), w->ExpectationKey()}).second) {
        ++stats.repeats;
        continue;
      }
      ++stats.checked;
      const std::string context =
          absl::StrCat("crash point ", n, " of ", stats.calls, " (after ", env.crash_call(),
                       "), mode ", ModeName(modes[i]), ", seed ", images[i].seed,
                       " (replay: RECSTORE_CRASH_SEED=", crash::CrashSeedBase(),
                       " RECSTORE_CRASH_POINT=", n, ")");
      // CheckImage changes the image: a copy for the crashes during its recovery.
      const bool recover_this = recover && (modes[i] == 0 || modes[i] == kKillMode);
      const std::string pristine = base + "/pristine";
      if (recover_this) {
        if (absl::Status s = testing::CopyTree(images[i].dir, pristine); !s.ok()) {
          ADD_FAILURE() << s;
          return stats;
        }
      }
      std::vector<std::string> problems;
      const Recovered which = w->CheckImage(images[i].dir, &problems);
      switch (which) {
        case Recovered::kAcknowledged:
          ++stats.acknowledged;
          break;
        case Recovered::kInProgress:
          ++stats.in_progress;
          break;
        case Recovered::kNeither:
          if (problems.empty()) problems.push_back("CheckImage found neither state");
          break;
      }
      EXPECT_TRUE(problems.empty()) << context << ":\n  " << absl::StrJoin(problems, "\n  ");
      if (recover_this && which != Recovered::kNeither) {
        CrashRecovery(base, pristine, which, *w, context, seen, &stats);
      }
    }
  }
  return stats;
}

}  // namespace recstore::mapped_test
