// compare: recstore side by side with fwrite, pwrite + fdatasync, memcpy, LMDB, RocksDB,
// LevelDB and SQLite on the workloads of issue 4. Markdown on stdout, JSON to --json,
// progress on stderr. See docs/performance.md.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "fmt/core.h"
#include "tools/bench/peers/machine.h"
#include "tools/bench/peers/report.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {
namespace {

constexpr const char* kUsage = R"(usage: compare [flags]
  --records=N        W1, W4, W5: records per engine (default 1000000)
  --reads=N          W5: random reads per pass (default 200000)
  --sync_seconds=S   W2, W3: seconds per measurement (default 1)
  --threads=N        W3: committing threads (default 4)
  --reps=N           W1: runs per engine, median reported (default 3)
  --w6_bytes=B       W6: size of the big store (default 4G)
  --w6_peer_bytes=B  W6: size of the peers' stores (default 1G; 0: no peers); when it
                     differs from --w6_bytes, recstore also runs at this size
  --w6_segment=B     W6: recstore segment size (default 64M)
  --w7_bytes=B       W7: bytes appended before the kill (default 64M)
  --workloads=LIST   W1,W2,W3,W4,W5,W6,W7 (default all)
  --engines=LIST     recstore,fwrite,pwrite,memcpy,lmdb,rocksdb,leveldb,sqlite (default all)
  --kinds=LIST       fixed64,bytes100 (default both)
  --dir=PATH         where engines make their stores (default /var/tmp/recstore-peers)
  --json=PATH        JSON output (default recstore_peers.json)
Sizes take K, M or G suffixes (powers of 1024).
)";

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool ParseSize(const std::string& s, uint64_t* out) {
  uint64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p == s.data()) return false;
  if (p != end) {
    const std::string suffix(p, end);
    if (suffix == "K" || suffix == "k") {
      v <<= 10;
    } else if (suffix == "M" || suffix == "m") {
      v <<= 20;
    } else if (suffix == "G" || suffix == "g") {
      v <<= 30;
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

bool ParseKind(const std::string& s, Kind* k) {
  if (s == "fixed64") {
    *k = Kind::kFixed64;
  } else if (s == "bytes100") {
    *k = Kind::kBytes100;
  } else {
    return false;
  }
  return true;
}

int Fail(const std::string& msg) {
  fmt::print(stderr, "compare: {}\n{}", msg, kUsage);
  return 2;
}

int Main(int argc, char** argv) {
  if (argc == 7 && std::string(argv[1]) == "--w7_child") {
    Kind kind;
    uint64_t bytes;
    if (!ParseKind(argv[4], &kind) || !ParseSize(argv[5], &bytes)) return 2;
    return RunW7Child(argv[2], argv[3], kind, bytes, std::atoi(argv[6]));
  }
  // Under `bazel run`, relative paths mean the directory the user ran it from.
  if (const char* wd = std::getenv("BUILD_WORKING_DIRECTORY"); wd != nullptr && ::chdir(wd) != 0) {
    return Fail(fmt::format("cannot enter {}", wd));
  }
  Config c;
  c.dir = "/var/tmp/recstore-peers";
  c.engines = AllEngineNames();
  c.workloads = {"W1", "W2", "W3", "W4", "W5", "W6", "W7"};
  c.kinds = {Kind::kFixed64, Kind::kBytes100};
  c.records = 1000000;
  c.reads = 200000;
  c.sync_seconds = 1.0;
  c.threads = 4;
  c.reps = 3;
  c.w6_bytes = uint64_t{4} << 30;
  c.w6_peer_bytes = uint64_t{1} << 30;
  c.w6_segment = uint64_t{64} << 20;
  c.w7_bytes = uint64_t{64} << 20;
  std::string json = "recstore_peers.json";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    const size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) return Fail("bad flag " + arg);
    const std::string key = arg.substr(2, eq - 2), val = arg.substr(eq + 1);
    uint64_t n = 0;
    const bool size_ok = ParseSize(val, &n);
    if (key == "dir") {
      c.dir = val;
    } else if (key == "json") {
      json = val;
    } else if (key == "engines") {
      c.engines = Split(val);
      for (const std::string& e : c.engines) {
        if (NewEngine(e) == nullptr) return Fail("unknown engine " + e);
      }
    } else if (key == "workloads") {
      c.workloads = Split(val);
    } else if (key == "kinds") {
      c.kinds.clear();
      for (const std::string& k : Split(val)) {
        Kind kind;
        if (!ParseKind(k, &kind)) return Fail("unknown kind " + k);
        c.kinds.push_back(kind);
      }
    } else if (key == "sync_seconds") {
      c.sync_seconds = std::atof(val.c_str());
      if (c.sync_seconds <= 0) return Fail("bad " + arg);
    } else if (key == "w6_peer_bytes" && size_ok) {
      c.w6_peer_bytes = n;
    } else if (!size_ok || n == 0) {
      return Fail("bad flag " + arg);
    } else if (key == "records") {
      c.records = n;
    } else if (key == "reads") {
      c.reads = n;
    } else if (key == "threads") {
      c.threads = static_cast<int>(n);
    } else if (key == "reps") {
      c.reps = static_cast<int>(n);
    } else if (key == "w6_bytes") {
      c.w6_bytes = n;
    } else if (key == "w6_segment") {
      c.w6_segment = n;
    } else if (key == "w7_bytes") {
      c.w7_bytes = n;
    } else {
      return Fail("unknown flag " + arg);
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(c.dir, ec);
  if (ec) return Fail(fmt::format("cannot create {}: {}", c.dir, ec.message()));
  c.can_drop_caches = CanDropCaches();

  Report report;
  report.machine = DescribeMachine(c.dir);
  report.engine_order = c.engines;
  std::string kinds;
  for (Kind k : c.kinds) kinds += fmt::format("{}{}", kinds.empty() ? "" : ",", KindName(k));
  report.settings = {
      {"records (W1, W4, W5)", std::to_string(c.records)},
      {"random reads (W5)", std::to_string(c.reads)},
      {"seconds per commit measurement (W2, W3)", fmt::format("{}", c.sync_seconds)},
      {"threads (W3)", std::to_string(c.threads)},
      {"runs per engine (W1, median)", std::to_string(c.reps)},
      {"big store (W6)",
       fmt::format("{} MiB in {} MiB recstore segments", c.w6_bytes >> 20, c.w6_segment >> 20)},
      {"unsynced bytes before the kill (W7)", fmt::format("{} MiB", c.w7_bytes >> 20)},
      {"record kinds", kinds},
  };
  const std::map<std::string, void (*)(const Config&, std::vector<Row>*)> runs = {
      {"W1", RunW1}, {"W2", RunW2}, {"W3", RunW3}, {"W4", RunW4},
      {"W5", RunW5}, {"W6", RunW6}, {"W7", RunW7},
  };
  const auto start = runner_internal::Clock::now();
  for (const std::string& w : c.workloads) {
    auto it = runs.find(w);
    if (it == runs.end()) return Fail("unknown workload " + w);
    fmt::print(stderr, "{}\n", w);
    it->second(c, &report.rows);
  }
  report.total_seconds = runner_internal::Seconds(runner_internal::Clock::now() - start);
  report.machine.push_back({"load average at end (1/5/15 min)", LoadAverage()});
  std::filesystem::remove(c.dir, ec);  // only if empty
  fmt::print("{}", Markdown(report));
  if (absl::Status s = WriteJson(report, json); !s.ok()) {
    fmt::print(stderr, "compare: {}\n", s.ToString());
    return 1;
  }
  fmt::print(stderr, "JSON written to {}\n", json);
  return 0;
}

}  // namespace
}  // namespace recstore::bench

int main(int argc, char** argv) { return recstore::bench::Main(argc, argv); }
