// MappedVector::Open on files that are missing, of another kind or type, of a newer format,
// damaged, half created, or with a journal that is hostile (a valid checksum over values redo
// must refuse). A refused open changes no byte of the file.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "src/base/endian.h"
#include "src/format/mapped_file.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::testing::AllOf;
using testing::Counters;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Point;
using testing::PointI;
using testing::StatusIs;
using testing::Tiny;

constexpr size_t kPage = 4096;

std::string Dir(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// A synced vector file of `n` Tiny records {0..n-1}, closed.
void MakeTiny(const std::string& path, uint32_t n) {
  auto v = MappedVector<Tiny>::Open(path, {.create_if_missing = true});
  ASSERT_OK(v.status());
  for (uint32_t i = 0; i < n; ++i) ASSERT_OK(v->push_back({i}));
  ASSERT_OK(v->Sync());
}

// Expects `v` to hold {0..n-1}, except elements [from, to), which hold `value`.
void ExpectTiny(const MappedVector<Tiny>& v, uint32_t n, uint32_t from = 0, uint32_t to = 0,
                uint32_t value = 0) {
  ASSERT_EQ(v.size(), n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t want = i >= from && i < to ? value : i;
    ASSERT_EQ(v[i].v, want) << "element " << i;
  }
}

TEST(VectorOpen, MissingFile) {
  const std::string path = testing::TestDir("v.rsv");
  EXPECT_THAT(MappedVector<Point>::Open(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(MappedVector<Point>::Open(path, {.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(testing::DirEntries(Dir(path)), ::testing::IsEmpty());
}

TEST(VectorOpen, StructFileIsNotAVector) {
  const std::string path = testing::TestDir("c.rss");
  { ASSERT_OK(MappedStruct<Counters>::Open(path, {.create_if_missing = true})); }
  const std::string before = testing::ReadFileBytes(path);
  const auto refused =
      StatusIs(absl::StatusCode::kFailedPrecondition, AllOf(HasSubstr(path), HasSubstr("struct")));
  EXPECT_THAT(MappedVector<Counters>::Open(path), refused);
  EXPECT_THAT(MappedVector<Counters>::Open(path, {.create_if_missing = true}), refused);
  EXPECT_THAT(MappedVector<Counters>::Open(path, {.read_only = true}), refused);
  EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
  // A refused open leaves nothing behind (no journal beside the struct file).
  EXPECT_THAT(testing::DirEntries(Dir(path)), ElementsAre("c.rss"));
  EXPECT_OK(MappedStruct<Counters>::Open(path));
}

TEST(VectorOpen, OtherRecordType) {
  const std::string path = testing::TestDir("v.rsv");
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path, {.create_if_missing = true}));
    ASSERT_OK(v.push_back({1, 2, 3}));
    ASSERT_OK(v.Sync());
  }
  const std::string before = testing::ReadFileBytes(path);
  // Same size and field names, another field type: the message names the field.
  const auto mismatch =
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr(path), HasSubstr("'recstore::testing::PointI'"), HasSubstr("'x'")));
  EXPECT_THAT(MappedVector<PointI>::Open(path), mismatch);
  EXPECT_THAT(MappedVector<PointI>::Open(path, {.read_only = true}), mismatch);
  EXPECT_THAT(MappedVector<Tiny>::Open(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(path), HasSubstr("field 0 is 'x' on disk but 'v'"))));
  EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
  EXPECT_EQ(v.size(), 1u);
}

TEST(VectorOpen, NotARecstoreFile) {
  const std::string path = testing::TestDir("v.rsv");
  std::string text;
  while (text.size() < 3 * kPage) text += "not a vector file, just some text\n";
  testing::WriteFileBytes(path, text);
  const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path));
  EXPECT_THAT(MappedVector<Point>::Open(path), refused);
  EXPECT_THAT(MappedVector<Point>::Open(path, {.create_if_missing = true}), refused);
  EXPECT_THAT(MappedVector<Point>::Open(path, {.read_only = true}), refused);
  EXPECT_TRUE(testing::ReadFileBytes(path) == text) << "the file changed";
  EXPECT_THAT(testing::DirEntries(Dir(path)), ElementsAre("v.rsv"));
}

