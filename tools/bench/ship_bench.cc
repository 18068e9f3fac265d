// Shipping into NATS JetStream (include/recstore/ship.h): what Ship() achieves beside the
// ceiling of the same messages published by a plain libnats loop, and the lag from an append
// to JetStream's acknowledgement in follow mode. Prints a markdown table; nothing is asserted.
//
//   ./bazelw build --config=opt //tools/bench:ship_bench && bazel-bin/tools/bench/ship_bench
//
// Targets: an R1 stream on a 1-node server and an R3 stream on a 3-node loopback cluster
// (tests/testing/nats_cluster.h: Debian's nats-server, file storage), each started in a fresh
// folder under --dir and stopped at the end. Record kinds: `64 B`, a fixed 64-byte record
// (Log<ShipRec64>: seq, time_ns, 48 chars), and `1 KiB`, 1024-byte records of a ByteLog.
//
// 1. Ceiling (ship_bench_ceiling.cc): js_PublishMsgAsync of the very messages Ship() builds
//    (subject, payload, headers Nats-Msg-Id, Nats-Expected-Last-Sequence: the stream sequence
//    of the previous message, 0 first, Recstore-Kind, Recstore-Schema for fixed records), with
//    Ship()'s window (PublishAsync.MaxPending 4096, StallWait 100 ms), then
//    js_PublishAsyncComplete. A warm-up Ship() per row first; its first two stored messages
//    must equal the ceiling's (subject, payload, every header). The payloads come from
//    memory; building each message is timed, connecting and creating the stream are not
//    (printed apart). A fresh stream per run (js_AddStream: file storage, the replicas of the
//    target, a 2-minute de-duplication window as Ship() creates), deleted afterwards.
// 2. Ship(): the same N records, appended and synced beforehand (untimed), shipped into a
//    fresh stream (create_stream); records/s and MB/s from the returned ShipReport (records,
//    bytes, elapsed: the whole call, connecting and creating the stream included).
//    Each run is repeated --reps times, ceiling and Ship() alternating; medians are printed.
// 3. Follow lag (ship_bench_lag.cc): a writer thread appends 64-byte records at --lag_rate
//    for --lag_seconds to a store with SyncPolicy::Background(0, 1 ms), each record's append
//    time (absl::GetCurrentTimeNanos, taken before the Append) kept in an array by sequence
//    number; Ship() with follow=true runs in another thread, and its `acked` callback maps
//    every newly acknowledged record to now - its append time. One priming record is shipped
//    first (so connecting and creating the stream are not in the figures) and left out.
//
// Flags (defaults):
//   --dir=PATH          scratch parent (/tmp/ship_bench): stores and servers, removed at the end
//   --records=N         records per run for both kinds (200000 for 64 B, 50000 for 1 KiB)
//   --reps=N            runs per row, median reported (3)
//   --lag_rate=R        appends/s of the follow-lag writer (20000)
//   --lag_seconds=S     how long it writes (5)
//   --targets=r1,r3     which servers
//   --kinds=64,1k       which record kinds
//   --sections=123      which of the three parts (lag needs nothing of 1 and 2)
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nats/nats.h"
#include "recstore/recstore.h"
#include "tests/testing/nats_cluster.h"
#include "tools/bench/ship_bench_ceiling.h"
#include "tools/bench/ship_bench_common.h"
#include "tools/bench/ship_bench_lag.h"

