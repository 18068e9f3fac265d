// Live tailing: how long a record takes from the writer's Append to a follower in another
// process, what a follower costs while the writer is idle, and what followers cost the
// writer's appends. Figures are printed beside the targets; nothing is asserted.
//
//   ./bazelw run --config=opt //tools/bench:tail_bench -- [flags]
//
// One writer (this process) and followers forked from it; each follower opens the store
// read-only itself, as a consumer in another program would. Every run uses a fresh store
// under PATH/tail_bench.<pid> (--dir=PATH, default $TMPDIR, else /tmp), removed at the end.
//
// 1. Handoff latency. The writer reads CLOCK_MONOTONIC just before each Append and carries the
//    reading in the record (bytes 8-15 of a 64-byte byte record; Rec64::ts_ns of a fixed one);
//    the follower reads the clock when it holds the record (in the body of its loop) and
//    keeps the difference. So a figure includes one Append (a few hundred ns) besides the
//    hand-off itself. Two patterns: steady (one record every 200 us, paced by absolute-time
//    sleeps) and bursts (100 records back to back, then 20 ms idle). Four followers:
//      follow        Follow() with default options: sleeps on the state page's futex
//      follow+spin   Follow() with WaitOptions::spin = 50 us, then sleeps
//      poll 100us    Refresh(), Scan() of the new records, sleep 100 us, again
//      busy spin     Refresh() and Scan() in a loop without sleeping
//    and, first, the same hand-off without recstore (raw futex: a stamp array and a counter in
//    shared memory, a waiter flag, FUTEX_WAIT/FUTEX_WAKE), the floor the machine allows.
// 2. Idle follower CPU: each follower waits --idle_seconds with no appends and reports its
//    own CPU time (getrusage RUSAGE_SELF) as a share of one core.
// 3. Appends/s of 64-byte records, single Append calls, no sync, as fast as the writer can,
//    with no follower; with 1 and 4 followers that Follow() and consume every record; and
//    with 1 and 4 followers that only wait (WaitFor of a sequence number never appended, in
//    100 ms rounds), the case where an append should not pay a system call. Runs of the rows
//    alternate, --reps times; the median and range are printed, with the writer thread's CPU
//    time per append and the followers' voluntary context switches (each one a sleep that
//    ended) per 1000 appends.
//
// Flags:
//   --dir=PATH            parent of the scratch folder (default $TMPDIR, else /tmp)
//   --kinds=bytes,fixed   record kinds: bytes (ByteLog, 64-byte records), fixed (Log<Rec64>)
//   --records=N           records per latency run (default 20000)
//   --appends=N           appends per throughput run (default 1000000)
//   --reps=N              throughput runs per row (default 3)
//   --idle_seconds=S      length of each idle measurement (default 2)
//   --prewarm=0           as recstore_bench: no PrewarmPages before the throughput loops
//   --sections=1234       which of the four parts to run (default all: 1234)
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <new>
#include <thread>

#include "absl/strings/str_split.h"
#include "tools/bench/percentile.h"
#include "tools/bench/recstore_bench_common.h"
#include "tools/bench/tail_bench_followers.h"

