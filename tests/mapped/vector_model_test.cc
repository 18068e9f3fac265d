// MappedVector against a std::vector model: random sequences of every mutating operation,
// syncs, reopens (which must show the model as of the last Sync) and read-only opens (a copy of
// the last synced state until Refresh), for records of 4, 24 and 100 bytes so that page
// boundaries fall inside records at different phases.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using testing::Point;
using testing::SameBytes;
using testing::StatusIs;
using testing::Tiny;
using testing::Wide;

template <typename T>
T RandomRecord(std::mt19937_64& rng) {
  T t;
  unsigned char bytes[sizeof(T)];
  for (unsigned char& b : bytes) b = static_cast<unsigned char>(rng());
  std::memcpy(&t, bytes, sizeof(T));
  return t;
}

template <typename T>
bool IsZero(const T& t) {
  T zero;
  std::memset(&zero, 0, sizeof(T));
  return SameBytes(t, zero);
}

// Index of the first element where `got` and `want` differ (or the shorter size), for failure
// messages.
template <typename T>
size_t FirstDifference(std::span<const T> got, const std::vector<T>& want) {
  const size_t n = std::min(got.size(), want.size());
  for (size_t i = 0; i < n; ++i) {
    if (!SameBytes(got[i], want[i])) return i;
  }
  return n;
}

template <typename T>
class ModelRun {
 public:
  ModelRun(std::string path, uint64_t seed) : path_(std::move(path)), rng_(seed) {}

  // Runs `ops` random operations; stops at the first fatal failure.
  void Run(int ops) {
    ASSERT_NO_FATAL_FAILURE(OpenWriter(/*create=*/true));
    for (step_ = 0; step_ < ops; ++step_) {
      ASSERT_NO_FATAL_FAILURE(Step());
      if (step_ % 64 == 0) {
        ASSERT_NO_FATAL_FAILURE(CheckWriter("periodic"));
      }
    }
    ASSERT_NO_FATAL_FAILURE(CheckWriter("end"));
    // Whatever was not synced is dropped by a reopen.
    ASSERT_NO_FATAL_FAILURE(Reopen());
    ASSERT_OK(v_->Sync());
    EXPECT_GT(syncs_done_, 0);
    EXPECT_GT(reopens_, 0);
    EXPECT_GT(refreshes_, 0);
  }

