#include "tools/bench/peers/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "fmt/core.h"

namespace recstore::bench {
namespace {

struct Column {
  std::string key;
  std::string header;
  bool ratio;  // add a recstore / engine column
};

struct Spec {
  std::string id;
  std::string title;
  std::string how;  // durability and what each engine does
  std::vector<Column> columns;
};

const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"W1",
       "append N records one by one, one sync at the end",
       "Durability: one sync at the end. recstore Sync() (fdatasync of the segments, fsync of "
       "the directory when segments were created); fwrite fflush + fdatasync; pwrite fdatasync; "
       "LMDB one write transaction, committed with its default sync; RocksDB sync=false writes "
       "then SyncWAL(); LevelDB sync=false writes then an empty batch with sync=true; SQLite one "
       "transaction, WAL, synchronous=FULL. memcpy: none. records/s and MB/s cover the appends "
       "and the sync (MB/s counts payload bytes); the last two columns split the time.",
       {{"records_per_s", "records/s", true},
        {"mb_per_s", "MB/s", false},
        {"append_records_per_s", "appends/s before the sync", true},
        {"sync_ms", "final sync ms", false}}},
      {"W2",
       "durable commits of k records, one thread",
       "Durability: every commit is durable before the next starts. recstore AppendBatch + "
       "Sync; pwrite one pwrite + fdatasync; fwrite fwrite + fflush + fdatasync; LMDB one write "
       "transaction; RocksDB and LevelDB a WriteBatch with sync=true; SQLite BEGIN, k prepared "
       "INSERTs, COMMIT with synchronous=FULL. All engines stay open and take turns in 8 slices "
       "of the measurement, so drift of the machine's sync latency reaches them alike.",
       {{"commits_per_s", "commits/s", true},
        {"p50_us", "p50 us", true},
        {"p99_us", "p99 us", false}}},
      {"W3",
       "group commit: threads each committing one record durably",
       "recstore: concurrent Sync calls share one flush. RocksDB and LevelDB: their writer "
       "queue groups concurrent sync writes. LMDB: write transactions are serialized, each "
       "syncs (no group commit). SQLite: one connection behind a mutex (one writer, no group "
       "commit). fwrite: fwrite + fflush under a mutex, fdatasync outside it. pwrite: "
       "pwrite + fdatasync per thread. x W2 = commits/s divided by the same engine's W2 k=1. "
       "Engines take turns in 8 slices, as in W2.",
       {{"commits_per_s", "commits/s", true},
        {"p50_us", "p50 us", false},
        {"p99_us", "p99 us", false},
        {"x_w2_k1", "x W2 k=1", false}}},
      {"W4",
       "sequential scan of everything, warm",
       "Checksums: recstore verifies each record's XXH3-64; RocksDB and LevelDB verify block "
       "CRC32C when a block is read from its file (verify_checksums=true); LMDB, SQLite and the "
       "raw-file baselines have none. Median of 3 scans after a warm-up scan.",
       {{"records_per_s", "records/s", true}, {"gb_per_s", "GB/s", false}}},
      {"W5",
       "random reads by sequence number / key, warm",
       "Uniform random keys, the same for every engine. Throughput from an untimed pass; "
       "latency from a second pass timing each read (includes one clock read).",
       {{"reads_per_s", "reads/s", true}, {"p50_us", "p50 us", true}, {"p99_us", "p99 us", false}}},
      {"W6",
       "open a big store, cold and warm",
       "Open = open the store and find its last record (recstore Store::Open + OpenLog; LMDB env "
       "open + MDB_LAST; RocksDB and LevelDB DB::Open + SeekToLast; SQLite open + max(seq)). "
       "Cold: after sync and drop_caches, median of 3. Warm: median of 3. Every recstore store "
       "ends in a "
       "half-full segment; recstore-1seg is that one segment alone, and the target compares "
       "recstore with it. The peers hold the same records as the recstore row of their "
       "variant.",
       {{"cold_ms", "cold ms", true},
        {"warm_ms", "warm ms", true},
        {"records", "records", false},
        {"disk_gb", "disk GB", false}}},
      {"W7",
       "reopen after a crash with unsynced appends",
       "A child process commits batches of 256 records without syncing (recstore AppendBatch; "
       "LMDB MDB_NOSYNC; RocksDB and LevelDB sync=false; SQLite synchronous=OFF) and is killed "
       "with SIGKILL; the page cache survives, so everything appended is recoverable. Reopen "
       "(open + find the end) is timed; an untimed scan checks the recovered records.",
       {{"reopen_ms", "reopen ms", true},
        {"recovered", "recovered", false},
        {"appended", "appended", false}}},
  };
  return specs;
}

