// Threads appending while others scan, read and sync: readers never see a partly written
// record or a sequence number going backwards; durable ends never decrease, cover everything
// appended before the Sync() began and never pass what was appended. Run under --config=tsan.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

// Records that name their writer thread and that thread's count of earlier records in the
// collection, and check themselves.
struct Tagged {
  uint32_t thread;
  uint32_t size;  // of the matching byte record
  uint64_t counter;
  uint64_t check;
};
RECSTORE_RECORD(Tagged, thread, size, counter, check);

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Tagged MakeTagged(uint32_t thread, uint64_t counter) {
  const uint64_t h = Mix(Mix(thread) ^ counter);
  // Byte records: mostly short; about 1 in 1000 is larger than a 64 KiB segment.
  const uint32_t size = h % 1000 == 0 ? 70000 + h % 5000 : 16 + (h >> 20) % 300;
  return Tagged{thread, size, counter, h};
}
bool TaggedOk(const Tagged& t) { return t.check == Mix(Mix(t.thread) ^ t.counter); }

std::string TaggedBytes(uint32_t thread, uint64_t counter) {
  const Tagged head = MakeTagged(thread, counter);
  std::string s(head.size, '\0');
  std::memcpy(s.data(), &head.thread, 4);
  std::memcpy(s.data() + 4, &head.size, 4);
  std::memcpy(s.data() + 8, &head.counter, 8);
  for (size_t i = 16; i < s.size(); ++i) s[i] = static_cast<char>(head.check >> (i % 7 * 8));
  return s;
}
// Checks a byte record against its header; returns its head (check == 0 if inconsistent).
Tagged ParseTaggedBytes(std::span<const std::byte> b) {
  Tagged t{};
  if (b.size() < 16) return t;
  std::memcpy(&t.thread, b.data(), 4);
  std::memcpy(&t.counter, b.data() + 8, 8);
  const Tagged want = MakeTagged(t.thread, t.counter);
  if (b.size() != want.size) return t;
  for (size_t i = 16; i < b.size(); ++i) {
    if (static_cast<char>(b[i]) != static_cast<char>(want.check >> (i % 7 * 8))) return t;
  }
  return want;
}

// Counts failures and keeps the first message.
class Failures {
 public:
  void Add(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ == 0) first_ = std::move(what);
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  int count_ = 0;
  std::string first_;
};

constexpr uint32_t kAppenders = 6;

// Scans all of `log`, checking each record, the order of sequence numbers, and that each
// thread's counters run 0, 1, 2, ... Returns how many records each thread has.
template <typename LogT, typename ParseFn>
std::vector<uint64_t> ScanAndCheck(const LogT& log, ParseFn parse, Failures* failures) {
  std::vector<uint64_t> next(kAppenders, 0);
  const uint64_t before = log.end();
  uint64_t expect = 0;
  auto scan = log.Scan();
  for (const auto& [seq, value] : scan) {
    if (seq != expect)
      failures->Add(absl::StrCat(log.name(), ": scan gave ", seq, " after ", expect));
    expect = seq + 1;
    const Tagged t = parse(value);
    if (t.check == 0 || t.thread >= kAppenders) {
      failures->Add(absl::StrCat(log.name(), ": record ", seq, " is not intact"));
      continue;
    }
    if (t.counter != next[t.thread]) {
      failures->Add(absl::StrCat(log.name(), ": record ", seq, " has counter ", t.counter,
                                 " of thread ", t.thread, ", expected ", next[t.thread]));
    }
    next[t.thread] = t.counter + 1;
  }
  if (!scan.status().ok()) failures->Add(scan.status().ToString());
  if (expect < before || expect > log.end()) {
    failures->Add(absl::StrCat(log.name(), ": scan ended at ", expect, ", end() was ", before));
  }
  return next;
}

Tagged ParseFixed(const Tagged& t) { return TaggedOk(t) ? t : Tagged{}; }

