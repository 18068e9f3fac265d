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

namespace recstore_bench {
namespace {

struct TailConfig {
  std::vector<std::string> kinds = {"bytes", "fixed"};
  uint64_t records = 20'000;
  uint64_t appends = 1'000'000;
  int reps = 3;
  double idle_seconds = 2;
  std::string sections = "1234";
};

TailConfig& tail_config() {
  static TailConfig c;
  return c;
}

constexpr char kCollection[] = "tail";
constexpr uint64_t kSteadyGapNs = 200'000;
constexpr uint64_t kBurst = 100;
constexpr uint64_t kBurstIdleNs = 20'000'000;
constexpr uint64_t kPollSleepNs = 100'000;
constexpr auto kSpin = std::chrono::microseconds(50);
// A sequence number no run reaches: followers that only wait ask for it.
constexpr uint64_t kNever = UINT64_MAX - 1;

// Targets the figures are printed beside.
constexpr double kTargetP50Us = 10;
constexpr double kTargetP99Us = 60;
constexpr double kTargetIdleCpuPct = 1;
constexpr double kTargetAppendPct = 95;

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

void SleepUntilNs(uint64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void SleepNs(uint64_t ns) { SleepUntilNs(NowNs() + ns); }

// The two record kinds: how to open the collection, append a stamped record, and read the
// stamp back.
struct BytesKind {
  using Handle = recstore::ByteLog;
  static absl::StatusOr<Handle> Open(recstore::Store& store, bool create) {
    return store.OpenByteLog(kCollection, {.create_if_missing = create});
  }
  static absl::Status Append(const Handle& log, uint64_t seq, uint64_t stamp) {
    std::array<char, 64> rec{};
    std::memcpy(rec.data(), &seq, 8);
    std::memcpy(rec.data() + 8, &stamp, 8);
    return log.Append(std::string_view(rec.data(), rec.size())).status();
  }
  static uint64_t Stamp(std::span<const std::byte> rec) {
    uint64_t stamp = 0;
    if (rec.size() >= 16) std::memcpy(&stamp, rec.data() + 8, 8);
    return stamp;
  }
};

struct FixedKind {
  using Handle = recstore::Log<Rec64>;
  static absl::StatusOr<Handle> Open(recstore::Store& store, bool create) {
    return store.OpenLog<Rec64>(kCollection, {.create_if_missing = create});
  }
  static absl::Status Append(const Handle& log, uint64_t seq, uint64_t stamp) {
    Rec64 r = MakeRec64(seq);
    r.ts_ns = stamp;
    return log.Append(r).status();
  }
  static uint64_t Stamp(const Rec64& rec) { return rec.ts_ns; }
};

enum class Mode { kFollow, kFollowSpin, kPoll, kSpin, kWaitOnly, kRawFutex };

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kFollow:
      return "follow";
    case Mode::kFollowSpin:
      return "follow+spin 50us";
    case Mode::kPoll:
      return "poll 100us";
    case Mode::kSpin:
      return "busy spin";
    case Mode::kWaitOnly:
      return "wait only";
    case Mode::kRawFutex:
      return "raw futex";
  }
  return "?";
}

// What a follower reports through memory shared with the writer.
struct ChildReport {
  std::atomic<uint32_t> ready{0};  // the store is open: the writer may start
  std::atomic<uint32_t> stop{0};   // set by the writer: wait-only followers return
  std::atomic<uint32_t> failed{0};
  char error[240] = {};
  uint64_t received = 0;
  double wall_s = 0;  // from ready to the end of the measured phase
  Usage usage;        // CPU and context switches over the same span
};

// Anonymous memory shared with forked children, unmapped on destruction.
class SharedMemory {
 public:
  explicit SharedMemory(size_t bytes) : bytes_(std::max<size_t>(bytes, 1)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : p;
  }
  ~SharedMemory() {
    if (data_ != nullptr) ::munmap(data_, bytes_);
  }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  void* data() const { return data_; }

