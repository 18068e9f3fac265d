#include "tests/log/history_append.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"

namespace recstore::testing::history {

namespace {

const LogBase& Writer(Round* r, bool fixed) {
  return fixed ? static_cast<const LogBase&>(r->fixed) : static_cast<const LogBase&>(r->bytes);
}

// Pins the calling thread to `cpu`, at idle scheduling priority if `idle`; false if it could
// not.
bool PinTo(int cpu, bool idle) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  bool ok = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
  if (idle) {
    sched_param p{};
    ok = pthread_setschedparam(pthread_self(), SCHED_IDLE, &p) == 0 && ok;
  }
  return ok;
}

void TailAppend(Round* r, bool fixed, uint64_t rotations, Counts* c) {
  Appender a(r, fixed);
  LogModel& m = r->shared.log(fixed);
  a.ObserveSegments();
  uint64_t rotated = 0;
  for (uint64_t k = 1; rotated < rotations && !r->abort.load(); ++k) {
    // Fixed log: batches up to the next segment boundary (segments seen so far tell where it
    // is), then a single append that opens the segment while the follower polls for it.
    uint64_t n = 1;
    bool known = false;
    const std::set<uint64_t>& seen = a.segments();
    if (fixed && seen.size() >= 2) {
      const uint64_t last = *seen.rbegin(), per = last - *std::next(seen.rbegin());
      const uint64_t end = m.acked_end.load();
      known = end >= last && end <= last + per;
      if (known && end < last + per) n = std::min<uint64_t>(64, last + per - end);
    }
    if (!a.Append(n, c)) break;
    if (known ? n == 1 : k % (fixed ? 64 : 4) == 0) rotated += a.ObserveSegments();
  }
  (*c)[absl::StrCat(m.name(), " tail race rotations")] += rotated;
}

// Polls Get() of the next record (the end of the appends that returned) until `done`.
template <typename LogT>
void TailFollow(Round* r, const LogT& log, LogModel& m, const std::atomic<bool>& done, Counts* c) {
  const std::string who = absl::StrCat(m.name(), " tail follower Get(next)");
  uint64_t polls = 0, read = 0;
  while (!done.load(std::memory_order_relaxed)) {
    const uint64_t next = m.acked_end.load();
    SetOp("Get (tail race)", m.name(), next);
    // What Get returns stays valid only until retention retires its segment (log.h), which
    // the writer may do after a few rotations while this idle-priority thread waits for a
    // CPU: a pin taken before the Get keeps it mapped until the check below is done.
    const ReadPin pin = log.Pin();
    const absl::StatusOr<std::span<const std::byte>> got = GetBytes(log, next);
    ++polls;
    if (got.ok() ? m.RecordIs(next, *got) : got.status().code() == absl::StatusCode::kOutOfRange) {
      read += got.ok() ? 1 : 0;
      continue;
    }
    CheckGet(m, who, next, m.Floor(), next, got, &r->tally);  // reports it
  }
  SetOp("", m.name(), 0);
  (*c)[who] += polls;
  (*c)["records checked"] += read;
}

}  // namespace

void ListOrdinary(const std::string& folder, std::set<uint64_t>* out) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string f = it->path().filename().string();
    unsigned long long first = 0;
    if (f.size() == 24 && f.ends_with(".seg") &&
        std::sscanf(f.c_str(), "%20llu.seg", &first) == 1) {
      out->insert(first);
    }
  }
}

Appender::Appender(Round* r, bool fixed)
    : r_(r),
      fixed_(fixed),
      m_(r->shared.log(fixed)),
      folder_(CollectionFolder(r->dir, fixed ? kFixedLog : kByteLog)) {}

uint64_t Appender::ObserveSegments() {
  const size_t before = segments_.size();
  ListOrdinary(folder_, &segments_);
  return segments_.size() - before;
}

