// Recycled segments (StoreOptions::recycle_segments) against new segment files, in a log in
// its steady state under retention: every rotation retires a segment, which the recycling
// writer reuses and the other deletes.
//
//   ./bazelw build --config=opt //tools/bench:recycle_bench && bazel-bin/tools/bench/recycle_bench
//
// Flags:
//   --dir=PATH        parent of the scratch folder (default /tmp); removed at the end
//   --segments=N      segments of appends per measured run (default 8)
//   --keep=N          segments retention keeps (max_records; default 3)
//   --segment_mb=N    segment size in MiB (default 64)
//   --reps=N          runs per mode, alternating (default 3; medians are printed)
//   --commit_seconds=S  seconds of one-record durable commits per run (default 2)
//   --kind=K          fixed64, bytes100 or both (default both)
//   --mode=M          new (new files), recycled or both (default both): one mode alone is
//                     what a profile of each wants
//
// Each run opens a store, fills `keep` + 2 segments (untimed: retention is then in its steady
// state and a recycling writer's pool holds files), and times (1) appends of `segments`
// segments of records one by one, then one Sync (the W1 shape of the peers benchmark), and
// (2) one-record commits (Append + Sync) for `commit_seconds` (the W2 shape), rotating through
// segments as they fill. Both kinds: 64-byte fixed records and 100-byte byte records.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "recstore/recstore.h"
#include "tools/bench/percentile.h"
#include "tools/bench/rec64.h"

namespace {

using Clock = std::chrono::steady_clock;

using recstore_bench::Rec64;

struct Flags {
  std::string dir = "/tmp";
  uint64_t segments = 8;
  uint64_t keep = 3;
  uint64_t segment_mb = 64;
  int reps = 3;
  double commit_seconds = 2;
  std::string kind = "both";
  std::string mode = "both";
};

struct Result {
  double appends_per_s = 0;  // before the sync
  double sync_ms = 0;
  double records_per_s = 0;  // appends and the sync
  double commit_p50_us = 0;
  double commit_p99_us = 0;
  double commits_per_s = 0;
  long minor_faults_per_1k = 0;
};

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    fmt::print(stderr, "recycle_bench: {}: {}\n", what, s.ToString());
    std::exit(1);
  }
}

// One handle's appends, whichever kind.
struct Appender {
  std::optional<recstore::Log<Rec64>> fixed;
  std::optional<recstore::ByteLog> bytes;
  std::string payload = std::string(100, 'x');
  uint64_t per_segment = 0;

  void Append(uint64_t i) {
    if (fixed) {
      Rec64 r{};
      r.seq = i;
      r.ts_ns = i * 3;
      Check(fixed->Append(r).status(), "append");
    } else {
      payload[i % 100] = static_cast<char>('a' + i % 26);
      Check(bytes->Append(payload).status(), "append");
    }
  }
  void Sync() { Check((fixed ? fixed->Sync() : bytes->Sync()).status(), "sync"); }
};

Result RunOnce(const Flags& f, bool fixed, uint32_t recycle, const std::string& path) {
  std::filesystem::remove_all(path);
  const uint64_t seg = f.segment_mb << 20;
  auto store = recstore::Store::Open(
      path, {.create_if_missing = true, .segment_size = seg, .recycle_segments = recycle});
  Check(store.status(), "open");
  Appender a;
  // 64-byte records take a 72-byte slot; 100-byte records 124 bytes with frame and slot.
  a.per_segment = (seg - 4096) / (fixed ? 72 : 124);
  recstore::RetentionPolicy keep{.max_records = f.keep * a.per_segment};
  if (fixed) {
    a.fixed.emplace(*(*store)->OpenLog<Rec64>("c"));
    Check(a.fixed->SetRetention(keep), "retention");
  } else {
    a.bytes.emplace(*(*store)->OpenByteLog("c"));
    Check(a.bytes->SetRetention(keep), "retention");
  }
  uint64_t i = 0;
  for (const uint64_t warm = (f.keep + 2) * a.per_segment; i < warm; ++i) a.Append(i);
  a.Sync();

  Result r;
  const uint64_t n = f.segments * a.per_segment;
  const long faults0 = MinorFaults();
  const auto t0 = Clock::now();
  for (const uint64_t stop = i + n; i < stop; ++i) a.Append(i);
  const auto t1 = Clock::now();
  a.Sync();
  const auto t2 = Clock::now();
  r.minor_faults_per_1k = (MinorFaults() - faults0) * 1000 / static_cast<long>(n);
  const double append_s = std::chrono::duration<double>(t1 - t0).count();
  r.appends_per_s = static_cast<double>(n) / append_s;
  r.sync_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  r.records_per_s = static_cast<double>(n) / std::chrono::duration<double>(t2 - t0).count();

  // One-record durable commits. Fill the rest of the newest segment cheaply first so the
  // commits start in a fresh (or recycled) segment.
  while (i % a.per_segment != 0) a.Append(i++);
  a.Sync();
  std::vector<double> us;
  const auto end = Clock::now() + std::chrono::duration<double>(f.commit_seconds);
  const auto c0 = Clock::now();
  while (Clock::now() < end) {
    const auto s = Clock::now();
    a.Append(i++);
    a.Sync();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
  }
  r.commits_per_s =
      static_cast<double>(us.size()) / std::chrono::duration<double>(Clock::now() - c0).count();
  r.commit_p50_us = recstore::bench::Percentile(&us, 50);
  r.commit_p99_us = recstore::bench::Percentile(&us, 99);
  return r;
}

