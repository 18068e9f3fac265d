// Power loss during retention and compaction: each operation of the compaction case
// (compaction_case.h: truncations inside a segment, at a segment boundary and inside a
// compacted range, a retention policy, key compaction of both kinds, predicate compaction,
// a merge and a second compaction) runs over a CrashEnv on a copy of its template and is
// crashed after its n-th Env call, for every n of an uninterrupted run. Each image is reopened
// as a writer with the real Env; both collections must hold exactly their state before or
// after the operation, with Get, begin(), the folder's files, Verify and a later append
// agreeing (compaction_check.h).
//
// Every point is checked in the drop and torn modes, one in two in keep-part mode and one in
// four in the zero and garbage modes; RECSTORE_CRASH_EXHAUSTIVE=1 checks every point in every
// mode; an image equal to one already checked is counted, not checked again. RECSTORE_CRASH_POINT=n
// checks point n alone (in every mode), RECSTORE_CRASH_SEED=s varies the modes' random choices.
// Each operation's points are split into kSlices instances.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/crash/compaction_case.h"
#include "tests/crash/compaction_check.h"
#include "tests/crash/compaction_reference.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_records.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/scratch.h"
#include "tests/testing/child.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;

constexpr int kSlices = 2;

struct Totals {
  uint64_t points = 0;
  uint64_t images[kNumCrashModes] = {};
  uint64_t repeats = 0;  // images equal to one already checked
  uint64_t before = 0, after = 0;
};
Totals& totals() {
  static Totals t;
  return t;
}

const bool kPrintTotals = PrintAtEnd([] {
  const Totals& t = totals();
  if (t.points == 0) return std::string();
  return absl::StrCat("compaction crash points: ", t.points,
                      "; images per mode: ", ModeCounts(t.images), " (", t.repeats,
                      " equal to one already checked); reopened as before ", t.before,
                      ", as after ", t.after, "; Gets checked ", GetsChecked());
});

class CompactionCrashTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(CompactionCrashTest, EveryCrashPointLeavesBeforeOrAfter) {
  const auto [op, slice] = GetParam();
  const CaseOpSpec& spec = OpSpec(op);
  ScratchDir scratch;
  const std::string& base = scratch.path();
  CaseReference ref;
  const absl::Status prepared = PrepareCase(spec, base, &ref);
  ASSERT_TRUE(prepared.ok()) << prepared;
  if (slice == 0) {
    printf("%s: %llu Env calls; before {%s}, after {%s}\n", spec.name,
           static_cast<unsigned long long>(ref.calls),
           ref.want.before[spec.collection].Summary().c_str(),
           ref.want.after[spec.collection].Summary().c_str());
  }
  Totals& t = totals();
  const std::string root = base + "/root";
  absl::flat_hash_set<uint64_t> checked;
  const SliceBounds bounds = SliceOf(ref.calls, slice, kSlices);
  for (uint64_t n = bounds.from; n <= bounds.to; ++n) {
    if (CrashOnlyPoint() != 0 && n != CrashOnlyPoint()) continue;
    const auto [images, modes] =
        ImagesAt(n, base, [salt = static_cast<uint64_t>(op) << 40](uint64_t p, size_t m) {
          return CrashSeedFor(p, m, 0, salt);
        });
    CopyTree(ref.template_store, root + "/store");
    ClockEnv<CrashEnv> env(root);
    {
      absl::StatusOr<CaseHandles> h = OpenCase(&env, root + "/store");
      ASSERT_TRUE(h.ok()) << h.status();
      env.Reset();
      env.CrashAfterCall(n, images);
      RunOp(spec.op, ref.arg, *h).IgnoreError();  // fails unless the crash came after its end
    }
    ASSERT_TRUE(env.crashed()) << spec.name << ": crash point " << n
                               << " never reached: the operation made " << env.calls()
                               << " calls, the uninterrupted run " << ref.calls;
    ASSERT_TRUE(env.image_status().ok()) << env.image_status();
    ++t.points;
    for (size_t i = 0; i < images.size(); ++i) {
      ++t.images[modes[i]];
      // An image equal to one this instance already checked (of any point and mode) is that
      // check again.
      if (!checked.insert(TreeHash(images[i].dir)).second) {
        ++t.repeats;
        continue;
      }
      Match m = Match::kNone;
      std::vector<std::string> problems =
          CheckReopenedInChild(images[i].dir + "/store", ref.want, spec.collection, &m);
      t.before += m == Match::kBefore ? 1 : 0;
      t.after += m == Match::kAfter ? 1 : 0;
      EXPECT_TRUE(problems.empty())
          << spec.name << ": "
          << CrashPointFailure(n, ref.calls, env.crash_call(), images[i], problems,
                               absl::StrCat(" --gtest_filter=*/", spec.name, "_", slice));
    }
  }
}

// A power loss after a truncation whose manifest rename never became durable, while the old
// segments were already deleted, leaves a manifest naming records whose files are gone. The
// open must refuse such a store with DataLoss, not crash.
TEST(CompactionCrashStateTest, MissingLeadingSegmentsFailTheOpen) {
  ScratchDir scratch;
  const std::string store = scratch.path() + "/store";
  ASSERT_TRUE(BuildTemplate(CaseTemplate::kPlain, store).ok());
  std::string folder;
  {
    absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), store);
    ASSERT_TRUE(h.ok()) << h.status();
    folder = CollectionFolder(store, h->fixed);
  }
  const std::vector<uint64_t> segs = OrdinarySegments(folder);
  ASSERT_GE(segs.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    fs::remove(absl::StrFormat("%s/%020u.seg", folder, static_cast<unsigned long long>(segs[i])));
  }
  const int code = ::recstore::testing::RunInChild([&](auto) {
    absl::StatusOr<CaseHandles> h = OpenCase(Env::Default(), store);
    if (!h.ok()) return h.status().code() == absl::StatusCode::kDataLoss ? 0 : 1;
    auto scan = h->fixed.Scan();
    for (const auto& e : scan) {
      if (e.seq < segs[2]) return 4;  // a record whose file is gone
    }
    return scan.status().ok() ? 2 : 3;
  });
  EXPECT_EQ(code, 0) << "1: the open failed with another error; 2: it opened and a scan "
                        "passed over the missing records; 3: it opened and a scan failed; "
                        "128+n: signal n";
}

INSTANTIATE_TEST_SUITE_P(Ops, CompactionCrashTest,
                         ::testing::Combine(::testing::Range(0, kNumCaseOps),
                                            ::testing::Range(0, kSlices)),
                         [](const ::testing::TestParamInfo<std::tuple<int, int>>& info) {
                           return absl::StrCat(OpSpec(std::get<0>(info.param)).name, "_",
                                               std::get<1>(info.param));
                         });

}  // namespace
}  // namespace recstore::crash
