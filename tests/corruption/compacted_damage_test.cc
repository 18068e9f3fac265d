// Recovery modes over damaged records that compaction touches (issue 18, bugs 4 and 5), for
// both record kinds, on the damaged-file tests' store (file_set.h: three compacted and five
// or more ordinary segments per collection, everything synced).
//
// * kAbsoluteConsistency verifies "every record of every segment" at open (options.h): a
//   damaged record in a compacted segment must fail the open with DataLoss naming the file and
//   the record's offset, and the refused open changes no file.
// * kSalvage skips a damaged record in reads, but a Merge must not launder it into a gap
//   ("removed by compaction"): Merge refuses with DataLoss naming the record, changes nothing,
//   and the record stays visible as damage (Get DataLoss, Verify not ok), also after a reopen.
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "tests/corruption/file_set.h"
#include "tests/corruption/observe.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Base(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// A damaged record: where it is and what was done to it.
struct Damaged {
  const CollectionTruth* c = nullptr;
  uint64_t seq = 0;
  std::string file;     // relative to the store
  uint64_t offset = 0;  // of the record (fixed slot or frame) in the file
};

class CompactedDamageTest : public ::testing::TestWithParam<CollectionKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<FileSet> set = FileSet::Build(TestDir());
    ASSERT_TRUE(set.ok()) << set.status();
    set_ = std::make_unique<FileSet>(*std::move(set));
    c_ = &set_->collections()[GetParam() == CollectionKind::kFixed ? 0 : 1];
    ASSERT_EQ(c_->kind, GetParam());
  }

  // The number of compacted files (they come first in c_->files).
  size_t Compacted() const {
    size_t n = 0;
    for (const std::string& f : c_->files) n += Base(f).starts_with("c") ? 1 : 0;
    return n;
  }

  // Flips one checksummed byte of record `index` of file `file_index` (a payload byte of a
  // fixed record, a checksum byte of a frame).
  Damaged Damage(size_t file_index, uint64_t index) {
    Damaged d;
    d.c = c_;
    d.file = c_->files[file_index];
    const std::string& bytes = set_->pristine().at(d.file);
    if (c_->kind == CollectionKind::kFixed) {
      d.offset =
          format::kDataStart + index * format::FixedStride(sizeof(Reading), alignof(Reading));
    } else {
      d.offset = base::DecodeFixed32(bytes.data() + bytes.size() - format::kSlotSize * (index + 1));
    }
    // The record's sequence number: the file's records are dense (Merge kept every record).
    for (uint64_t seq = c_->begin; seq < c_->end; ++seq) {
      if (c_->FileOf(seq) == d.file) {
        d.seq = seq + index;
        break;
      }
    }
    EXPECT_EQ(c_->FileOf(d.seq), d.file);
    const uint64_t at = d.offset + (c_->kind == CollectionKind::kFixed ? 0 : 8);
    FlipBit(set_->dir() + "/" + d.file, at, 2);
    return d;
  }

  absl::StatusOr<std::unique_ptr<Store>> Open(RecoveryMode mode) {
    return Store::Open(set_->dir(), {.segment_size = kSegmentSize, .recovery_mode = mode});
  }

  // Every record but `d.seq` reads back with its bytes; `d.seq` is DataLoss naming its file.
  void ExpectOnlyTheDamagedRecordBad(const UntypedLog& log, const Damaged& d,
                                     const std::string& when) {
    uint64_t wrong = 0;
    for (uint64_t seq = c_->begin; seq < c_->end; ++seq) {
      absl::StatusOr<std::span<const std::byte>> r = log.Get(seq);
      if (seq == d.seq) {
        EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(Base(d.file))))
            << when << ": Get(" << seq << ")";
      } else if (!r.ok() || AsString(*r) != c_->records[seq - c_->begin]) {
        if (++wrong <= 3) ADD_FAILURE() << when << ": Get(" << seq << "): " << r.status();
      }
    }
    EXPECT_EQ(wrong, 0u) << when;
    absl::StatusOr<VerifyReport> v = log.Verify();
    ASSERT_TRUE(v.ok()) << when << ": " << v.status();
    if (!v->ok) {
      EXPECT_EQ(v->first_bad.seq, d.seq)
          << when << ": " << v->first_bad.file << ": " << v->first_bad.reason;
    } else {
      ADD_FAILURE() << when << ": Verify says ok over damaged record " << d.seq;
    }
  }

  // Issue 18, bug 5: opens in kSalvage and merges over the damaged record `d`.
  void MergeUnderSalvage(const Damaged& d) {
    ASSERT_OK_AND_ASSIGN(auto store, Open(RecoveryMode::kSalvage));
    ASSERT_OK_AND_ASSIGN(UntypedLog log, store->OpenUntyped(d.c->name));
    ExpectOnlyTheDamagedRecordBad(log, d, "before Merge");
    const Tree before = ReadTree(set_->dir());
    const absl::Status merged = log.Merge().status();
    EXPECT_THAT(merged,
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr(Base(d.file)), HasSubstr(absl::StrCat("record ", d.seq)))))
        << "Merge under kSalvage over damaged record " << d.seq << " in " << d.file;
    const std::vector<std::string> changed = DiffDir(set_->dir(), before, {"LOCK"});
    EXPECT_TRUE(changed.empty()) << "Merge changed " << absl::StrJoin(changed, ", ");
    EXPECT_EQ(log.info().generation, 1u) << "Merge switched to a new generation";
    ExpectOnlyTheDamagedRecordBad(log, d, "after Merge");
    log = UntypedLog();
    store.reset();
    ASSERT_OK_AND_ASSIGN(store, Open(RecoveryMode::kSalvage));
    ASSERT_OK_AND_ASSIGN(log, store->OpenUntyped(d.c->name));
    ExpectOnlyTheDamagedRecordBad(log, d, "after Merge and a reopen");
  }

  std::unique_ptr<FileSet> set_;
  const CollectionTruth* c_ = nullptr;
};