double Median(std::vector<double> v) { return recstore::bench::Percentile(&v, 50); }

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int k = 1; k < argc; ++k) {
    std::string a = argv[k];
    auto val = [&](const char* name) -> const char* {
      const std::string p = std::string("--") + name + "=";
      return a.rfind(p, 0) == 0 ? argv[k] + p.size() : nullptr;
    };
    if (const char* v = val("dir")) {
      f.dir = v;
    } else if (const char* v = val("segments")) {
      f.segments = std::strtoull(v, nullptr, 10);
    } else if (const char* v = val("keep")) {
      f.keep = std::strtoull(v, nullptr, 10);
    } else if (const char* v = val("segment_mb")) {
      f.segment_mb = std::strtoull(v, nullptr, 10);
    } else if (const char* v = val("reps")) {
      f.reps = std::atoi(v);
    } else if (const char* v = val("commit_seconds")) {
      f.commit_seconds = std::atof(v);
    } else if (const char* v = val("kind")) {
      f.kind = v;
    } else if (const char* v = val("mode")) {
      f.mode = v;
    } else {
      fmt::print(stderr, "recycle_bench: unknown flag {}\n", a);
      std::exit(2);
    }
  }
  const bool kind_ok = f.kind == "both" || f.kind == "fixed64" || f.kind == "bytes100";
  const bool mode_ok = f.mode == "both" || f.mode == "new" || f.mode == "recycled";
  if (!kind_ok || !mode_ok) {
    fmt::print(stderr,
               "recycle_bench: --kind is fixed64, bytes100 or both; --mode new, "
               "recycled or both\n");
    std::exit(2);
  }
  if (f.segments == 0 || f.keep == 0 || f.segment_mb == 0 || f.reps <= 0) {
    fmt::print(stderr, "recycle_bench: --segments, --keep, --segment_mb and --reps must be > 0\n");
    std::exit(2);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = Parse(argc, argv);
  const std::string root = f.dir + "/recycle_bench." + std::to_string(getpid());
  std::filesystem::create_directories(root);
  fmt::print("segments of {} MiB, retention keeps {}, {} measured per run, {} runs per mode\n\n",
             f.segment_mb, f.keep, f.segments, f.reps);
  fmt::print(
      "| kind | segments | appends/s before the sync | final sync ms | records/s incl. sync "
      "| minor faults / 1k appends | commits/s | commit p50 us | commit p99 us |\n");
  fmt::print("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (bool fixed : {true, false}) {
    if (f.kind != "both" && (f.kind == "fixed64") != fixed) continue;
    auto wanted = [&](int mode) {
      return f.mode == "both" || (f.mode == "recycled") == (mode == 1);
    };
    std::vector<Result> runs[2];
    for (int rep = 0; rep < f.reps; ++rep) {
      for (int mode = 0; mode < 2; ++mode) {
        if (!wanted(mode)) continue;
        fmt::print(stderr, "{} {} run {}/{}\n", fixed ? "fixed64" : "bytes100",
                   mode ? "recycled" : "new files", rep + 1, f.reps);
        runs[mode].push_back(RunOnce(f, fixed, mode ? 4 : 0, root + "/s"));
      }
    }
    for (int mode = 0; mode < 2; ++mode) {
      if (!wanted(mode)) continue;
      auto med = [&](auto field) {
        std::vector<double> v;
        for (const Result& r : runs[mode]) v.push_back(static_cast<double>(r.*field));
        return Median(v);
      };
      fmt::print("| {} | {} | {:.2f}M | {:.1f} | {:.2f}M | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n",
                 fixed ? "fixed64" : "bytes100", mode ? "recycled" : "new files",
                 med(&Result::appends_per_s) / 1e6, med(&Result::sync_ms),
                 med(&Result::records_per_s) / 1e6, med(&Result::minor_faults_per_1k),
                 med(&Result::commits_per_s), med(&Result::commit_p50_us),
                 med(&Result::commit_p99_us));
    }
  }
  std::filesystem::remove_all(root);
  return 0;
}
