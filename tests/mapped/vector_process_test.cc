// MappedVector read by other processes while its writer (a child process) keeps syncing: every
// state a reader opens or refreshes to is one whole sync, never a mix of two.
#include <cstdint>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/child.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using testing::ChildProcess;
using testing::Tiny;

// Sync k holds SizeOf(k) elements, every one equal to k (so a mix of two syncs shows).
size_t SizeOf(uint32_t k) { return 500 + (k % 7) * 1500; }

// Whether `v` holds one whole sync; the sync's number, or nullopt (and a message) otherwise.
template <typename T>
std::optional<uint32_t> WholeSync(const MappedVector<T>& v, std::string* why) {
  if (v.empty()) return 0;  // the state before the first sync
  const uint32_t k = v[0].v;
  if (v.size() != SizeOf(k)) {
    *why = "sync " + std::to_string(k) + " with " + std::to_string(v.size()) + " elements";
    return std::nullopt;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].v != k) {
      *why = "element " + std::to_string(i) + " is " + std::to_string(v[i].v) + " in sync " +
             std::to_string(k);
      return std::nullopt;
    }
  }
  return k;
}

struct Wide32 {
  uint32_t v;
  char text[96];
};
RECSTORE_RECORD(Wide32, v, text);

template <typename T>
void ReadersSeeWholeSyncs(const std::string& path, uint32_t syncs) {
  { ASSERT_OK(MappedVector<T>::Open(path, {.create_if_missing = true})); }
  ChildProcess writer([&](ChildProcess::Side& parent) {
    auto v = MappedVector<T>::Open(path);
    if (!v.ok()) return 1;
    parent.Report("open");
    for (uint32_t k = 1; k <= syncs; ++k) {
      if (!v->resize(SizeOf(k)).ok()) return 2;
      for (size_t i = 0; i < v->size(); ++i) {
        auto p = v->Mutable(i);
        if (!p.ok()) return 3;
        (*p)->v = k;
      }
      if (!v->Sync().ok()) return 4;
    }
    parent.Report("done");
    return 0;
  });
  ASSERT_EQ(writer.ReadLine(), "open");
  auto r = MappedVector<T>::Open(path, {.read_only = true});
  ASSERT_OK(r.status());
  uint32_t last = 0;
  int refreshed = 0;
  std::string why;
  // Refresh while the writer runs; Unavailable (the writer outran a hundred reads) is allowed.
  ChildProcess other_reader([&](ChildProcess::Side& parent) {
    for (int i = 0; i < 200; ++i) {
      auto rr = MappedVector<T>::Open(path, {.read_only = true});
      if (!rr.ok()) continue;
      std::string w;
      if (!WholeSync(*rr, &w).has_value()) {
        parent.Report("mixed: " + w);
        return 1;
      }
    }
    parent.Report("ok");
    return 0;
  });
  for (int i = 0; i < 2000; ++i) {
    absl::Status s = r->Refresh();
    if (absl::IsUnavailable(s)) continue;
    ASSERT_OK(s);
    ++refreshed;
    std::optional<uint32_t> k = WholeSync(*r, &why);
    ASSERT_TRUE(k.has_value()) << why;
    ASSERT_GE(*k, last) << "went back in time";
    ASSERT_EQ(r->sync_count(), *k) << "sync_count and contents disagree";
    last = *k;
    if (last == syncs) break;
  }
  EXPECT_EQ(other_reader.ReadLine(), "ok");
  EXPECT_EQ(other_reader.Wait(), 0);
  EXPECT_EQ(writer.ReadLine(), "done");
  EXPECT_EQ(writer.Wait(), 0);
  ASSERT_OK(r->Refresh());
  ASSERT_EQ(WholeSync(*r, &why), std::optional<uint32_t>(syncs)) << why;
  EXPECT_GT(refreshed, 0);
}

TEST(VectorProcess, ReadersSeeWholeSyncsTiny) {
  ReadersSeeWholeSyncs<Tiny>(testing::TestDir("t.rsv"), 300);
}

TEST(VectorProcess, ReadersSeeWholeSyncsWide) {
  ReadersSeeWholeSyncs<Wide32>(testing::TestDir("w.rsv"), 150);
}

}  // namespace
}  // namespace recstore
