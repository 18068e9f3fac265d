// Random single-bit flips in record data: fixed records (payload, padding, checksum), frames of
// byte records (length, flags, checksum, payload, padding) and the byte log's slot index.
//
// Each trial restores a pristine copy of the store's files (built once by the engine), flips
// one seeded random bit, and reopens in each recovery mode. Every flip in a checksummed byte
// must be detected: by Verify() (naming the record, its file and offset) and by Get/scans
// (DataLoss, or the record not returned), with each mode doing what options.h documents.
// Flips in padding, which no checksum covers (format.md 3.3, 3.4, 5), must change nothing.
// The store is opened both as closed (commit blocks current: damage sits before the durable
// point and is found on read) and with its commit blocks zeroed (recovery checks every record
// at open).
//
// Replay one trial: RECSTORE_CORRUPTION_SEED=<seed> and RECSTORE_CORRUPTION_TRIAL=<n>.
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/corruption/observe.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

constexpr uint64_t kDefaultSeed = 0x5eed2026;
// Sanitizer builds (several times slower) run a quarter of the trials; the plain build all.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kTrials = 2500;
#else
constexpr int kTrials = 10000;
#endif
constexpr int kFreeSpaceTrials = 400;
constexpr RecoveryMode kModes[] = {RecoveryMode::kTolerateTornTail, RecoveryMode::kSalvage,
                                   RecoveryMode::kAbsoluteConsistency};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 0) : fallback;
}

// The documented outcome of one flipped bit at `offset` of the segment holding `info.seq`.
Expectation Model(const CollectionImage& c, const ByteInfo& info, uint64_t offset, int bit,
                  RecoveryMode mode) {
  Expectation e = Intact(c);
  if (mode == RecoveryMode::kAbsoluteConsistency) e.durable_point = 0;  // trusts no commit block
  const RecordLoc& r = c.records[info.seq];
  const std::string& file = c.segments[r.segment].file;
  switch (info.role) {
    case ByteRole::kSlot:
      // Recovery walks frames by their lengths and a writer rewrites a slot that disagrees;
      // before the durable point nothing is walked, and reads find the slot wrong.
      if (c.commit_blocks && mode != RecoveryMode::kAbsoluteConsistency) {
        e.bad_records = {r.seq};
        e.first_bad_offset = r.offset ^ (uint64_t{1} << (8 * (offset - r.slot) + bit));
      }
      return e;
    case ByteRole::kCovered:
      if (mode == RecoveryMode::kAbsoluteConsistency) {
        e.open = absl::StatusCode::kDataLoss;
        e.error_names = file;
      } else if (c.commit_blocks) {
        e.bad_records = {r.seq};  // before the durable point: found on read
        e.first_bad_offset = r.offset;
      } else if (mode == RecoveryMode::kSalvage && c.HasNextInSegment(r.seq)) {
        e.bad_records = {r.seq};  // kept as a hole
        e.skipped = {r.seq};
        e.first_bad_offset = r.offset;
      } else {
        // The tail is cut at the bad record (salvage too, when no record follows it in its
        // segment) and later segments are removed.
        e.end = r.seq;
        e.truncated = true;
        e.truncated_file = file;
        e.truncated_offset = r.offset;
        e.segments_removed = c.segments.size() - 1 - r.segment;
      }
      return e;
    default:
      return e;  // padding: not covered, never read
  }
}

class DataFlipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(image_, StoreImage::Build(TestDir()));
    for (CollectionKind kind : {CollectionKind::kFixed, CollectionKind::kVariable}) {
      images_.push_back(image_.collection(kind));
      images_.push_back(WithoutCommitBlocks(image_.collection(kind)));
    }
  }

  // Restores the files of `c` changed since the last call, then flips `bit` of byte `offset`
  // of its segment `segment`.
  void Damage(const CollectionImage& c, size_t segment, uint64_t offset, int bit) {
    std::set<std::string> changed = env_.TakeChangedPaths();
    changed.insert(damaged_);
    image_.Restore(c, changed);
    damaged_ = c.SegmentPath(image_.dir(), segment);
    FlipBit(damaged_, offset, bit);
  }

  // Flips `bit` of byte `offset` of segment `segment` of `c` and checks every mode.
  bool RunTrial(const CollectionImage& c, size_t segment, uint64_t offset, int bit,
                const ByteInfo& info, const std::string& trial, Tally* tally) {
    for (RecoveryMode mode : kModes) {
      Damage(c, segment, offset, bit);
      Observation obs = Observe(&env_, image_, c, mode, {info.seq});
      if (!Matches(obs, Model(c, info, offset, bit, mode), c, mode, trial)) return false;
      tally->AddOutcome(obs, mode);
    }
    EXPECT_EQ(env_.live_mappings(), 0u) << trial;
    return true;
  }

  StoreImage image_;
  std::vector<CollectionImage> images_;  // fixed, fixed without commits, bytes, bytes without
  HeapMapEnv env_;
  std::string damaged_;  // the file damaged last
};