namespace ship_bench {
namespace {

using recstore::testing::NatsCluster;
using recstore::testing::NatsClusterOptions;

struct Config {
  std::string dir = "/tmp/ship_bench";
  uint64_t records64 = 200000;
  uint64_t records1k = 50000;
  int reps = 3;
  uint64_t lag_rate = 20000;
  double lag_seconds = 5;
  bool r1 = true, r3 = true;
  bool kind64 = true, kind1k = true;
  std::string sections = "123";
};
Config g;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Rate(double r) {
  return r >= 1e6 ? absl::StrFormat("%.2fM", r / 1e6) : absl::StrFormat("%.1fk", r / 1e3);
}

std::string Run(const char* cmd) {
  std::string out;
  if (FILE* f = popen(cmd, "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof(buf), f) != nullptr) out += buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct Target {
  std::string name;  // "R1", "R3"
  int nodes = 1;
  int replicas = 1;
  std::string label;  // "R1, 1 node"
};

struct Row {
  std::string kind, target;
  uint64_t n = 0;
  std::vector<double> ceil_rate, ceil_mbps, ceil_setup, ceil_cpu, ship_rate, ship_mbps, ship_cpu;
  std::string error;
};

bool ParseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto flag = [&](const char* name, std::string* v) {
      const std::string p = absl::StrCat("--", name, "=");
      if (a.substr(0, p.size()) != p) return false;
      *v = std::string(a.substr(p.size()));
      return true;
    };
    std::string v;
    if (flag("dir", &v)) {
      g.dir = v;
    } else if (flag("records", &v)) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(v, &n) || n < 2) return false;
      g.records64 = g.records1k = n;
    } else if (flag("reps", &v)) {
      if (!absl::SimpleAtoi(v, &g.reps) || g.reps < 1) return false;
    } else if (flag("lag_rate", &v)) {
      if (!absl::SimpleAtoi(v, &g.lag_rate) || g.lag_rate < 1) return false;
    } else if (flag("lag_seconds", &v)) {
      if (!absl::SimpleAtod(v, &g.lag_seconds) || g.lag_seconds <= 0) return false;
    } else if (flag("targets", &v)) {
      g.r1 = absl::StrContains(v, "r1");
      g.r3 = absl::StrContains(v, "r3");
    } else if (flag("kinds", &v)) {
      g.kind64 = absl::StrContains(v, "64");
      g.kind1k = absl::StrContains(v, "1k");
    } else if (flag("sections", &v)) {
      g.sections = v;
    } else {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  if (!ParseArgs(argc, argv)) {
    std::fprintf(stderr,
                 "usage: ship_bench [--dir=PATH] [--records=N] [--reps=N] [--lag_rate=R] "
                 "[--lag_seconds=S] [--targets=r1,r3] [--kinds=64,1k] [--sections=123]\n");
    return 2;
  }
  std::vector<std::string> args(argv, argv + argc);
  const std::string root = absl::StrCat(g.dir, "/run.", getpid());
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", root.c_str(), ec.message().c_str());
    return 1;
  }
  const bool throughput = absl::StrContains(g.sections, '1') || absl::StrContains(g.sections, '2');
  const bool lag = absl::StrContains(g.sections, '3');

  // The store with both collections, filled and synced once.
  std::unique_ptr<recstore::Store> store;
  std::vector<Kind> kinds;
  if (throughput) {
    recstore::StoreOptions so;
    so.create_if_missing = true;
    absl::StatusOr<std::unique_ptr<recstore::Store>> s = recstore::Store::Open(root + "/store", so);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    store = *std::move(s);
    if (g.kind64)
      kinds.push_back({.label = "64 B", .collection = "ev64", .n = g.records64, .record_size = 64});
    if (g.kind1k) {
      kinds.push_back(
          {.label = "1 KiB", .collection = "ev1k", .n = g.records1k, .record_size = kBytesRecord});
    }
    for (Kind& k : kinds) {
      Progress(absl::StrCat("filling ", k.collection, ": ", k.n, " records"));
      if (absl::Status s = Fill(*store, k, k.record_size == 64); !s.ok()) {
        std::fprintf(stderr, "filling %s: %s\n", k.collection.c_str(), s.ToString().c_str());
        return 1;
      }
    }
  }