// Issue 18, bug 4.
TEST_P(CompactedDamageTest, AbsoluteConsistencyRefusesADamagedRecordInACompactedSegment) {
  ASSERT_GE(Compacted(), 2u);
  const Damaged d = Damage(/*file_index=*/1, /*index=*/5);
  const Tree damaged = ReadTree(set_->dir());
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open(RecoveryMode::kAbsoluteConsistency));
    EXPECT_THAT(
        store->OpenUntyped(c_->name).status(),
        StatusIs(absl::StatusCode::kDataLoss,
                 AllOf(HasSubstr(Base(d.file)), HasSubstr(absl::StrCat("offset ", d.offset)))));
  }
  const std::vector<std::string> changed = DiffDir(set_->dir(), damaged, {"LOCK"});
  EXPECT_TRUE(changed.empty()) << "the refused open changed " << absl::StrJoin(changed, ", ");
  // The damage is real: the default mode opens (compacted records are checked when read) and
  // reports the record, and only it.
  ASSERT_OK_AND_ASSIGN(auto store, Open(RecoveryMode::kTolerateTornTail));
  ASSERT_OK_AND_ASSIGN(UntypedLog log, store->OpenUntyped(c_->name));
  ExpectOnlyTheDamagedRecordBad(log, d, "kTolerateTornTail");
}

// Issue 18, bug 5: the damaged record in a sealed ordinary segment (the second one), or in a
// compacted segment, which Merge folds into the next generation too.
TEST_P(CompactedDamageTest, SalvageMergeRefusesADamagedRecordInASealedSegment) {
  const size_t file_index = Compacted() + 1;  // sealed: the active segment is the last one
  ASSERT_LT(file_index + 1, c_->files.size());
  MergeUnderSalvage(Damage(file_index, 3));
}

TEST_P(CompactedDamageTest, SalvageMergeRefusesADamagedRecordInACompactedSegment) {
  ASSERT_GE(Compacted(), 2u);
  MergeUnderSalvage(Damage(1, 7));
}

INSTANTIATE_TEST_SUITE_P(Kinds, CompactedDamageTest,
                         ::testing::Values(CollectionKind::kFixed, CollectionKind::kVariable),
                         [](const ::testing::TestParamInfo<CollectionKind>& info) {
                           return info.param == CollectionKind::kFixed ? "Fixed" : "Bytes";
                         });

}  // namespace
}  // namespace recstore::testing
