// DecodeSegmentHeader and DecodeCommitBlock at the boundary values of every field, with valid
// checksums: each value the format does not admit is refused (the header with DataLoss naming
// the file and the field's offset, the block by not decoding); each value it admits decodes.
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/status_matchers.h"

namespace recstore::format {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kPath[] = "store/000001-t/00000000000000004096.seg";

SegmentHeader FixedHeader() {
  SegmentHeader h;
  h.kind = 1;
  h.collection_id = 1;
  h.record_size = 16;
  h.stride = 24;
  h.schema_hash = 0x1234;
  h.first_seq = 4096;
  h.capacity = 64 << 10;
  return h;
}

SegmentHeader VariableHeader() {
  SegmentHeader h;
  h.kind = 2;
  h.collection_id = 2;
  h.first_seq = 4096;
  h.capacity = 64 << 10;
  return h;
}

struct Case {
  std::string name;
  std::function<void(SegmentHeader&)> edit;
  int offset;  // of the refused field; -1: admitted
};

void RunCases(const SegmentHeader& base, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SegmentHeader h = base;
    c.edit(h);
    std::byte bytes[kEncodedSegmentHeaderSize];
    EncodeSegmentHeader(h, bytes);
    absl::StatusOr<SegmentHeader> got = DecodeSegmentHeader(bytes, kPath);
    if (c.offset < 0) {
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(*got, h);
    } else {
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kDataLoss,
                                AllOf(HasSubstr(kPath),
                                      HasSubstr(": offset " + std::to_string(c.offset) + ":"))));
    }
  }
}

TEST(SegmentHeaderDecodeTest, FixedCollectionFields) {
  RunCases(
      FixedHeader(),
      {
          {"as written", [](SegmentHeader&) {}, -1},
          {"kind 0", [](SegmentHeader& h) { h.kind = 0; }, 12},
          {"kind 3", [](SegmentHeader& h) { h.kind = 3; }, 12},
          {"kind 255", [](SegmentHeader& h) { h.kind = 255; }, 12},
          {"collection id 0", [](SegmentHeader& h) { h.collection_id = 0; }, 16},
          {"collection id max", [](SegmentHeader& h) { h.collection_id = UINT32_MAX; }, -1},
          {"record size 0", [](SegmentHeader& h) { h.record_size = 0; }, 20},
          {"record size 0xFFFFFFF9", [](SegmentHeader& h) { h.record_size = 0xFFFFFFF9u; }, 20},
          {"record size max", [](SegmentHeader& h) { h.record_size = UINT32_MAX; }, 20},
          {"record size past the largest",
           [](SegmentHeader& h) { h.record_size = kMaxFixedRecordSize + 1; }, 20},
          {"stride 0", [](SegmentHeader& h) { h.stride = 0; }, 24},
          {"stride 8", [](SegmentHeader& h) { h.stride = 8; }, 24},
          {"stride below the checksum", [](SegmentHeader& h) { h.stride = 16; }, 24},
          {"stride not a multiple of 8", [](SegmentHeader& h) { h.stride = 28; }, 24},
          {"stride fills the segment", [](SegmentHeader& h) { h.stride = (64 << 10) - 4096; }, -1},
          {"stride past the segment", [](SegmentHeader& h) { h.stride = (64 << 10) - 4088; }, 24},
          {"stride max", [](SegmentHeader& h) { h.stride = UINT32_MAX; }, 24},
          {"stride max - 7", [](SegmentHeader& h) { h.stride = UINT32_MAX - 7; }, 24},
          {"first_seq at the bound", [](SegmentHeader& h) { h.first_seq = kMaxSequence; }, -1},
          {"first_seq past the bound", [](SegmentHeader& h) { h.first_seq = kMaxSequence + 1; },
           40},
          {"first_seq max", [](SegmentHeader& h) { h.first_seq = UINT64_MAX; }, 40},
          {"capacity 0", [](SegmentHeader& h) { h.capacity = 0; }, 48},
          {"capacity 4096", [](SegmentHeader& h) { h.capacity = 4096; }, 48},
          {"capacity 8192",
           [](SegmentHeader& h) {
             h.capacity = 8192;
             h.stride = 24;
           },
           -1},
          {"capacity not a page multiple", [](SegmentHeader& h) { h.capacity = (64 << 10) + 8; },
           48},
          {"capacity 2^31", [](SegmentHeader& h) { h.capacity = kMaxSegmentFileSize; }, -1},
          {"capacity 2^31 + 4096",
           [](SegmentHeader& h) { h.capacity = kMaxSegmentFileSize + 4096; }, 48},
          {"capacity max", [](SegmentHeader& h) { h.capacity = UINT64_MAX; }, 48},
          {"capacity 2^64 - 4096", [](SegmentHeader& h) { h.capacity = UINT64_MAX - 4095; }, 48},
          {"ordinary with a generation", [](SegmentHeader& h) { h.generation = 1; }, 56},
          {"compacted generation 0", [](SegmentHeader& h) { h.compacted = true; }, 56},
          {"compacted generation 1",
           [](SegmentHeader& h) {
             h.compacted = true;
             h.generation = 1;
           },
           -1},
          {"compacted generation max",
           [](SegmentHeader& h) {
             h.compacted = true;
             h.generation = UINT64_MAX;
           },
           56},
          {"recycled", [](SegmentHeader& h) { h.recycled = true; }, -1},
          {"recycled and compacted",
           [](SegmentHeader& h) {
             h.recycled = true;
             h.compacted = true;
             h.generation = 1;
           },
           13},
      });
}