 private:
  size_t Pick(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  // A size the model should not grow past (a few MiB), so that a run stays fast.
  bool Big() const { return model_.size() * sizeof(T) > (size_t{2} << 20); }

  void OpenWriter(bool create) {
    auto v = MappedVector<T>::Open(path_, {.create_if_missing = create});
    ASSERT_OK(v.status());
    v_.emplace(*std::move(v));
  }

  void CheckWriter(const char* where) {
    SCOPED_TRACE(::testing::Message() << where << " at step " << step_);
    ASSERT_EQ(v_->size(), model_.size());
    ASSERT_GE(v_->capacity(), v_->size());
    ASSERT_EQ(v_->empty(), model_.empty());
    const size_t diff = FirstDifference(v_->span(), model_);
    ASSERT_EQ(diff, model_.size()) << "first differing element";
    EXPECT_THAT(v_->at(model_.size()), StatusIs(absl::StatusCode::kOutOfRange));
    if (!model_.empty()) {
      EXPECT_TRUE(SameBytes(v_->front(), model_.front()));
      EXPECT_TRUE(SameBytes(v_->back(), model_.back()));
    }
  }

  void CheckReader(const char* where) {
    SCOPED_TRACE(::testing::Message() << where << " at step " << step_);
    ASSERT_EQ(reader_->size(), reader_model_.size());
    ASSERT_EQ(FirstDifference(reader_->span(), reader_model_), reader_model_.size());
    EXPECT_EQ(reader_->sync_count(), reader_seq_);
    EXPECT_FALSE(reader_->has_unsynced_changes());
    EXPECT_THAT(reader_->at(reader_model_.size()), StatusIs(absl::StatusCode::kOutOfRange));
  }

  void Reopen() {
    const uint64_t seq = v_->sync_count();
    v_.reset();
    ASSERT_NO_FATAL_FAILURE(OpenWriter(/*create=*/false));
    model_ = synced_;
    EXPECT_EQ(v_->sync_count(), seq);
    EXPECT_FALSE(v_->has_unsynced_changes());
    ASSERT_NO_FATAL_FAILURE(CheckWriter("after reopen"));
    ++reopens_;
  }

  void Sync() {
    const bool changed = v_->has_unsynced_changes();
    const uint64_t before = v_->sync_count();
    ASSERT_OK(v_->Sync());
    const uint64_t after = v_->sync_count();
    if (!changed) {
      EXPECT_EQ(after, before) << "a sync with nothing to do counted";
    }
    EXPECT_LE(after, before + 1);
    EXPECT_FALSE(v_->has_unsynced_changes());
    synced_ = model_;
    ++syncs_done_;
  }

  void ReaderStep() {
    if (!reader_.has_value() || rng_() % 4 == 0) {
      auto r = MappedVector<T>::Open(path_, {.read_only = true});
      ASSERT_OK(r.status());
      reader_.emplace(*std::move(r));
      reader_model_ = synced_;
      reader_seq_ = v_->sync_count();
      ASSERT_TRUE(reader_->read_only());
      ASSERT_NO_FATAL_FAILURE(CheckReader("reader opened"));
      return;
    }
    // A copy: it still shows the state of its open (or last Refresh), whatever was synced since.
    ASSERT_NO_FATAL_FAILURE(CheckReader("reader before refresh"));
    ASSERT_OK(reader_->Refresh());
    reader_model_ = synced_;
    reader_seq_ = v_->sync_count();
    ASSERT_NO_FATAL_FAILURE(CheckReader("reader after refresh"));
    ++refreshes_;
  }

  // Checked operations with bad indexes fail with OutOfRange and change nothing.
  void BadIndexes() {
    const size_t n = model_.size();
    if (n > 0) {
      const size_t i = Pick(n);
      auto got = v_->at(i);
      ASSERT_OK(got.status());
      EXPECT_TRUE(SameBytes(*got, model_[i])) << "at(" << i << ")";
    }
    const T value = RandomRecord<T>(rng_);
    EXPECT_THAT(v_->at(n + Pick(3)), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(v_->Set(n + Pick(3), value), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(v_->Mutable(n), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(v_->erase(n), StatusIs(absl::StatusCode::kOutOfRange));
    EXPECT_THAT(v_->erase(0, n + 1), StatusIs(absl::StatusCode::kOutOfRange));
    if (n > 0) {
      EXPECT_THAT(v_->erase(n, n - 1), StatusIs(absl::StatusCode::kOutOfRange));
    }
    EXPECT_THAT(v_->insert(n + 1, value), StatusIs(absl::StatusCode::kOutOfRange));
  }

  void Step() {
    const size_t n = model_.size();
    int op = static_cast<int>(rng_() % 100);
    if (Big() && op < 35) op = 42;  // grow no further: erase a range instead
    if (op < 16) {                  // push_back
      const T value = RandomRecord<T>(rng_);
      ASSERT_OK(v_->push_back(value));
      model_.push_back(value);
      EXPECT_TRUE(v_->has_unsynced_changes());
    } else if (op < 22) {  // append: mostly a few, sometimes pages' worth
      const size_t k = rng_() % 8 == 0 ? Pick(20000 / sizeof(T) + 1) : Pick(12);
      std::vector<T> values;
      for (size_t i = 0; i < k; ++i) values.push_back(RandomRecord<T>(rng_));
      ASSERT_OK(v_->append(values));
      model_.insert(model_.end(), values.begin(), values.end());
    } else if (op < 32) {  // insert at the front, the middle or the end
      const T value = RandomRecord<T>(rng_);
      const size_t where = op < 25 ? 0 : op < 29 ? Pick(n + 1) : n;
      ASSERT_OK(v_->insert(where, value));
      model_.insert(model_.begin() + static_cast<ptrdiff_t>(where), value);
    } else if (op < 40) {  // erase one
      if (n == 0) return;
      const size_t i = op < 34 ? 0 : Pick(n);
      ASSERT_OK(v_->erase(i));
      model_.erase(model_.begin() + static_cast<ptrdiff_t>(i));
    } else if (op < 45) {  // erase a range (possibly empty)
      const size_t a = Pick(n + 1);
      const size_t b = a + Pick(std::min<size_t>(n - a, 8192 / sizeof(T) * 3) + 1);
      ASSERT_OK(v_->erase(a, b));
      model_.erase(model_.begin() + static_cast<ptrdiff_t>(a),
                   model_.begin() + static_cast<ptrdiff_t>(b));
    } else if (op < 49) {  // pop_back, also when empty (a no-op)
      v_->pop_back();
      if (n > 0) model_.pop_back();
    } else if (op < 58) {  // Set
      if (n == 0) return;
      const size_t i = Pick(n);
      const T value = RandomRecord<T>(rng_);
      ASSERT_OK(v_->Set(i, value));
      model_[i] = value;
    } else if (op < 66) {  // Mutable: write through the pointer
      if (n == 0) return;
      const size_t i = Pick(n);
      const T value = RandomRecord<T>(rng_);
      auto p = v_->Mutable(i);
      ASSERT_OK(p.status());
      ASSERT_EQ(static_cast<const T*>(*p), v_->data() + i);
      // Change one byte first, then the rest: both land before the next Sync.
      reinterpret_cast<unsigned char*>(*p)[sizeof(T) - 1] ^= 0x5a;
      **p = value;
      model_[i] = value;
    } else if (op < 71) {  // resize up (zero-filled) or down
      const bool up = rng_() % 2 == 0 && !Big();
      const size_t to = up ? n + Pick(6000 / sizeof(T) + 2) : Pick(n + 1);
      ASSERT_OK(v_->resize(to));
      const size_t old = model_.size();
      model_.resize(to);
      for (size_t i = old; i < to; ++i) {
        ASSERT_TRUE(IsZero((*v_)[i])) << "resize(" << to << ") left element " << i << " nonzero";
      }
    } else if (op < 72) {  // clear: capacity stays
      const size_t cap = v_->capacity();
      v_->clear();
      model_.clear();
      EXPECT_EQ(v_->capacity(), cap);
    } else if (op < 75) {  // reserve: contents unchanged
      const size_t want = n + Pick(30000 / sizeof(T) + 1);
      ASSERT_OK(v_->reserve(want));
      EXPECT_GE(v_->capacity(), want);
      ASSERT_NO_FATAL_FAILURE(CheckWriter("after reserve"));
    } else if (op < 79) {
      ASSERT_NO_FATAL_FAILURE(Sync());
    } else if (op < 81) {
      ASSERT_NO_FATAL_FAILURE(Reopen());
    } else if (op < 84) {
      ASSERT_NO_FATAL_FAILURE(ReaderStep());
    } else if (op < 92) {
      ASSERT_NO_FATAL_FAILURE(BadIndexes());
    } else {
      ASSERT_NO_FATAL_FAILURE(CheckWriter("check"));
    }
  }

  std::string path_;
  std::mt19937_64 rng_;
  int step_ = 0;
  std::optional<MappedVector<T>> v_;
  std::vector<T> model_;   // what the writer must hold
  std::vector<T> synced_;  // the model as of the last Sync
  std::optional<MappedVector<T>> reader_;
  std::vector<T> reader_model_;
  uint64_t reader_seq_ = 0;
  int syncs_done_ = 0;
  int reopens_ = 0;
  int refreshes_ = 0;
};

template <typename T>
class VectorModelTest : public ::testing::Test {};
using RecordTypes = ::testing::Types<Tiny, Point, Wide>;
TYPED_TEST_SUITE(VectorModelTest, RecordTypes);

TYPED_TEST(VectorModelTest, RandomOperationsMatchTheModel) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    ModelRun<TypeParam> run(testing::TestDir("v" + std::to_string(seed) + ".rsv"), seed);
    ASSERT_NO_FATAL_FAILURE(run.Run(3000));
  }
}

}  // namespace
}  // namespace recstore