 private:
  size_t bytes_;
  void* data_ = nullptr;
};

// What a follower does: consume `records` records (keeping each hand-off latency in
// `latency_ns`, indexed by sequence number, when not null), or with `idle_seconds` > 0 wait
// that long for records that never come, or (kWaitOnly) wait until the writer says stop.
struct Task {
  Mode mode = Mode::kFollow;
  uint64_t records = 0;
  double idle_seconds = 0;
  uint64_t* latency_ns = nullptr;
};

// Runs a follower's measured phase: says it is ready, runs `phase`, and reports the wall
// time and the process's CPU time and context switches over it.
template <typename Phase>
absl::Status Measured(ChildReport* report, Phase phase) {
  const Usage before = Usage::Now();
  const uint64_t start = NowNs();
  report->ready.store(1, std::memory_order_release);
  const absl::Status status = phase();
  report->wall_s = static_cast<double>(NowNs() - start) * 1e-9;
  const Usage after = Usage::Now();
  report->usage = after;
  report->usage.user_s -= before.user_s;
  report->usage.sys_s -= before.sys_s;
  report->usage.minflt -= before.minflt;
  report->usage.majflt -= before.majflt;
  report->usage.nvcsw -= before.nvcsw;
  report->usage.nivcsw -= before.nivcsw;
  return status;
}

template <typename Kind>
absl::Status FollowPhase(const typename Kind::Handle& log, const Task& task, ChildReport* report) {
  const bool idle = task.idle_seconds > 0;
  const uint64_t idle_end = NowNs() + static_cast<uint64_t>(task.idle_seconds * 1e9);
  auto take = [&](uint64_t seq, uint64_t stamp) {
    const uint64_t now = NowNs();
    if (task.latency_ns != nullptr && seq < task.records) task.latency_ns[seq] = now - stamp;
    ++report->received;
  };
  auto more = [&] { return idle ? NowNs() < idle_end : report->received < task.records; };
  switch (task.mode) {
    case Mode::kFollow:
    case Mode::kFollowSpin: {
      recstore::FollowOptions options;
      if (task.mode == Mode::kFollowSpin) options.wait.spin = kSpin;
      auto follow = log.Follow(0, options);
      if (idle) {
        recstore::ScanBase::Batch batch;
        const absl::Time deadline = absl::Now() + absl::Nanoseconds(idle_end - NowNs());
        while (!follow.done() && more()) {
          follow.Next(&batch, deadline);
          report->received += batch.count;
        }
      } else {
        for (auto [seq, rec] : follow) {
          take(seq, Kind::Stamp(rec));
          if (!more()) break;
        }
      }
      return follow.status();
    }
    case Mode::kPoll:
    case Mode::kSpin: {
      uint64_t next = 0;
      while (more()) {
        RECSTORE_RETURN_IF_ERROR(log.Refresh());
        auto scan = log.Scan(next);
        for (auto [seq, rec] : scan) {
          take(seq, Kind::Stamp(rec));
          next = seq + 1;
        }
        RECSTORE_RETURN_IF_ERROR(scan.status());
        if (task.mode == Mode::kPoll) SleepNs(kPollSleepNs);
      }
      return absl::OkStatus();
    }
    case Mode::kWaitOnly:
      while (report->stop.load(std::memory_order_acquire) == 0) {
        absl::StatusOr<uint64_t> end = log.WaitFor(kNever, absl::Now() + absl::Milliseconds(100));
        if (!end.ok() && end.status().code() != absl::StatusCode::kDeadlineExceeded) {
          return end.status();
        }
      }
      return absl::OkStatus();
    case Mode::kRawFutex:
      break;
  }
  return absl::InvalidArgumentError("no such follower mode");
}

template <typename Kind>
absl::Status FollowerBody(const std::string& path, const Task& task, ChildReport* report) {
  absl::StatusOr<std::unique_ptr<recstore::Store>> store =
      recstore::Store::Open(path, {.read_only = true});
  if (!store.ok()) return store.status();
  absl::StatusOr<typename Kind::Handle> log = Kind::Open(**store, false);
  if (!log.ok()) return log.status();
  return Measured(report, [&] { return FollowPhase<Kind>(*log, task, report); });
}

// Forks a follower running `body`. The child never returns: it leaves the writer's Store and
// handles alone and ends with _exit.
template <typename Body>
pid_t StartFollower(const Body& body, ChildReport* report) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const absl::Status s = body(report);
  if (!s.ok()) {
    std::snprintf(report->error, sizeof(report->error), "%s", s.ToString().c_str());
    report->failed.store(1, std::memory_order_release);
  }
  ::_exit(s.ok() ? 0 : 1);
}