// Format version 4 is written only in recycled segments' headers; the flag means recycled only
// from version 4 on (before, the other flag bits were ignored), and a newer version is refused.
TEST(SegmentHeaderDecodeTest, TheRecycledFlagAndItsVersion) {
  SegmentHeader h = FixedHeader();
  std::byte bytes[kEncodedSegmentHeaderSize];
  EncodeSegmentHeader(h, bytes);
  EXPECT_EQ(base::DecodeFixed32(bytes + 8), kPlainSegmentVersion);
  h.recycled = true;
  EncodeSegmentHeader(h, bytes);
  EXPECT_EQ(base::DecodeFixed32(bytes + 8), 4u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[13]), 2);
  absl::StatusOr<SegmentHeader> got = DecodeSegmentHeader(bytes, kPath);
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->recycled);
  // The same bit in a version-3 header: ignored.
  base::EncodeFixed32(bytes + 8, 3);
  testing::FixSegmentHeaderChecksum(bytes);
  got = DecodeSegmentHeader(bytes, kPath);
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->recycled);
  // Version 5: from a newer build.
  base::EncodeFixed32(bytes + 8, 5);
  testing::FixSegmentHeaderChecksum(bytes);
  EXPECT_THAT(DecodeSegmentHeader(bytes, kPath),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(kPath)));
}

TEST(SegmentHeaderDecodeTest, VariableCollectionFields) {
  RunCases(VariableHeader(),
           {
               {"as written", [](SegmentHeader&) {}, -1},
               {"record size 1", [](SegmentHeader& h) { h.record_size = 1; }, 20},
               {"record size max", [](SegmentHeader& h) { h.record_size = UINT32_MAX; }, 20},
               {"stride 8", [](SegmentHeader& h) { h.stride = 8; }, 24},
               {"capacity of an oversized segment",
                [](SegmentHeader& h) { h.capacity = (256 << 20) + 8192; }, -1},
           });
}

TEST(SegmentHeaderDecodeTest, VersionZeroAndNewer) {
  std::byte bytes[kEncodedSegmentHeaderSize];
  EncodeSegmentHeader(FixedHeader(), bytes);
  base::EncodeFixed32(bytes + 8, 0);
  testing::FixSegmentHeaderChecksum(bytes);
  EXPECT_THAT(DecodeSegmentHeader(bytes, kPath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(": offset 8:")));
  base::EncodeFixed32(bytes + 8, UINT32_MAX);
  testing::FixSegmentHeaderChecksum(bytes);
  EXPECT_THAT(DecodeSegmentHeader(bytes, kPath),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(kPath)));
}

TEST(SegmentHeaderDecodeTest, CommitBlockBounds) {
  constexpr uint64_t kFirst = 4096;
  struct Block {
    uint64_t records, data_end;
    bool decodes;
  };
  const Block blocks[] = {
      {0, kDataStart, true},
      {kMaxSegmentRecords, kDataStart, true},
      {kMaxSegmentRecords + 1, kDataStart, false},
      {UINT64_MAX, kDataStart, false},
      {UINT64_MAX / 4 + 1, kDataStart, false},  // 4 * records wraps to a small number
      {1, 0, false},
      {1, kDataStart - 8, false},
      {1, kDataStart + 4, false},
      {1, kMaxSegmentFileSize, true},
      {1, kMaxSegmentFileSize + 8, false},
      {1, UINT64_MAX - 7, false},
      {1, UINT64_MAX, false},
  };
  for (const Block& b : blocks) {
    SCOPED_TRACE(::testing::PrintToString(b.records) + " records, data end " +
                 ::testing::PrintToString(b.data_end));
    std::byte bytes[kEncodedCommitBlockSize];
    EncodeCommitBlock({.records = b.records, .data_end = b.data_end, .sealed = true}, kFirst,
                      bytes);
    CommitBlock got;
    EXPECT_EQ(DecodeCommitBlock(bytes, kFirst, &got), b.decodes);
    if (b.decodes) {
      EXPECT_EQ(got.records, b.records);
      EXPECT_EQ(got.data_end, b.data_end);
    }
  }
}

}  // namespace
}  // namespace recstore::format
