// A named segment that fails to open (bad header, or a file shorter than its capacity) is
// damage, not a torn creation: Segment::Create names a file only once its header and full
// allocation are on disk. Recovery must fail the open with DataLoss naming the file and leave
// the files alone, never delete the segment and the records in and after it.
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class SegmentOpenTest : public ::testing::TestWithParam<CollectionKind> {
 protected:
  void SetUp() override { ASSERT_OK_AND_ASSIGN(image_, StoreImage::Build(TestDir())); }

  // Opens the collection in the default mode; expects DataLoss naming segment `k`, and every
  // segment file still there.
  void ExpectOpenFailsNaming(const CollectionImage& c, size_t k) {
    for (RecoveryMode mode : {RecoveryMode::kTolerateTornTail, RecoveryMode::kSalvage,
                              RecoveryMode::kAbsoluteConsistency}) {
      ASSERT_OK_AND_ASSIGN(auto store, Store::Open(image_.dir(), {.recovery_mode = mode}));
      EXPECT_THAT(store->OpenUntyped(c.name),
                  StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.segments[k].file)));
    }
    for (size_t i = 0; i < c.segments.size(); ++i) {
      EXPECT_TRUE(Exists(c.SegmentPath(image_.dir(), i))) << c.segments[i].file;
    }
  }

  StoreImage image_;
};

TEST_P(SegmentOpenTest, NewestSegmentWithABadHeaderFailsTheOpen) {
  const CollectionImage& c = image_.collection(GetParam());
  const size_t newest = c.segments.size() - 1;
  FlipBit(c.SegmentPath(image_.dir(), newest), 40, 0);  // first_seq
  ExpectOpenFailsNaming(c, newest);
}

TEST_P(SegmentOpenTest, NewestSegmentCutShortFailsTheOpen) {
  const CollectionImage& c = image_.collection(GetParam());
  const size_t newest = c.segments.size() - 1;
  CutFile(c.SegmentPath(image_.dir(), newest), c.records.back().offset + 3);
  ExpectOpenFailsNaming(c, newest);
}

TEST_P(SegmentOpenTest, MiddleSegmentWithABadHeaderFailsAnOpenThatScansIt) {
  CollectionImage c = WithoutCommitBlocks(image_.collection(GetParam()));
  image_.Restore(c, {});  // no commit block: recovery scans every segment from record 0
  FlipBit(c.SegmentPath(image_.dir(), 1), 16, 3);  // collection_id
  ExpectOpenFailsNaming(c, 1);
}

TEST_P(SegmentOpenTest, MiddleSegmentCutShortFailsAnOpenThatScansIt) {
  CollectionImage c = WithoutCommitBlocks(image_.collection(GetParam()));
  image_.Restore(c, {});
  CutFile(c.SegmentPath(image_.dir(), 1), c.records[c.segments[2].first_seq - 1].offset + 5);
  ExpectOpenFailsNaming(c, 1);
}

// A tail lost exactly at a record boundary leaves nothing non-zero after the last valid
// record; absolute consistency must still see that the commit block vouched for more.
TEST_P(SegmentOpenTest, AbsoluteConsistencyRefusesToLoseRecordsACommitBlockRecords) {
  const CollectionImage& c = image_.collection(GetParam());
  const size_t newest = c.segments.size() - 1;
  ZeroFrom(c.SegmentPath(image_.dir(), newest), c.records.back().offset);
  ASSERT_OK_AND_ASSIGN(
      auto store, Store::Open(image_.dir(), {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  EXPECT_THAT(store->OpenUntyped(c.name),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.segments[newest].file)));
}

INSTANTIATE_TEST_SUITE_P(Kinds, SegmentOpenTest,
                         ::testing::Values(CollectionKind::kFixed, CollectionKind::kVariable),
                         [](const ::testing::TestParamInfo<CollectionKind>& info) {
                           return info.param == CollectionKind::kFixed ? "Fixed" : "Bytes";
                         });

}  // namespace
}  // namespace recstore::testing
