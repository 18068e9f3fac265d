// MappedVector when the system says no: max_bytes, a full disk (fallocate ENOSPC), address
// space that cannot be reserved or mapped, and syncs whose writes or flushes fail. Growth that
// fails leaves the vector as it was; a sync that fails before its commit point leaves the
// file at the last sync and can be retried; one that fails after it is final until a reopen,
// which shows the committed sync.
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using testing::FaultEnv;
using ::testing::HasSubstr;
using testing::Point;
using testing::StatusIs;
using testing::Tiny;

Point P(double i) { return {i, 2 * i, 3 * i}; }

// The elements' x values.
std::vector<double> Xs(const MappedVector<Point>& v) {
  std::vector<double> xs;
  for (const Point& p : v) xs.push_back(p.x);
  return xs;
}

// Pushes P(size()) once, then until the vector is at its capacity.
void FillToCapacity(MappedVector<Point>& v) {
  do {
    ASSERT_OK(v.push_back(P(static_cast<double>(v.size()))));
  } while (v.size() < v.capacity());
}

// Every way to grow fails with `code` and leaves the full vector unchanged.
void ExpectGrowthRefused(MappedVector<Point>& v, absl::StatusCode code) {
  ASSERT_EQ(v.size(), v.capacity());
  const std::vector<double> before = Xs(v);
  const size_t cap = v.capacity();
  const Point two[2] = {P(-1), P(-2)};
  EXPECT_THAT(v.push_back(P(-1)), StatusIs(code));
  EXPECT_THAT(v.append(two), StatusIs(code));
  EXPECT_THAT(v.insert(0, P(-1)), StatusIs(code));
  EXPECT_THAT(v.insert(v.size(), P(-1)), StatusIs(code));
  EXPECT_THAT(v.resize(v.size() + 1), StatusIs(code));
  EXPECT_THAT(v.reserve(v.size() + 1), StatusIs(code));
  EXPECT_EQ(v.capacity(), cap);
  EXPECT_EQ(Xs(v), before);
}

TEST(VectorFault, MaxBytes) {
  const std::string path = testing::TestDir("v.rsv");
  {
    ASSERT_OK_AND_ASSIGN(
        auto v, MappedVector<Point>::Open(path, {.create_if_missing = true, .max_bytes = 65536}));
    ASSERT_NO_FATAL_FAILURE(FillToCapacity(v));
    EXPECT_EQ(v.size(), 65536u / sizeof(Point));
    ASSERT_NO_FATAL_FAILURE(ExpectGrowthRefused(v, absl::StatusCode::kResourceExhausted));
    EXPECT_THAT(v.push_back(P(0)), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(path)));
    EXPECT_THAT(v.reserve(size_t{1} << 62), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_THAT(v.resize(~size_t{0} / 2), StatusIs(absl::StatusCode::kResourceExhausted));
    ASSERT_OK(v.Sync());
  }
  // The file holds 64 KiB of elements: a smaller reservation cannot open it.
  EXPECT_THAT(MappedVector<Point>::Open(path, {.max_bytes = 8192}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(path)));
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path, {.max_bytes = 65536}));
  EXPECT_EQ(v.size(), 65536u / sizeof(Point));
  EXPECT_EQ(v.back().x, static_cast<double>(v.size() - 1));
}

TEST(VectorFault, DiskFullOnGrowth) {
  const std::string path = testing::TestDir("v.rsv");
  FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto v,
                         MappedVector<Point>::Open(path, {.create_if_missing = true, .env = &env}));
    env.Fail("Allocate", ENOSPC);
    EXPECT_THAT(v.push_back(P(0)), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_THAT(v.reserve(10), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_TRUE(v.empty());
    EXPECT_EQ(v.capacity(), 0u);
    env.Clear();
    ASSERT_NO_FATAL_FAILURE(FillToCapacity(v));
    ASSERT_OK(v.Sync());
    env.Fail("Allocate", ENOSPC);
    ASSERT_NO_FATAL_FAILURE(ExpectGrowthRefused(v, absl::StatusCode::kResourceExhausted));
    EXPECT_GT(env.Failures(), 0);
    EXPECT_FALSE(v.has_unsynced_changes());
    env.Clear();
    const size_t n = v.size();
    ASSERT_OK(v.push_back(P(-7)));
    EXPECT_GT(v.capacity(), n);
    ASSERT_OK(v.Sync());
  }
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Open(path));
  EXPECT_EQ(v.back().x, -7);
  EXPECT_EQ(v[v.size() - 2].x, static_cast<double>(v.size() - 2));
}