namespace recstore_bench {
namespace {

using namespace tail;  // NOLINT: the shared parts of this benchmark

std::string Verdict(bool met) { return met ? "met" : "NOT met"; }

// ---------------------------------------------------------------------------------------------
// 1. Handoff latency.

enum class Pattern { kSteady, kBursts };

// Calls append(seq, stamp) for records 0..n-1 in `pattern`, the stamp read just before.
template <typename Append>
absl::Status AppendPattern(Pattern pattern, uint64_t n, const Append& append) {
  uint64_t next = NowNs();
  for (uint64_t seq = 0; seq < n; ++seq) {
    if (pattern == Pattern::kSteady) {
      next += kSteadyGapNs;
      const uint64_t now = NowNs();
      if (next < now) next = now;  // late: go on from now rather than catch up in a burst
      SleepUntilNs(next);
    } else if (seq % kBurst == 0 && seq > 0) {
      SleepNs(kBurstIdleNs);
    }
    RECSTORE_RETURN_IF_ERROR(append(seq, NowNs()));
  }
  return absl::OkStatus();
}

std::string LatencyLabel(const char* kind, Pattern pattern, Mode mode) {
  return fmt::format("{:<6} {:<7} {:<17}", kind, pattern == Pattern::kSteady ? "steady" : "bursts",
                     ModeName(mode));
}

// Runs one latency row: forks one follower running `body`, appends in `pattern` with
// `append`, and prints the percentiles of the `n` latencies the follower left in
// `latency_ns`.
template <typename Body, typename Append>
void RunLatency(const std::string& label, Pattern pattern, uint64_t n, uint64_t* latency_ns,
                const Body& body, const Append& append) {
  Followers followers(1);
  absl::Status s = followers.StartBodies(body);
  if (s.ok()) s = AppendPattern(pattern, n, append);
  const absl::Status reaped = followers.Reap(absl::Seconds(30));
  if (s.ok()) s = reaped;
  if (!s.ok()) {
    std::printf("  %s  error: %s\n", label.c_str(), s.ToString().c_str());
    std::fflush(stdout);
    return;
  }
  std::vector<double> us;
  us.reserve(n);
  for (uint64_t i = 0; i < n; ++i) us.push_back(static_cast<double>(latency_ns[i]) / 1e3);
  using recstore::bench::Percentile;
  const double p50 = Percentile(&us, 50);
  const double p99 = Percentile(&us, 99);
  const double p999 = Percentile(&us, 99.9);
  const double max = Percentile(&us, 100);
  const ChildReport& r = followers.report(0);
  const double cpu = r.usage.user_s + r.usage.sys_s;
  std::printf("  %s %8.1f %8.1f %9.1f %9.1f  %5.1f%% %9ld   p50 %s, p99 %s\n", label.c_str(), p50,
              p99, p999, max, r.wall_s > 0 ? cpu / r.wall_s * 100 : 0.0, r.usage.nvcsw,
              Verdict(p50 <= kTargetP50Us).c_str(), Verdict(p99 <= kTargetP99Us).c_str());
  std::fflush(stdout);
}

// A recstore follower in `mode` and the writer's Append.
template <typename Kind>
void LatencyRow(const char* kind, Pattern pattern, Mode mode) {
  const uint64_t n = tail_config().records;
  const std::string label = LatencyLabel(kind, pattern, mode);
  WriterStore<Kind> w("latency");
  SharedMemory lat(n * sizeof(uint64_t));
  if (!w.status.ok() || lat.data() == nullptr) {
    std::printf("  %s  error: %s\n", label.c_str(),
                w.status.ok() ? "mmap failed" : w.status.ToString().c_str());
    return;
  }
  const Task task{.mode = mode, .records = n, .latency_ns = static_cast<uint64_t*>(lat.data())};
  RunLatency(
      label, pattern, n, task.latency_ns,
      [&](ChildReport* report) { return FollowerBody<Kind>(w.path(), task, report); },
      [&](uint64_t seq, uint64_t stamp) { return Kind::Append(w.log, seq, stamp); });
}

// The baseline without recstore: the writer stores the stamp in a shared array, publishes
// the count in a shared word and calls FUTEX_WAKE when a waiter flag is set; the follower
// sets the flag, checks the word again and FUTEX_WAITs on it (the pattern of the state page).
struct FutexChannel {
  std::atomic<uint32_t> published{0};
  std::atomic<uint32_t> waiters{0};
};

long Futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

void FutexBaselineRow(Pattern pattern) {
  const uint64_t n = tail_config().records;
  const std::string label = LatencyLabel("-", pattern, Mode::kRawFutex);
  SharedMemory mem(sizeof(FutexChannel) + 2 * n * sizeof(uint64_t));
  if (mem.data() == nullptr) {
    std::printf("  %s  error: mmap failed\n", label.c_str());
    return;
  }
  auto* channel = new (mem.data()) FutexChannel;
  auto* stamps = reinterpret_cast<uint64_t*>(static_cast<char*>(mem.data()) + 64);
  uint64_t* latency_ns = stamps + n;
  static_assert(sizeof(FutexChannel) <= 64);
  RunLatency(
      label, pattern, n, latency_ns,
      [&](ChildReport* report) {
        return Measured(report, [&] {
          uint64_t next = 0;
          while (next < n) {
            const uint32_t published = channel->published.load(std::memory_order_seq_cst);
            if (next < published) {
              for (; next < published; ++next) latency_ns[next] = NowNs() - stamps[next];
              continue;
            }
            channel->waiters.store(1, std::memory_order_seq_cst);
            if (channel->published.load(std::memory_order_seq_cst) == published) {
              Futex(&channel->published, FUTEX_WAIT, published);
            }
          }
          return absl::OkStatus();
        });
      },
      [&](uint64_t seq, uint64_t stamp) {
        stamps[seq] = stamp;
        channel->published.store(static_cast<uint32_t>(seq + 1), std::memory_order_seq_cst);
        if (channel->waiters.load(std::memory_order_seq_cst) != 0 &&
            channel->waiters.exchange(0, std::memory_order_seq_cst) != 0) {
          Futex(&channel->published, FUTEX_WAKE, INT32_MAX);
        }
        return absl::OkStatus();
      });
}

// ---------------------------------------------------------------------------------------------
// 2. Follower CPU while the writer is idle.

template <typename Kind>
void IdleRow(const char* kind, Mode mode) {
  const std::string label = fmt::format("{:<6} {:<17}", kind, ModeName(mode));
  WriterStore<Kind> w("idle");
  Followers followers(1);
  absl::Status s = w.status;
  if (s.ok()) {
    s = followers.Start<Kind>(w.path(), {.mode = mode, .idle_seconds = tail_config().idle_seconds});
  }
  const absl::Status reaped = followers.Reap(absl::Seconds(tail_config().idle_seconds + 30));
  if (s.ok()) s = reaped;
  if (!s.ok()) {
    std::printf("  %s  error: %s\n", label.c_str(), s.ToString().c_str());
    return;
  }
  const ChildReport& r = followers.report(0);
  const double pct = r.wall_s > 0 ? (r.usage.user_s + r.usage.sys_s) / r.wall_s * 100 : 0;
  std::printf("  %s %6.2f s %9.4f s %9.4f s %8.3f%% %9ld   target < %.0f%%: %s\n", label.c_str(),
              r.wall_s, r.usage.user_s, r.usage.sys_s, pct, r.usage.nvcsw, kTargetIdleCpuPct,
              Verdict(pct < kTargetIdleCpuPct).c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// 3. Appends/s with followers.

struct ThroughputCase {
  std::string label;
  int followers = 0;
  Mode mode = Mode::kFollow;
};

struct ThroughputRun {
  double appends_per_s = 0;
  double user_ns = 0;  // writer thread CPU per append
  double sys_ns = 0;
  double sleeps_per_k = 0;  // followers' voluntary context switches per 1000 appends
};

template <typename Kind>
absl::StatusOr<ThroughputRun> RunThroughput(const ThroughputCase& c) {
  const uint64_t n = tail_config().appends;
  WriterStore<Kind> w("appends");
  RECSTORE_RETURN_IF_ERROR(w.status);
  Followers followers(c.followers);
  const bool consume = c.mode != Mode::kWaitOnly;
  RECSTORE_RETURN_IF_ERROR(
      followers.Start<Kind>(w.path(), {.mode = c.mode, .records = consume ? n : 0}));
  PrewarmPages(n * 72);
  const Usage before = Usage::Now(RUSAGE_THREAD);
  const uint64_t start = NowNs();
  absl::Status s;
  for (uint64_t seq = 0; seq < n && s.ok(); ++seq) s = Kind::Append(w.log, seq, 0);
  const double seconds = static_cast<double>(NowNs() - start) * 1e-9;
  const Usage after = Usage::Now(RUSAGE_THREAD);
  followers.StopWaiting();
  const absl::Status reaped = followers.Reap(absl::Seconds(120));
  RECSTORE_RETURN_IF_ERROR(s);
  RECSTORE_RETURN_IF_ERROR(reaped);
  ThroughputRun r;
  const double dn = static_cast<double>(n);
  r.appends_per_s = dn / seconds;
  r.user_ns = (after.user_s - before.user_s) * 1e9 / dn;
  r.sys_ns = (after.sys_s - before.sys_s) * 1e9 / dn;
  long sleeps = 0;
  for (int i = 0; i < followers.size(); ++i) sleeps += followers.report(i).usage.nvcsw;
  r.sleeps_per_k = static_cast<double>(sleeps) * 1000 / dn;
  return r;
}

template <typename Kind>
void ThroughputRows(const char* kind) {
  const std::vector<ThroughputCase> cases = {
      {"0 followers", 0, Mode::kFollow},
      {"1 follower, consuming", 1, Mode::kFollow},
      {"4 followers, consuming", 4, Mode::kFollow},
      {"1 follower, waiting only", 1, Mode::kWaitOnly},
      {"4 followers, waiting only", 4, Mode::kWaitOnly},
  };
  std::vector<std::vector<ThroughputRun>> runs(cases.size());
  std::vector<std::string> errors(cases.size());
  for (int rep = 0; rep < tail_config().reps; ++rep) {
    for (size_t i = 0; i < cases.size(); ++i) {
      absl::StatusOr<ThroughputRun> r = RunThroughput<Kind>(cases[i]);
      if (r.ok()) {
        runs[i].push_back(*r);
      } else {
        errors[i] = r.status().ToString();
      }
    }
  }
  using recstore::bench::Percentile;
  auto median = [](const std::vector<ThroughputRun>& v, double ThroughputRun::*field) {
    std::vector<double> x;
    for (const ThroughputRun& r : v) x.push_back(r.*field);
    return Percentile(&x, 50);
  };
  const double base = runs[0].empty() ? 0 : median(runs[0], &ThroughputRun::appends_per_s);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string label = fmt::format("{:<6} {:<26}", kind, cases[i].label);
    if (runs[i].empty()) {
      std::printf("  %s  error: %s\n", label.c_str(), errors[i].c_str());
      continue;
    }
    std::vector<double> rates;
    for (const ThroughputRun& r : runs[i]) rates.push_back(r.appends_per_s);
    const double med = Percentile(&rates, 50);
    const double pct = base > 0 ? med / base * 100 : 0;
    std::string text = fmt::format(
        "  {} {:6.3f} M/s  {:5.3f}-{:5.3f} {:6.1f}% {:7.0f} {:7.0f} {:9.1f}", label, med / 1e6,
        Percentile(&rates, 0) / 1e6, Percentile(&rates, 100) / 1e6, pct,
        median(runs[i], &ThroughputRun::user_ns), median(runs[i], &ThroughputRun::sys_ns),
        median(runs[i], &ThroughputRun::sleeps_per_k));
    if (i > 0) {
      text += fmt::format("   target >= {:.0f}%: {}", kTargetAppendPct,
                          Verdict(pct >= kTargetAppendPct));
    }
    if (!errors[i].empty()) text += fmt::format(" (a run failed: {})", errors[i]);
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
}

// ---------------------------------------------------------------------------------------------

void FutexBaselineRows() {
  for (const Pattern pattern : {Pattern::kSteady, Pattern::kBursts}) FutexBaselineRow(pattern);
}

template <typename Kind>
void LatencyRows(const char* kind) {
  for (const Pattern pattern : {Pattern::kSteady, Pattern::kBursts}) {
    for (const Mode mode : {Mode::kFollow, Mode::kFollowSpin, Mode::kPoll, Mode::kSpin}) {
      LatencyRow<Kind>(kind, pattern, mode);
    }
  }
}

template <typename Kind>
void IdleRows(const char* kind) {
  for (const Mode mode : {Mode::kFollow, Mode::kFollowSpin, Mode::kPoll, Mode::kSpin}) {
    IdleRow<Kind>(kind, mode);
  }
}

// Calls fn(traits, name) for every kind asked for.
template <typename Fn>
void ForEachKind(Fn fn) {
  for (const std::string& k : tail_config().kinds) {
    if (k == "fixed") {
      fn(FixedKind{}, k.c_str());
    } else {
      fn(BytesKind{}, k.c_str());
    }
  }
}

// Part 4: what a read-only handle's Refresh() costs: with nothing new (the state page's
// generation unchanged: no file is read) and with one new record per call.
void RefreshRows() {
  const std::string path = fmt::format("{}/refresh", config().root);
  auto writer = recstore::Store::Open(path, {.create_if_missing = true});
  auto reader_store = writer.ok()
                          ? recstore::Store::Open(path, {.read_only = true})
                          : absl::StatusOr<std::unique_ptr<recstore::Store>>(writer.status());
  if (!writer.ok() || !reader_store.ok()) {
    std::printf(
        "  cannot open the store: %s\n",
        std::string((writer.ok() ? reader_store.status() : writer.status()).message()).c_str());
    return;
  }
  auto log = (*writer)->OpenByteLog("refresh");
  if (!log.ok()) return;
  const std::string record(64, 'r');
  for (int i = 0; i < 1000; ++i) log->Append(record).IgnoreError();
  auto reader = (*reader_store)->OpenByteLog("refresh");
  if (!reader.ok() || !reader->Refresh().ok()) return;
  constexpr int kCalls = 200000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) reader->Refresh().IgnoreError();
  const double idle_ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      kCalls;
  double new_ns = 0;
  for (int i = 0; i < kCalls / 10; ++i) {
    log->Append(record).IgnoreError();
    const auto t = std::chrono::steady_clock::now();
    reader->Refresh().IgnoreError();
    new_ns +=
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t).count();
  }
  new_ns /= kCalls / 10;
  std::printf("  %-40s %10.0f ns\n", "Refresh(), nothing new", idle_ns);
  std::printf("  %-40s %10.0f ns\n", "Refresh(), one new 64-byte record", new_ns);
  std::printf("  (end %llu of %llu appended)\n", static_cast<unsigned long long>(reader->end()),
              static_cast<unsigned long long>(log->end()));
}

int Main(int argc, char** argv) {
  std::string parent;
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') parent = t;
  if (parent.empty()) parent = "/tmp";
  TailConfig& tc = tail_config();
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (ParseFlag(argv[i], "dir", &v)) {
      parent = v;
    } else if (ParseFlag(argv[i], "kinds", &v)) {
      tc.kinds = absl::StrSplit(v, ',');
    } else if (ParseFlag(argv[i], "records", &v)) {
      tc.records = std::stoull(v);
    } else if (ParseFlag(argv[i], "appends", &v)) {
      tc.appends = std::stoull(v);
    } else if (ParseFlag(argv[i], "reps", &v)) {
      tc.reps = std::stoi(v);
    } else if (ParseFlag(argv[i], "idle_seconds", &v)) {
      tc.idle_seconds = std::stod(v);
    } else if (ParseFlag(argv[i], "sections", &v)) {
      tc.sections = v;
    } else if (ParseFlag(argv[i], "prewarm", &v)) {
      config().prewarm = v != "0" && v != "false";
    } else {
      std::fprintf(stderr, "unknown flag %s (see tools/bench/tail_bench.cc)\n", argv[i]);
      return 2;
    }
  }
  for (const std::string& k : tc.kinds) {
    if (k != "bytes" && k != "fixed") {
      std::fprintf(stderr, "--kinds takes bytes and fixed\n");
      return 2;
    }
  }
  if (tc.records == 0 || tc.appends == 0 || tc.reps < 1 || tc.idle_seconds <= 0) {
    std::fprintf(stderr, "--records, --appends, --reps and --idle_seconds must be positive\n");
    return 2;
  }
  config().root = fmt::format("{}/tail_bench.{}", parent, getpid());
  std::error_code ec;
  std::filesystem::create_directories(config().root, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", config().root.c_str(), ec.message().c_str());
    return 1;
  }
  std::printf("scratch folder %s; %u CPUs; records=%llu appends=%llu reps=%d idle_seconds=%g\n",
              config().root.c_str(), std::thread::hardware_concurrency(),
              static_cast<unsigned long long>(tc.records),
              static_cast<unsigned long long>(tc.appends), tc.reps, tc.idle_seconds);

