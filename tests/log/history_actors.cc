#include "tests/log/history_actors.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/log/history_append.h"

namespace recstore::testing::history {

namespace {

void AtomicMax(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load();
  while (cur < v && !a.compare_exchange_weak(cur, v)) {
  }
}

std::mt19937_64 RngFor(const Round& r, int actor) {
  return std::mt19937_64(Mix(r.cfg.seed * 1000003 + static_cast<uint64_t>(r.index) * 64 +
                             static_cast<uint64_t>(actor)));
}

const LogBase& Writer(Round* r, bool fixed) {
  return fixed ? static_cast<const LogBase&>(r->fixed) : static_cast<const LogBase&>(r->bytes);
}

// One step of a follower at `*next` of `log`. A follower that gates the appender (`lead`)
// reads every record; the others jump ahead when they fall behind, to stay at the tail.
template <typename LogT>
bool FollowStep(Round* r, const LogT& log, LogModel& m, bool lead, uint64_t* next,
                HandleWatch* watch, std::mt19937_64* rng, Counts* c) {
  const std::string who = absl::StrCat(m.name(), " follower");
  uint64_t& pos = *next;
  const Bounds before = m.Floor();
  const uint64_t begin = log.begin();
  if (!lead && pos + 2 * kFollowLag < before.end) pos = before.end - kFollowLag / 4;
  if (pos < begin) {
    pos = begin;
    ++(*c)[who + " skipped to begin()"];
  }
  // The app-log pattern: poll Get(next) while the writer appends, no pin (the tail is never
  // retired while the follower keeps up); OutOfRange at or past the appends that had returned
  // means "not yet".
  bool moved = false;
  for (int k = 0; k < 16; ++k) {
    const Bounds floor = m.Floor();
    ++(*c)[who + " Get(next)"];
    if (!CheckedGet(log, m, who + " Get(next)", pos, floor, floor.end, false, c, &r->tally) &&
        pos >= floor.end) {
      break;  // not appended yet
    }
    ++pos;  // read, or failed (counted) or gone: go on
    moved = true;
  }
  if (lead) r->follow_pos[m.fixed ? 0 : 1].store(pos);
  watch->Observe(log.begin(), log.end(), before, &r->tally);
  if ((*rng)() % 4 == 0) {
    const Bounds floor = m.Floor();
    const uint64_t e = log.end();
    if (e > 0) {
      CheckedGet(log, m, who + " Get(end()-1)", e - 1, floor, e, false, c, &r->tally);
      ++(*c)[who + " Get(end()-1)"];
    }
  }
  return moved;
}

template <typename LogT>
void ReadStep(Round* r, const LogT& log, LogModel& m, HandleWatch* watch, std::mt19937_64* rng,
              Counts* c) {
  const std::string who = absl::StrCat(m.name(), " reader");
  const Bounds floor = m.Floor();
  const uint64_t begin = log.begin(), end = log.end();
  watch->Observe(begin, end, floor, &r->tally);
  if (end == begin) return;
  const uint64_t k = (*rng)() % 20;
  if (k < 9) {
    CheckedGet(log, m, who + " Get", begin + (*rng)() % (end - begin), floor, end, true, c,
               &r->tally);
    ++(*c)[who + " Get"];
  } else if (k < 12) {
    CheckedGet(log, m, who + " Get(end()-1)", end - 1, floor, end, true, c, &r->tally);
    ++(*c)[who + " Get(end()-1)"];
  } else if (k < 19) {
    // Sometimes from below begin(): the scan starts at begin().
    uint64_t from = begin + (*rng)() % (end - begin + 1);
    if ((*rng)() % 8 == 0) from = begin - std::min<uint64_t>(begin, 100);
    CheckedScan(log, m, who + " Scan", from, floor, c, &r->tally);
    ++(*c)[who + " Scan"];
  } else {
    CheckedVerify(log, m, who + " Verify", floor, &r->tally);
    ++(*c)[who + " Verify"];
  }
}

// The maintenance operations. Each updates the model around the call: a truncation target
// before, what is certainly gone after.
void AfterMaintenance(LogModel& m, const LogBase& log) { AtomicMax(m.trunc_done, log.begin()); }

void Truncate(Round* r, bool fixed, uint64_t target, Counts* c) {
  LogModel& m = r->shared.log(fixed);
  const LogBase& log = Writer(r, fixed);
  const std::string who = absl::StrCat(m.name(), " TruncateBefore");
  AtomicMax(m.trunc_target, target);
  SetOp("TruncateBefore", m.name(), target);
  absl::StatusOr<CompactionStats> st = log.TruncateBefore(target);
  SetOp("", m.name(), 0);
  ++(*c)[who];
  if (!st.ok()) {
    r->tally.Fail(absl::StrCat(who, ": ", CodeName(st.status())), st.status().ToString());
    return;
  }
  AtomicMax(m.trunc_done, target);
  if (log.begin() < target || st->first_seq < target) {
    r->tally.Fail(
        who + ": begin() below the target",
        absl::StrCat("target ", target, ", begin() ", log.begin(), ", stats ", st->first_seq));
  }
  AfterMaintenance(m, log);
}

void Compact(Round* r, bool fixed, Counts* c) {
  LogModel& m = r->shared.log(fixed);
  const LogBase& log = Writer(r, fixed);
  const std::string who = absl::StrCat(m.name(), " Compact");
  uint64_t seen = 0, bad = 0;
  CompactOptions options;
  options.keep = [&](uint64_t seq, std::span<const std::byte> record) {
    ++seen;
    if (!m.RecordIs(seq, record) && bad++ == 0) {
      r->tally.Fail(who + ": predicate saw wrong bytes", absl::StrCat("record ", seq));
    }
    return !Droppable(m.fixed, seq);
  };
  m.compacting.store(true);
  SetOp("Compact", m.name(), log.end());
  absl::StatusOr<CompactionStats> st = log.Compact(options);
  SetOp("", m.name(), 0);
  ++(*c)[who + " (keep predicate)"];
  (*c)["records seen by the keep predicate"] += seen;
  if (!st.ok()) {
    // The model keeps `compacting`: anything droppable may be gone from now on.
    r->tally.Fail(absl::StrCat(who, ": ", CodeName(st.status())), st.status().ToString());
    return;
  }
  AtomicMax(m.removed_below, log.info().compacted_end);
  m.compacting.store(false);
  if (st->records_kept > st->records_in) {
    r->tally.Fail(who + ": kept more than it read",
                  absl::StrCat(st->records_kept, " of ", st->records_in));
  }
  AfterMaintenance(m, log);
}

void Merge(Round* r, bool fixed, int times, Counts* c) {
  LogModel& m = r->shared.log(fixed);
  const LogBase& log = Writer(r, fixed);
  const std::string who = absl::StrCat(m.name(), " Merge");
  for (int i = 0; i < times; ++i) {
    SetOp("Merge", m.name(), log.end());
    absl::StatusOr<CompactionStats> st = log.Merge();
    SetOp("", m.name(), 0);
    ++(*c)[who];
    if (!st.ok())
      r->tally.Fail(absl::StrCat(who, ": ", CodeName(st.status())), st.status().ToString());
  }
  AfterMaintenance(m, log);
}

void Retention(Round* r, bool fixed, std::mt19937_64* rng, Counts* c) {
  LogModel& m = r->shared.log(fixed);
  const LogBase& log = Writer(r, fixed);
  absl::Status st;
  std::string who;
  if ((*rng)() % 3 == 0) {
    who = absl::StrCat(m.name(), " ApplyRetention");
    SetOp("ApplyRetention", m.name(), log.end());
    st = log.ApplyRetention().status();
  } else {
    // Never below the model's floor (and never none, which would let the log grow).
    const RetentionPolicy policy{.max_records = m.retention_floor * (1 + (*rng)() % 2)};
    who = absl::StrCat(m.name(), " SetRetention");
    SetOp("SetRetention", m.name(), policy.max_records);
    st = log.SetRetention(policy);
  }
  SetOp("", m.name(), 0);
  ++(*c)[who];
  if (!st.ok()) r->tally.Fail(absl::StrCat(who, ": ", CodeName(st)), st.ToString());
  AfterMaintenance(m, log);
}

}  // namespace

bool HistoryConfig::Has(std::string_view actor) const {
  if (actors == "all") return true;
  for (absl::string_view a : absl::StrSplit(actors, ',')) {
    if (a == absl::string_view(actor.data(), actor.size())) return true;
  }
  return false;
}

bool Round::Progress(double fraction) const {
  const uint64_t totals[2] = {cfg.fixed_appends, cfg.byte_appends};
  for (int i = 0; i < 2; ++i) {
    if (!appender_done[i].load() &&
        static_cast<double>(appended[i].load()) < fraction * static_cast<double>(totals[i])) {
      return false;
    }
  }
  return true;
}

std::string CollectionFolder(const std::string& dir, std::string_view name) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.size() == 7 + name.size() && f[6] == '-' && f.substr(7) == name) return it->path();
  }
  return "";
}

