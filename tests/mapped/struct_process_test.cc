// MappedStruct shared between processes (fork) and threads: atomic increments through the
// shared mapping add up exactly, and syncs from every thread and process at once all succeed,
// each making one snapshot, while the counters move.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "tests/testing/child.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using testing::ChildProcess;
using testing::Counters;

using Struct = MappedStruct<Counters>;

// Creates the struct file (zeroed, sync 1) and closes it.
void Create(const std::string& path) {
  auto c = Struct::Open(path, {.create_if_missing = true});
  ASSERT_OK(c.status());
  ASSERT_EQ(c->sync_count(), 1u);
}

TEST(StructProcess, TwoProcessesMillionIncrementsEach) {
  constexpr uint64_t kEach = 1'000'000;
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Create(path));
  auto body = [&](ChildProcess::Side& parent) {
    auto c = Struct::Open(path, {.shared = true});
    if (!c.ok()) {
      parent.Report(std::string(c.status().message()));
      return 1;
    }
    parent.Report("open");
    if (parent.Await() != 'g') return 2;
    std::atomic_ref<uint64_t> requests = c->Atomic(&Counters::requests);
    for (uint64_t i = 0; i < kEach; ++i) requests.fetch_add(1, std::memory_order_relaxed);
    c->Atomic(&Counters::errors).fetch_add(1);
    if (absl::Status s = c->Sync(); !s.ok()) {
      parent.Report(std::string(s.message()));
      return 3;
    }
    parent.Report("done");
    return 0;
  };
  ChildProcess a(body);
  ChildProcess b(body);
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_EQ(a.ReadLine(), "open");
  ASSERT_EQ(b.ReadLine(), "open");
  a.Send('g');
  b.Send('g');
  EXPECT_EQ(a.ReadLine(), "done");
  EXPECT_EQ(b.ReadLine(), "done");
  EXPECT_EQ(a.Wait(), 0);
  EXPECT_EQ(b.Wait(), 0);
  // Both closed: this open restores the newest snapshot, the second of the two syncs, taken
  // after both processes finished counting.
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_EQ(c->requests, 2 * kEach);
  EXPECT_EQ(c->errors, 2u);
  EXPECT_EQ(c.sync_count(), 3u);
}

// What one process did: its syncs (all OK unless `failures`), and the counter it read after
// its own increments ended and before its last sync.
struct Tally {
  int syncs = 0;
  int failures = 0;
  uint64_t before_last_sync = 0;
  std::string first_error;

  std::string Encode() const {
    std::ostringstream out;
    out << syncs << ' ' << failures << ' ' << before_last_sync << ' ' << first_error;
    return out.str();
  }
  static Tally Decode(const std::string& line) {
    Tally t;
    std::istringstream in(line);
    in >> t.syncs >> t.failures >> t.before_last_sync;
    std::getline(in, t.first_error);
    return t;
  }
};

constexpr int kIncrementers = 2;
constexpr uint64_t kEachThread = 200'000;

// Runs kIncrementers threads adding to requests through `a`, and one syncing thread on each of
// `a` and `b` (two opens of the file in this process, so syncs meet both the object's own
// serialization and the lock between open files) until the increments end; then a last Sync.
Tally IncrementAndSync(Struct& a, Struct& b) {
  std::atomic<int> running{kIncrementers};
  std::atomic<int> syncs{0};
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_error;
  auto sync = [&](Struct& s) {
    absl::Status st = s.Sync();
    if (st.ok()) {
      ++syncs;
      return;
    }
    ++failures;
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = std::string(st.message());
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kIncrementers; ++i) {
    threads.emplace_back([&] {
      std::atomic_ref<uint64_t> requests = a.Atomic(&Counters::requests);
      for (uint64_t j = 0; j < kEachThread; ++j) requests.fetch_add(1, std::memory_order_relaxed);
      --running;
    });
  }
  for (Struct* s : {&a, &b}) {
    threads.emplace_back([&, s] {
      do {
        sync(*s);
      } while (running.load() > 0);
    });
  }
  for (std::thread& t : threads) t.join();
  Tally t;
  t.before_last_sync = a.Load().requests;
  sync(a);
  t.syncs = syncs.load();
  t.failures = failures.load();
  t.first_error = first_error;
  return t;
}

TEST(StructProcess, SyncsFromEveryThreadAndProcessWhileCounting) {
  constexpr int kChildren = 2;
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Create(path));
  std::vector<Tally> tallies;
  {
    // The parent opens first (so no child restores over the others' counts) and counts too.
    ASSERT_OK_AND_ASSIGN(auto a, Struct::Open(path, {.shared = true}));
    ASSERT_OK_AND_ASSIGN(auto b, Struct::Open(path, {.shared = true}));
    auto body = [&](ChildProcess::Side& parent) {
      auto ca = Struct::Open(path, {.shared = true});
      auto cb = Struct::Open(path, {.shared = true});
      if (!ca.ok() || !cb.ok()) {
        parent.Report(std::string(ca.ok() ? cb.status().message() : ca.status().message()));
        return 1;
      }
      parent.Report("open");
      if (parent.Await() != 'g') return 2;
      parent.Report(IncrementAndSync(*ca, *cb).Encode());
      return 0;
    };
    std::vector<std::unique_ptr<ChildProcess>> children;
    for (int i = 0; i < kChildren; ++i) {
      children.push_back(std::make_unique<ChildProcess>(body));
      ASSERT_TRUE(children.back()->started());
    }
    for (auto& child : children) ASSERT_EQ(child->ReadLine(), "open");
    for (auto& child : children) child->Send('g');
    tallies.push_back(IncrementAndSync(a, b));
    for (auto& child : children) {
      std::optional<std::string> line = child->ReadLine();
      ASSERT_TRUE(line.has_value());
      tallies.push_back(Tally::Decode(*line));
      EXPECT_EQ(child->Wait(), 0);
    }
    // Everyone is done: the live struct holds every increment.
    EXPECT_EQ(a.Load().requests, (kChildren + 1) * kIncrementers * kEachThread);
  }
  const uint64_t total = (kChildren + 1) * kIncrementers * kEachThread;
  int syncs = 0;
  uint64_t lower = 0;
  for (const Tally& t : tallies) {
    EXPECT_EQ(t.failures, 0) << t.first_error;
    EXPECT_GE(t.syncs, 3);  // each syncing thread at least once, and the last sync
    EXPECT_LE(t.before_last_sync, total);
    syncs += t.syncs;
    lower = std::max(lower, t.before_last_sync);
  }
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  // Every sync made exactly one snapshot, numbered on from the newest: none lost, none doubled.
  EXPECT_EQ(c.sync_count(), 1u + static_cast<uint64_t>(syncs));
  // The newest snapshot came after every process's read before its last sync.
  EXPECT_GE(c->requests, lower);
  EXPECT_LE(c->requests, total);
}

}  // namespace
}  // namespace recstore
