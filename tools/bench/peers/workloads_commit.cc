// W2 (durable commits of 1/16/256 records, one thread) and W3 (durable one-record commits from
// several threads). Every engine of a variant keeps its store open for the whole variant, and
// the measurement is cut into short slices taken in turn (rotating order), so that the
// machine's drift (sync latency moves with other load on a shared machine) reaches every
// engine alike.
#include <algorithm>
#include <atomic>
#include <thread>

#include "fmt/core.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

using namespace runner_internal;

namespace {

constexpr int kSlices = 8;

struct Contender {
  std::string name;
  std::unique_ptr<FreshDir> dir;
  std::unique_ptr<Engine> engine;
  std::vector<double> lat_us;
  double seconds = 0;
  uint64_t records = 0;  // committed so far, warm-up included
  absl::Status status;
};

// Commits of `k` records from `threads` threads into `c`'s engine for `seconds`.
void RunSlice(Kind kind, size_t k, int threads, double seconds, Contender* c) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::vector<absl::Status> status(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      RecordGen gen(kind, static_cast<uint64_t>(t) + 1);
      const uint64_t base = (static_cast<uint64_t>(t) << 40) + c->records;
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i += k) {
        const std::byte* recs = gen.Make(base + i, k);
        const Clock::time_point t0 = Clock::now();
        if (absl::Status s = c->engine->Commit(recs, k); !s.ok()) {
          status[static_cast<size_t>(t)] = s;
          return;
        }
        lat[static_cast<size_t>(t)].push_back(Seconds(Clock::now() - t0) * 1e6);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (std::thread& t : pool) t.join();
  c->seconds += Seconds(Clock::now() - start);
  for (size_t t = 0; t < lat.size(); ++t) {
    if (!status[t].ok() && c->status.ok()) c->status = status[t];
    c->records += lat[t].size() * k;
    c->lat_us.insert(c->lat_us.end(), lat[t].begin(), lat[t].end());
  }
}

// Runs one variant for every engine in `names`; appends one row per engine.
void RunVariant(const Config& cfg, const std::string& w, const std::string& variant, Kind kind,
                size_t k, int threads, const std::vector<std::string>& names,
                std::vector<Row>* rows) {
  std::vector<Contender> cs;
  const uint64_t expected =
      static_cast<uint64_t>(static_cast<double>(k) * 20000 * std::max(1.0, cfg.sync_seconds));
  for (const std::string& name : names) {
    Contender& c = cs.emplace_back();
    c.name = name;
    c.dir = std::make_unique<FreshDir>(cfg, w, name, kind);
    c.engine = NewEngine(name);
    c.status = c.engine->Open({.dir = c.dir->path(), .kind = kind, .expected_records = expected});
    RecordGen gen(kind);
    for (int i = 0; i < 5 && c.status.ok(); ++i, c.records += k) {
      c.status = c.engine->Commit(gen.Make(c.records, k), k);
    }
  }
  Progress(w, variant, fmt::format("{} engines, {} slices each", cs.size(), kSlices));
  for (int slice = 0; slice < kSlices; ++slice) {
    for (size_t j = 0; j < cs.size(); ++j) {
      Contender& c = cs[(j + static_cast<size_t>(slice)) % cs.size()];
      if (c.status.ok()) RunSlice(kind, k, threads, cfg.sync_seconds / kSlices, &c);
    }
  }
  for (Contender& c : cs) {
    if (c.status.ok() && c.engine->End() != c.records) {
      c.status = absl::InternalError(
          fmt::format("{} records at the end, not {}", c.engine->End(), c.records));
    }
    if (absl::Status s = c.engine->Close(); c.status.ok()) c.status = s;
    if (!c.status.ok()) {
      rows->push_back(ErrorRow(w, variant, c.name, c.status));
      continue;
    }
    const double commits = static_cast<double>(c.lat_us.size());
    const double p50 = Percentile(&c.lat_us, 50), p99 = Percentile(&c.lat_us, 99);
    rows->push_back({w,
                     variant,
                     c.name,
                     {{"commits_per_s", commits / c.seconds},
                      {"records_per_s", commits * static_cast<double>(k) / c.seconds},
                      {"p50_us", p50},
                      {"p99_us", p99}},
                     ""});
  }
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

void RunW2(const Config& c, std::vector<Row>* rows) {
  for (Kind kind : c.kinds) {
    for (size_t k : {size_t{1}, size_t{16}, size_t{256}}) {
      RunVariant(c, "W2", fmt::format("{} k={}", KindName(kind), k), kind, k, 1,
                 EnginesExcept(c, {"memcpy"}), rows);
    }
  }
}

void RunW3(const Config& c, std::vector<Row>* rows) {
  for (Kind kind : c.kinds) {
    const size_t first = rows->size();
    RunVariant(c, "W3", fmt::format("{} {} threads", KindName(kind), c.threads), kind, 1, c.threads,
               EnginesExcept(c, {"memcpy"}), rows);
    for (size_t i = first; i < rows->size(); ++i) {
      Row& r = (*rows)[i];
      const Row* w2 = FindW2(*rows, kind, r.engine);
      if (w2 == nullptr || w2->Find("commits_per_s") == nullptr || !r.Find("commits_per_s")) {
        continue;
      }
      r.metrics.push_back(
          {"x_w2_k1", r.Find("commits_per_s")->value / w2->Find("commits_per_s")->value});
    }
  }
}

}  // namespace recstore::bench
