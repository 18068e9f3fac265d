// Crash-point enumeration for the mapped containers (vector_crash_test, struct_crash_test): a
// scripted workload runs over a CrashEnv and is crashed after its n-th Env call, for every n
// of a clean run. Each crash point leaves six images, each opened and checked by the workload:
//   * one per CrashMode (tests/crash/crash_image.h): a power loss, keeping what was synced
//     plus none, some, a torn prefix, zeros or garbage of what was not;
//   * "kill": the directory copied as it is at the crash: what a SIGKILL of the process at
//     that moment leaves (every write reached the page cache; private memory is lost).
// An image equal to one already checked at an earlier point with the same expectations is
// counted but not checked again (power-loss images change only when something is synced).
//
// Crashes during recovery: at the points a filter picks (for the vector: a sync's commit
// point), the drop and kill images are also reopened as the writer through a CrashEnv of
// their own, crashed after each Env call of that recovery in turn (of a long recovery, the
// first 8 calls, the last 6 and 8 between), and the images of that second crash (drop,
// keep-part, kill) must show exactly the state a complete recovery of the first image
// showed.
//
// RECSTORE_CRASH_POINT=n checks crash point n alone (to replay a failure), and
// RECSTORE_CRASH_SEED=s varies the random choices of the modes (default 0); failure messages
// name both.
#ifndef RECSTORE_TESTS_MAPPED_CRASH_POINTS_H_
#define RECSTORE_TESTS_MAPPED_CRASH_POINTS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "recstore/env.h"

namespace recstore::mapped_test {

inline uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Which of the states a workload may recover to an image showed.
enum class Recovered { kAcknowledged, kInProgress, kNeither };

class CrashWorkload {
 public:
  virtual ~CrashWorkload() = default;
  // Runs the whole script through the Env it was made with, stopping at the first error (after
  // a crash every Env call fails).
  virtual void Run() = 0;
  // Called at the crash, inside the Env call that was the n-th (the Env's lock held: it must
  // not call the Env): remembers what an image may show.
  virtual void OnCrash() = 0;
  // A hash of what OnCrash remembered, to tell repeated checks apart.
  virtual uint64_t ExpectationKey() const = 0;
  // Promises broken while the script ran (for example a sync that returned OK and a state
  // that differs from the model).
  virtual std::vector<std::string> RunProblems() const = 0;
  // Opens the image in `dir` with the real Env, checks it against what OnCrash remembered
  // (adding what is wrong to `problems`) and says which state it showed. May change the
  // image.
  virtual Recovered CheckImage(const std::string& dir, std::vector<std::string>* problems) = 0;
  // From now on CheckImage accepts only the state `which` (kNeither: both again).
  virtual void Narrow(Recovered which) = 0;
  // Opens the image in `dir` as the writer through `env` (running its recovery), then closes
  // it. Used only by crashes during recovery.
  virtual absl::Status Recover(Env* env, const std::string& dir) = 0;
};

// Makes the workload that runs in `root` (an existing empty directory) through `env`.
using WorkloadFactory =
    std::function<std::unique_ptr<CrashWorkload>(Env* env, const std::string& root)>;

struct CrashPointStats {
  uint64_t calls = 0;             // Env calls of the clean run
  uint64_t points = 0;            // crash points run
  uint64_t images = 0;            // images made
  uint64_t checked = 0;           // images opened and checked
  uint64_t repeats = 0;           // images equal to one checked before, with the same expectations
  uint64_t acknowledged = 0;      // checked images that showed the last acknowledged sync
  uint64_t in_progress = 0;       // ... the sync that was running at the crash
  uint64_t per_mode[6] = {};      // images made per mode (the five CrashModes, then "kill")
  uint64_t recovery_images = 0;   // first images whose recovery was crashed at every call
  uint64_t recovery_points = 0;   // crashes during those recoveries
  uint64_t recovery_checked = 0;  // images of those crashes checked

  std::string ToString() const;
};

// Runs the clean run (its RunProblems must be empty), then every crash point (or only
// RECSTORE_CRASH_POINT), in `base` (a scratch directory). `stride` > 1 checks the power-loss
// modes other than "drop" at one point in `stride` only (sanitizer builds); the drop and kill
// images are checked at every point (and recoveries crashed only at the points of all modes).
// `crash_recovery`, when set, picks by the crash's call
// ("PWrite /path/file") the points whose recovery is crashed too. Reports failures as gtest
// failures.
CrashPointStats RunEveryCrashPoint(
    const std::string& base, const WorkloadFactory& make, uint64_t stride = 1,
    const std::function<bool(const std::string& crash_call)>& crash_recovery = nullptr);

}  // namespace recstore::mapped_test

#endif  // RECSTORE_TESTS_MAPPED_CRASH_POINTS_H_