// A file shorter than a header page that is not a torn header (it has bytes, and not the
// magic) is someone else's file: never initialized over, even with create_if_missing.
TEST(VectorOpen, ShortForeignFileIsNeverOverwritten) {
  const std::string path = testing::TestDir("v.rsv");
  const std::string text = "a short config file\n";
  testing::WriteFileBytes(path, text);
  const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path));
  EXPECT_THAT(MappedVector<Point>::Open(path), refused);
  EXPECT_THAT(MappedVector<Point>::Open(path, {.create_if_missing = true}), refused);
  EXPECT_TRUE(testing::ReadFileBytes(path) == text) << "the file changed";
  EXPECT_THAT(testing::DirEntries(Dir(path)), ElementsAre("v.rsv"));
}

TEST(VectorOpen, NewerFormatVersion) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 10));
  std::string bytes = testing::ReadFileBytes(path);
  base::EncodeFixed<uint32_t>(bytes.data() + 8, format::kMappedFormatVersion + 1);
  testing::FixMappedHeaderChecksum(bytes.data());
  testing::WriteFileBytes(path, bytes);
  // The journal of the same sync is still valid: it must not be redone over a newer file.
  const auto refused =
      StatusIs(absl::StatusCode::kFailedPrecondition, AllOf(HasSubstr(path), HasSubstr("version")));
  EXPECT_THAT(MappedVector<Tiny>::Open(path), refused);
  EXPECT_THAT(MappedVector<Tiny>::Open(path, {.create_if_missing = true}), refused);
  EXPECT_THAT(MappedVector<Tiny>::Open(path, {.read_only = true}), refused);
  EXPECT_TRUE(testing::ReadFileBytes(path) == bytes) << "the file changed";
}

// The header page fails its checksum; the journal of the last sync carries the header page
// (and only the pages that sync changed): redo restores it.
TEST(VectorOpen, DamagedHeaderRestoredFromJournal) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 5000));
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path));
    ASSERT_OK(v.Set(2000, {77}));  // the journal of sync 2 holds element page 1 only
    ASSERT_OK(v.Sync());
  }
  testing::FlipFileByte(path, 20);  // inside the file id
  {
    ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Tiny>::Open(path, {.read_only = true}));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(r, 5000, 2000, 2001, 77));
    EXPECT_EQ(r.sync_count(), 2u);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 5000, 2000, 2001, 77));
    EXPECT_EQ(v.sync_count(), 2u);
  }
  // The header itself was rewritten: the file opens without its journal.
  std::filesystem::remove(path + "-journal");
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path));
  ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 5000, 2000, 2001, 77));
}

TEST(VectorOpen, DamagedHeaderWithoutJournalIsDataLoss) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 100));
  testing::FlipFileByte(path, 30);  // the seq
  for (bool journal_damaged : {true, false}) {
    SCOPED_TRACE(journal_damaged ? "damaged journal" : "no journal");
    if (journal_damaged) {
      testing::FlipFileByte(path + "-journal", kPage + 100);  // inside a page it carries
    } else {
      std::filesystem::remove(path + "-journal");
    }
    const std::string before = testing::ReadFileBytes(path);
    const std::vector<std::string> entries = testing::DirEntries(Dir(path));
    const auto loss = StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path));
    EXPECT_THAT(MappedVector<Tiny>::Open(path), loss);
    EXPECT_THAT(MappedVector<Tiny>::Open(path, {.create_if_missing = true}), loss);
    EXPECT_THAT(MappedVector<Tiny>::Open(path, {.read_only = true}), loss);
    EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
    EXPECT_EQ(testing::DirEntries(Dir(path)), entries);
  }
}

// A zeroed header page in front of elements is damage (DataLoss), not a foreign file and not
// an unfinished creation: never initialized over.
TEST(VectorOpen, ZeroedHeaderWithoutJournalIsDataLoss) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 100));
  std::filesystem::remove(path + "-journal");
  testing::PatchFileBytes(path, 0, std::string(kPage, '\0'));
  const std::string before = testing::ReadFileBytes(path);
  const auto loss = StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path));
  EXPECT_THAT(MappedVector<Tiny>::Open(path), loss);
  EXPECT_THAT(MappedVector<Tiny>::Open(path, {.create_if_missing = true}), loss);
  EXPECT_THAT(MappedVector<Tiny>::Open(path, {.read_only = true}), loss);
  EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
  EXPECT_THAT(testing::DirEntries(Dir(path)), ElementsAre("v.rsv"));
}

