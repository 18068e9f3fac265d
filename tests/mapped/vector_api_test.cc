// MappedVector's API contract: references that survive growth, insertion of the vector's own
// elements, checked indexes, read-only vectors, the writer lock, and scratch vectors.
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/child.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::testing::HasSubstr;
using testing::Point;
using testing::SameBytes;
using testing::StatusIs;
using testing::Tiny;

Point P(double i) { return {i, i + 0.5, -i}; }

// The x values of the vector's elements.
std::vector<double> Xs(const MappedVector<Point>& v) {
  std::vector<double> xs;
  for (const Point& p : v) xs.push_back(p.x);
  return xs;
}

// A vector file of `n` points P(0..n-1), synced and closed.
void MakeFile(const std::string& path, int n) {
  auto v = MappedVector<Point>::Open(path, {.create_if_missing = true});
  ASSERT_OK(v.status());
  for (int i = 0; i < n; ++i) ASSERT_OK(v->push_back(P(i)));
  ASSERT_OK(v->Sync());
}

TEST(VectorApi, ReferencesSurviveGrowthAndSync) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path, {.create_if_missing = true}));
  for (int i = 0; i < 10; ++i) ASSERT_OK(v.push_back(P(i)));
  ASSERT_OK(v.Sync());
  const Point* data = v.data();
  const Point& first = v[0];
  const Point* ninth = &v[9];
  for (int i = 10; i < 1'000'010; ++i) ASSERT_OK(v.push_back(P(i)));
  ASSERT_OK(v.reserve(v.capacity() + 100'000));
  ASSERT_OK(v.Set(5, P(-5)));
  EXPECT_EQ(v.data(), data);
  EXPECT_EQ(&v[0], &first);
  EXPECT_EQ(first.x, 0);
  EXPECT_EQ(ninth->x, 9);
  EXPECT_EQ(v[1'000'009].x, 1'000'009);
  EXPECT_EQ(v.size(), 1'000'010u);
}

// Elements mapped from the file at open (copy-on-write pages) stay put too.
TEST(VectorApi, ReferencesIntoReopenedFileSurviveGrowth) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 1000));
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
  const Point* p = &v[500];
  ASSERT_OK(v.Set(501, P(-1)));  // a copy-on-write page of the file
  for (int i = 0; i < 1'000'000; ++i) ASSERT_OK(v.push_back(P(i)));
  EXPECT_EQ(&v[500], p);
  EXPECT_EQ(p->x, 500);
  EXPECT_EQ(p[1].x, -1);
  ASSERT_OK(v.Sync());
  EXPECT_EQ(p->x, 500);
}

TEST(VectorApi, ScratchReferencesSurviveGrowth) {
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Scratch());
  ASSERT_OK(v.push_back(P(7)));
  const Point* p = &v[0];
  for (int i = 0; i < 1'000'000; ++i) ASSERT_OK(v.push_back(P(i)));
  EXPECT_EQ(&v[0], p);
  EXPECT_EQ(p->x, 7);
}

TEST(VectorApi, InsertingItsOwnElements) {
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Scratch());
  for (int i = 0; i < 10; ++i) ASSERT_OK(v.push_back(P(i)));
  ASSERT_OK(v.insert(0, v[3]));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  // The source is shifted by the insertion itself.
  ASSERT_OK(v.insert(2, v[5]));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(3, 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  ASSERT_OK(v.Set(0, v[11]));
  ASSERT_OK(v.erase(1, 11));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(9, 9));
  ASSERT_OK(v.append(v.span()));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(9, 9, 9, 9));
  ASSERT_OK(v.Set(1, P(1)));
  ASSERT_OK(v.insert(1, v.back()));
  EXPECT_TRUE(SameBytes(v[1], P(9)));
  EXPECT_TRUE(SameBytes(v[2], P(1)));
}