std::string Num(const std::string& key, double v) {
  if (key == "records" || key == "recovered" || key == "appended") {
    return fmt::format("{:.0f}", v);
  }
  if (key.ends_with("_per_s") && key != "mb_per_s" && key != "gb_per_s") {
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e3) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.0f}", v);
  }
  if (key == "x_w2_k1") return fmt::format("{:.2f}x", v);
  if (v >= 100) return fmt::format("{:.0f}", v);
  if (v >= 10) return fmt::format("{:.1f}", v);
  if (v >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

std::string Ratio(double v) { return fmt::format("{:.2f}", v); }

const Row* FindRow(const std::vector<Row>& rows, const std::string& w, const std::string& variant,
                   const std::string& engine) {
  for (const Row& r : rows) {
    if (r.workload == w && r.variant == variant && r.engine == engine) return &r;
  }
  return nullptr;
}

// recstore's `key` divided by `row`'s, when both exist.
bool RatioOf(const std::vector<Row>& rows, const Row& row, const std::string& key, double* out) {
  const Row* rs = FindRow(rows, row.workload, row.variant, "recstore");
  if (rs == nullptr || rs->Find(key) == nullptr || row.Find(key) == nullptr) return false;
  if (row.Find(key)->value == 0) return false;
  *out = rs->Find(key)->value / row.Find(key)->value;
  return true;
}

size_t EngineRank(const std::vector<std::string>& order, const std::string& e) {
  // recstore-1seg goes right after recstore.
  const std::string base = e == "recstore-1seg" ? "recstore" : e;
  auto it = std::find(order.begin(), order.end(), base);
  return 2 * static_cast<size_t>(it - order.begin()) + (base == e ? 0 : 1);
}

// Rows of workload `w`, grouped by variant (first-seen order), engines in run order.
std::vector<const Row*> Ordered(const Report& r, const std::string& w) {
  std::vector<std::string> variants;
  for (const Row& row : r.rows) {
    if (row.workload == w &&
        std::find(variants.begin(), variants.end(), row.variant) == variants.end()) {
      variants.push_back(row.variant);
    }
  }
  std::vector<const Row*> out;
  for (const std::string& v : variants) {
    std::vector<const Row*> group;
    for (const Row& row : r.rows) {
      if (row.workload == w && row.variant == v) group.push_back(&row);
    }
    std::stable_sort(group.begin(), group.end(), [&](const Row* a, const Row* b) {
      return EngineRank(r.engine_order, a->engine) < EngineRank(r.engine_order, b->engine);
    });
    out.insert(out.end(), group.begin(), group.end());
  }
  return out;
}

struct Target {
  std::string workload, key, peer, goal_text;
  double goal;
  bool at_least;        // ratio >= goal; otherwise ratio <= goal
  std::string variant;  // only this variant; empty: every variant of the workload
};

// Issue 4's targets, as it stated them.
const std::vector<Target>& Issue4Targets() {
  static const std::vector<Target> t = {
      {"W1", "records_per_s", "fwrite", ">= 2x", 2, true},
      {"W1", "records_per_s", "rocksdb", ">= 10x", 10, true},
      {"W1", "records_per_s", "leveldb", ">= 10x", 10, true},
      {"W1", "records_per_s", "lmdb", ">= 5x", 5, true},
      {"W1", "records_per_s", "sqlite", ">= 20x", 20, true},
      {"W2", "p50_us", "pwrite", "latency <= 1.25x", 1.25, false},
      {"W2", "commits_per_s", "sqlite", ">= 1.5x", 1.5, true},
      {"W2", "commits_per_s", "rocksdb", ">= 1.5x", 1.5, true},
      {"W4", "records_per_s", "lmdb", ">= 2x", 2, true},
      {"W4", "records_per_s", "rocksdb", ">= 5x", 5, true},
      {"W4", "records_per_s", "memcpy", ">= 0.4x", 0.4, true},
      {"W6", "cold_ms", "recstore-1seg", "<= 2x", 2, false},
      {"W6", "warm_ms", "recstore-1seg", "<= 2x", 2, false},
  };
  return t;
}

// Issue 13's targets (the W3 row against recstore's own W2 is added by TargetTable).
const std::vector<Target>& Issue13Targets() {
  static const std::vector<Target> t = {
      {"W1", "append_records_per_s", "fwrite", ">= 2x", 2, true},
      {"W1", "records_per_s", "lmdb", ">= 3x", 3, true},
      {"W2", "p50_us", "pwrite", "latency <= 1.1x", 1.1, false, "fixed64 k=1"},
      {"W2", "p50_us", "pwrite", "latency <= 1.1x", 1.1, false, "bytes100 k=1"},
      {"W3", "commits_per_s", "rocksdb", ">= 1.5x", 1.5, true},
      {"W4", "records_per_s", "lmdb", ">= 2x", 2, true, "bytes100"},
      {"W4", "records_per_s", "memcpy", ">= 0.5x", 0.5, true, "bytes100"},
      {"W4", "records_per_s", "memcpy", ">= 0.9x", 0.9, true, "fixed64"},
      {"W5", "reads_per_s", "lmdb", ">= 3.7x (no slower)", 3.7, true, "fixed64"},
  };
  return t;
}

void TargetTable(const Report& r, const std::string& heading, const std::vector<Target>& targets,
                 std::string* out) {
  *out +=
      "## " + heading + "\n\n| workload | variant | recstore / | figure | ratio | target | met |\n";
  *out += "|---|---|---|---|---|---|---|\n";
  for (const Target& t : targets) {
    for (const Row* row : Ordered(r, t.workload)) {
      if (row->engine != t.peer || (!t.variant.empty() && row->variant != t.variant)) continue;
      double ratio;
      if (!RatioOf(r.rows, *row, t.key, &ratio)) continue;
      const bool met = t.at_least ? ratio >= t.goal : ratio <= t.goal;
      *out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", t.workload, row->variant,
                          t.peer, t.key, Ratio(ratio), t.goal_text, met ? "yes" : "**no**");
    }
  }
  // W3: recstore's group commit against its own one-record W2 commits.
  for (const Row* row : Ordered(r, "W3")) {
    if (row->engine != "recstore" || row->Find("x_w2_k1") == nullptr) continue;
    const double x = row->Find("x_w2_k1")->value;
    *out += fmt::format("| W3 | {} | recstore W2 k=1 | commits_per_s | {} | >= 3x | {} |\n",
                        row->variant, Ratio(x), x >= 3 ? "yes" : "**no**");
  }
  *out += "\n";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(ch));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{}", v);
}