TEST(VectorOpen, FileShorterThanItsHeaderSays) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 3000));
  std::filesystem::remove(path + "-journal");  // nothing to redo
  std::filesystem::resize_file(path, kPage + 2 * kPage);
  const std::string before = testing::ReadFileBytes(path);
  const auto loss = StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path));
  EXPECT_THAT(MappedVector<Tiny>::Open(path), loss);
  EXPECT_THAT(MappedVector<Tiny>::Open(path, {.read_only = true}), loss);
  EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
}

// A creation that stopped before its header was durable: a zero-length (or zeroed) file and no
// journal. Only create_if_missing initializes it.
TEST(VectorOpen, UnfinishedCreation) {
  for (const std::string& content : {std::string(), std::string(kPage, '\0')}) {
    SCOPED_TRACE(content.size());
    const std::string path = testing::TestDir("v" + std::to_string(content.size()) + ".rsv");
    testing::WriteFileBytes(path, content);
    EXPECT_THAT(MappedVector<Point>::Open(path),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
    EXPECT_TRUE(testing::ReadFileBytes(path) == content) << "the file changed";
    EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
    {
      ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path, {.create_if_missing = true}));
      EXPECT_TRUE(v.empty());
      EXPECT_EQ(v.sync_count(), 0u);
      ASSERT_OK(v.push_back({1, 2, 3}));
      ASSERT_OK(v.Sync());
    }
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].z, 3);
  }
}

// Journals with a valid checksum, written by the test: the control case is redone, the hostile
// ones are ignored (the file opens as its header says and no byte of it changes).
class HostileJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TestDir("v.rsv");
    ASSERT_NO_FATAL_FAILURE(MakeTiny(path_, 3000));  // element pages 0..2 (file pages 1..3)
    file_ = testing::ReadFileBytes(path_);
    file_id_ = base::DecodeFixed<uint64_t>(file_.data() + 16);
  }

  // The file's header page with `seq` (and the element count `size`, unless 0).
  std::string HeaderPage(uint64_t seq, uint64_t size = 0, uint64_t file_id = 0) const {
    std::string page = file_.substr(0, kPage);
    base::EncodeFixed<uint64_t>(page.data() + 24, seq);
    if (size != 0) base::EncodeFixed<uint64_t>(page.data() + 32, size);
    if (file_id != 0) base::EncodeFixed<uint64_t>(page.data() + 16, file_id);
    testing::FixMappedHeaderChecksum(page.data());
    return page;
  }

  // Writes a journal of sync `seq` carrying `header` and, for each number after the first,
  // a page of 0xAB bytes; its checksum is made valid.
  void WriteJournal(uint64_t seq, const std::string& header, const std::vector<uint64_t>& numbers,
                    uint64_t file_id = 0) {
    std::string j(format::kJournalHeaderSize, '\0');
    std::memcpy(j.data(), "RSJOURNL", 8);
    base::EncodeFixed<uint32_t>(j.data() + 8, format::kMappedFormatVersion);
    base::EncodeFixed<uint64_t>(j.data() + 16, file_id != 0 ? file_id : file_id_);
    base::EncodeFixed<uint64_t>(j.data() + 24, seq);
    base::EncodeFixed<uint64_t>(j.data() + 32, numbers.size());
    for (uint64_t n : numbers) base::PutFixed<uint64_t>(&j, n);
    j.resize((j.size() + kPage - 1) / kPage * kPage, '\0');
    j += header;
    for (size_t i = 1; i < numbers.size(); ++i) j += std::string(kPage, '\xAB');
    testing::FixJournalChecksum(&j);
    testing::WriteFileBytes(path_ + "-journal", j);
  }

  // Opens (reader, then writer) and expects the state of sync 1, with the file unchanged.
  void ExpectIgnored() {
    {
      ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Tiny>::Open(path_, {.read_only = true}));
      ASSERT_NO_FATAL_FAILURE(ExpectTiny(r, 3000));
      EXPECT_EQ(r.sync_count(), 1u);
    }
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path_));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 3000));
    EXPECT_EQ(v.sync_count(), 1u);
    EXPECT_TRUE(testing::ReadFileBytes(path_) == file_) << "the file changed";
    // The next sync replaces the journal and counts on from the file's header.
    ASSERT_OK(v.Set(0, {9}));
    ASSERT_OK(v.Sync());
    EXPECT_EQ(v.sync_count(), 2u);
  }

  std::string path_;
  std::string file_;
  uint64_t file_id_ = 0;
};