TEST(VectorFault, AddressSpaceRefused) {
  const std::string path = testing::TestDir("v.rsv");
  FaultEnv env;
  env.Fail("ReserveAddress", ENOMEM);
  EXPECT_THAT(MappedVector<Point>::Open(path, {.create_if_missing = true, .env = &env}),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(path)));
  EXPECT_THAT(MappedVector<Point>::Scratch({.env = &env}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_FALSE(std::filesystem::exists(path));
  env.Clear();

  ASSERT_OK_AND_ASSIGN(auto v,
                       MappedVector<Point>::Open(path, {.create_if_missing = true, .env = &env}));
  ASSERT_NO_FATAL_FAILURE(FillToCapacity(v));
  env.Fail("MapAt", ENOMEM);
  ASSERT_NO_FATAL_FAILURE(ExpectGrowthRefused(v, absl::StatusCode::kResourceExhausted));
  EXPECT_GT(env.Calls("MapAt"), 0);
  env.Clear();
  ASSERT_OK(v.push_back(P(-1)));
  EXPECT_EQ(v.back().x, -1);
  ASSERT_OK(v.Sync());
}

TEST(VectorFault, ScratchMapFailure) {
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Point>::Scratch({.env = &env}));
  ASSERT_NO_FATAL_FAILURE(FillToCapacity(v));
  env.Fail("MapAt", ENOMEM);
  ASSERT_NO_FATAL_FAILURE(ExpectGrowthRefused(v, absl::StatusCode::kResourceExhausted));
  env.Clear();
  ASSERT_OK(v.push_back(P(-1)));
  // A scratch vector in a directory allocates file space first.
  const std::string dir = testing::TestDir("scratch");
  std::filesystem::create_directories(dir);
  ASSERT_OK_AND_ASSIGN(auto f, MappedVector<Point>::Scratch({.dir = dir, .env = &env}));
  env.Fail("Allocate", ENOSPC);
  EXPECT_THAT(f.push_back(P(0)), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(f.empty());
  env.Clear();
  ASSERT_OK(f.push_back(P(0)));
}

// A reader's Refresh that cannot map memory for the grown vector fails and keeps its copy.
TEST(VectorFault, ReaderRefreshMapFailure) {
  const std::string path = testing::TestDir("v.rsv");
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto w, MappedVector<Tiny>::Open(path, {.create_if_missing = true}));
  for (uint32_t i = 0; i < 10; ++i) ASSERT_OK(w.push_back({i}));
  ASSERT_OK(w.Sync());
  ASSERT_OK_AND_ASSIGN(auto r, MappedVector<Tiny>::Open(path, {.read_only = true, .env = &env}));
  for (uint32_t i = 10; i < 100'000; ++i) ASSERT_OK(w.push_back({i}));
  ASSERT_OK(w.Sync());
  env.Fail("MapAt", ENOMEM);
  EXPECT_THAT(r.Refresh(), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_EQ(r.size(), 10u);
  EXPECT_EQ(r[9].v, 9u);
  EXPECT_EQ(r.sync_count(), 1u);
  env.Clear();
  ASSERT_OK(r.Refresh());
  ASSERT_EQ(r.size(), 100'000u);
  EXPECT_EQ(r[99'999].v, 99'999u);
}

// A vector of three points synced (sync 1), then changed in memory: what the failing syncs try
// to write.
class SyncFault : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::TestDir("v.rsv");
    ASSERT_OK_AND_ASSIGN(
        auto v, MappedVector<Point>::Open(path_, {.create_if_missing = true, .env = &env_}));
    v_.emplace(std::move(v));
    for (int i = 0; i < 3; ++i) ASSERT_OK(v_->push_back(P(i)));
    ASSERT_OK(v_->Sync());
    // Changes over several pages, so that the journal takes several writes.
    for (int i = 3; i < 2000; ++i) ASSERT_OK(v_->push_back(P(i)));
    ASSERT_OK(v_->Set(0, P(-1)));
  }

  std::vector<double> Changed() const {
    std::vector<double> xs{-1};
    for (int i = 1; i < 2000; ++i) xs.push_back(i);
    return xs;
  }

  // Closes the vector (dropping whatever is unsynced) and opens the file again.
  MappedVector<Point> Reopen() {
    v_.reset();
    auto v = MappedVector<Point>::Open(path_);
    EXPECT_OK(v.status());
    return *std::move(v);
  }

  FaultEnv env_;
  std::string path_;
  std::optional<MappedVector<Point>> v_;
};

// The journal write fails: the file is untouched, memory keeps the changes, a retry works.
TEST_F(SyncFault, JournalWriteFailsThenRetrySucceeds) {
  env_.Fail("PWrite", EIO, 0, "-journal");
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kInternal, HasSubstr("-journal")));
  EXPECT_EQ(v_->sync_count(), 1u);
  EXPECT_TRUE(v_->has_unsynced_changes());
  EXPECT_EQ(Xs(*v_), Changed());
  env_.Clear();
  ASSERT_OK(v_->Sync());
  EXPECT_EQ(v_->sync_count(), 2u);
  MappedVector<Point> v = Reopen();
  EXPECT_EQ(Xs(v), Changed());
  EXPECT_EQ(v.sync_count(), 2u);
}

