// Every bit of every segment header and commit block, a sample of the rest of each header page,
// and every bit of the manifest, flipped one at a time in a fresh copy of an engine-built store,
// then reopened in every recovery mode. Each flip must be detected as docs/format.md and
// docs/design.md describe, or land in bytes they document as never read:
//
// * segment header (bytes 0..71): all covered by its checksum, so the segment does not open,
//   and as every segment opens with its collection, the open fails with DataLoss naming it;
// * commit block (2048..2079): the block no longer decodes and is ignored; for the newest
//   segment recovery starts from the previous segment's block, keeps every record, and a
//   writer writes the block again (under absolute consistency, which scans every segment,
//   every block); older segments' blocks are otherwise not read while a newer block is valid
//   (the flip changes nothing);
// * the rest of the header page: written zero, never read (format.md 3, "zero[...]");
// * MANIFEST: bad magic is FailedPrecondition, anything else fails a checksum: DataLoss; both
//   name the file, for writers and readers.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/corruption/observe.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

// Sanitizer builds (several times slower) flip bits 0, 3 and 6 of every byte; the plain
// build flips all eight.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kBitStep = 3;
#else
constexpr int kBitStep = 1;
#endif
constexpr RecoveryMode kModes[] = {RecoveryMode::kTolerateTornTail, RecoveryMode::kSalvage,
                                   RecoveryMode::kAbsoluteConsistency};

std::string ReadRange(const std::string& path, uint64_t offset, size_t n) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  return s;
}

class HeaderFlipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(image_, StoreImage::Build(TestDir()));
    for (CollectionKind kind : {CollectionKind::kFixed, CollectionKind::kVariable}) {
      images_.push_back(image_.collection(kind));
      images_.push_back(WithoutCommitBlocks(image_.collection(kind)));
    }
  }

  // Restores a fresh copy of `c` and flips `bit` of byte `offset` of `path`.
  void Flip(const CollectionImage& c, const std::string& path, uint64_t offset, int bit) {
    std::set<std::string> changed = env_.TakeChangedPaths();
    changed.insert(damaged_);
    image_.Restore(c, changed);
    damaged_ = path;
    FlipBit(path, offset, bit);
  }

  Expectation Base(const CollectionImage& c, RecoveryMode mode) {
    Expectation e = Intact(c);
    if (mode == RecoveryMode::kAbsoluteConsistency) e.durable_point = 0;
    return e;
  }

  StoreImage image_;
  std::vector<CollectionImage> images_;
  HeapMapEnv env_;
  std::string damaged_;
};

// One instance per image (fixed, fixed without commit blocks, bytes, bytes without), so that
// Bazel's shards use both cores.
class SegmentHeaderFlipTest : public HeaderFlipTest, public ::testing::WithParamInterface<int> {};

TEST_P(SegmentHeaderFlipTest, EverySegmentHeaderBitIsDetected) {
  Tally tally;
  uint64_t flips = 0;
  {
    const CollectionImage& c = images_[GetParam()];
    for (size_t k = 0; k < c.segments.size(); ++k) {
      const std::string path = c.SegmentPath(image_.dir(), k);
      for (uint64_t offset = 0; offset < format::kEncodedSegmentHeaderSize; ++offset) {
        ASSERT_EQ(c.Classify(k, offset).role, ByteRole::kHeader);
        for (int bit = 0; bit < 8; bit += kBitStep) {
          ++flips;
          for (RecoveryMode mode : kModes) {
            // Every segment is mapped and its header checked when the collection opens.
            const Expectation want{.open = absl::StatusCode::kDataLoss,
                                   .error_names = c.segments[k].file};
            Flip(c, path, offset, bit);
            Observation obs = Observe(&env_, image_, c, mode);
            tally.AddOutcome(obs, mode);
            ASSERT_TRUE(
                Matches(obs, want, c, mode,
                        absl::StrCat(c.name, c.commit_blocks ? "" : " (no commit blocks)", " ",
                                     c.segments[k].file, " header byte ", offset, " bit ", bit)));
          }
        }
      }
    }
  }
  tally.Add("segment header bit flips", flips);
  tally.Print(absl::StrCat("segment headers, ", images_[GetParam()].name,
                           images_[GetParam()].commit_blocks ? "" : " (no commit blocks)"));
}

INSTANTIATE_TEST_SUITE_P(Images, SegmentHeaderFlipTest, ::testing::Range(0, 4));

