// W4 (sequential scan, warm) and W5 (random reads, warm). Each engine loads its own fresh
// store, closes it and opens it again (memcpy keeps its buffer), so reads go through the
// engine's open path with the operating system's page cache warm.
#include <map>

#include "fmt/core.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

using namespace runner_internal;

namespace {

// Loads c.records records, then reopens the engine.
absl::Status LoadAndReopen(const Config& c, Kind kind, const std::string& dir, Engine* e) {
  const OpenOptions o{.dir = dir, .kind = kind, .expected_records = c.records};
  RECSTORE_RETURN_IF_ERROR(e->Open(o));
  RECSTORE_RETURN_IF_ERROR(Load(e, kind, c.records));
  if (!e->persistent()) return absl::OkStatus();
  RECSTORE_RETURN_IF_ERROR(e->Close());
  return e->Open(o);
}

absl::Status CheckScan(const ScanResult& r, uint64_t n) {
  const uint64_t want = n * (n - 1) / 2;
  if (r.records != n || r.sum != want) {
    return absl::InternalError(
        fmt::format("scan saw {} records with sum {}, want {} and {}", r.records, r.sum, n, want));
  }
  return absl::OkStatus();
}

absl::StatusOr<Row> TimeScan(const Config& c, Kind kind, const std::string& name,
                             const std::string& variant) {
  FreshDir dir(c, "W4", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  RECSTORE_RETURN_IF_ERROR(LoadAndReopen(c, kind, dir.path(), e.get()));
  ScanResult r;
  RECSTORE_RETURN_IF_ERROR(e->Scan(&r));  // warm-up
  RECSTORE_RETURN_IF_ERROR(CheckScan(r, c.records));
  std::vector<double> secs;
  for (int i = 0; i < std::max(3, c.reps); ++i) {
    const Clock::time_point t0 = Clock::now();
    RECSTORE_RETURN_IF_ERROR(e->Scan(&r));
    secs.push_back(Seconds(Clock::now() - t0));
    RECSTORE_RETURN_IF_ERROR(CheckScan(r, c.records));
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  const double t = Median(secs);
  return Row{"W4",
             variant,
             name,
             {{"records_per_s", static_cast<double>(r.records) / t},
              {"gb_per_s", static_cast<double>(r.bytes) / t / 1e9}},
             ""};
}

absl::StatusOr<Row> TimeGets(const Config& c, Kind kind, const std::string& name,
                             const std::string& variant) {
  FreshDir dir(c, "W5", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  RECSTORE_RETURN_IF_ERROR(LoadAndReopen(c, kind, dir.path(), e.get()));
  ScanResult r;
  RECSTORE_RETURN_IF_ERROR(e->Scan(&r));  // warm-up
  // The same uniformly random keys for every engine.
  std::vector<uint64_t> keys(c.reads);
  uint64_t x = 42;
  for (uint64_t& k : keys) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    k = (x >> 11) % c.records;
  }
  auto get = [&](uint64_t k) -> absl::Status {
    RECSTORE_ASSIGN_OR_RETURN(uint64_t v, e->Get(k));
    if (v != k) return absl::InternalError(fmt::format("record {} reads as {}", k, v));
    return absl::OkStatus();
  };
  // Throughput pass, no per-read clock.
  const Clock::time_point t0 = Clock::now();
  for (uint64_t k : keys) RECSTORE_RETURN_IF_ERROR(get(k));
  const double t = Seconds(Clock::now() - t0);
  // Latency pass: each read timed on its own.
  std::vector<double> lat_us;
  lat_us.reserve(keys.size());
  for (uint64_t k : keys) {
    const Clock::time_point a = Clock::now();
    RECSTORE_RETURN_IF_ERROR(get(k));
    lat_us.push_back(Seconds(Clock::now() - a) * 1e6);
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  const double p50 = Percentile(&lat_us, 50), p99 = Percentile(&lat_us, 99);
  return Row{
      "W5",
      variant,
      name,
      {{"reads_per_s", static_cast<double>(keys.size()) / t}, {"p50_us", p50}, {"p99_us", p99}},
      ""};
}

void RunReads(const Config& c, const std::string& w, std::vector<Row>* rows,
              absl::StatusOr<Row> (*fn)(const Config&, Kind, const std::string&,
                                        const std::string&)) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    const std::string variant(KindName(kind));
    for (const std::string& name : Rotated(c.engines, shift++)) {
      Progress(w, variant, name);
      absl::StatusOr<Row> r = fn(c, kind, name, variant);
      rows->push_back(r.ok() ? *r : ErrorRow(w, variant, name, r.status()));
    }
  }
}

}  // namespace

void RunW4(const Config& c, std::vector<Row>* rows) { RunReads(c, "W4", rows, TimeScan); }
void RunW5(const Config& c, std::vector<Row>* rows) { RunReads(c, "W5", rows, TimeGets); }

}  // namespace recstore::bench