// A set of followers of one run: started, waited for, reaped.
class Followers {
 public:
  explicit Followers(int n) : n_(n), mem_(sizeof(ChildReport) * std::max(n, 1)) {
    reports_ = static_cast<ChildReport*>(mem_.data());
    for (int i = 0; i < n_ && reports_ != nullptr; ++i) new (&reports_[i]) ChildReport;
  }
  ~Followers() { Reap(absl::Seconds(0)).IgnoreError(); }
  Followers(const Followers&) = delete;
  Followers& operator=(const Followers&) = delete;

  // Followers of the store at `path` doing `task`.
  template <typename Kind>
  absl::Status Start(const std::string& path, const Task& task) {
    return StartBodies([&](ChildReport* report) { return FollowerBody<Kind>(path, task, report); });
  }

  // Followers running `body(report)` each.
  template <typename Body>
  absl::Status StartBodies(const Body& body) {
    if (reports_ == nullptr) return absl::ResourceExhaustedError("mmap of the shared reports");
    for (int i = 0; i < n_; ++i) {
      const pid_t pid = StartFollower(body, &reports_[i]);
      if (pid < 0) return absl::InternalError(fmt::format("fork: {}", std::strerror(errno)));
      pids_.push_back(pid);
    }
    // Every follower has opened the store; give it time to reach its wait.
    const absl::Time limit = absl::Now() + absl::Seconds(30);
    for (int i = 0; i < n_; ++i) {
      while (reports_[i].ready.load(std::memory_order_acquire) == 0) {
        if (reports_[i].failed.load(std::memory_order_acquire) != 0 || absl::Now() > limit)
          return Error(i, "start");
        SleepNs(1'000'000);
      }
    }
    SleepNs(20'000'000);
    return absl::OkStatus();
  }

  void StopWaiting() {
    for (int i = 0; i < n_; ++i) reports_[i].stop.store(1, std::memory_order_release);
  }

  // Waits up to `limit` for every follower to exit; kills (SIGKILL) those still running.
  absl::Status Reap(absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    absl::Status status;
    for (size_t i = 0; i < pids_.size(); ++i) {
      int wstatus = 0;
      pid_t r = 0;
      while ((r = ::waitpid(pids_[i], &wstatus, WNOHANG)) == 0 && absl::Now() < deadline) {
        SleepNs(1'000'000);
      }
      if (r == 0) {
        ::kill(pids_[i], SIGKILL);
        ::waitpid(pids_[i], &wstatus, 0);
        if (status.ok()) status = Error(static_cast<int>(i), "finish in time");
      } else if (status.ok() && (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)) {
        status = Error(static_cast<int>(i), "exit cleanly");
      }
    }
    pids_.clear();
    return status;
  }

  const ChildReport& report(int i) const { return reports_[i]; }
  int size() const { return n_; }

 private:
  absl::Status Error(int i, const char* what) const {
    return absl::InternalError(fmt::format("follower {} did not {}{}{}", i, what,
                                           reports_[i].failed.load() != 0 ? ": " : "",
                                           reports_[i].error));
  }

  int n_;
  SharedMemory mem_;
  ChildReport* reports_ = nullptr;
  std::vector<pid_t> pids_;
};

// A fresh store holding the empty collection, opened by the writer.
template <typename Kind>
struct WriterStore {
  explicit WriterStore(const std::string& name) : ss(name, {}) {
    status = ss.status();
    if (!status.ok()) return;
    absl::StatusOr<typename Kind::Handle> l = Kind::Open(ss.store(), true);
    status = l.status();
    if (l.ok()) log = *std::move(l);
  }
  const std::string& path() { return ss.store().path(); }
  ScratchStore ss;
  typename Kind::Handle log;
  absl::Status status;
};

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
