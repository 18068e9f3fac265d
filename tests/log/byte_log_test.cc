// Variable-size byte logs: rotation, oversized records, empty records, seek by sequence.
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

std::string Payload(uint64_t i) {
  // Lengths vary from 0 to a few KiB, contents depend on i.
  std::string s((i * 37) % 3000, '\0');
  for (size_t k = 0; k < s.size(); ++k) s[k] = static_cast<char>('a' + (i + k) % 26);
  return s;
}

TEST(ByteLogTest, RoundTripsAcrossSegmentsAndReopens) {
  const std::string dir = TestDir();
  const uint64_t n = 2000;  // about 3 MB in 64 KiB segments
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_OK_AND_ASSIGN(uint64_t seq, log.Append(Payload(i)));
      ASSERT_EQ(seq, i);
    }
    ASSERT_OK(log.Sync().status());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  ASSERT_EQ(log.size(), n);
  uint64_t expect = 0;
  for (const auto& [seq, bytes] : log.Scan()) {
    ASSERT_EQ(seq, expect);
    ASSERT_EQ(AsString(bytes), Payload(seq));
    ++expect;
  }
  EXPECT_EQ(expect, n);
  for (uint64_t i = 0; i < n; i += 13) {
    ASSERT_OK_AND_ASSIGN(auto bytes, log.Get(i));
    ASSERT_EQ(AsString(bytes), Payload(i));
  }
  expect = n;
  for (const auto& [seq, bytes] : log.ScanReverse()) {
    ASSERT_EQ(seq, expect - 1);
    ASSERT_EQ(AsString(bytes), Payload(seq));
    --expect;
  }
  EXPECT_EQ(expect, 0u);
  for (uint64_t from : {uint64_t{1}, uint64_t{777}, n - 1}) {
    auto scan = log.Scan(from);
    auto it = scan.begin();
    ASSERT_NE(it, scan.end());
    EXPECT_EQ((*it).seq, from);
    EXPECT_EQ(AsString((*it).value), Payload(from));
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, n);
  EXPECT_GT(v.segments_checked, 40u);
}

TEST(ByteLogTest, RecordLargerThanASegmentGetsItsOwn) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("blobs"));
  const std::string big(1 << 20, 'B');
  ASSERT_OK(log.Append("small").status());
  ASSERT_OK(log.Append(big).status());
  ASSERT_OK(log.Append("after").status());
  ASSERT_OK(log.Append("").status());
  ASSERT_OK(log.Sync().status());
  store.reset();
  log = ByteLog();
  ASSERT_OK_AND_ASSIGN(store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(log, store->OpenByteLog("blobs"));
  ASSERT_EQ(log.size(), 4u);
  ASSERT_OK_AND_ASSIGN(auto got, log.Get(1));
  EXPECT_EQ(AsString(got), big);
  ASSERT_OK_AND_ASSIGN(got, log.Get(2));
  EXPECT_EQ(AsString(got), "after");
  ASSERT_OK_AND_ASSIGN(got, log.Get(3));
  EXPECT_TRUE(got.empty());
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_TRUE(v.ok);
}

TEST(ByteLogTest, OversizedFirstRecordReplacesTheEmptySegment) {
  const std::string dir = TestDir();
  const std::string big(300 << 10, 'Z');
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("blobs"));
    ASSERT_OK(log.Append(big).status());
    ASSERT_OK(log.Append("tail").status());
    ASSERT_OK(log.Sync().status());
  }
  const std::string seg = dir + "/000001-blobs/00000000000000000000.seg";
  EXPECT_GE(std::filesystem::file_size(seg), big.size());
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("blobs"));
  ASSERT_EQ(log.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto got, log.Get(0));
  EXPECT_EQ(AsString(got), big);
  ASSERT_OK_AND_ASSIGN(got, log.Get(1));
  EXPECT_EQ(AsString(got), "tail");
}

TEST(ByteLogTest, BatchAppendGetsConsecutiveNumbers) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  std::vector<std::string> owned;
  for (int i = 0; i < 500; ++i) owned.push_back(Payload(i));
  std::vector<std::string_view> views(owned.begin(), owned.end());
  ASSERT_OK_AND_ASSIGN(uint64_t first, log.AppendBatch(views));
  EXPECT_EQ(first, 0u);
  ASSERT_OK_AND_ASSIGN(first, log.AppendBatch(views));
  EXPECT_EQ(first, 500u);
  ASSERT_OK_AND_ASSIGN(auto got, log.Get(999));
  EXPECT_EQ(AsString(got), Payload(499));
}

TEST(ByteLogTest, CorruptFrameIsDataLoss) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenByteLog("events"));
  ASSERT_OK(log.Append("one").status());
  ASSERT_OK(log.Append("two").status());
  ASSERT_OK_AND_ASSIGN(auto got, log.Get(1));
  const_cast<std::byte*>(got.data())[1] ^= std::byte{1};
  EXPECT_THAT(log.Get(1), StatusIs(absl::StatusCode::kDataLoss));
  std::vector<std::string> seen;
  EXPECT_THAT(
      log.ForEach([&](uint64_t, std::span<const std::byte> r) { seen.emplace_back(AsString(r)); }),
      StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(seen, ::testing::ElementsAre("one"));
  ASSERT_OK_AND_ASSIGN(auto untyped, store->OpenUntyped("events"));
  seen.clear();
  EXPECT_THAT(untyped.ForEach(
                  [&](uint64_t, std::span<const std::byte> r) { seen.emplace_back(AsString(r)); }),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(seen, ::testing::ElementsAre("one"));
  ASSERT_OK_AND_ASSIGN(VerifyReport v, log.Verify());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad.seq, 1u);
}

}  // namespace
}  // namespace recstore
