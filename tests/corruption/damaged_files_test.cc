// Damaged file sets (issue 12, test kind 3): whole files of a store deleted, zeroed, truncated
// to 0, truncated to their header, or with only their header zeroed; one file at a time
// (every segment, every compacted segment, MANIFEST, LOCK), then the same damage to pairs of
// files (every pair within a collection, each with some of the damages; a deterministic
// sample of pairs across collections; every pair with every damage when
// RECSTORE_DAMAGE_FULL=1). A last case deletes five middle segments of a byte log of tiny
// records, a hole wider than a segment's slot index.
//
// After each damage the store is opened in each RecoveryMode, as the writer and read-only,
// each time in a forked child (a crash is reported as the failure of that case), and checked
// as damage_check.h says: refuse naming the file, or keep every synced record readable or
// reported; never a silent loss. Also: a refused writer open changes no file, a read-only
// open changes nothing, the LOCK file comes back after a writer open, a writer open with
// create_if_missing never makes a new store over a damaged MANIFEST, and `recstore verify` and
// `recstore info` (argv[1]: the tool) do not crash and report the damage.
//
// Each failing case is one gtest failure listing its broken promises and the observers that
// saw each; the counts of cases, observations and records checked are printed at the end.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/corruption/damage_check.h"
#include "tests/corruption/file_set.h"

namespace recstore::testing {
namespace {

const char* g_cli = nullptr;  // the recstore tool, from argv[1]

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
constexpr int kTimeoutSeconds = 120;
#else
constexpr bool kSanitized = false;
constexpr int kTimeoutSeconds = 30;
#endif

// CI runs every damage of every single file, with the tool; of the pairs within a collection,
// one case (pair and damage) in kWithinSample, so every pair meets two or three of the five
// damages (rotating from pair to pair); of the pairs across collections and store files, one
// case in kCrossSample; the tool on one pair case in kCliSample. RECSTORE_DAMAGE_FULL=1 runs
// every case, each with the tool.
constexpr size_t kWithinSample = kSanitized ? 4 : 2;
constexpr size_t kCrossSample = kSanitized ? 24 : 12;
constexpr size_t kCliSample = 4;

bool FullRun() {
  const char* v = std::getenv("RECSTORE_DAMAGE_FULL");
  return v != nullptr && std::string(v) == "1";
}

bool WithCli(size_t pair_case) { return FullRun() || pair_case % kCliSample == 0; }

constexpr Observer kObservers[] = {
    {RecoveryMode::kTolerateTornTail, false},
    {RecoveryMode::kTolerateTornTail, true},
    {RecoveryMode::kAbsoluteConsistency, false},
    {RecoveryMode::kAbsoluteConsistency, true},
    {RecoveryMode::kSalvage, false},
    {RecoveryMode::kSalvage, true},
};

struct Totals {
  uint64_t cases = 0, failed = 0, observations = 0, cli_runs = 0, records = 0;
  std::map<std::string, uint64_t> outcomes;