// At full capacity, so that the insertion grows the vector while reading from it.
TEST(VectorApi, InsertingItsOwnElementsWhileGrowing) {
  const std::string path = testing::TestDir("v.rsv");
  size_t m = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path, {.create_if_missing = true}));
    ASSERT_OK(v.push_back(P(0)));
    while (v.size() < v.capacity()) ASSERT_OK(v.push_back(P(static_cast<double>(v.size()))));
    const size_t n = v.size();
    ASSERT_OK(v.push_back(v[n - 1]));
    EXPECT_GT(v.capacity(), n);
    EXPECT_TRUE(SameBytes(v[n], P(static_cast<double>(n - 1))));
    while (v.size() < v.capacity()) ASSERT_OK(v.push_back(P(static_cast<double>(v.size()))));
    m = v.size();
    ASSERT_OK(v.append(v.span()));
    ASSERT_EQ(v.size(), 2 * m);
    for (size_t i = 0; i < m; ++i) ASSERT_TRUE(SameBytes(v[i], v[m + i])) << i;
    ASSERT_OK(v.Sync());
  }
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
  ASSERT_EQ(v.size(), 2 * m);
  for (size_t i = 0; i < m; ++i) ASSERT_TRUE(SameBytes(v[i], v[m + i])) << i;
}

// 6000 bytes: one record covers parts of two or three pages.
struct Big {
  uint64_t id;
  char fill[5992];
};
RECSTORE_RECORD(Big, id, fill);

Big MakeBig(uint64_t id) {
  Big b;
  b.id = id;
  std::memset(b.fill, static_cast<int>(id & 0x7f), sizeof(b.fill));
  return b;
}

TEST(VectorApi, RecordsLargerThanAPage) {
  const std::string path = testing::TestDir("big.rsv");
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Big>::Open(path, {.create_if_missing = true}));
    for (uint64_t i = 0; i < 50; ++i) ASSERT_OK(v.push_back(MakeBig(i)));
    ASSERT_OK(v.Sync());
    ASSERT_OK(v.erase(10, 20));            // shifts 30 records across pages
    ASSERT_OK(v.insert(3, MakeBig(100)));  // and back by one
    ASSERT_OK_AND_ASSIGN(Big * p, v.Mutable(40));
    p->fill[5991] = 'z';  // the last byte only: its page must still be synced
    ASSERT_OK(v.Sync());
  }
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Big>::Open(path));
  ASSERT_EQ(v.size(), 41u);
  std::vector<uint64_t> ids;
  for (const Big& b : v) ids.push_back(b.id);
  std::vector<uint64_t> want{0, 1, 2, 100};
  for (uint64_t i = 3; i < 50; ++i) {
    if (i < 10 || i >= 20) want.push_back(i);
  }
  EXPECT_EQ(ids, want);
  for (size_t i = 0; i < v.size(); ++i) {
    Big b = MakeBig(v[i].id);
    if (i == 40) b.fill[5991] = 'z';
    ASSERT_TRUE(SameBytes(v[i], b)) << i;
  }
}

TEST(VectorApi, BadIndexesAreOutOfRangeAndChangeNothing) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 5));
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
  const auto oor = [&](const char* op) {
    return StatusIs(absl::StatusCode::kOutOfRange,
                    ::testing::AllOf(HasSubstr(path), HasSubstr(op)));
  };
  EXPECT_THAT(v.at(5), oor("at"));
  EXPECT_THAT(v.at(size_t{1} << 62), oor("at"));
  EXPECT_THAT(v.Set(5, P(9)), oor("Set"));
  EXPECT_THAT(v.Mutable(5), oor("Mutable"));
  EXPECT_THAT(v.erase(5), oor("erase"));
  EXPECT_THAT(v.erase(3, 2), oor("erase"));
  EXPECT_THAT(v.erase(0, 6), oor("erase"));
  EXPECT_THAT(v.insert(6, P(9)), oor("insert"));
  EXPECT_THAT(v.insert(~size_t{0}, P(9)), oor("insert"));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(0, 1, 2, 3, 4));
  EXPECT_FALSE(v.has_unsynced_changes());
  // The edges that are fine.
  ASSERT_OK(v.insert(5, P(5)));
  ASSERT_OK(v.erase(6, 6));
  ASSERT_OK(v.erase(0, 0));
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
  ASSERT_OK_AND_ASSIGN(Point p, v.at(5));
  EXPECT_TRUE(SameBytes(p, P(5)));
}