  if (tc.sections.find('1') != std::string::npos) {
    std::printf(
        "\n1. Hand-off latency, us, from a CLOCK_MONOTONIC stamp taken just before Append to the "
        "follower holding the record\n   (steady: one record every 200 us; bursts: %llu back to "
        "back, then 20 ms idle; %llu records per row)\n",
        static_cast<unsigned long long>(kBurst), static_cast<unsigned long long>(tc.records));
    std::printf("  %-32s %8s %8s %9s %9s  %6s %9s   targets: p50 <= %.0f us, p99 <= %.0f us\n",
                "kind   pattern follower", "p50", "p99", "p99.9", "max", "cpu", "sleeps",
                kTargetP50Us, kTargetP99Us);
    FutexBaselineRows();
    ForEachKind([](auto traits, const char* kind) { LatencyRows<decltype(traits)>(kind); });
  }

  if (tc.sections.find('2') != std::string::npos) {
    std::printf("\n2. Follower CPU while the writer is idle (the follower's own getrusage)\n");
    std::printf("  %-24s %8s %11s %11s %9s %9s\n", "kind   follower", "wall", "user", "sys",
                "of a core", "sleeps");
    ForEachKind([](auto traits, const char* kind) { IdleRows<decltype(traits)>(kind); });
  }

  if (tc.sections.find('3') != std::string::npos) {
    std::printf(
        "\n3. Appends/s, %llu single 64-byte appends, no sync (median of %d runs, rows "
        "alternating); writer thread CPU ns per append; follower sleeps (voluntary context "
        "switches, all followers) per 1000 appends\n",
        static_cast<unsigned long long>(tc.appends), tc.reps);
    std::printf("  %-33s %10s  %11s %7s %7s %7s %9s\n", "kind   followers", "appends/s", "range",
                "vs 0", "usr ns", "sys ns", "sleeps/k");
    ForEachKind([](auto traits, const char* kind) { ThroughputRows<decltype(traits)>(kind); });
  }

  if (tc.sections.find('4') != std::string::npos) {
    std::printf("\n4. Refresh() of a read-only handle, in the writer's process, per call\n");
    RefreshRows();
  }

  std::filesystem::remove_all(config().root, ec);
  return 0;
}

}  // namespace
}  // namespace recstore_bench

int main(int argc, char** argv) { return recstore_bench::Main(argc, argv); }