bool Appender::Append(uint64_t n, Counts* c) {
  const std::string what = absl::StrCat(m_.name(), n == 1 ? " Append" : " AppendBatch");
  const uint64_t seq = m_.acked_end.load();
  absl::StatusOr<uint64_t> got;
  m_.started_end.store(seq + n);
  SetOp(n == 1 ? "Append" : "AppendBatch", m_.name(), seq);
  if (fixed_) {
    trades_.clear();
    for (uint64_t k = 0; k < n; ++k) trades_.push_back(MakeTrade(seq + k));
    got = n == 1 ? r_->fixed.Append(trades_[0]) : r_->fixed.AppendBatch(trades_);
  } else {
    records_.clear();
    views_.clear();
    for (uint64_t k = 0; k < n; ++k) records_.push_back(ByteRecord(seq + k));
    for (const std::string& s : records_) views_.push_back(s);
    got = n == 1 ? r_->bytes.Append(views_[0]) : r_->bytes.AppendBatch(views_);
  }
  SetOp("", m_.name(), 0);
  if (!got.ok()) {
    r_->tally.Fail(absl::StrCat(what, ": ", CodeName(got.status())), got.status().ToString());
    return false;
  }
  if (*got != seq) {
    r_->tally.Fail(what + ": unexpected sequence number",
                   absl::StrCat("got ", *got, ", expected ", seq));
    return false;
  }
  m_.acked_end.store(seq + n);
  ++(*c)[what];
  (*c)[absl::StrCat(m_.name(), " records appended")] += n;
  return true;
}

void RunTailRace(Round* r, uint64_t rotations) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  Counts c[4];
  std::atomic<bool> done[2] = {false, false};
  std::atomic<int> unpinned{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    const bool fixed = i == 0;
    if (!r->cfg.Has("tail") && !r->cfg.Has(fixed ? "tail-fixed" : "tail-bytes")) continue;
    const int cpu = cpus[static_cast<size_t>(i) % cpus.size()];
    threads.emplace_back([&, i, fixed, cpu] {
      if (!PinTo(cpu, false)) ++unpinned;
      TailAppend(r, fixed, rotations, &c[2 * i]);
      done[i].store(true);
    });
    threads.emplace_back([&, i, fixed, cpu] {
      if (!PinTo(cpu, true)) ++unpinned;
      if (fixed) {
        TailFollow(r, r->fixed, r->shared.fixed, done[i], &c[2 * i + 1]);
      } else {
        TailFollow(r, r->bytes, r->shared.bytes, done[i], &c[2 * i + 1]);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Counts& counts : c) r->tally.Merge(counts);
  if (unpinned.load() > 0) r->tally.Count("tail race threads not pinned", unpinned.load());
}

void RunAppender(Round* r, bool fixed) {
  const int i = fixed ? 0 : 1;
  LogModel& m = r->shared.log(fixed);
  std::mt19937_64 rng(Mix(r->cfg.seed * 1000003 + static_cast<uint64_t>(r->index) * 64 + 1 + i));
  const uint64_t total = fixed ? r->cfg.fixed_appends : r->cfg.byte_appends;
  const int ops = r->cfg.Has("maintain") ? r->cfg.maintenance_ops : 0;
  const bool follow = r->cfg.Has("follow");
  Appender a(r, fixed);
  a.ObserveSegments();
  Counts c;
  uint64_t rotated = 0;
  for (uint64_t done = 0; done < total;) {
    // Maintenance keeps pace (at most one step behind), and so does the lead follower.
    const int chunk = ops == 0 ? 0 : static_cast<int>(done * static_cast<uint64_t>(ops) / total);
    if (!WaitFor(r, [&] { return r->maintenance_done.load() >= chunk - 1; })) break;
    if (follow &&
        !WaitFor(r, [&] { return m.acked_end.load() <= r->follow_pos[i].load() + kFollowLag; })) {
      break;
    }
    const uint64_t n = std::min(total - done, rng() % 8 == 0 ? 2 + rng() % (fixed ? 63 : 12) : 1);
    {
      std::lock_guard<std::mutex> gate(r->append_gate[i]);  // maintenance may pause appends
      if (!a.Append(n, &c)) break;
    }
    done += n;
    r->appended[i].store(done);
    if (rng() % 256 == 0) {
      const uint64_t end = m.acked_end.load();
      SetOp("Sync", m.name(), end);
      absl::StatusOr<uint64_t> durable = Writer(r, fixed).Sync();
      SetOp("", m.name(), 0);
      ++c[absl::StrCat(m.name(), " Sync")];
      if (!durable.ok()) {
        r->tally.Fail(absl::StrCat(m.name(), " Sync: ", CodeName(durable.status())),
                      durable.status().ToString());
      } else if (*durable < end) {
        r->tally.Fail(absl::StrCat(m.name(), " Sync: durable end below the appends"),
                      absl::StrCat(*durable, " < ", end));
      }
    }
    // About 6 looks per segment (1536 Trade records or about 80 byte records fill one).
    if (done % (fixed ? 256 : 16) < n) rotated += a.ObserveSegments();
  }
  rotated += a.ObserveSegments();
  c[absl::StrCat(m.name(), " rotations seen")] += rotated;
  r->appender_done[i].store(true);
  r->tally.Merge(c);
}

}  // namespace recstore::testing::history
