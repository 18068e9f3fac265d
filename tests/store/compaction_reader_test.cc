// Read-only stores that fall behind the writer's retention and compaction: opening a
// collection after the writer changed it, and Refresh() from more than a segment behind.
#include <string>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

std::unique_ptr<Store> OpenWriter(const std::string& dir) {
  StoreOptions o;
  o.create_if_missing = true;
  o.segment_size = 64 << 10;
  return *Store::Open(dir, o);
}

std::unique_ptr<Store> OpenReader(const std::string& dir) {
  StoreOptions o;
  o.read_only = true;
  return *Store::Open(dir, o);
}

std::string Record(uint64_t seq) { return std::string(1000, static_cast<char>('a' + seq % 26)); }

void Fill(const ByteLog& log, int n) {
  for (int i = 0; i < n; ++i) ASSERT_OK(log.Append(Record(log.end())).status());
  ASSERT_OK(log.Sync().status());
}

// Every record the reader yields is the writer's, in order, from begin() to end().
void ExpectSameRecords(const ByteLog& reader, const ByteLog& writer) {
  EXPECT_EQ(reader.begin(), writer.begin());
  EXPECT_EQ(reader.end(), writer.end());
  uint64_t n = 0, prev = 0;
  auto scan = reader.Scan();
  for (auto [seq, rec] : scan) {
    EXPECT_TRUE(n == 0 || seq > prev);
    EXPECT_EQ(AsString(rec), Record(seq)) << seq;
    ASSERT_OK_AND_ASSIGN(auto w, writer.Get(seq));
    EXPECT_EQ(AsString(w), AsString(rec));
    prev = seq;
    ++n;
  }
  EXPECT_OK(scan.status());
  EXPECT_EQ(n, writer.end() - writer.begin());
}

TEST(CompactionReaderTest, OpenAfterTheWriterTruncated) {
  const std::string dir = testing::TestDir();
  auto w = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, w->OpenByteLog("b"));
  Fill(log, 300);            // about 60 records per segment
  auto r = OpenReader(dir);  // reads the manifest before the truncation
  ASSERT_OK(log.TruncateBefore(250).status());
  ASSERT_OK_AND_ASSIGN(ByteLog rl, r->OpenByteLog("b"));
  EXPECT_EQ(rl.begin(), 250u);
  ASSERT_OK_AND_ASSIGN(auto first, rl.Get(250));
  EXPECT_EQ(AsString(first), Record(250));
  ExpectSameRecords(rl, log);
}

TEST(CompactionReaderTest, OpenAfterTheWriterCompacted) {
  const std::string dir = testing::TestDir();
  auto w = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, w->OpenByteLog("b"));
  Fill(log, 300);
  auto r = OpenReader(dir);
  ASSERT_OK(log.TruncateBefore(30).status());
  ASSERT_OK(log.Merge().status());
  ASSERT_OK_AND_ASSIGN(ByteLog rl, r->OpenByteLog("b"));
  EXPECT_EQ(rl.info().generation, 1u);
  ExpectSameRecords(rl, log);
}

TEST(CompactionReaderTest, RefreshFromMoreThanASegmentBehindAMerge) {
  const std::string dir = testing::TestDir();
  auto w = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, w->OpenByteLog("b"));
  Fill(log, 100);
  auto r = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog rl, r->OpenByteLog("b"));
  EXPECT_EQ(rl.end(), 100u);
  Fill(log, 200);
  ASSERT_OK(log.Merge().status());
  Fill(log, 10);
  ASSERT_OK(rl.Refresh());
  ExpectSameRecords(rl, log);
  Fill(log, 100);
  ASSERT_OK(rl.Refresh());
  ExpectSameRecords(rl, log);
}

TEST(CompactionReaderTest, RefreshFromMoreThanASegmentBehindATruncation) {
  const std::string dir = testing::TestDir();
  auto w = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, w->OpenByteLog("b"));
  Fill(log, 100);
  auto r = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog rl, r->OpenByteLog("b"));
  Fill(log, 200);
  ASSERT_OK(log.TruncateBefore(280).status());
  ASSERT_OK(rl.Refresh());
  ExpectSameRecords(rl, log);
}

}  // namespace
}  // namespace recstore
