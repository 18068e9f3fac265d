// A failed Env call during retention and compaction: each operation of the compaction case
// runs on a copy of its template with its n-th Env call failed with EIO (FaultEnv), for the
// n of an uninterrupted run that Sampled picks. The handles must then still read both collections
// exactly as they were before the call (or, once the manifest was switched, as after it); a call
// that returns OK must leave the state after it. The store is closed and reopened with the real
// Env, and the image a power loss right after the call would leave (a CrashEnv beneath the
// FaultEnv, drop mode) is reopened too: both must hold exactly the state before or after the
// call, with the checks of compaction_check.h, and a power loss after an OK call must keep
// the state after it. (One exception, by design: SetRetention's handle may hold the stored policy
// with the records before; see PolicyStoredOnly.)
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/compaction_case.h"
#include "tests/crash/compaction_check.h"
#include "tests/crash/compaction_reference.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/scratch.h"
#include "tests/testing/fault_env.h"

namespace recstore::crash {
namespace {

using ::recstore::testing::FaultEnv;

const char* Name(Match m) {
  return m == Match::kBefore ? "before" : m == Match::kAfter ? "after" : "neither";
}

// SetRetention stores the policy with one manifest rewrite and applies it with a second
// (design.md, "Policies"): when the second fails, the handle holds the policy and the records
// before. The next writer open applies the policy, so a reopen must still give the state after.
bool PolicyStoredOnly(const CaseOpSpec& spec, int c, const CollectionState& got,
                      const CaseExpectation& want) {
  if (spec.op != CaseOp::kRetention || c != spec.collection) return false;
  CollectionState stored = want.before[c];
  stored.retention = want.after[c].retention;
  return got.SameContent(stored);
}

// Operations of up to 20 calls: every point. Longer ones: one point in two and the last 10
// (the manifest switch and the removals). Every point with RECSTORE_CRASH_EXHAUSTIVE=1.
bool Sampled(uint64_t calls, uint64_t n, int op) {
  if (CrashExhaustive() || calls <= 20 || n + 10 > calls) return true;
  return (n + static_cast<uint64_t>(op)) % 2 == 0;
}

class CompactionFaultTest : public ::testing::TestWithParam<int> {};

TEST_P(CompactionFaultTest, EveryFailedCallLeavesBeforeOrAfter) {
  const CaseOpSpec& spec = OpSpec(GetParam());
  ScratchDir scratch;
  const std::string& base = scratch.path();
  CaseReference ref;
  const absl::Status prepared = PrepareCase(spec, base, &ref);
  ASSERT_TRUE(prepared.ok()) << prepared;
  const std::string root = base + "/root", image = base + "/image";
  uint64_t failed = 0, ok_anyway = 0, stored_only = 0, handle_after = 0, reopen_after = 0,
           image_after = 0;
  uint64_t last_image_hash = 0, image_repeats = 0, points = 0;
  Match last_image_match = Match::kNone;
  for (uint64_t n = 1; n <= ref.calls; ++n) {
    if (!Sampled(ref.calls, n, GetParam())) continue;
    ++points;
    CopyTree(ref.template_store, root + "/store");
    CrashEnv model(root);
    ClockEnv<FaultEnv> env(&model);
    absl::Status status;
    std::vector<std::string> problems;
    Match in_handle[2] = {Match::kNone, Match::kNone};
    {
      absl::StatusOr<CaseHandles> h = OpenCase(&env, root + "/store");
      ASSERT_TRUE(h.ok()) << h.status();
      env.FailNth(FaultEnv::kAnyCall, static_cast<int>(n), EIO);
      status = RunOp(spec.op, ref.arg, *h);
      ASSERT_EQ(env.Failures(), 1) << spec.name << ": fault point " << n << " never reached";
      env.Clear();
      for (int c : {kFixed, kBytes}) {
        CollectionState got = Capture(*h, c, root + "/store", &problems);
        std::string why;
        in_handle[c] = MatchState(got, ref.want.before[c], ref.want.after[c], &why);
        if (in_handle[c] == Match::kNone && PolicyStoredOnly(spec, c, got, ref.want)) {
          ++stored_only;
          continue;
        }
        if (in_handle[c] == Match::kNone) {
          problems.push_back(absl::StrCat("collection ", c, ": the handle reads neither: ", why));
        }
      }
      ASSERT_TRUE(model.WriteCrashImage(image, CrashEnv::Mode::kDropUnsynced, n).ok());
    }
    const Match handle = in_handle[spec.collection];
    if (status.ok()) {
      ++ok_anyway;
      if (handle != Match::kAfter) {
        problems.push_back(
            absl::StrCat("the call returned OK but its handle reads ", Name(handle)));
      }
    } else {
      ++failed;
    }
    handle_after += handle == Match::kAfter ? 1 : 0;
    Match reopened = Match::kNone, crashed = Match::kNone;
    for (const std::string& p :
         CheckReopenedInChild(root + "/store", ref.want, spec.collection, &reopened)) {
      problems.push_back(absl::StrCat("reopened: ", p));
    }
    // A drop image equal to the last one checked is that check again.
    const uint64_t hash = TreeHash(image);
    if (hash == last_image_hash) {
      crashed = last_image_match;
      ++image_repeats;
    } else {
      for (const std::string& p :
           CheckReopenedInChild(image + "/store", ref.want, spec.collection, &crashed)) {
        problems.push_back(absl::StrCat("after a power loss: ", p));
      }
      last_image_hash = hash;
      last_image_match = crashed;
    }
    if (status.ok() && crashed != Match::kAfter) {
      problems.push_back(
          absl::StrCat("the call returned OK, a power loss then left ", Name(crashed)));
    }
    reopen_after += reopened == Match::kAfter ? 1 : 0;
    image_after += crashed == Match::kAfter ? 1 : 0;
    EXPECT_TRUE(problems.empty()) << spec.name << ": fault point " << n << " of " << ref.calls
                                  << " (call returned " << status << "):\n  "
                                  << absl::StrJoin(problems, "\n  ");
  }
  printf(
      "%s: %llu fault points of %llu calls; the call failed %llu times, returned OK %llu "
      "times; the handle read the after state %llu times (the stored policy not yet applied "
      "%llu times), a reopen %llu times, a power-loss image %llu times (%llu images repeated "
      "the previous one)\n",
      spec.name, static_cast<unsigned long long>(points),
      static_cast<unsigned long long>(ref.calls), static_cast<unsigned long long>(failed),
      static_cast<unsigned long long>(ok_anyway), static_cast<unsigned long long>(handle_after),
      static_cast<unsigned long long>(stored_only), static_cast<unsigned long long>(reopen_after),
      static_cast<unsigned long long>(image_after), static_cast<unsigned long long>(image_repeats));
}

INSTANTIATE_TEST_SUITE_P(Ops, CompactionFaultTest, ::testing::Range(0, kNumCaseOps),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(OpSpec(info.param).name);
                         });

}  // namespace
}  // namespace recstore::crash