// The trials run in two slices (even and odd), so that Bazel's shards use both cores.
class DataFlipSliceTest : public DataFlipTest, public ::testing::WithParamInterface<int> {};

TEST_P(DataFlipSliceTest, EveryFlipInRecordDataIsDetectedOrHarmless) {
  const uint64_t seed = EnvNumber("RECSTORE_CORRUPTION_SEED", kDefaultSeed);
  const uint64_t only = EnvNumber("RECSTORE_CORRUPTION_TRIAL", ~uint64_t{0});
  std::mt19937_64 rng(seed);
  Tally tally;
  for (int t = 0; t < kTrials; ++t) {
    const CollectionImage& c = images_[t % images_.size()];
    const RecordLoc& r = c.records[rng() % c.size()];
    // A byte of the record's slot or frame, or (byte records) of its slot-index entry.
    const uint64_t span = r.span + (c.fixed() ? 0 : 4);
    const uint64_t k = rng() % span;
    const uint64_t offset = k < r.span ? r.offset + k : r.slot + (k - r.span);
    const int bit = static_cast<int>(rng() % 8);
    if (only != ~uint64_t{0} ? only != static_cast<uint64_t>(t) : t % 2 != GetParam()) continue;
    const ByteInfo info = c.Classify(r.segment, offset);
    const std::string trial = absl::StrCat("seed ", seed, " trial ", t, ": ", c.name,
                                           c.commit_blocks ? "" : " (no commit blocks)", " record ",
                                           r.seq, " ", c.segments[r.segment].file, " offset ",
                                           offset, " bit ", bit, " (", RoleName(info.role), ")");
    ASSERT_EQ(info.seq, r.seq) << trial;
    tally.Add(absl::StrCat("data bit flips: ", RoleName(info.role)));
    if (!RunTrial(c, r.segment, offset, bit, info, trial, &tally)) break;
  }
  tally.Add("data bit flips (this slice)", kTrials / 2);
  tally.Print(absl::StrCat("record data, slice ", GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Slices, DataFlipSliceTest, ::testing::Values(0, 1));

// Flips in the free space after the last record of the newest segment: the writer's recovery
// zeroes them (kTolerateTornTail, kSalvage) or refuses the open (kAbsoluteConsistency). The
// report counts non-zero bytes only up to the first all-zero page after the cut, plus slots
// of dropped byte records (design.md 5, step 5), so a flip further on is cleared unreported.
TEST_F(DataFlipTest, FlipsAfterTheLastRecordAreReportedAndCleared) {
  std::mt19937_64 rng(EnvNumber("RECSTORE_CORRUPTION_SEED", kDefaultSeed) + 1);
  Tally tally;
  for (int t = 0; t < kFreeSpaceTrials; ++t) {
    const CollectionImage& c = images_[t % images_.size()];
    const size_t newest = c.segments.size() - 1;
    const RecordLoc& last = c.records.back();
    const uint64_t from = last.offset + last.span;
    const uint64_t to = c.fixed() ? c.segments[newest].bytes.size() : last.slot;
    const uint64_t offset = from + rng() % (to - from);
    const int bit = static_cast<int>(rng() % 8);
    const std::string trial = absl::StrCat("trial ", t, ": ", c.name, " offset ", offset, " bit ",
                                           bit, c.commit_blocks ? "" : " (no commit blocks)");
    ASSERT_EQ(c.Classify(newest, offset).role, ByteRole::kFree) << trial;
    for (RecoveryMode mode : kModes) {
      Damage(c, newest, offset, bit);
      Observation obs = Observe(&env_, image_, c, mode, {last.seq});
      Expectation want = Intact(c);
      const bool reported = offset < format::RoundUp(from + 1, format::kPageSize) ||
                            (!c.fixed() && offset >= last.slot - format::kSlotSize);
      if (mode == RecoveryMode::kAbsoluteConsistency) {
        want.open = absl::StatusCode::kDataLoss;
        want.error_names = c.segments[newest].file;
      } else if (reported) {
        want.truncated = true;
        want.truncated_file = c.segments[newest].file;
        want.truncated_offset = from;
      }
      ASSERT_TRUE(Matches(obs, want, c, mode, trial));
      if (mode != RecoveryMode::kAbsoluteConsistency) {
        tally.Add(reported ? "free-space flips reported" : "free-space flips cleared unreported");
        // The writer zeroed it and recorded the durable point: the next open is clean.
        Expectation clean = Intact(c);
        clean.durable_point = c.size();
        Observation again = Observe(&env_, image_, c, mode, {last.seq});
        ASSERT_TRUE(Matches(again, clean, c, mode, trial + " (second open)"));
      }
      tally.AddOutcome(obs, mode);
    }
  }
  tally.Add("free-space bit flips", kFreeSpaceTrials);
  tally.Print("free space");
}

}  // namespace
}  // namespace recstore::testing