TEST(VectorApi, ReadOnlyRefusesEveryMutation) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 5));
  const std::string before = testing::ReadFileBytes(path);
  ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Point>::Open(path, {.read_only = true}));
  EXPECT_TRUE(r.read_only());
  EXPECT_EQ(r.path(), path);
  EXPECT_EQ(r.sync_count(), 1u);
  const auto refused = StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path));
  const Point extra[2] = {P(8), P(9)};
  EXPECT_THAT(r.push_back(P(9)), refused);
  EXPECT_THAT(r.append(extra), refused);
  EXPECT_THAT(r.insert(0, P(9)), refused);
  EXPECT_THAT(r.insert(5, P(9)), refused);
  EXPECT_THAT(r.erase(0), refused);
  EXPECT_THAT(r.erase(4), refused);
  EXPECT_THAT(r.erase(1, 3), refused);
  EXPECT_THAT(r.Set(0, P(9)), refused);
  EXPECT_THAT(r.Mutable(0), refused);
  EXPECT_THAT(r.resize(10), refused);
  EXPECT_THAT(r.resize(2), refused);
  EXPECT_THAT(r.reserve(1), refused);
  EXPECT_THAT(r.reserve(1000), refused);
  EXPECT_THAT(r.Sync(), refused);
  r.pop_back();
  r.clear();
  EXPECT_THAT(Xs(r), ::testing::ElementsAre(0, 1, 2, 3, 4));
  EXPECT_FALSE(r.has_unsynced_changes());
  EXPECT_EQ(testing::ReadFileBytes(path), before);
  // A writer may not Refresh.
  ASSERT_OK_AND_ASSIGN(auto w, MappedVector<Point>::Open(path));
  EXPECT_THAT(w.Refresh(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(VectorApi, ReaderIsACopyOfTheLastSync) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 3));
  ASSERT_OK_AND_ASSIGN(auto w, MappedVector<Point>::Open(path));
  ASSERT_OK(w.push_back(P(3)));  // unsynced: invisible to readers
  ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Point>::Open(path, {.read_only = true}));
  EXPECT_THAT(Xs(r), ::testing::ElementsAre(0, 1, 2));
  ASSERT_OK(w.Set(0, P(10)));
  ASSERT_OK(w.Sync());
  EXPECT_THAT(Xs(r), ::testing::ElementsAre(0, 1, 2));  // until Refresh
  EXPECT_EQ(r.sync_count(), 1u);
  ASSERT_OK(r.Refresh());
  EXPECT_THAT(Xs(r), ::testing::ElementsAre(10, 1, 2, 3));
  EXPECT_EQ(r.sync_count(), 2u);
  w.clear();
  ASSERT_OK(w.Sync());
  ASSERT_OK(r.Refresh());
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.sync_count(), 3u);
}

