// Retention that knows its readers: with keep_unconsumed, a lagging cursor keeps the records
// it has not consumed; the hard caps drop them anyway, and the cursor then reads as having
// lost [position, begin()). Damaged cursor files hold retention back like position 0.
// Stores whose manifest an older build wrote (format version 3) still open.
#include <chrono>
#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/old_manifest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::WriteFileBytes;

constexpr uint64_t kSegment = 64 << 10;
constexpr size_t kRecord = 1000;  // payload bytes of every record
constexpr uint64_t kRecords = 600;

class CursorRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    auto store = Store::Open(dir_, {.create_if_missing = true, .segment_size = kSegment});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    auto log = store_->OpenByteLog("events");
    ASSERT_THAT(log, IsOk());
    log_.emplace(*std::move(log));
    for (uint64_t i = 0; i < kRecords; ++i)
      ASSERT_THAT(log_->Append(std::string(kRecord, 'r')), IsOk());
    ASSERT_THAT(log_->Sync(), IsOk());
  }
  // A consumer's cursor, from a read-only store of its own.
  Cursor Consumer(const std::string& name) {
    auto reader = Store::Open(dir_, {.read_only = true});
    EXPECT_THAT(reader, IsOk());
    auto c = (*reader)->OpenCursor("events", name);
    EXPECT_THAT(c, IsOk());
    return *std::move(c);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::optional<ByteLog> log_;
};

TEST_F(CursorRetentionTest, LaggingCursorKeepsWhatItHasNotConsumed) {
  Cursor slow = Consumer("slow");
  Cursor fast = Consumer("fast");
  ASSERT_THAT(fast.Commit(kRecords), IsOk());
  ASSERT_THAT(slow.Commit(100), IsOk());
  ASSERT_THAT(log_->SetRetention({.max_records = 50, .keep_unconsumed = true}), IsOk());
  EXPECT_EQ(log_->begin(), 100u);  // min(C = 550, lowest cursor = 100)
  ASSERT_THAT(slow.Commit(300), IsOk());
  ASSERT_THAT(log_->ApplyRetention(), IsOk());
  EXPECT_EQ(log_->begin(), 300u);
  ASSERT_THAT(slow.Commit(kRecords), IsOk());
  ASSERT_THAT(log_->ApplyRetention(), IsOk());
  EXPECT_EQ(log_->begin(), kRecords - 50);    // the ordinary limit once nobody lags
  EXPECT_GE(slow.position(), log_->begin());  // nothing lost
}

TEST_F(CursorRetentionTest, WithoutKeepUnconsumedCursorsAreIgnored) {
  Cursor slow = Consumer("slow");
  ASSERT_THAT(log_->SetRetention({.max_records = 50}), IsOk());
  EXPECT_EQ(log_->begin(), kRecords - 50);
  EXPECT_LT(slow.position(), log_->begin());  // it lost [0, 550)
}

TEST_F(CursorRetentionTest, NoCursorsMeansTheOrdinaryLimits) {
  ASSERT_THAT(log_->SetRetention({.max_records = 50, .keep_unconsumed = true}), IsOk());
  EXPECT_EQ(log_->begin(), kRecords - 50);
}

TEST_F(CursorRetentionTest, KeepUnconsumedWithoutAHardCapNeverDropsUnconsumed) {
  Cursor slow = Consumer("slow");
  ASSERT_THAT(log_->SetRetention({.max_records = 1,
                                  .max_bytes = 1,
                                  .max_age = std::chrono::nanoseconds(1),
                                  .keep_unconsumed = true}),
              IsOk());
  EXPECT_EQ(log_->begin(), 0u);
}

TEST_F(CursorRetentionTest, HardCapDropsUnconsumedRecordsAndTheCursorSeesTheLoss) {
  Cursor slow = Consumer("slow");
  ASSERT_THAT(slow.Commit(10), IsOk());
  ASSERT_THAT(log_->SetRetention(
                  {.max_records = 50, .keep_unconsumed = true, .hard_max_bytes = 200 * kRecord}),
              IsOk());
  // H = 400 (the last 200 records fit the cap): max(H, min(550, 10)).
  EXPECT_EQ(log_->begin(), kRecords - 200);
  // The loss is derived, not written into the cursor: [position, begin()).
  EXPECT_EQ(slow.position(), 10u);
  EXPECT_LT(slow.position(), log_->begin());
  auto listed = store_->ListCursors("events");
  ASSERT_THAT(listed, IsOk());
  EXPECT_EQ((*listed)[0].position, 10u);
  // Catching up past begin() and committing ends the loss.
  ASSERT_THAT(slow.Commit(log_->begin()), IsOk());
  EXPECT_GE(slow.position(), log_->begin());
}

