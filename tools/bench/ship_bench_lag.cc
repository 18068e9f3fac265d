#include "tools/bench/ship_bench_lag.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "recstore/recstore.h"
#include "recstore/ship.h"
#include "tools/bench/percentile.h"
#include "tools/bench/ship_bench_common.h"

namespace ship_bench {
namespace {

void SleepUntilNs(int64_t realtime_ns) {
  timespec ts{static_cast<time_t>(realtime_ns / 1'000'000'000),
              static_cast<long>(realtime_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace

absl::StatusOr<LagResult> FollowLag(const std::string& dir, const std::string& urls, int replicas,
                                    uint64_t rate, double seconds) {
  std::filesystem::remove_all(dir);
  recstore::StoreOptions so;
  so.create_if_missing = true;
  so.sync_policy = recstore::SyncPolicy::Background(0, std::chrono::milliseconds(1));
  absl::StatusOr<std::unique_ptr<recstore::Store>> store = recstore::Store::Open(dir, so);
  if (!store.ok()) return store.status();
  auto log = (*store)->OpenLog<ShipRec64>("lag");
  if (!log.ok()) return log.status();

  const uint64_t n = static_cast<uint64_t>(static_cast<double>(rate) * seconds);
  const uint64_t total = n + 1;  // record 0 primes the shipper
  std::unique_ptr<std::atomic<int64_t>[]> append_ns(new std::atomic<int64_t>[total]);
  std::vector<int64_t> lag_ns(total, -1);
  std::atomic<uint64_t> acked_end{0};
  uint64_t acked_seen = 0, acked_calls = 0;
  std::atomic<bool> stop{false};

  append_ns[0].store(absl::GetCurrentTimeNanos());
  {
    ShipRec64 r = MakeRec64(0);
    auto s = log->Append(r);
    if (!s.ok()) return s.status();
  }
  const std::string stream = absl::StrCat("SB_LAG_R", replicas);
  recstore::ShipOptions o{.nats = {.servers = urls}, .stream = stream};
  o.create_stream = true;
  o.replicas = replicas;
  o.follow = true;
  o.stop = &stop;
  o.acked = [&](uint64_t end) {
    const int64_t now = absl::GetCurrentTimeNanos();
    end = std::min(end, total);
    for (uint64_t seq = acked_seen; seq < end; ++seq) lag_ns[seq] = now - append_ns[seq].load();
    if (end > acked_seen) acked_seen = end;
    ++acked_calls;
    acked_end.store(acked_seen);
  };
  absl::StatusOr<recstore::ShipReport> report = absl::UnknownError("not run");
  std::thread shipper([&] { report = recstore::Ship(**store, "lag", o); });

  // Wait for the priming record: the shipper is connected and its stream made.
  const absl::Time prime_deadline = absl::Now() + absl::Seconds(30);
  while (acked_end.load() < 1 && absl::Now() < prime_deadline)
    absl::SleepFor(absl::Milliseconds(1));
  absl::Status writer_status;
  double write_seconds = 0;
  if (acked_end.load() >= 1) {
    // The writer: records due by the schedule are appended, then it sleeps to the next one.
    std::thread writer([&] {
      const int64_t start = absl::GetCurrentTimeNanos();
      const double gap_ns = 1e9 / static_cast<double>(rate);
      uint64_t seq = 1;
      while (seq < total) {
        const int64_t due = start + static_cast<int64_t>(static_cast<double>(seq - 1) * gap_ns);
        if (absl::GetCurrentTimeNanos() < due) SleepUntilNs(due);
        ShipRec64 r = MakeRec64(seq);
        const int64_t t = absl::GetCurrentTimeNanos();
        r.time_ns = t;
        append_ns[seq].store(t);
        absl::StatusOr<uint64_t> s = log->Append(r);
        if (!s.ok() || *s != seq) {
          writer_status = s.ok()
                              ? absl::InternalError(absl::StrCat("appended at ", *s, " not ", seq))
                              : s.status();
          break;
        }
        ++seq;
      }
      write_seconds = static_cast<double>(absl::GetCurrentTimeNanos() - start) / 1e9;
    });
    writer.join();
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (writer_status.ok() && acked_end.load() < total && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  stop.store(true);
  shipper.join();
  std::unique_ptr<Conn> admin;
  if (auto c = OpenConn(urls); c.ok()) {
    admin = *std::move(c);
    (void)admin->DeleteStream(stream);
  }
  store->reset();
  std::filesystem::remove_all(dir);
  if (!writer_status.ok()) return writer_status;
  if (!report.ok()) return report.status();
  if (acked_end.load() < total) {
    return absl::DeadlineExceededError(
        absl::StrCat("acknowledged ", acked_end.load(), " of ", total));
  }
  std::vector<double> us;
  us.reserve(n);
  for (uint64_t seq = 1; seq < total; ++seq) us.push_back(static_cast<double>(lag_ns[seq]) / 1e3);
  LagResult out;
  out.records = n;
  out.p50_us = recstore::bench::Percentile(&us, 50);
  out.p99_us = recstore::bench::Percentile(&us, 99);
  out.max_us = recstore::bench::Percentile(&us, 100);
  out.achieved_rate = write_seconds > 0 ? static_cast<double>(n) / write_seconds : 0;
  out.acked_calls = acked_calls;
  return out;
}

}  // namespace ship_bench