TEST(VectorApi, OneWriterAtATime) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 3));
  ASSERT_OK_AND_ASSIGN(auto w, MappedVector<Point>::Open(path));
  EXPECT_THAT(MappedVector<Point>::Open(path),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path)));
  EXPECT_THAT(MappedVector<Point>::Open(path, {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Point>::Open(path, {.read_only = true}));
  EXPECT_EQ(r.size(), 3u);
  // Another process.
  const int child = testing::RunInChild([&](void (*)(int)) {
    auto w2 = MappedVector<Point>::Open(path);
    if (!absl::IsUnavailable(w2.status())) return 1;
    auto r2 = MappedVector<Point>::Open(path, {.read_only = true});
    if (!r2.ok() || r2->size() != 3) return 2;
    return 0;
  });
  EXPECT_EQ(child, 0);
  // Moving the writer moves the lock; destroying it releases it.
  {
    MappedVector<Point> moved = std::move(w);
    EXPECT_THAT(MappedVector<Point>::Open(path), StatusIs(absl::StatusCode::kUnavailable));
    ASSERT_OK(moved.push_back(P(3)));
    ASSERT_OK(moved.Sync());
  }
  ASSERT_OK_AND_ASSIGN(auto w3, MappedVector<Point>::Open(path));
  EXPECT_THAT(Xs(w3), ::testing::ElementsAre(0, 1, 2, 3));
}

// A moved-from vector is empty and refuses everything (no crash, no file access).
TEST(VectorApi, MovedFromVector) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 3));
  ASSERT_OK_AND_ASSIGN(auto w, MappedVector<Point>::Open(path));
  MappedVector<Point> moved = std::move(w);
  EXPECT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved.path(), path);
  EXPECT_EQ(w.size(), 0u);  // the moved-from state
  EXPECT_EQ(w.path(), "");
  EXPECT_THAT(w.push_back(P(1)), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(w.reserve(10), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(w.Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(w.Refresh(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(w.at(0), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_FALSE(w.has_unsynced_changes());
  EXPECT_EQ(w.sync_count(), 0u);
}

TEST(VectorApi, WriterInAChildLocksOutTheParent) {
  const std::string path = testing::TestDir("v.rsv");
  ASSERT_NO_FATAL_FAILURE(MakeFile(path, 3));
  testing::ChildProcess child([&](testing::ChildProcess::Side& parent) {
    auto w = MappedVector<Point>::Open(path);
    parent.Report(w.ok() ? "open" : std::string(w.status().message()));
    parent.Await();
    return 0;
  });
  ASSERT_EQ(child.ReadLine(), "open");
  EXPECT_THAT(MappedVector<Point>::Open(path), StatusIs(absl::StatusCode::kUnavailable));
  child.Send('x');
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_OK(MappedVector<Point>::Open(path));
}

TEST(VectorApi, ScratchAnonymous) {
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Tiny>::Scratch({.reserve = 5000}));
  EXPECT_EQ(v.path(), "");
  EXPECT_FALSE(v.read_only());
  EXPECT_GE(v.capacity(), 5000u);
  EXPECT_TRUE(v.empty());
  for (uint32_t i = 0; i < 200'000; ++i) ASSERT_OK(v.push_back({i}));
  ASSERT_OK(v.erase(0, 100'000));
  ASSERT_OK(v.insert(0, {7}));
  EXPECT_TRUE(v.has_unsynced_changes());
  ASSERT_OK(v.Sync());
  EXPECT_EQ(v.sync_count(), 0u);
  EXPECT_FALSE(v.has_unsynced_changes());
  ASSERT_EQ(v.size(), 100'001u);
  EXPECT_EQ(v[0].v, 7u);
  for (uint32_t i = 1; i < v.size(); ++i) ASSERT_EQ(v[i].v, 100'000 + i - 1);
  ASSERT_OK(v.resize(v.size() + 10));
  EXPECT_EQ(v.back().v, 0u);
  EXPECT_THAT(v.Refresh(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(VectorApi, ScratchInADirectoryLeavesNothing) {
  const std::string dir = testing::TestDir("scratch");
  std::filesystem::create_directories(dir);
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Scratch({.reserve = 100, .dir = dir}));
    EXPECT_GE(v.capacity(), 100u);
    for (int i = 0; i < 300'000; ++i) ASSERT_OK(v.push_back(P(i)));
    ASSERT_OK(v.Sync());
    EXPECT_EQ(v.sync_count(), 0u);
    ASSERT_OK(v.erase(1, 299'999));
    EXPECT_THAT(Xs(v), ::testing::ElementsAre(0, 299'999));
    EXPECT_THAT(testing::DirEntries(dir), ::testing::IsEmpty());  // no name, ever
  }
  EXPECT_THAT(testing::DirEntries(dir), ::testing::IsEmpty());
  EXPECT_THAT(MappedVector<Point>::Scratch({.dir = dir + "/missing"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir + "/missing")));
}

TEST(VectorApi, ScratchRespectsMaxBytes) {
  EXPECT_THAT(MappedVector<Point>::Scratch({.reserve = 1000, .max_bytes = 4096}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Scratch({.max_bytes = 4096}));
  for (int i = 0; i < 4096 / 24; ++i) ASSERT_OK(v.push_back(P(i)));
  EXPECT_THAT(v.push_back(P(-1)), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(v.size(), 4096u / 24);
  EXPECT_EQ(v.back().x, 4096 / 24 - 1);
}

}  // namespace
}  // namespace recstore