TEST_F(CursorRetentionTest, HardAgeCapDropsEverythingOlder) {
  Cursor slow = Consumer("slow");
  // Every record is at least a second old once the clock passes it; with a cap of 1 ns all
  // of them are older.
  ASSERT_THAT(
      log_->SetRetention({.keep_unconsumed = true, .hard_max_age = std::chrono::nanoseconds(1)}),
      IsOk());
  EXPECT_EQ(log_->begin(), kRecords);
  EXPECT_LT(slow.position(), log_->begin());
}

TEST_F(CursorRetentionTest, DamagedCursorFileHoldsRetentionBackLikePositionZero) {
  {
    Cursor gone = Consumer("damaged");
    ASSERT_THAT(gone.Commit(kRecords), IsOk());
  }
  Cursor fine = Consumer("fine");
  ASSERT_THAT(fine.Commit(kRecords), IsOk());
  WriteFileBytes(dir_ + "/cursors/000001-events/damaged.cursor", std::string(8192, 'z'));
  ASSERT_THAT(log_->SetRetention({.max_records = 50, .keep_unconsumed = true}), IsOk());
  EXPECT_EQ(log_->begin(), 0u);
  // The hard caps still apply.
  ASSERT_THAT(log_->SetRetention(
                  {.max_records = 50, .keep_unconsumed = true, .hard_max_bytes = 100 * kRecord}),
              IsOk());
  EXPECT_EQ(log_->begin(), kRecords - 100);
}

TEST_F(CursorRetentionTest, WriterAppliesItAtOpenAndAfterRotation) {
  Cursor slow = Consumer("slow");
  ASSERT_THAT(slow.Commit(200), IsOk());
  ASSERT_THAT(log_->SetRetention({.max_records = 50, .keep_unconsumed = true}), IsOk());
  EXPECT_EQ(log_->begin(), 200u);
  ASSERT_THAT(slow.Commit(250), IsOk());
  // Appends that start new segments apply the policy with the cursor's new position.
  for (int i = 0; i < 200; ++i) ASSERT_THAT(log_->Append(std::string(kRecord, 'n')), IsOk());
  ASSERT_THAT(log_->Sync(), IsOk());
  EXPECT_EQ(log_->begin(), 250u);
  ASSERT_THAT(slow.Commit(400), IsOk());
  log_.reset();
  store_.reset();
  auto store = Store::Open(dir_, {.segment_size = kSegment});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(log->begin(), 400u);
  EXPECT_TRUE(log->info().retention.keep_unconsumed);
}

TEST_F(CursorRetentionTest, PolicyChecks) {
  EXPECT_THAT(log_->SetRetention({.hard_max_age = std::chrono::nanoseconds(-1)}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("hard_max_age")));
  EXPECT_THAT(log_->SetRetention({.keep_unconsumed = true}), IsOk());
  EXPECT_EQ(log_->begin(), 0u);
  RetentionPolicy p{.max_records = 5,
                    .keep_unconsumed = true,
                    .hard_max_bytes = 7,
                    .hard_max_age = std::chrono::hours(1)};
  ASSERT_THAT(log_->SetRetention(p), IsOk());
  EXPECT_EQ(log_->info().retention, p);
}

TEST(ManifestVersionTest, StoreWithAVersion3ManifestOpensAndIsRewrittenAsTheCurrentVersion) {
  const std::string dir = TestDir();
  {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    ASSERT_THAT(store, IsOk());
    auto log = (*store)->OpenByteLog("events");
    ASSERT_THAT(log, IsOk());
    for (int i = 0; i < 100; ++i) ASSERT_THAT(log->Append("x"), IsOk());
    ASSERT_THAT(log->Sync(), IsOk());
    ASSERT_THAT(log->SetRetention({.max_records = 80}), IsOk());
  }
  const std::string path = dir + "/MANIFEST";
  auto m = format::DecodeManifest(ReadFileBytes(path), path);
  ASSERT_THAT(m, IsOk());
  const std::string v3 = testing::EncodeManifestV3(*m);
  ASSERT_EQ(base::DecodeFixed32(v3.data() + 8), 3u);
  WriteFileBytes(path, v3);
  {
    auto reader = Store::Open(dir, {.read_only = true});
    ASSERT_THAT(reader, IsOk());
    auto log = (*reader)->OpenByteLog("events");
    ASSERT_THAT(log, IsOk());
    EXPECT_EQ(log->begin(), 20u);
    EXPECT_EQ(log->info().retention, RetentionPolicy{.max_records = 80});
  }
  auto store = Store::Open(dir, {.segment_size = kSegment});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(log->end(), 100u);
  ASSERT_THAT(log->SetRetention({.max_records = 50, .keep_unconsumed = true}), IsOk());
  EXPECT_EQ(base::DecodeFixed32(ReadFileBytes(path).data() + 8), format::kManifestFormatVersion);
}

}  // namespace
}  // namespace recstore
