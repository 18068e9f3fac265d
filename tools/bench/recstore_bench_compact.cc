// The compaction row: how fast Merge() and key Compact() rewrite a collection of 64-byte
// records, and what a running Merge() does to a thread appending to the same collection.
//
// Each benchmark fills a fresh store with config().compact_records Rec64 records in 64 MiB
// segments (untimed, then synced so the compaction's own first sync finds nothing to flush)
// and runs one iteration. The `id` field is the key, drawn at random from
// compact_records * 0.627 values, which leaves about half of the records superseded by a
// newer record of their key (a uniform draw of n records from n/x keys leaves
// x^-1 * (1 - e^-x) of them the newest of their key; x = 1.594 gives one half).
#include <atomic>
#include <thread>

#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {
// ---------------------------------------------------------------------------------------------

namespace {

constexpr double kKeysPerRecord = 0.627;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

absl::Status Fill(const recstore::Log<Rec64>& log, uint64_t records) {
  const uint64_t keys = std::max<uint64_t>(1, static_cast<uint64_t>(records * kKeysPerRecord));
  uint64_t rng = 42;
  std::vector<Rec64> batch(kBatch);
  for (uint64_t i = 0; i < records; i += kBatch) {
    const uint64_t n = std::min<uint64_t>(kBatch, records - i);
    for (uint64_t k = 0; k < n; ++k) {
      batch[k] = MakeRec64(i + k);
      batch[k].id = static_cast<uint32_t>(SplitMix64(&rng) % keys);
    }
    RETURN_IF_ERROR(log.AppendBatch(std::span<const Rec64>(batch.data(), n)).status());
  }
  return log.Sync().status();
}

// A store holding the filled collection "r64".
struct Filled {
  explicit Filled(const std::string& name) : ss(name, {}) {
    status = ss.status();
    if (!status.ok()) return;
    absl::StatusOr<recstore::Log<Rec64>> l = ss.store().OpenLog<Rec64>("r64");
    status = l.status();
    if (!status.ok()) return;
    log = *std::move(l);
    status = Fill(log, config().compact_records);
  }
  ScratchStore ss;
  recstore::Log<Rec64> log;
  absl::Status status;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void SetCompactionCounters(benchmark::State& state, const recstore::CompactionStats& s,
                           double seconds) {
  state.SetIterationTime(seconds);
  state.SetItemsProcessed(static_cast<int64_t>(s.records_in));
  state.SetBytesProcessed(static_cast<int64_t>(s.bytes_in));
  state.counters["kept%"] =
      s.records_in > 0 ? 100.0 * static_cast<double>(s.records_kept) / s.records_in : 0;
  state.counters["written_MB/s"] = seconds > 0 ? s.bytes_written / 1e6 / seconds : 0;
  state.counters["segs_in"] = static_cast<double>(s.segments_in);
  state.counters["segs_out"] = static_cast<double>(s.segments_out);
}

}  // namespace

// One compaction of a filled collection: Merge() when `by_key` is false, else Compact() by
// the `id` field. Rates count the payload bytes of the records read (bytes_in).
void BM_Compact64(benchmark::State& state, bool by_key) {
  for (auto _ : state) {
    Filled f(by_key ? "compact_key" : "compact_merge");
    if (!Check(state, f.status)) break;
    recstore::CompactOptions options;
    if (by_key) options.key.field = "id";
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<recstore::CompactionStats> stats = f.log.Compact(options);
    const double seconds = Seconds(start);
    if (!Check(state, stats.status())) break;
    SetCompactionCounters(state, *stats, seconds);
  }
}

// A thread appends single records to the collection while another runs Merge() on it, until
// the merge returns (or compact_append_cap records); then, after a sync, the same number of
// appends alone. Items are the appends during the merge, timed over the merge; the counters
// give the rate alone and the ratio.
void BM_AppendDuringMerge64(benchmark::State& state) {
  for (auto _ : state) {
    Filled f("compact_append");
    if (!Check(state, f.status)) break;
    const uint64_t cap = config().compact_append_cap;
    std::atomic<bool> done{false};
    absl::StatusOr<recstore::CompactionStats> stats;
    double merge_seconds = 0;
    Rec64 r = MakeRec64(config().compact_records);
    const auto start = std::chrono::steady_clock::now();
    std::thread merger([&] {
      stats = f.log.Merge();
      merge_seconds = Seconds(start);
      done.store(true, std::memory_order_release);
    });
    uint64_t during = 0;
    absl::Status s;
    while (!done.load(std::memory_order_acquire) && during < cap) {
      s = f.log.Append(r).status();
      if (!s.ok()) break;
      ++r.seq;
      ++during;
    }
    const double during_seconds = Seconds(start);
    merger.join();
    if (!Check(state, s) || !Check(state, stats.status())) break;
    if (!Check(state, f.log.Sync().status())) break;

    const auto alone_start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < during && s.ok(); ++i, ++r.seq) s = f.log.Append(r).status();
    const double alone_seconds = Seconds(alone_start);
    if (!Check(state, s)) break;

    state.SetIterationTime(during_seconds);
    state.SetItemsProcessed(static_cast<int64_t>(during));
    state.SetBytesProcessed(static_cast<int64_t>(during * sizeof(Rec64)));
    const double during_rate = during / during_seconds;
    const double alone_rate = alone_seconds > 0 ? during / alone_seconds : 0;
    state.counters["alone_rec/s"] = alone_rate;
    state.counters["during/alone%"] = alone_rate > 0 ? 100.0 * during_rate / alone_rate : 0;
    state.counters["merge_s"] = merge_seconds;
    state.counters["merge_MB/s"] = merge_seconds > 0 ? stats->bytes_in / 1e6 / merge_seconds : 0;
    state.counters["hit_cap"] = during >= cap ? 1 : 0;
  }
}

}  // namespace recstore_bench