// The journal is left half written (its later writes fail): a reopen shows sync 1 whole.
TEST_F(SyncFault, HalfWrittenJournalIsIgnored) {
  for (int nth : {2, 3}) {
    SCOPED_TRACE(nth);
    env_.FailNth("PWrite", nth, EIO, "-journal");
    EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kInternal));
  }
  MappedVector<Point> v = Reopen();
  EXPECT_THAT(Xs(v), ::testing::ElementsAre(0, 1, 2));
  EXPECT_EQ(v.sync_count(), 1u);
}

// Writes into the file fail after the journal is durable: final for this vector, and the
// reopen redoes the journal.
TEST_F(SyncFault, FileWriteFailsAfterCommit) {
  env_.BeforeEachCall([this](std::string_view op, const std::string& path) {
    if (op == "SyncData" && path.ends_with("-journal")) env_.Fail("PWrite", EIO);
  });
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kInternal, HasSubstr(path_)));
  env_.BeforeEachCall(nullptr);
  env_.Clear();
  EXPECT_EQ(Xs(*v_), Changed());
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path_)));
  ASSERT_OK(v_->push_back(P(5000)));
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  MappedVector<Point> v = Reopen();
  EXPECT_EQ(Xs(v), Changed());
  EXPECT_EQ(v.sync_count(), 2u);
}

// The journal's fdatasync fails: every later Sync is refused. What a reopen shows is a whole
// sync, the one before or the one that failed.
TEST_F(SyncFault, JournalFlushFails) {
  env_.Fail("SyncData", EIO, 0, "-journal", 1);
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(env_.Failures(), 1);
  EXPECT_THAT(v_->Sync(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("earlier sync failed")));
  EXPECT_EQ(Xs(*v_), Changed());
  MappedVector<Point> v = Reopen();
  if (v.sync_count() == 1) {
    EXPECT_THAT(Xs(v), ::testing::ElementsAre(0, 1, 2));
  } else {
    EXPECT_EQ(v.sync_count(), 2u);
    EXPECT_EQ(Xs(v), Changed());
  }
}

// The file's fdatasync fails (after the commit point): refused from then on; the reopen shows
// the committed sync.
TEST_F(SyncFault, FileFlushFails) {
  env_.Fail("SyncData", EIO, /*skip=*/1, "", 1);  // the journal's flush passes, the file's fails
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(env_.Failures(), 1);
  EXPECT_THAT(v_->Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  MappedVector<Point> v = Reopen();
  EXPECT_EQ(Xs(v), Changed());
  EXPECT_EQ(v.sync_count(), 2u);
}

}  // namespace
}  // namespace recstore