TEST(ConcurrencyTest, AppendersScannersReadersAndSyncersOnBothKinds) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(auto fixed, store->OpenLog<Tagged>("fixed"));
  ASSERT_OK_AND_ASSIGN(auto bytes, store->OpenByteLog("bytes"));
  constexpr int kOps = 1500;
  const uint64_t seed = 42;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  Failures failures;
  std::atomic<uint32_t> writers_left{kAppenders};
  // Appenders go on past kOps until the scanners and syncers have done this much alongside.
  constexpr uint64_t kMinScans = 20, kMinSyncs = 24;
  std::atomic<uint64_t> scans{0}, syncs{0};
  std::vector<uint64_t> appended[2];
  appended[0].assign(kAppenders, 0);
  appended[1].assign(kAppenders, 0);
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < kAppenders; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(Mix(seed + w));
      uint64_t counters[2] = {0, 0};
      for (int op = 0; op < kOps || scans.load() < kMinScans || syncs.load() < kMinSyncs; ++op) {
        const uint64_t r = rng();
        const int kind = static_cast<int>(r & 1);
        const uint64_t n = (r >> 8) % 100 < 85 ? 1 : 2 + (r >> 16) % 19;
        absl::StatusOr<uint64_t> seq;
        if (kind == 0) {
          std::vector<Tagged> batch;
          for (uint64_t j = 0; j < n; ++j) batch.push_back(MakeTagged(w, counters[0] + j));
          seq = n == 1 ? fixed.Append(batch[0]) : fixed.AppendBatch(batch);
        } else {
          std::vector<std::string> recs;
          for (uint64_t j = 0; j < n; ++j) recs.push_back(TaggedBytes(w, counters[1] + j));
          std::vector<std::string_view> views(recs.begin(), recs.end());
          seq = n == 1 ? bytes.Append(views[0]) : bytes.AppendBatch(views);
        }
        if (!seq.ok()) failures.Add(seq.status().ToString());
        counters[kind] += n;
      }
      appended[0][w] = counters[0];
      appended[1][w] = counters[1];
      writers_left.fetch_sub(1);
    });
  }
  auto running = [&] { return writers_left.load() > 0; };
  // Scanners: whole scans of both collections.
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (running()) {
        ScanAndCheck(fixed, ParseFixed, &failures);
        ScanAndCheck(bytes, ParseTaggedBytes, &failures);
        scans.fetch_add(2);
      }
    });
  }
  // A reader: Get of the newest and of random records; end() never goes back.
  threads.emplace_back([&] {
    std::mt19937_64 rng(seed);
    uint64_t last[2] = {0, 0};
    while (running()) {
      for (int kind = 0; kind < 2; ++kind) {
        const uint64_t end = kind == 0 ? fixed.end() : bytes.end();
        if (end < last[kind])
          failures.Add(absl::StrCat("end() went from ", last[kind], " to ", end));
        last[kind] = end;
        if (end == 0) continue;
        for (uint64_t seq : {end - 1, rng() % end}) {
          bool ok;
          if (kind == 0) {
            auto got = fixed.Get(seq);
            ok = got.ok() && TaggedOk(**got);
          } else {
            auto got = bytes.Get(seq);
            ok = got.ok() && ParseTaggedBytes(*got).check != 0;
          }
          if (!ok) failures.Add(absl::StrCat("Get(", seq, ") of kind ", kind, " failed"));
        }
      }
    }
  });
  // Syncers: each durable end covers what was appended before the call, never decreases and
  // never passes what was appended.
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      uint64_t last[2] = {0, 0};
      for (uint64_t k = s; running(); ++k) {
        const int kind = static_cast<int>(k % 2);
        const LogBase& log = kind == 0 ? static_cast<const LogBase&>(fixed) : bytes;
        const uint64_t before = log.end();
        auto d = log.Sync();
        const uint64_t after = log.end();
        if (!d.ok()) {
          failures.Add(d.status().ToString());
          continue;
        }
        if (*d < before || *d < last[kind] || *d > after || log.durable() < *d ||
            log.durable() > log.end()) {
          failures.Add(absl::StrCat(log.name(), ": Sync() returned ", *d, " (end ", before, " -> ",
                                    after, ", previous ", last[kind], ")"));
        }
        last[kind] = *d;
        syncs.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::printf("%llu scans and %llu syncs ran alongside the appenders\n",
              static_cast<unsigned long long>(scans.load()),
              static_cast<unsigned long long>(syncs.load()));
  EXPECT_EQ(failures.count(), 0) << failures.first();
  // Everything is there, each thread's records in order.
  EXPECT_EQ(ScanAndCheck(fixed, ParseFixed, &failures), appended[0]);
  EXPECT_EQ(ScanAndCheck(bytes, ParseTaggedBytes, &failures), appended[1]);
  EXPECT_EQ(failures.count(), 0) << failures.first();
  for (const LogBase* log :
       {static_cast<const LogBase*>(&fixed), static_cast<const LogBase*>(&bytes)}) {
    ASSERT_OK_AND_ASSIGN(uint64_t durable, log->Sync());
    EXPECT_EQ(durable, log->end());
    ASSERT_OK_AND_ASSIGN(VerifyReport v, log->Verify());
    EXPECT_TRUE(v.ok) << v.first_bad.reason;
    EXPECT_EQ(v.records_checked, log->end());
  }
}

}  // namespace
}  // namespace recstore
