// Threads appending while others scan and read: readers never see a partly written record.
// Run under --config=tsan too.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;

// Records check themselves: qty == -ts_ns and flags == symbol_id * 3.
Trade SelfChecking(uint64_t v) {
  return Trade{.ts_ns = v,
               .symbol_id = static_cast<uint32_t>(v),
               .flags = static_cast<uint32_t>(v) * 3,
               .price = 1.0,
               .qty = -static_cast<int64_t>(v)};
}
bool Consistent(const Trade& t) {
  return t.qty == -static_cast<int64_t>(t.ts_ns) && t.flags == t.symbol_id * 3;
}

TEST(ConcurrencyTest, WritersAndReadersShareACollection) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  constexpr int kWriters = 2, kPerWriter = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        uint64_t v = uint64_t(w) << 32 | uint64_t(i + 1);
        if (i % 64 == 0) {
          std::vector<Trade> batch(8, SelfChecking(v));
          if (!trades.AppendBatch(batch).ok()) ++bad;
        } else if (!trades.Append(SelfChecking(v)).ok()) {
          ++bad;
        }
        if (!events.Append(std::string(i % 200, 'e')).ok()) ++bad;
        if (i % 1000 == 0 && !trades.Sync().ok()) ++bad;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!done.load()) {
        uint64_t n = 0;
        auto scan = trades.Scan();
        for (const auto& [seq, t] : scan) {
          if (!Consistent(t)) ++bad;
          ++n;
        }
        if (!scan.status().ok()) ++bad;
        const uint64_t end = events.end();
        if (end > 0) {
          auto got = events.Get(end - 1);
          if (!got.ok() || got->size() >= 200) ++bad;
        }
        if (trades.end() > 0) {
          auto t = trades.Get(trades.end() / 2);
          if (!t.ok() || !Consistent(**t)) ++bad;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(bad.load(), 0);
  const uint64_t expected = kWriters * (kPerWriter + (kPerWriter + 63) / 64 * 7);
  EXPECT_EQ(trades.size(), expected);
  ASSERT_OK_AND_ASSIGN(VerifyReport v, trades.Verify());
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.records_checked, expected);
}

}  // namespace
}  // namespace recstore
