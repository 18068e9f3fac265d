#include <gtest/gtest.h>

#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {
struct Point {
  double x, y, z;
};
RECSTORE_RECORD(Point, x, y, z);
struct Counters {
  uint64_t requests;
  uint64_t errors;
  char host[32];
};
RECSTORE_RECORD(Counters, requests, errors, host);

TEST(Smoke, Vector) {
  std::string path = testing::TestDir("p.rsv");
  {
    auto v = MappedVector<Point>::Open(path, {.create_if_missing = true});
    ASSERT_TRUE(v.ok()) << v.status();
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(v->push_back({double(i), 0, 0}).ok());
    ASSERT_TRUE(v->insert(0, {-1, 0, 0}).ok());
    ASSERT_TRUE(v->erase(5).ok());
    ASSERT_TRUE(v->Sync().ok());
    ASSERT_TRUE(v->push_back({1e9, 0, 0}).ok());  // unsynced
    auto r = MappedVector<Point>::Open(path, {.read_only = true});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->size(), 10000u);
    EXPECT_EQ((*r)[0].x, -1);
    EXPECT_EQ((*r)[5].x, 5);
    auto w2 = MappedVector<Point>::Open(path);
    EXPECT_TRUE(absl::IsUnavailable(w2.status())) << w2.status();
  }
  auto v = MappedVector<Point>::Open(path);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 10000u);
  EXPECT_EQ((*v)[9999].x, 9999);
  EXPECT_EQ(v->sync_count(), 1u);
}

TEST(Smoke, Struct) {
  std::string path = testing::TestDir("c.rss");
  {
    auto c = MappedStruct<Counters>::Open(path, {.create_if_missing = true, .shared = true});
    ASSERT_TRUE(c.ok()) << c.status();
    auto c2 = MappedStruct<Counters>::Open(path, {.shared = true});
    ASSERT_TRUE(c2.ok()) << c2.status();
    c->Atomic(&Counters::requests).fetch_add(5);
    c2->Atomic(&Counters::requests).fetch_add(7);
    ASSERT_TRUE(c2->Sync().ok());
    c->Atomic(&Counters::requests).fetch_add(100);  // unsynced
    EXPECT_EQ(c->get().requests, 112u);
  }
  auto c = MappedStruct<Counters>::Open(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->get().requests, 12u);
}
}  // namespace
}  // namespace recstore
