// W1 (append, one sync at the end), W2 (durable commits of 1/16/256 records, one thread) and
// W3 (durable one-record commits from several threads).
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "fmt/core.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

using namespace runner_internal;

namespace {

// Seconds for the appends alone and for the appends plus the final sync.
struct AppendTimes {
  double appends = 0;
  double total = 0;
};

absl::StatusOr<AppendTimes> TimeAppends(const Config& c, Kind kind, const std::string& name) {
  FreshDir dir(c, "W1", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  RECSTORE_RETURN_IF_ERROR(
      e->Open({.dir = dir.path(), .kind = kind, .expected_records = c.records}));
  RecordGen gen(kind);
  const Clock::time_point t0 = Clock::now();
  for (uint64_t i = 0; i < c.records; ++i) RECSTORE_RETURN_IF_ERROR(e->Append(gen.Make(i, 1)));
  const Clock::time_point t1 = Clock::now();
  RECSTORE_RETURN_IF_ERROR(e->Sync());
  const AppendTimes t{Seconds(t1 - t0), Seconds(Clock::now() - t0)};
  if (e->End() != c.records) {
    return absl::InternalError(fmt::format("{} records at the end, not {}", e->End(), c.records));
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  return t;
}

// Commits of `k` records for c.sync_seconds from one thread.
absl::StatusOr<Row> TimeCommits(const Config& c, Kind kind, size_t k, const std::string& name,
                                const std::string& variant) {
  FreshDir dir(c, "W2", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  const uint64_t expected = static_cast<uint64_t>(k * 20000 * std::max(1.0, c.sync_seconds));
  RECSTORE_RETURN_IF_ERROR(
      e->Open({.dir = dir.path(), .kind = kind, .expected_records = expected}));
  RecordGen gen(kind);
  uint64_t seq = 0;
  for (int i = 0; i < 5; ++i, seq += k) RECSTORE_RETURN_IF_ERROR(e->Commit(gen.Make(seq, k), k));
  std::vector<double> lat_us;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(c.sync_seconds));
  Clock::time_point now = start;
  while (now < deadline || lat_us.size() < 50) {
    const std::byte* recs = gen.Make(seq, k);
    const Clock::time_point t0 = Clock::now();
    RECSTORE_RETURN_IF_ERROR(e->Commit(recs, k));
    now = Clock::now();
    lat_us.push_back(Seconds(now - t0) * 1e6);
    seq += k;
  }
  const double total = Seconds(now - start);
  const double commits = static_cast<double>(lat_us.size());
  if (e->End() != seq) {
    return absl::InternalError(fmt::format("{} records at the end, not {}", e->End(), seq));
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  const double p50 = Percentile(&lat_us, 50), p99 = Percentile(&lat_us, 99);
  return Row{"W2",
             variant,
             name,
             {{"commits_per_s", commits / total},
              {"records_per_s", commits * static_cast<double>(k) / total},
              {"p50_us", p50},
              {"p99_us", p99}},
             ""};
}

// One-record commits from c.threads threads for c.sync_seconds.
absl::StatusOr<Row> TimeGroupCommits(const Config& c, Kind kind, const std::string& name,
                                     const std::string& variant) {
  FreshDir dir(c, "W3", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  const uint64_t expected = static_cast<uint64_t>(40000 * std::max(1.0, c.sync_seconds));
  RECSTORE_RETURN_IF_ERROR(
      e->Open({.dir = dir.path(), .kind = kind, .expected_records = expected}));
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> ready{0};
  std::vector<std::vector<double>> lat(static_cast<size_t>(c.threads));
  std::vector<absl::Status> status(static_cast<size_t>(c.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < c.threads; ++t) {
    threads.emplace_back([&, t] {
      RecordGen gen(kind, static_cast<uint64_t>(t) + 1);
      const uint64_t base = static_cast<uint64_t>(t) << 40;
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const std::byte* rec = gen.Make(base + i, 1);
        const Clock::time_point t0 = Clock::now();
        if (absl::Status s = e->Commit(rec, 1); !s.ok()) {
          status[static_cast<size_t>(t)] = s;
          return;
        }
        lat[static_cast<size_t>(t)].push_back(Seconds(Clock::now() - t0) * 1e6);
      }
    });
  }
  while (ready.load() < c.threads) std::this_thread::yield();
  const Clock::time_point start = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(c.sync_seconds));
  stop.store(true);
  for (std::thread& t : threads) t.join();
  const double total = Seconds(Clock::now() - start);
  for (const absl::Status& s : status) RECSTORE_RETURN_IF_ERROR(s);
  std::vector<double> all;
  for (const std::vector<double>& v : lat) all.insert(all.end(), v.begin(), v.end());
  const double commits = static_cast<double>(all.size());
  if (e->End() != all.size()) {
    return absl::InternalError(fmt::format("{} records at the end, not {}", e->End(), all.size()));
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  const double p50 = Percentile(&all, 50), p99 = Percentile(&all, 99);
  return Row{"W3",
             variant,
             name,
             {{"commits_per_s", commits / total},
              {"records_per_s", commits / total},
              {"p50_us", p50},
              {"p99_us", p99}},
             ""};
}

// The W2 one-record commits/s of `engine` for `kind`, if W2 ran.
const Row* FindW2(const std::vector<Row>& rows, Kind kind, const std::string& engine) {
  const std::string variant = fmt::format("{} k=1", KindName(kind));
  for (const Row& r : rows) {
    if (r.workload == "W2" && r.variant == variant && r.engine == engine) return &r;
  }
  return nullptr;
}

}  // namespace

void RunW1(const Config& c, std::vector<Row>* rows) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    const std::string variant(KindName(kind));
    std::map<std::string, std::vector<double>> secs, append_secs;
    std::map<std::string, absl::Status> errors;
    for (int rep = 0; rep < c.reps; ++rep) {
      for (const std::string& name : Rotated(c.engines, shift++)) {
        if (!errors[name].ok()) continue;
        Progress("W1", variant, name);
        absl::StatusOr<AppendTimes> t = TimeAppends(c, kind, name);
        if (t.ok()) {
          secs[name].push_back(t->total);
          append_secs[name].push_back(t->appends);
        } else {
          errors[name] = t.status();
        }
      }
    }
    const double n = static_cast<double>(c.records);
    for (const std::string& name : c.engines) {
      if (!errors[name].ok()) {
        rows->push_back(ErrorRow("W1", variant, name, errors[name]));
        continue;
      }
      const double t = Median(secs[name]);
      std::vector<double> sync_secs;
      for (size_t i = 0; i < secs[name].size(); ++i) {
        sync_secs.push_back(secs[name][i] - append_secs[name][i]);
      }
      rows->push_back({"W1",
                       variant,
                       name,
                       {{"records_per_s", n / t},
                        {"mb_per_s", n * static_cast<double>(RecordSize(kind)) / t / 1e6},
                        {"append_records_per_s", n / Median(append_secs[name])},
                        {"sync_ms", Median(sync_secs) * 1e3}},
                       ""});
    }
  }
}

void RunW2(const Config& c, std::vector<Row>* rows) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    for (size_t k : {size_t{1}, size_t{16}, size_t{256}}) {
      const std::string variant = fmt::format("{} k={}", KindName(kind), k);
      for (const std::string& name : Rotated(EnginesExcept(c, {"memcpy"}), shift++)) {
        Progress("W2", variant, name);
        absl::StatusOr<Row> r = TimeCommits(c, kind, k, name, variant);
        rows->push_back(r.ok() ? *r : ErrorRow("W2", variant, name, r.status()));
      }
    }
  }
}

void RunW3(const Config& c, std::vector<Row>* rows) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    const std::string variant = fmt::format("{} {} threads", KindName(kind), c.threads);
    for (const std::string& name : Rotated(EnginesExcept(c, {"memcpy"}), shift++)) {
      Progress("W3", variant, name);
      absl::StatusOr<Row> r = TimeGroupCommits(c, kind, name, variant);
      if (!r.ok()) {
        rows->push_back(ErrorRow("W3", variant, name, r.status()));
        continue;
      }
      if (const Row* w2 = FindW2(*rows, kind, name); w2 != nullptr && w2->Find("commits_per_s")) {
        r->metrics.push_back(
            {"x_w2_k1", r->Find("commits_per_s")->value / w2->Find("commits_per_s")->value});
      }
      rows->push_back(*r);
    }
  }
}

}  // namespace recstore::bench