void RunFollower(Round* r, int id) {
  std::mt19937_64 rng = RngFor(*r, 16 + id);
  HandleWatch fixed_watch(r->shared.fixed, "fixed follower");
  HandleWatch bytes_watch(r->shared.bytes, "bytes follower");
  Counts c;
  uint64_t next[2] = {r->follow_pos[0].load(), r->follow_pos[1].load()};
  while (!r->writers_done.load() && !r->abort.load()) {
    bool moved =
        FollowStep(r, r->fixed, r->shared.fixed, id == 0, &next[0], &fixed_watch, &rng, &c);
    moved = FollowStep(r, r->bytes, r->shared.bytes, id == 0, &next[1], &bytes_watch, &rng, &c) ||
            moved;
    if (!moved) std::this_thread::yield();
  }
  r->tally.Merge(c);
}

void RunReader(Round* r) {
  std::mt19937_64 rng = RngFor(*r, 4);
  HandleWatch fixed_watch(r->shared.fixed, "fixed reader");
  HandleWatch bytes_watch(r->shared.bytes, "bytes reader");
  Counts c;
  const bool maintain = r->cfg.Has("maintain");
  // The round's first two maintenance operations truncate the fixed, then the byte log while
  // a scan started on the freshly opened writer holds its first record (issue 18, bug 2).
  for (int k = 0; k < 2; ++k) {
    auto pause = [&] {
      r->pinned.store(k + 1);
      if (maintain) WaitFor(r, [&] { return r->maintenance_done.load() > k; });
    };
    if (k == 0) {
      CheckedScan(r->fixed, r->shared.fixed, "fixed reader Scan pinned across TruncateBefore",
                  r->fixed.begin(), r->shared.fixed.Floor(), &c, &r->tally, pause);
    } else {
      CheckedScan(r->bytes, r->shared.bytes, "bytes reader Scan pinned across TruncateBefore",
                  r->bytes.begin(), r->shared.bytes.Floor(), &c, &r->tally, pause);
    }
    ++c["reader Scan pinned across TruncateBefore"];
  }
  while (!r->writers_done.load() && !r->abort.load()) {
    if (rng() % 2 == 0) {
      ReadStep(r, r->fixed, r->shared.fixed, &fixed_watch, &rng, &c);
    } else {
      ReadStep(r, r->bytes, r->shared.bytes, &bytes_watch, &rng, &c);
    }
  }
  r->tally.Merge(c);
}