  void Print(const std::string& title) const {
    std::cout << "damaged_files: " << title << ": " << cases << " cases (" << failed << " failed), "
              << observations << " observations, " << cli_runs << " tool runs, " << records
              << " record reads checked\n";
    for (const auto& [what, n] : outcomes) {
      std::cout << "damaged_files: " << title << ":   " << what << ": " << n << "\n";
    }
    std::cout.flush();
  }
};

// Runs damage cases on one FileSet, keeping track of what its directory holds.
class Runner {
 public:
  explicit Runner(const FileSet& set) : set_(set), now_(set.pristine()) {
    RestoreDir(set.dir(), now_, DiffDir(set.dir(), now_));
  }
  ~Runner() {
    WriteTree(set_.dir(), now_, set_.pristine());
    totals_.Print(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // Damages `files` with `d` (skipped when the damage does not apply to one of them), observes
  // the store in every mode, and reports the case's broken promises as one failure.
  void RunCase(const std::vector<std::string>& files, Damage d, bool with_cli = true) {
    Tree damaged_tree = set_.pristine();
    for (const std::string& f : files) {
      if (!ApplyDamage(d, f, &damaged_tree)) return;
    }
    const std::set<std::string> damaged(files.begin(), files.end());
    WriteTree(set_.dir(), now_, damaged_tree);
    now_ = damaged_tree;
    ++totals_.cases;
    std::map<std::string, std::vector<std::string>> problems;  // problem -> observers
    std::vector<Observer> observers(std::begin(kObservers), std::end(kObservers));
    if (damaged.count("MANIFEST") > 0) {
      observers.push_back({RecoveryMode::kTolerateTornTail, false, /*create_if_missing=*/true});
    }
    for (const Observer& o : observers) {
      std::vector<std::string> changed;
      Findings f = Observe(o, damaged, damaged_tree, "", &changed);
      // A writer open that changed files: the next open must still see every record as the
      // first one did (nothing "repaired" away between two opens).
      if (!o.read_only && !f.store_refused &&
          std::any_of(changed.begin(), changed.end(),
                      [](const std::string& p) { return !p.starts_with("LOCK "); })) {
        Findings again = Observe(o, damaged, ReadTree(set_.dir()), "second open: ", nullptr);
        for (std::string& p : again.problems) {
          const std::string plain = p.substr(std::string("second open: ").size());
          if (std::find(f.problems.begin(), f.problems.end(), plain) == f.problems.end()) {
            f.problems.push_back(std::move(p));
          }
        }
        changed = DiffDir(set_.dir(), damaged_tree);
      }
      for (const std::string& p : f.problems) problems[p].push_back(ObserverName(o));
      for (const std::string& oc : f.outcomes) ++totals_.outcomes[oc];
      if (!changed.empty()) RestoreDir(set_.dir(), damaged_tree, changed);
    }
    if (with_cli) {
      for (const std::string& p :
           CheckCli(g_cli, set_, damaged, kTimeoutSeconds, &totals_.cli_runs)) {
        problems[p].push_back("recstore tool");
      }
      const std::vector<std::string> changed = DiffDir(set_.dir(), damaged_tree);
      if (!changed.empty()) {
        problems["the recstore tool (read-only) changed files: " + absl::StrJoin(changed, ", ")]
            .push_back("recstore tool");
        RestoreDir(set_.dir(), damaged_tree, changed);
      }
    }
    if (problems.empty()) return;
    ++totals_.failed;
    std::string text;
    for (const auto& [p, who] : problems) {
      absl::StrAppend(&text, "\n  - ", p, "\n      [", absl::StrJoin(who, "; "), "]");
    }
    ADD_FAILURE() << "damage: " << absl::StrJoin(files, " + ") << " " << DamageName(d) << text;
  }

 private:
  // One observation in a child, on the store as `before` has it, with the checks of what the
  // open changed: a refused writer open and a read-only open change nothing (a writer may
  // rewrite the LOCK file), and a writer open brings a damaged LOCK file back.
  // One observation in a child, on the store as `before` has it, with the checks of what the
  // open changed: a refused writer open and a read-only open change nothing (a writer may
  // rewrite the LOCK file), and a writer open brings a damaged LOCK file back. Sets *changed
  // (if given) to every path the open changed.
  Findings Observe(const Observer& o, const std::set<std::string>& damaged, const Tree& before,
                   const std::string& prefix, std::vector<std::string>* changed) {
    Findings f = ObserveInChild(set_, damaged, o, kTimeoutSeconds, prefix);
    ++totals_.observations;
    totals_.records += f.records_checked;
    const std::vector<std::string> diff = DiffDir(set_.dir(), before);
    std::vector<std::string> wrong;  // changes the open had no right to make
    for (const std::string& p : diff) {
      if (o.read_only) {
        wrong.push_back(p);
      } else if (f.store_refused) {
        if (!p.starts_with("LOCK ")) wrong.push_back(p);
      } else {
        for (const std::string& folder : f.refused) {
          if (p.starts_with(folder + "/")) wrong.push_back(p);
        }
      }
    }
    if (!wrong.empty()) {
      f.problems.push_back(absl::StrCat(prefix,
                                        o.read_only ? "the read-only open" : "the refused open",
                                        " changed files: ", absl::StrJoin(wrong, ", ")));
    }
    if (!o.read_only && !f.store_refused && damaged.count("LOCK") > 0 &&
        !std::filesystem::exists(set_.dir() + "/LOCK")) {
      f.problems.push_back(prefix + "the writer open did not create the LOCK file again");
    }
    if (changed != nullptr) *changed = diff;
    return f;
  }

  const FileSet& set_;
  Tree now_;  // what the store directory holds
  Totals totals_;
};

absl::StatusOr<FileSet> BuildIn(const std::string& name, FileSet::Layout layout) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir = std::filesystem::path(root != nullptr ? root : "/tmp") / name;
  std::filesystem::remove_all(dir);
  return FileSet::Build(dir.string(), layout);
}

// The store most tests damage: built once per process (per shard) on first use; each test
// leaves it as it found it.
const FileSet* MixedStore() {
  static const absl::StatusOr<FileSet>* set =
      new absl::StatusOr<FileSet>(BuildIn("damaged_files_store", FileSet::Layout::kMixed));
  EXPECT_TRUE(set->ok()) << set->status();
  return set->ok() ? &**set : nullptr;
}

// Whether case `n` of an enumeration (pair after pair, each with every damage in kDamages
// order) is in a sample of one in `sample`.
bool Sampled(size_t pair, Damage d, size_t sample) {
  return (pair * std::size(kDamages) + static_cast<size_t>(d)) % sample == 0;
}
bool SampledCli(size_t pair, Damage d, size_t sample) {
  return WithCli((pair * std::size(kDamages) + static_cast<size_t>(d)) / sample);
}

// The checks themselves: the undamaged store passes every one of them in every mode.
TEST(DamagedFilesCheckTest, UndamagedStorePassesEveryCheck) {
  ASSERT_NE(g_cli, nullptr) << "usage: damaged_files_test PATH_TO_RECSTORE_TOOL";
  const FileSet* set = MixedStore();
  ASSERT_NE(set, nullptr);
  for (const Observer& o : kObservers) {
    Findings f = ObserveInChild(*set, {}, o, kTimeoutSeconds);
    EXPECT_TRUE(f.problems.empty()) << ObserverName(o) << ": " << absl::StrJoin(f.problems, "\n");
    EXPECT_GT(f.records_checked, 10000u);
    const std::vector<std::string> changed = DiffDir(set->dir(), set->pristine(), {"LOCK"});
    EXPECT_TRUE(changed.empty()) << ObserverName(o) << " changed " << absl::StrJoin(changed, ", ");
  }
  uint64_t runs = 0;
  std::vector<std::string> cli = CheckCli(g_cli, *set, {}, kTimeoutSeconds, &runs);
  EXPECT_TRUE(cli.empty()) << absl::StrJoin(cli, "\n");
}

// One instance per damage, so that the shards share the work evenly.
class DamagedFilesTest : public ::testing::TestWithParam<Damage> {
 protected:
  void SetUp() override {
    ASSERT_NE(g_cli, nullptr) << "usage: damaged_files_test PATH_TO_RECSTORE_TOOL";
    set_ = MixedStore();
    ASSERT_NE(set_, nullptr);
  }

