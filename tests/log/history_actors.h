// The threads of one round of a concurrent history in the writer's process
// (tests/log/history_test.cc): two appenders, a follower, a reader, a maintenance thread, a
// checkpoint saver and loader, and a read-only reader with a Store of its own.
#ifndef RECSTORE_TESTS_LOG_HISTORY_ACTORS_H_
#define RECSTORE_TESTS_LOG_HISTORY_ACTORS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "recstore/recstore.h"
#include "tests/log/history_env.h"
#include "tests/log/history_model.h"
#include "tests/log/history_reads.h"
#include "tests/testing/records.h"

namespace recstore::testing::history {

struct HistoryConfig {
  uint64_t seed = 1;
  int rounds = 3;
  double seconds = 0;  // > 0: rounds go on (at least `rounds`) until this much time has passed
  // Per round.
  uint64_t fixed_appends = 24000;
  uint64_t byte_appends = 4000;
  int maintenance_ops = 20;
  int saves = 60;
  int followers = 2;
  uint64_t tail_rotations = 100;  // per log, in the tail race that ends each round
  uint64_t segment_size = 64 << 10;
  // Retention policies never keep fewer records than this (fixed, byte log).
  uint64_t fixed_retention = 6144;  // 4 segments of Trade records
  uint64_t byte_retention = 800;    // about 10 segments
  // Comma-separated actors to run, or "all": tail (tail-fixed, tail-bytes: one log's tail
  // race), append, follow, read, maintain, checkpoint, readonly, process.
  std::string actors = "all";
  // The writer's Env: syncs sleep 500 us (a fast disk). Read-only stores: every second
  // folder listing takes 10 ms longer.
  EnvTiming writer_env{.sync_us = 500};
  EnvTiming reader_env{.slow_list_one_in = 2, .slow_list_us = 10000};
  bool Has(std::string_view actor) const;
};

// What the threads of one round share. The writer's handles are opened by the round.
struct Round {
  Round(const HistoryConfig& c, SharedHistory* s, Tally* t, int i, std::string d)
      : cfg(c), shared(*s), tally(*t), index(i), dir(std::move(d)) {}

  const HistoryConfig& cfg;
  SharedHistory& shared;
  Tally& tally;
  const int index;
  const std::string dir;

  std::unique_ptr<Store> store;
  Log<Trade> fixed;
  ByteLog bytes;
  Checkpoints checkpoints;

  std::atomic<uint64_t> appended[2] = {0, 0};  // records appended this round (0 fixed, 1 bytes)
  std::atomic<bool> appender_done[2] = {false, false};
  std::atomic<uint64_t> follow_pos[2] = {0, 0};  // follower 0's next record
  std::atomic<int> maintenance_done{0};          // maintenance operations finished
  std::atomic<int> pinned{0};                    // the reader's scans pinned at the start
  std::atomic<bool> writers_done{false};         // appends, maintenance and saves are over
  std::atomic<bool> abort{false};                // a deadline passed: every thread stops
  std::mutex append_gate[2];  // held by an append; maintenance holds it to pause appends

  // Whether the writer-side work of this round has reached `fraction` of its appends.
  bool Progress(double fraction) const;
};

// Yields, then sleeps, until pred() holds; false if the round was aborted or `limit` passed.
template <typename Pred>
bool WaitFor(Round* r, Pred pred, std::chrono::seconds limit = std::chrono::seconds(3600)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int spins = 0; !pred(); ++spins) {
    if (r->abort.load() || std::chrono::steady_clock::now() > deadline) return false;
    if (spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  return true;
}

// The lead follower stays within this many records of the appends (history_append.cc).
inline constexpr uint64_t kFollowLag = 128;

void RunAppender(Round* r, bool fixed);
// Follower 0 gates the appenders; the others only poll the tail.
void RunFollower(Round* r, int id);
void RunReader(Round* r);
void RunMaintenance(Round* r);
void RunSaver(Round* r);
void RunCheckpointReader(Round* r);
void RunReadOnlyThread(Round* r);

// The folder of collection `name` in the store at `dir`; empty if none.
std::string CollectionFolder(const std::string& dir, std::string_view name);

}  // namespace recstore::testing::history

#endif  // RECSTORE_TESTS_LOG_HISTORY_ACTORS_H_