  std::vector<Target> targets;
  if (g.r1) targets.push_back({"R1", 1, 1, "R1, 1 node"});
  if (g.r3) targets.push_back({"R3", 3, 3, "R3, 3 nodes"});
  std::vector<Row> rows;
  std::vector<std::pair<std::string, absl::StatusOr<LagResult>>> lags;
  size_t header_bytes64 = 0, header_bytes1k = 0;

  for (const Target& t : targets) {
    const std::string cdir = absl::StrCat(root, "/nats-", t.name);
    std::filesystem::create_directories(cdir, ec);
    NatsClusterOptions co;
    co.nodes = t.nodes;
    co.dir = cdir;
    Progress(absl::StrCat("starting ", t.label));
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(co);
    if (!cluster.ok()) {
      std::fprintf(stderr, "starting %s: %s\n", t.label.c_str(),
                   cluster.status().ToString().c_str());
      return 1;
    }
    const std::string urls = (*cluster)->Urls();
    absl::StatusOr<std::unique_ptr<Conn>> admin = OpenConn(urls);
    if (!admin.ok()) {
      std::fprintf(stderr, "%s\n", admin.status().ToString().c_str());
      return 1;
    }
    for (const Kind& k : kinds) {
      Row row{.kind = k.label, .target = t.label, .n = k.n};
      Progress(absl::StrCat(t.name, " ", k.label, ": warm-up Ship()"));
      absl::StatusOr<MessageShape> shape = ShapeOf(*store, k);
      const absl::StatusOr<size_t> header_bytes =
          shape.ok() ? WarmUpAndCheck(*store, k, *shape, urls, t.replicas, **admin)
                     : absl::StatusOr<size_t>(shape.status());
      if (!header_bytes.ok()) {
        row.error = header_bytes.status().ToString();
        rows.push_back(row);
        continue;
      }
      (k.record_size == 64 ? header_bytes64 : header_bytes1k) = *header_bytes;
      for (int rep = 0; rep < g.reps && row.error.empty(); ++rep) {
        const std::string base = absl::StrCat("SB_", t.name, "_", k.collection, "_", rep);
        absl::StatusOr<RunResult> c = Ceiling(k, *shape, urls, t.replicas, base + "_C", **admin);
        if (!c.ok()) {
          row.error = absl::StrCat("ceiling: ", c.status().ToString());
          break;
        }
        Progress(absl::StrFormat("%s %s rep %d ceiling %s rec/s %.1f MB/s (setup %.0f ms)", t.name,
                                 k.label, rep, Rate(c->rate()), c->mbps(), c->setup_ms));
        absl::StatusOr<RunResult> s = ShipRun(*store, k, urls, t.replicas, base + "_S", **admin);
        if (!s.ok()) {
          row.error = absl::StrCat("Ship: ", s.status().ToString());
          break;
        }
        Progress(absl::StrFormat("%s %s rep %d Ship() %s rec/s %.1f MB/s, %.1f%% of the ceiling",
                                 t.name, k.label, rep, Rate(s->rate()), s->mbps(),
                                 s->rate() / c->rate() * 100));
        row.ceil_rate.push_back(c->rate());
        row.ceil_mbps.push_back(c->mbps());
        row.ceil_setup.push_back(c->setup_ms);
        row.ceil_cpu.push_back(c->cpu_us);
        row.ship_cpu.push_back(s->cpu_us);
        row.ship_rate.push_back(s->rate());
        row.ship_mbps.push_back(s->mbps());
      }
      rows.push_back(row);
    }
    if (lag) {
      Progress(absl::StrCat(t.name, ": follow lag, ", g.lag_rate, " appends/s for ", g.lag_seconds,
                            " s"));
      lags.emplace_back(t.label, FollowLag(absl::StrCat(root, "/lag-", t.name), urls, t.replicas,
                                           g.lag_rate, g.lag_seconds));
    }
    admin->reset();
    cluster->reset();
  }
  store.reset();
  std::filesystem::remove_all(root, ec);