void RunMaintenance(Round* r) {
  std::mt19937_64 rng = RngFor(*r, 5);
  Counts c;
  const int ops = r->cfg.maintenance_ops;
  const bool reader = r->cfg.Has("read");
  for (int k = 0; k < ops && !r->abort.load(); ++k) {
    const auto wait_start = std::chrono::steady_clock::now();
    if (!WaitFor(r, [&] { return r->Progress(static_cast<double>(k) / ops); })) break;
    const auto op_start = std::chrono::steady_clock::now();
    c["maintenance ms waiting for appends"] +=
        std::chrono::duration_cast<std::chrono::milliseconds>(op_start - wait_start).count();
    const char* kind;
    if (k < 2) {
      // A truncation that deletes segments the reader's pinned scan has not reached.
      kind = "TruncateBefore under a pinned scan";
      const bool fixed = k == 0;
      if (reader && !WaitFor(
                        r, [&] { return r->pinned.load() > k; }, std::chrono::seconds(60))) {
        r->tally.Fail("maintenance: the reader's scan did not start", "");
      }
      // The target: the third ordinary segment at or after begin(), so the first two go
      // (older records may live in compacted segments, mapped at open).
      LogModel& m = r->shared.log(fixed);
      const uint64_t begin = Writer(r, fixed).begin(), end = m.acked_end.load();
      std::set<uint64_t> segments;
      ListOrdinary(CollectionFolder(r->dir, fixed ? kFixedLog : kByteLog), &segments);
      std::vector<uint64_t> live(segments.lower_bound(begin), segments.end());
      Truncate(r, fixed, live.size() > 3 ? live[2] : begin + (end - begin) * 2 / 3, &c);
    } else {
      const bool fixed = rng() % 2 == 0;
      LogModel& m = r->shared.log(fixed);
      const uint64_t pick = rng() % 12;
      if (pick < 2) {
        kind = "TruncateBefore";
        const uint64_t end = m.acked_end.load(), keep = m.retention_floor;
        if (end > keep) Truncate(r, fixed, end - keep + rng() % (keep / 2), &c);
      } else if (pick < 4) {
        kind = "retention";
        Retention(r, fixed, &rng, &c);
      } else if (pick < 7) {
        kind = "Compact";
        Compact(r, fixed, &c);
      } else if (pick < 8) {
        kind = "Merge";
        Merge(r, fixed, 1, &c);
      } else {
        // Merges with no append between them: the same compacted_end twice (issue 18, bug 3).
        kind = "Merge run";
        std::lock_guard<std::mutex> gate(r->append_gate[fixed ? 0 : 1]);
        Merge(r, fixed, 2 + static_cast<int>(rng() % 2), &c);
        ++c[absl::StrCat(m.name(), " Merge runs with appends paused")];
      }
    }
    c[absl::StrCat("maintenance ms in ", kind)] +=
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                              op_start)
            .count();
    r->maintenance_done.store(k + 1);
  }
  r->maintenance_done.store(ops + 1);
  r->tally.Merge(c);
}

