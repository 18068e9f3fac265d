// Fixed-record layout arithmetic: computed in 64 bits, never wrapping, and FixedLayoutValid at
// the edges of every input.
#include "src/format/layout.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace recstore::format {
namespace {

TEST(LayoutTest, StrideOfOrdinaryTypes) {
  EXPECT_EQ(FixedChecksumOffset(16), 16u);
  EXPECT_EQ(FixedStride(16, 8), 24u);
  EXPECT_EQ(FixedStride(12, 4), 24u);
  EXPECT_EQ(FixedStride(1, 1), 16u);
  EXPECT_EQ(FixedStride(16, 16), 32u);
  EXPECT_EQ(FixedStride(64, 64), 128u);
}

// Issue 12, bug 4: in 32-bit arithmetic 0xFFFFFFF9 rounded up to 8 wrapped to 0 and the
// stride became 8, so a manifest with this record size passed the segment-size check.
TEST(LayoutTest, RecordSizeNearTwoToThe32DoesNotWrap) {
  EXPECT_EQ(FixedChecksumOffset(0xFFFFFFF9u), uint64_t{1} << 32);
  EXPECT_EQ(FixedStride(0xFFFFFFF9u, 8), (uint64_t{1} << 32) + 8);
  EXPECT_EQ(FixedChecksumOffset(UINT32_MAX), uint64_t{1} << 32);
  EXPECT_EQ(FixedStride(UINT32_MAX, UINT32_MAX), uint64_t{UINT32_MAX} * 2);
  EXPECT_EQ(FixedStride(1, 0x80000000u), uint64_t{0x80000000u});
  EXPECT_FALSE(FixedLayoutValid(0xFFFFFFF9u, 8, kMaxSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(UINT32_MAX, 1, kMaxSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(0xFFFFFFF0u, 16, kMaxSegmentSize));
}

TEST(LayoutTest, RecordSizeBounds) {
  EXPECT_FALSE(FixedLayoutValid(0, 8, kMinSegmentSize));
  EXPECT_TRUE(FixedLayoutValid(1, 1, kMinSegmentSize));
  // The largest record that fits: one slot after the header page.
  const uint32_t fits_min = kMinSegmentSize - kDataStart - 8;
  EXPECT_TRUE(FixedLayoutValid(fits_min, 8, kMinSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(fits_min + 1, 8, kMinSegmentSize));
  EXPECT_TRUE(FixedLayoutValid(kMaxFixedRecordSize, 8, kMaxSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(kMaxFixedRecordSize + 1, 8, kMaxSegmentSize));
  EXPECT_EQ(kDataStart + FixedStride(kMaxFixedRecordSize, 8), kMaxSegmentSize);
}

TEST(LayoutTest, AlignmentBounds) {
  EXPECT_FALSE(FixedLayoutValid(8, 0, kMinSegmentSize));
  EXPECT_TRUE(FixedLayoutValid(8, 1, kMinSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, 3, kMinSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, 12, kMinSegmentSize));
  EXPECT_TRUE(FixedLayoutValid(8, 4096, kMinSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, 8192, kMinSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, 0x80000000u, kMaxSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, UINT32_MAX, kMaxSegmentSize));
}

TEST(LayoutTest, SegmentSizeBounds) {
  EXPECT_FALSE(FixedLayoutValid(8, 8, 0));
  EXPECT_FALSE(FixedLayoutValid(8, 8, kMinSegmentSize - kPageSize));
  EXPECT_FALSE(FixedLayoutValid(8, 8, kMinSegmentSize + 1));
  EXPECT_TRUE(FixedLayoutValid(8, 8, kMaxSegmentSize));
  EXPECT_FALSE(FixedLayoutValid(8, 8, kMaxSegmentSize + kPageSize));
  EXPECT_FALSE(FixedLayoutValid(8, 8, UINT64_MAX));
  EXPECT_FALSE(FixedLayoutValid(8, 8, UINT64_MAX - kPageSize + 1));
}

TEST(LayoutTest, ValidLayoutsFitInThirtyTwoBits) {
  // Every layout FixedLayoutValid accepts has a stride a u32 holds (src/log stores it as one)
  // and a whole number of slots per segment without overflow.
  for (uint64_t size :
       {uint64_t{1}, uint64_t{4095}, uint64_t{4096}, uint64_t{1} << 20, kMaxFixedRecordSize}) {
    for (uint32_t align : {1u, 8u, 64u, 4096u}) {
      if (!FixedLayoutValid(static_cast<uint32_t>(size), align, kMaxSegmentSize)) continue;
      const uint64_t stride = FixedStride(static_cast<uint32_t>(size), align);
      EXPECT_LE(stride, kMaxSegmentSize - kDataStart);
      EXPECT_EQ(stride % 8, 0u);
      EXPECT_EQ(stride % align, 0u);
    }
  }
}

}  // namespace
}  // namespace recstore::format
