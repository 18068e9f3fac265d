// The crash-point sweep's controls and sampling (see crash_sweep.h).
#include "tests/crash/crash_sweep.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/crash/crash_records.h"

namespace recstore::crash {

bool CrashExhaustive() {
  const char* v = std::getenv("RECSTORE_CRASH_EXHAUSTIVE");
  return v != nullptr && std::string(v) == "1";
}

uint64_t CrashOnlyPoint() {
  const char* v = std::getenv("RECSTORE_CRASH_POINT");
  return v == nullptr ? 0 : std::strtoull(v, nullptr, 10);
}

uint64_t CrashSeedBase() {
  const char* v = std::getenv("RECSTORE_CRASH_SEED");
  return v == nullptr ? 0 : std::strtoull(v, nullptr, 10);
}

// Drop and torn: every point; keep-part: one in two; zero and garbage: one in four.
bool CrashModeAt(uint64_t n, size_t m) {
  if (m == 0 || m == 2 || CrashExhaustive() || CrashOnlyPoint() != 0) return true;
  return Mix(n + m) % (m == 1 ? 2 : 4) == 0;
}

// One in four.
bool RecoveryModesAt(uint64_t n, size_t m) {
  return CrashExhaustive() || CrashOnlyPoint() != 0 || Mix(n * 16 + m + 8) % 4 == 0;
}

uint64_t CrashSeedFor(uint64_t n, size_t m, uint64_t offset, uint64_t salt) {
  return Mix(Mix(CrashSeedBase() + offset) ^ salt ^ (n * 16 + m));
}

SliceBounds SliceOf(uint64_t calls, int slice, int slices) {
  const uint64_t k = static_cast<uint64_t>(slice), total = static_cast<uint64_t>(slices);
  return {calls * k / total + 1, calls * (k + 1) / total};
}

PointImages ImagesAt(uint64_t n, const std::string& base,
                     const std::function<uint64_t(uint64_t, size_t)>& seed_for) {
  PointImages p;
  for (size_t m = 0; m < kNumCrashModes; ++m) {
    if (!CrashModeAt(n, m)) continue;
    p.modes.push_back(m);
    p.images.push_back({kCrashModes[m], seed_for(n, m),
                        absl::StrCat(base, "/image-", CrashModeName(kCrashModes[m]))});
  }
  return p;
}

std::string CrashPointFailure(uint64_t n, uint64_t calls, const std::string& crash_call,
                              const CrashEnv::Image& image,
                              const std::vector<std::string>& problems,
                              const std::string& replay_extra) {
  return absl::StrCat("crash point ", n, " of ", calls, " (after ", crash_call, "), mode ",
                      CrashModeName(image.mode), ", seed ", image.seed,
                      " (replay: RECSTORE_CRASH_SEED=", CrashSeedBase(),
                      " RECSTORE_CRASH_POINT=", n, replay_extra, "):\n  ",
                      absl::StrJoin(problems, "\n  "));
}

std::string ModeCounts(const uint64_t (&per_mode)[kNumCrashModes]) {
  std::vector<std::string> modes;
  for (size_t m = 0; m < kNumCrashModes; ++m) {
    modes.push_back(absl::StrCat(CrashModeName(kCrashModes[m]), " ", per_mode[m]));
  }
  return absl::StrJoin(modes, ", ");
}

std::string SweepSummary(const SweepTotals& t) {
  return absl::StrCat(t.points, " checked of ", t.calls,
                      " Env calls; images per mode: ", ModeCounts(t.per_mode), " (", t.repeats,
                      " drop images repeat the previous point's)");
}

namespace {

class LinePrinter : public ::testing::Environment {
 public:
  explicit LinePrinter(std::function<std::string()> line) : line_(std::move(line)) {}
  void TearDown() override {
    const std::string line = line_();
    if (!line.empty()) printf("%s\n", line.c_str());
  }

 private:
  std::function<std::string()> line_;
};

}  // namespace

bool PrintAtEnd(std::function<std::string()> line) {
  ::testing::AddGlobalTestEnvironment(new LinePrinter(std::move(line)));
  return true;
}

}  // namespace recstore::crash