  // The report.
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "**ship_bench**: Ship() into NATS JetStream beside a plain js_PublishMsgAsync loop\n\n");
  std::printf(
      "%d CPUs (nproc), %s, load average %.2f %.2f %.2f; %s, libnats %s; servers on loopback, "
      "file storage under %s\n\n",
      static_cast<int>(std::thread::hardware_concurrency()),
      absl::FormatTime("%Y-%m-%d %H:%M %Z", absl::Now(), absl::UTCTimeZone()).c_str(), load[0],
      load[1], load[2], Run("/usr/sbin/nats-server --version 2>&1").c_str(), nats_GetVersion(),
      g.dir.c_str());
  std::printf("`%s`\n\n", absl::StrJoin(args, " ").c_str());
  if (!rows.empty()) {
    std::printf(
        "Medians of %d runs (ceiling and Ship() alternating). Ceiling: connect + js_AddStream "
        "not timed (setup, ms); Ship(): ShipReport::elapsed, the whole call.\n\n",
        g.reps);
    std::printf(
        "| records | stream | N | ceiling rec/s | ceiling MB/s | setup ms | Ship() rec/s | Ship() "
        "MB/s | Ship() / ceiling | ratio range | client CPU µs/rec, ceiling / Ship() |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    for (const Row& r : rows) {
      if (!r.error.empty() && r.ship_rate.empty()) {
        std::printf("| %s | %s | %llu | error: %s ||||||||\n", r.kind.c_str(), r.target.c_str(),
                    static_cast<unsigned long long>(r.n), r.error.c_str());
        continue;
      }
      std::vector<double> ratios;
      for (size_t i = 0; i < r.ship_rate.size(); ++i)
        ratios.push_back(r.ship_rate[i] / r.ceil_rate[i]);
      const double ratio = Median(r.ship_rate) / Median(r.ceil_rate);
      std::printf(
          "| %s | %s | %llu | %s | %.1f | %.0f | %s | %.1f | %.1f%% | %.1f-%.1f%% | %.1f / %.1f "
          "|\n",
          r.kind.c_str(), r.target.c_str(), static_cast<unsigned long long>(r.n),
          Rate(Median(r.ceil_rate)).c_str(), Median(r.ceil_mbps), Median(r.ceil_setup),
          Rate(Median(r.ship_rate)).c_str(), Median(r.ship_mbps), ratio * 100,
          *std::min_element(ratios.begin(), ratios.end()) * 100,
          *std::max_element(ratios.begin(), ratios.end()) * 100, Median(r.ceil_cpu),
          Median(r.ship_cpu));
      if (!r.error.empty())
        std::printf("|  |  |  | error after some runs: %s ||||||||\n", r.error.c_str());
    }
    std::printf(
        "\nMB/s counts payload bytes only; the headers add %zu bytes to each 64 B message and %zu "
        "to each 1 KiB one. Target: Ship() >= 80%% of the ceiling.\n",
        header_bytes64, header_bytes1k);
  }
  if (!lags.empty()) {
    std::printf(
        "%sFollow lag, append to JetStream ack as the `acked` callback sees it: 64 B records, %llu "
        "appends/s for %g s, SyncPolicy::Background(0, 1 ms)\n\n",
        rows.empty() ? "" : "\n", static_cast<unsigned long long>(g.lag_rate), g.lag_seconds);
    std::printf(
        "| stream | records | appends/s reached | p50 µs | p99 µs | max µs | acked calls |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& [label, l] : lags) {
      if (!l.ok()) {
        std::printf("| %s | error: %s ||||||\n", label.c_str(), l.status().ToString().c_str());
        continue;
      }
      std::printf("| %s | %llu | %.0f | %.0f | %.0f | %.0f | %llu |\n", label.c_str(),
                  static_cast<unsigned long long>(l->records), l->achieved_rate, l->p50_us,
                  l->p99_us, l->max_us, static_cast<unsigned long long>(l->acked_calls));
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace ship_bench

int main(int argc, char** argv) { return ship_bench::Main(argc, argv); }