std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out = "{";
  for (size_t i = 0; i < kv.size(); ++i) {
    out += fmt::format("{}{}: {}", i ? ", " : "", JsonString(kv[i].first), kv[i].second);
  }
  return out + "}";
}

}  // namespace

std::string Markdown(const Report& r) {
  std::string out = "# recstore and its peers, side by side\n\n| machine | |\n|---|---|\n";
  for (const auto& [k, v] : r.machine) out += fmt::format("| {} | {} |\n", k, v);
  out += "\n| setting | |\n|---|---|\n";
  for (const auto& [k, v] : r.settings) out += fmt::format("| {} | {} |\n", k, v);
  out += fmt::format("| wall time | {:.0f} s |\n\n", r.total_seconds);
  out +=
      "Ratio columns are recstore's figure divided by the row's: above 1 recstore is higher "
      "(better for rates, worse for latencies and times).\n\n";
  for (const Spec& spec : Specs()) {
    std::vector<const Row*> rows = Ordered(r, spec.id);
    if (rows.empty()) continue;
    out += fmt::format("## {}: {}\n\n{}\n\n| variant | engine |", spec.id, spec.title, spec.how);
    std::string rule = "|---|---|";
    for (const Column& c : spec.columns) {
      out += fmt::format(" {} |", c.header);
      rule += "---:|";
    }
    for (const Column& c : spec.columns) {
      if (!c.ratio) continue;
      out += fmt::format(" recstore / engine, {} |", c.header);
      rule += "---:|";
    }
    out += " note |\n" + rule + "---|\n";
    for (const Row* row : rows) {
      out += fmt::format("| {} | {} |", row->variant, row->engine);
      for (const Column& c : spec.columns) {
        const Metric* m = row->Find(c.key);
        out += m ? fmt::format(" {} |", Num(c.key, m->value)) : " - |";
      }
      for (const Column& c : spec.columns) {
        if (!c.ratio) continue;
        double ratio;
        out += row->engine != "recstore" && RatioOf(r.rows, *row, c.key, &ratio)
                   ? fmt::format(" {} |", Ratio(ratio))
                   : " - |";
      }
      out += fmt::format(" {} |\n", row->note);
    }
    out += "\n";
  }
  TargetTable(r, "Issue 4 targets", Issue4Targets(), &out);
  TargetTable(r, "Issue 13 targets", Issue13Targets(), &out);
  return out;
}

absl::Status WriteJson(const Report& r, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> machine, settings;
  for (const auto& [k, v] : r.machine) machine.push_back({k, JsonString(v)});
  for (const auto& [k, v] : r.settings) settings.push_back({k, JsonString(v)});
  std::string out = "{\n  \"machine\": " + JsonObject(machine) +
                    ",\n  \"settings\": " + JsonObject(settings) +
                    ",\n  \"wall_seconds\": " + JsonNumber(r.total_seconds) + ",\n  \"rows\": [\n";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const Row& row = r.rows[i];
    std::vector<std::pair<std::string, std::string>> metrics, ratios;
    for (const Metric& m : row.metrics) {
      metrics.push_back({m.key, JsonNumber(m.value)});
      double ratio;
      if (row.engine != "recstore" && RatioOf(r.rows, row, m.key, &ratio)) {
        ratios.push_back({m.key, JsonNumber(ratio)});
      }
    }
    out += fmt::format("    {}{}\n",
                       JsonObject({{"workload", JsonString(row.workload)},
                                   {"variant", JsonString(row.variant)},
                                   {"engine", JsonString(row.engine)},
                                   {"metrics", JsonObject(metrics)},
                                   {"recstore_over_engine", JsonObject(ratios)},
                                   {"note", JsonString(row.note)}}),
                       i + 1 < r.rows.size() ? "," : "");
  }
  out += "  ]\n}\n";
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return absl::InternalError(fmt::format("cannot write {}", path));
  const bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  if (std::fclose(f) != 0 || !ok) return absl::InternalError(fmt::format("cannot write {}", path));
  return absl::OkStatus();
}

}  // namespace recstore::bench
