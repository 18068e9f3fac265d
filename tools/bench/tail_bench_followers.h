// The parts of tail_bench (tail_bench.cc) that every measurement shares: the configuration,
// the record kinds, the writer's store and the follower processes (forked, each opening the
// store read-only, reporting through shared memory).
#ifndef RECSTORE_TOOLS_BENCH_TAIL_BENCH_FOLLOWERS_H_
#define RECSTORE_TOOLS_BENCH_TAIL_BENCH_FOLLOWERS_H_

#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench::tail {

struct TailConfig {
  std::vector<std::string> kinds = {"bytes", "fixed"};
  uint64_t records = 20'000;
  uint64_t appends = 1'000'000;
  int reps = 3;
  double idle_seconds = 2;
  std::string sections = "1234";
};

inline TailConfig& tail_config() {
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

inline uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

inline void SleepUntilNs(uint64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

inline void SleepNs(uint64_t ns) { SleepUntilNs(NowNs() + ns); }

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

inline const char* ModeName(Mode m) {
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

}  // namespace recstore_bench::tail

#endif  // RECSTORE_TOOLS_BENCH_TAIL_BENCH_FOLLOWERS_H_
