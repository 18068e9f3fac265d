// Segment files damaged at every byte offset within their last two records, for both record
// kinds, for the newest and for a middle segment, with the commit blocks as a clean close left
// them and with none (recovery then checks every record at open), in every recovery mode:
//
// * Cut short (truncated at the offset). Segments are preallocated and never change size, so
//   the size no longer matches the header: the segment does not open (format.md 3.1), and as
//   every segment is opened with its collection, the open fails with DataLoss naming it.
// * Zeroed from the offset to the end, size kept: what a lost tail looks like. The open keeps
//   exactly the records before the damage when recovery checks them (kTolerateTornTail,
//   kSalvage), refuses if anything non-zero follows the cut (kAbsoluteConsistency), and
//   otherwise Verify/Get report the damaged records.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/format/layout.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/corruption/observe.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

constexpr RecoveryMode kModes[] = {RecoveryMode::kTolerateTornTail, RecoveryMode::kSalvage,
                                   RecoveryMode::kAbsoluteConsistency};

struct Case {
  const CollectionImage* c;
  size_t segment;  // the damaged segment
  uint64_t cut;    // the offset
  RecoveryMode mode;
};

Expectation Base(const Case& k) {
  Expectation e = Intact(*k.c);
  if (k.mode == RecoveryMode::kAbsoluteConsistency) e.durable_point = 0;
  return e;
}

Expectation FailsNaming(const Case& k) {
  Expectation e;
  e.open = absl::StatusCode::kDataLoss;
  e.error_names = k.c->segments[k.segment].file;
  return e;
}

// The file cut at `cut`: the segment, and so the collection, does not open.
Expectation CutShort(const Case& k) { return FailsNaming(k); }

// The first record of the segment that zeroing from `cut` changes.
uint64_t FirstDamaged(const Case& k) {
  const CollectionImage& c = *k.c;
  const SegmentImage& s = c.segments[k.segment];
  for (uint64_t seq = s.first_seq; seq < s.first_seq + s.records; ++seq) {
    const RecordLoc& r = c.records[seq];
    for (uint64_t b = std::max(r.offset, k.cut); b < r.offset + r.span; ++b) {
      if (c.Classify(k.segment, b).role == ByteRole::kCovered && s.bytes[b] != 0) return seq;
    }
  }
  return c.size();
}

// The segment zeroed from `cut` to its end; `d` is FirstDamaged(k).
Expectation ZeroedTail(const Case& k, uint64_t d) {
  const CollectionImage& c = *k.c;
  const SegmentImage& s = c.segments[k.segment];
  const bool newest = k.segment + 1 == c.segments.size();
  if (d == c.size()) {
    // Only the last frame's padding and the free space went: no record changed. The byte
    // segment's slot index went too, which recovery rewrites when it reads the segment.
    Expectation e = Base(k);
    if (c.commit_blocks && !c.fixed() && k.mode != RecoveryMode::kAbsoluteConsistency) {
      for (uint64_t seq = s.first_seq; seq < s.first_seq + s.records; ++seq) {
        e.bad_records.insert(seq);
      }
    }
    return e;
  }
  const RecordLoc& rd = c.records[d];
  bool nonzero_before_cut = false;  // bytes of the damaged record that zeroing left
  for (uint64_t b = rd.offset; b < k.cut; ++b) nonzero_before_cut |= s.bytes[b] != 0;
  Expectation e = Base(k);
  if (k.mode == RecoveryMode::kAbsoluteConsistency) {
    // Refused if anything follows the last valid record, or if the segment's commit block
    // says more records were durable; else the log just ends there.
    if (!newest || nonzero_before_cut || c.commit_blocks) {
      e = FailsNaming(k);
    } else {
      e.end = d;
    }
    return e;
  }
  if (c.commit_blocks) {
    // Before the durable point: nothing is read at open; reads find the damage. The byte
    // segment's slot index (at the end of the file) is gone too, so none of its records reads.
    for (uint64_t seq = s.first_seq; seq < s.first_seq + s.records; ++seq) {
      if (!c.fixed() || seq >= d) e.bad_records.insert(seq);
    }
    if (c.fixed()) e.first_bad_offset = rd.offset;
    return e;
  }
  // Checked at open: cut at the first damaged record (no valid record follows it in its
  // segment, so salvage cannot skip it), later segments removed.
  e.end = d;
  e.truncated = nonzero_before_cut || !newest;
  e.truncated_file = s.file;
  e.truncated_offset = rd.offset;
  e.segments_removed = c.segments.size() - 1 - k.segment;
  return e;
}

class TruncationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(image_, StoreImage::Build(TestDir()));
    for (CollectionKind kind : {CollectionKind::kFixed, CollectionKind::kVariable}) {
      images_.push_back(image_.collection(kind));
      images_.push_back(WithoutCommitBlocks(image_.collection(kind)));
    }
  }

  // Damages segment `k.segment` of a fresh copy with `damage(path)` and checks the mode.
  template <typename Damage>
  bool Try(const Case& k, Damage damage, const Expectation& want, const std::string& trial,
           Tally* tally) {
    std::set<std::string> changed = env_.TakeChangedPaths();
    changed.insert(damaged_);
    image_.Restore(*k.c, changed);
    damaged_ = k.c->SegmentPath(image_.dir(), k.segment);
    damage(damaged_);
    const uint64_t last = k.c->segments[k.segment].first_seq + k.c->segments[k.segment].records;
    Observation obs = Observe(&env_, image_, *k.c, k.mode, {last - 2, last - 1});
    tally->AddOutcome(obs, k.mode);
    return Matches(obs, want, *k.c, k.mode, trial);
  }

  StoreImage image_;
  std::vector<CollectionImage> images_;
  HeapMapEnv env_;
  std::string damaged_;
};

// One instance per image (fixed, fixed without commit blocks, bytes, bytes without), so that
// Bazel's shards use both cores.
class TruncationImageTest : public TruncationTest, public ::testing::WithParamInterface<int> {};

TEST_P(TruncationImageTest, EveryOffsetWithinTheLastTwoRecords) {
  Tally tally;
  uint64_t cuts = 0;
  {
    const CollectionImage& c = images_[GetParam()];
    for (size_t segment : {c.segments.size() - 1, size_t{1}}) {
      const SegmentImage& s = c.segments[segment];
      const RecordLoc& r1 = c.records[s.first_seq + s.records - 2];
      const RecordLoc& r2 = c.records[s.first_seq + s.records - 1];
      for (uint64_t cut = r1.offset; cut < r2.offset + r2.span; ++cut) {
        ++cuts;
        for (RecoveryMode mode : kModes) {
          const Case k{&c, segment, cut, mode};
          const std::string where =
              absl::StrCat(c.name, c.commit_blocks ? "" : " (no commit blocks)", " ", s.file,
                           " at ", cut, " (records ", r1.seq, "-", r2.seq, ")");
          ASSERT_TRUE(Try(
              k, [&](const std::string& p) { CutFile(p, cut); }, CutShort(k), "cut short: " + where,
              &tally));
          const uint64_t d = FirstDamaged(k);
          ASSERT_TRUE(d < c.size() || (!c.fixed() && cut >= r2.offset)) << where;
          ASSERT_TRUE(Try(
              k, [&](const std::string& p) { ZeroFrom(p, cut); }, ZeroedTail(k, d),
              "zeroed from: " + where, &tally));
        }
      }
    }
  }
  EXPECT_EQ(env_.live_mappings(), 0u);
  tally.Add("truncation offsets (each cut short and zeroed, in every mode)", cuts);
  tally.Print(absl::StrCat("truncation, ", images_[GetParam()].name,
                           images_[GetParam()].commit_blocks ? "" : " (no commit blocks)"));
}

INSTANTIATE_TEST_SUITE_P(Images, TruncationImageTest, ::testing::Range(0, 4));

}  // namespace
}  // namespace recstore::testing