TEST_F(HeaderFlipTest, EveryCommitBlockBitIsIgnoredAndTheNewestRewritten) {
  Tally tally;
  uint64_t flips = 0;
  for (const CollectionImage& c : images_) {
    if (!c.commit_blocks) continue;
    for (size_t k = 0; k < c.segments.size(); ++k) {
      const std::string path = c.SegmentPath(image_.dir(), k);
      const bool newest = k + 1 == c.segments.size();
      const std::string block = c.segments[k].bytes.substr(format::kCommitBlockOffset, 32);
      for (uint64_t i = 0; i < 32; ++i) {
        const uint64_t offset = format::kCommitBlockOffset + i;
        ASSERT_EQ(c.Classify(k, offset).role, ByteRole::kCommit);
        for (int bit = 0; bit < 8; bit += kBitStep) {
          ++flips;
          for (RecoveryMode mode : kModes) {
            Expectation want = Base(c, mode);
            if (newest && mode != RecoveryMode::kAbsoluteConsistency) {
              want.durable_point = c.segments[k].first_seq;  // the previous segment's block
            }
            const std::string trial =
                absl::StrCat(c.name, " ", c.segments[k].file, " commit byte ", i, " bit ", bit);
            Flip(c, path, offset, bit);
            Observation obs = Observe(&env_, image_, c, mode);
            tally.AddOutcome(obs, mode);
            ASSERT_TRUE(Matches(obs, want, c, mode, trial));
            const bool rewritten = ReadRange(path, format::kCommitBlockOffset, 32) == block;
            // The writer writes the blocks of the segments recovery scanned and flushed again:
            // the newest, and under absolute consistency all of them. Older ones stay as they
            // are, unread.
            EXPECT_EQ(rewritten, newest || mode == RecoveryMode::kAbsoluteConsistency)
                << trial << " [" << ModeName(mode) << "]";
            tally.Add(rewritten ? "commit flips: block rewritten by the writer"
                                : "commit flips: block of an older segment, not scanned");
          }
        }
      }
    }
  }
  tally.Add("commit block bit flips", flips);
  tally.Print("commit blocks");
}

TEST_F(HeaderFlipTest, HeaderPageFillerIsNeverRead) {
  Tally tally;
  uint64_t flips = 0;
  for (const CollectionImage& c : images_) {
    for (size_t k = 0; k < c.segments.size(); ++k) {
      const std::string path = c.SegmentPath(image_.dir(), k);
      for (uint64_t offset = format::kEncodedSegmentHeaderSize; offset < format::kDataStart;
           offset += 61) {
        if (c.Classify(k, offset).role != ByteRole::kHeaderFiller) continue;
        ++flips;
        for (RecoveryMode mode : kModes) {
          Flip(c, path, offset, static_cast<int>(offset % 8));
          Observation obs = Observe(&env_, image_, c, mode);
          tally.AddOutcome(obs, mode);
          ASSERT_TRUE(
              Matches(obs, Base(c, mode), c, mode,
                      absl::StrCat(c.name, " ", c.segments[k].file, " filler byte ", offset)));
        }
      }
    }
  }
  tally.Add("header page filler bit flips (sampled)", flips);
  tally.Print("header page filler");
}

TEST_F(HeaderFlipTest, EveryManifestBitFailsTheOpenNamingTheManifest) {
  Tally tally;
  const CollectionImage& c = images_[0];
  const std::string path = image_.dir() + "/MANIFEST";
  const uint64_t size = image_.manifest().size();
  for (uint64_t offset = 0; offset < size; ++offset) {
    for (int bit = 0; bit < 8; bit += kBitStep) {
      // format.md 2.1: bad magic first (FailedPrecondition), then the header checksum, which
      // covers the version, byte order and body length, then the body checksum (DataLoss).
      const absl::StatusCode code =
          offset < 8 ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kDataLoss;
      for (bool read_only : {false, true}) {
        Flip(c, path, offset, bit);
        Observation obs = Observe(&env_, image_, c, RecoveryMode::kTolerateTornTail, {}, read_only);
        tally.Add(absl::StrCat("manifest flips: open refused (", absl::StatusCodeToString(code),
                               read_only ? ", reader)" : ", writer)"));
        ASSERT_TRUE(Matches(obs, Expectation{.open = code, .error_names = "MANIFEST"}, c,
                            RecoveryMode::kTolerateTornTail,
                            absl::StrCat("MANIFEST byte ", offset, " bit ", bit,
                                         read_only ? " (reader)" : " (writer)")));
      }
    }
  }
  tally.Add("manifest bit flips", size * ((8 + kBitStep - 1) / kBitStep));
  tally.Print("manifest");
}

}  // namespace
}  // namespace recstore::testing