void RunSaver(Round* r) {
  CheckpointModel& m = r->shared.checkpoints;
  Counts c;
  const int saves = r->cfg.saves;
  for (int s = 0; s < saves; ++s) {
    if (!WaitFor(r, [&] { return r->Progress(static_cast<double>(s) / saves); })) break;
    const uint64_t v = m.started.load() + 1;
    m.started.store(v);
    SetOp("checkpoint Save", "checkpoints", v);
    absl::StatusOr<CheckpointInfo> info = r->checkpoints.Save(CheckpointPayload(v));
    SetOp("", "", 0);
    ++c["checkpoint Save"];
    if (!info.ok()) {
      r->tally.Fail("checkpoint Save: " + CodeName(info.status()), info.status().ToString());
      break;
    }
    if (info->seq != v - 1 || info->size != CheckpointSize(v)) {
      r->tally.Fail("checkpoint Save: unexpected version",
                    absl::StrCat("seq ", info->seq, " size ", info->size, " for version ", v));
    }
    m.saved.store(v);
  }
  r->tally.Merge(c);
}

void RunCheckpointReader(Round* r) {
  CheckpointModel& m = r->shared.checkpoints;
  std::mt19937_64 rng = RngFor(*r, 6);
  Counts c;
  while (!r->writers_done.load() && !r->abort.load()) {
    const uint64_t saved = m.saved.load();
    if (rng() % 3 != 0) {
      SetOp("checkpoint Load", "checkpoints", saved);
      CheckLoad(m, "checkpoints", saved, r->checkpoints.Load(), &r->tally);
      ++c["checkpoint Load"];
    } else {
      SetOp("checkpoint List", "checkpoints", saved);
      CheckList(m, "checkpoints", saved, r->checkpoints.List(), &r->tally);
      ++c["checkpoint List"];
    }
    SetOp("", "", 0);
  }
  r->tally.Merge(c);
}

void RunReadOnlyThread(Round* r) {
  ReadOnlyReader reader(r->dir, &r->shared, Mix(r->cfg.seed) + 7 + r->index, "ro thread",
                        r->cfg.reader_env);
  Counts c;
  if (reader.Open(&r->tally)) {
    ++c["ro thread opens"];
    while (!r->writers_done.load() && !r->abort.load()) reader.Step(&c, &r->tally);
  }
  r->tally.Merge(c);
}

}  // namespace recstore::testing::history