TEST_F(HostileJournal, ControlIsRedone) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {0, 2}));
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path_));
  EXPECT_EQ(v.sync_count(), 2u);
  ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 3000, 1024, 2048, 0xABABABAB));
}

TEST_F(HostileJournal, PageNumbersNotIncreasing) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {0, 3, 2}));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
}

TEST_F(HostileJournal, PageNumberRepeated) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {0, 2, 2}));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
}

TEST_F(HostileJournal, FirstPageIsNotTheHeader) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {1, 2}));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
}

TEST_F(HostileJournal, PageNumbersOutOfRange) {
  // The header page it carries declares 3000 elements: element pages 0..2, file pages 1..3.
  for (uint64_t bad : {uint64_t{4}, uint64_t{1} << 40, uint64_t{1} << 61, ~uint64_t{0}}) {
    SCOPED_TRACE(bad);
    ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {0, 1, bad}));
    ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
    ASSERT_NO_FATAL_FAILURE(SetUp());  // ExpectIgnored synced: start again
  }
}

TEST_F(HostileJournal, HeaderPageOfAnotherSyncOrFile) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(3), {0, 2}));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
  ASSERT_NO_FATAL_FAILURE(SetUp());
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2, 0, file_id_ + 1), {0, 2}));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
  ASSERT_NO_FATAL_FAILURE(SetUp());
  // Both the journal and its header page name another file.
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2, 0, file_id_ + 1), {0, 2}, file_id_ + 1));
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
}

TEST_F(HostileJournal, PageCountPastTheFile) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(2, HeaderPage(2), {0, 2}));
  std::string j = testing::ReadFileBytes(path_ + "-journal");
  base::EncodeFixed<uint64_t>(j.data() + 32, uint64_t{1} << 50);
  testing::WriteFileBytes(path_ + "-journal", j);
  ASSERT_NO_FATAL_FAILURE(ExpectIgnored());
}

// A journal of a sync later than the next one says syncs were lost: refused, nothing written.
TEST_F(HostileJournal, SkippedSyncsAreDataLoss) {
  ASSERT_NO_FATAL_FAILURE(WriteJournal(3, HeaderPage(3), {0, 2}));
  EXPECT_THAT(MappedVector<Tiny>::Open(path_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path_)));
  EXPECT_TRUE(testing::ReadFileBytes(path_) == file_) << "the file changed";
}

}  // namespace
}  // namespace recstore

namespace recstore {
namespace {

// After a completed sync the journal is marked applied: a writer open writes nothing to the
// vector file and a reader does not read the journal's pages. With the mark lost (a crash
// before the kernel wrote it), the open redoes the journal and shows the same state.
TEST(VectorOpen, AppliedJournalIsNotRedone) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeTiny(path, 5000));
  std::string journal = testing::ReadFileBytes(path + "-journal");
  ASSERT_GE(journal.size(), format::kJournalHeaderSize);
  const uint64_t applied = base::DecodeFixed<uint64_t>(journal.data() + format::kJournalAppliedAt);
  EXPECT_EQ(applied, format::AppliedTag(base::DecodeFixed<uint64_t>(journal.data() + 16),
                                        base::DecodeFixed<uint64_t>(journal.data() + 24)));
  testing::FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path, {.env = &env}));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 5000));
    EXPECT_EQ(env.Calls("PWrite"), 0);
    EXPECT_EQ(env.Calls("SyncData"), 0);
  }
  // The mark lost: redo, same state.
  base::EncodeFixed<uint64_t>(journal.data() + format::kJournalAppliedAt, 0);
  testing::WriteFileBytes(path + "-journal", journal);
  env.Clear();
  const int writes_before = env.Calls("PWrite");
  {
    ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Tiny>::Open(path, {.read_only = true}));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(r, 5000));
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path, {.env = &env}));
    ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 5000));
    EXPECT_GT(env.Calls("PWrite"), writes_before);
  }
  // A mark one bit away from the tag is not a mark.
  base::EncodeFixed<uint64_t>(journal.data() + format::kJournalAppliedAt, applied ^ 4);
  testing::WriteFileBytes(path + "-journal", journal);
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Open(path));
  ASSERT_NO_FATAL_FAILURE(ExpectTiny(v, 5000));
}

}  // namespace
}  // namespace recstore
