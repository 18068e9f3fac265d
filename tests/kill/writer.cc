// The writer child of the kill harness (see writer.h).
#include "tests/kill/writer.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "recstore/recstore.h"
#include "tests/kill/kill_records.h"
#include "tests/kill/report.h"

namespace recstore::kill {
namespace {

[[noreturn]] void Die(const WriterConfig& c, int code, const char* what, const absl::Status& s) {
  std::fprintf(stderr, "kill writer (epoch %u): %s: %s\n", c.epoch, what, s.ToString().c_str());
  _exit(code);
}

void Send(const WriterConfig& c, const Report& r) {
  if (!SendReport(c.report_fd, r)) _exit(6);  // the parent is gone
}

struct Logs {
  Log<KillRecord> fixed;
  ByteLog bytes;
};

void SyncAndReport(const WriterConfig& c, const Logs& logs, int coll, uint32_t thread) {
  absl::StatusOr<uint64_t> d = coll == kFixedColl ? logs.fixed.Sync() : logs.bytes.Sync();
  if (!d.ok()) Die(c, 4, "Sync", d.status());
  Send(c, {.kind = ReportKind::kDurable,
           .coll = static_cast<uint8_t>(coll),
           .thread = thread,
           .seq = *d});
}

// Appends single records and batches to both collections in random order, syncing now and
// then.
void AppendLoop(const WriterConfig& c, const Logs& logs, uint32_t thread) {
  std::mt19937_64 rng(Mix(c.seed ^ (uint64_t{thread} << 40)));
  uint64_t counters[kColls] = {0, 0};
  std::vector<KillRecord> fixed_batch;
  std::vector<std::string> byte_batch;
  std::vector<std::string_view> views;
  while (true) {
    const uint64_t r = rng();
    const int coll = static_cast<int>((r >> 8) & 1);
    const uint64_t pick = r % 100;
    if (pick >= 96) {
      SyncAndReport(c, logs, coll, thread);
      continue;
    }
    const uint64_t n = pick < 86 ? 1 : 2 + (r >> 16) % 40;
    const uint64_t first_counter = counters[coll];
    absl::StatusOr<uint64_t> seq;
    if (coll == kFixedColl) {
      fixed_batch.clear();
      for (uint64_t j = 0; j < n; ++j) {
        fixed_batch.push_back(MakeFixedRecord({c.epoch, thread, first_counter + j}));
      }
      seq = n == 1 ? logs.fixed.Append(fixed_batch[0])
                   : logs.fixed.AppendBatch(std::span<const KillRecord>(fixed_batch));
    } else {
      byte_batch.clear();
      views.clear();
      for (uint64_t j = 0; j < n; ++j) {
        byte_batch.push_back(MakeByteRecord({c.epoch, thread, first_counter + j}));
      }
      for (const std::string& s : byte_batch) views.push_back(s);
      seq = n == 1 ? logs.bytes.Append(views[0])
                   : logs.bytes.AppendBatch(std::span<const std::string_view>(views));
    }
    if (!seq.ok()) Die(c, 3, "Append", seq.status());
    counters[coll] += n;
    Send(c, {.kind = ReportKind::kAppended,
             .coll = static_cast<uint8_t>(coll),
             .thread = thread,
             .seq = *seq,
             .counter = first_counter,
             .count = n});
    if ((r >> 24) % 256 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds((r >> 32) % 500));
    }
  }
}

// Only syncs, alternating collections, with short random pauses.
void SyncLoop(const WriterConfig& c, const Logs& logs, uint32_t thread) {
  std::mt19937_64 rng(Mix(c.seed ^ (uint64_t{thread} << 40)));
  for (uint64_t k = 0;; ++k) {
    SyncAndReport(c, logs, static_cast<int>(k % kColls), thread);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
  }
}

}  // namespace

void RunWriter(const WriterConfig& c) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the harness
  if (getppid() == 1) _exit(6);
  auto store = Store::Open(c.dir, {.create_if_missing = true, .segment_size = c.segment_size});
  if (!store.ok()) Die(c, 2, "Store::Open", store.status());
  Logs logs;
  auto fixed = (*store)->OpenLog<KillRecord>(kCollNames[kFixedColl]);
  if (!fixed.ok()) Die(c, 2, "OpenLog", fixed.status());
  logs.fixed = *fixed;
  Send(c, {.kind = ReportKind::kOpened, .coll = kFixedColl, .seq = logs.fixed.end()});
  auto bytes = (*store)->OpenByteLog(kCollNames[kByteColl]);
  if (!bytes.ok()) Die(c, 2, "OpenByteLog", bytes.status());
  logs.bytes = *bytes;
  Send(c, {.kind = ReportKind::kOpened, .coll = kByteColl, .seq = logs.bytes.end()});
  std::vector<std::thread> threads;
  uint32_t t = 0;
  for (int i = 0; i < c.appenders; ++i, ++t) {
    threads.emplace_back([&c, &logs, t] { AppendLoop(c, logs, t); });
  }
  for (int i = 0; i < c.syncers; ++i, ++t) {
    threads.emplace_back([&c, &logs, t] { SyncLoop(c, logs, t); });
  }
  std::this_thread::sleep_for(std::chrono::seconds(120));
  std::fprintf(stderr, "kill writer (epoch %u): not killed after 120 s\n", c.epoch);
  _exit(7);
}

}  // namespace recstore::kill