  // Every pair of `files` (one case in kWithinSample in CI).
  void PairsWithin(const std::vector<std::string>& files) {
    Runner run(*set_);
    const size_t sample = FullRun() ? 1 : kWithinSample;
    size_t pair = 0;
    for (size_t i = 0; i < files.size(); ++i) {
      for (size_t j = i + 1; j < files.size(); ++j, ++pair) {
        if (Sampled(pair, GetParam(), sample)) {
          run.RunCase({files[i], files[j]}, GetParam(), SampledCli(pair, GetParam(), sample));
        }
      }
    }
  }

  const FileSet* set_ = nullptr;
};

TEST_P(DamagedFilesTest, SingleFiles) {
  Runner run(*set_);
  for (const std::string& file : set_->Files()) run.RunCase({file}, GetParam());
}

TEST_P(DamagedFilesTest, PairsWithinFixedCollection) { PairsWithin(set_->collections()[0].files); }

TEST_P(DamagedFilesTest, PairsWithinByteCollection) { PairsWithin(set_->collections()[1].files); }

TEST_P(DamagedFilesTest, PairsWithinCheckpointSet) { PairsWithin(set_->collections()[2].files); }

// Pairs of files in different collections, a collection file with MANIFEST or LOCK, and
// MANIFEST with LOCK (one case in kCrossSample in CI).
TEST_P(DamagedFilesTest, PairsAcrossCollectionsAndStoreFiles) {
  Runner run(*set_);
  const std::vector<std::string> all = set_->Files();
  const size_t sample = FullRun() ? 1 : kCrossSample;
  size_t pair = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = i + 1; j < all.size(); ++j) {
      const int ci = set_->CollectionOf(all[i]), cj = set_->CollectionOf(all[j]);
      if (ci == cj && ci >= 0) continue;
      if (Sampled(pair, GetParam(), sample)) {
        run.RunCase({all[i], all[j]}, GetParam(), SampledCli(pair, GetParam(), sample));
      }
      ++pair;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Damages, DamagedFilesTest, ::testing::ValuesIn(kDamages),
                         [](const ::testing::TestParamInfo<Damage>& info) {
                           switch (info.param) {
                             case Damage::kDelete:
                               return "Deleted";
                             case Damage::kZero:
                               return "Zeroed";
                             case Damage::kTruncate:
                               return "TruncatedToZero";
                             case Damage::kTruncateToHeader:
                               return "TruncatedToHeader";
                             case Damage::kZeroHeader:
                               return "HeaderZeroed";
                           }
                           return "Unknown";
                         });

// A byte log whose five middle segments are gone: the hole spans more records than a segment
// has slots, so a read that takes the segment before the hole for the one holding a record
// in it looks for that record's slot far outside the segment (issue 12, bug 5).
TEST(DamagedFilesHoleTest, ByteLogWithFiveMiddleSegmentsMissing) {
  ASSERT_NE(g_cli, nullptr) << "usage: damaged_files_test PATH_TO_RECSTORE_TOOL";
  absl::StatusOr<FileSet> set = BuildIn("damaged_files_ticks", FileSet::Layout::kTinyRecords);
  ASSERT_TRUE(set.ok()) << set.status();
  const std::vector<std::string>& files = set->collections()[0].files;
  ASSERT_GE(files.size(), 7u);
  Runner(*set).RunCase({files.begin() + 1, files.begin() + 6}, Damage::kDelete);
}

}  // namespace
}  // namespace recstore::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) recstore::testing::g_cli = argv[1];
  return RUN_ALL_TESTS();
}
