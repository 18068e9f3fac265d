// Readers during compaction and retention.
//
// Another process: a read-only process scans and Refresh()es a byte log in a loop while the
// writer process appends, compacts (always with the same predicate) and truncates it. Every
// view the reader gets must be a whole state of the collection: with begin B, end N and
// compacted_end E, it holds exactly the records s in [B, N) with s >= E or Keep(s), each with
// the bytes Event(s), in order; B, N, E and the generation never go down; Get agrees with the
// scan; a scan started before a Refresh yields its old view to the end.
//
// The same process: a scan started before Compact and TruncateBefore keeps yielding every old
// record (those the calls removed too) after they return, and a Pin() keeps the pointers Get
// returned valid (ASan reports a read of a retired mapping).
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::MakeTrade;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;

constexpr uint64_t kSegment = 64 << 10;

// A one-way channel of 64-bit values between two processes.
class Channel {
 public:
  Channel() {
    int fds[2];
    if (pipe(fds) == 0) {
      read_ = fds[0];
      write_ = fds[1];
    }
  }
  ~Channel() {
    close(read_);
    close(write_);
  }
  bool Send(uint64_t v) const { return write(write_, &v, sizeof(v)) == sizeof(v); }
  bool Receive(uint64_t* v) const { return read(read_, v, sizeof(*v)) == sizeof(*v); }
  bool Ready() const {
    pollfd p{read_, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }

 private:
  int read_ = -1, write_ = -1;
};

// Byte record `i`: its size and bytes follow from `i`; a few are larger than a segment.
std::string Event(uint64_t i) {
  const size_t size = i % 997 == 500 ? 70000 : 8 + (i * 7919) % 300;
  std::string s(size, '\0');
  for (size_t k = 0; k < size; ++k) s[k] = static_cast<char>((i * 131 + k * 17) >> 2);
  return s;
}

// The predicate of every compaction: two records in three stay.
bool Keep(uint64_t seq) { return ((seq * 2654435761u) >> 7) % 3 != 0; }

// One view of the collection, as info(), begin() and end() describe it.
struct View {
  uint64_t begin = 0, end = 0, compacted_end = 0, generation = 0;
  bool Has(uint64_t s) const { return s >= begin && s < end && (s >= compacted_end || Keep(s)); }
};

View ViewOf(const ByteLog& log) {
  const CollectionInfo info = log.info();
  return {log.begin(), log.end(), info.compacted_end, info.generation};
}

// Checks a scan of `log` against `view`; with `refresh_midway`, Refreshes `log` after the
// first records and checks that the scan still yields `view`.
void CheckScan(const ByteLog& log, const View& view, bool refresh_midway, uint64_t* records) {
  auto scan = log.Scan(view.begin);
  uint64_t expect = view.begin;  // the next sequence number the view holds
  auto next_present = [&](uint64_t s) {
    while (s < view.end && !view.Has(s)) ++s;
    return s;
  };
  expect = next_present(expect);
  uint64_t i = 0;
  for (const auto& [seq, e] : scan) {
    ASSERT_EQ(seq, expect) << "view begin " << view.begin << " end " << view.end
                           << " compacted_end " << view.compacted_end << " generation "
                           << view.generation;
    ASSERT_EQ(AsString(e), Event(seq)) << "record " << seq;
    expect = next_present(seq + 1);
    if (refresh_midway && ++i == 5) {
      ASSERT_OK(log.Refresh());
    }
    ++*records;
  }
  ASSERT_OK(scan.status());
  ASSERT_EQ(expect, view.end) << "the scan ended early";
}

// Get agrees with `view` for a sample of sequence numbers.
void CheckGets(const ByteLog& log, const View& view, uint64_t salt) {
  for (uint64_t k = 0; k < 16; ++k) {
    const uint64_t span = view.end + 4;
    const uint64_t s = (salt * 7919 + k * 104729) % span;
    absl::StatusOr<std::span<const std::byte>> got = log.Get(s);
    if (view.Has(s)) {
      ASSERT_OK(got.status()) << "record " << s;
      ASSERT_EQ(AsString(*got), Event(s));
    } else if (s < view.begin || s >= view.end) {
      ASSERT_THAT(got.status(), StatusIs(absl::StatusCode::kOutOfRange)) << "record " << s;
    } else {
      ASSERT_THAT(got.status(), StatusIs(absl::StatusCode::kNotFound)) << "record " << s;
    }
  }
}

TEST(CompactionProcessTest, ReaderSeesWholeStatesWhileTheWriterCompacts) {
  const std::string dir = TestDir();
  constexpr uint64_t kRounds = 40, kPerRound = 400;
  Channel to_parent, to_child;
  const pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) _exit(10);
    auto events = (*store)->OpenByteLog("events");
    if (!events.ok()) _exit(11);
    if (!to_parent.Send(0)) _exit(12);
    const CompactOptions keep{.keep = [](uint64_t seq, auto) { return Keep(seq); }};
    for (uint64_t r = 0; r < kRounds; ++r) {
      for (uint64_t i = 0; i < kPerRound; ++i) {
        if (!events->Append(Event(events->end())).ok()) _exit(13);
      }
      if (!events->Sync().ok()) _exit(14);
      if (r % 2 == 0) {
        if (!events->Compact(keep).ok()) _exit(15);
      } else {
        const uint64_t b = events->begin() + (events->end() - events->begin()) / 5;
        if (!events->TruncateBefore(b).ok()) _exit(16);
      }
      usleep(2000);  // let the reader see some of the states
    }
    const CollectionInfo info = events->info();
    if (!to_parent.Send(events->begin()) || !to_parent.Send(events->end()) ||
        !to_parent.Send(info.compacted_end) || !to_parent.Send(info.generation)) {
      _exit(17);
    }
    uint64_t go;
    to_child.Receive(&go);
    _exit(0);
  }
  uint64_t v;
  ASSERT_TRUE(to_parent.Receive(&v));
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto events, reader->OpenByteLog("events"));
  View last;
  uint64_t rounds = 0, generations = 0, records = 0;
  bool writer_done = false;
  while (true) {
    if (!writer_done && to_parent.Ready()) writer_done = true;  // one more round, then stop
    const View before = ViewOf(events);
    // Every few rounds, refresh in the middle of a scan of the old view.
    if (rounds % 4 == 3 && before.end > before.begin) {
      ASSERT_NO_FATAL_FAILURE(CheckScan(events, before, /*refresh_midway=*/true, &records));
    } else {
      ASSERT_OK(events.Refresh());
    }
    const View view = ViewOf(events);
    ASSERT_GE(view.begin, last.begin);
    ASSERT_GE(view.end, last.end);
    ASSERT_GE(view.generation, last.generation);
    ASSERT_GE(view.compacted_end, last.compacted_end);
    ASSERT_LE(view.begin, view.end);
    generations += view.generation > last.generation ? 1 : 0;
    ASSERT_NO_FATAL_FAILURE(CheckScan(events, view, false, &records));
    ASSERT_NO_FATAL_FAILURE(CheckGets(events, view, rounds));
    last = view;
    ++rounds;
    if (writer_done) break;
  }
  uint64_t final_view[4];
  for (uint64_t& x : final_view) ASSERT_TRUE(to_parent.Receive(&x));
  EXPECT_EQ(last.begin, final_view[0]);
  EXPECT_EQ(last.end, final_view[1]);
  EXPECT_EQ(last.compacted_end, final_view[2]);
  EXPECT_EQ(last.generation, final_view[3]);
  EXPECT_EQ(last.end, kRounds * kPerRound);
  EXPECT_GT(last.generation, 0u);
  std::printf("the reader checked %llu views (%llu new generations), %llu records\n",
              static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(generations),
              static_cast<unsigned long long>(records));
  to_child.Send(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the writer failed (its exit code says where)";
}

bool SameTrade(const Trade& t, uint64_t i) {
  const Trade want = MakeTrade(i);
  return std::memcmp(&t, &want, sizeof(Trade)) == 0;
}

// A store with a byte log and a fixed log of several segments each, synced.
struct Logs {
  std::unique_ptr<Store> store;
  ByteLog events;
  Log<Trade> trades;
};

Logs MakeLogs(const std::string& dir) {
  Logs l;
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
  EXPECT_OK(store.status());
  if (!store.ok()) return l;
  l.store = *std::move(store);
  l.events = *l.store->OpenByteLog("events");
  l.trades = *l.store->OpenLog<Trade>("trades");
  for (uint64_t i = 0; i < 2500; ++i) EXPECT_OK(l.events.Append(Event(i)));
  for (uint64_t i = 0; i < 8000; ++i) EXPECT_OK(l.trades.Append(MakeTrade(i)));
  EXPECT_OK(l.events.Sync());
  EXPECT_OK(l.trades.Sync());
  return l;
}

// Compacts `log` with Keep, then truncates it at half its end; both must succeed and change it.
template <typename L>
void CompactAndTruncate(const L& log) {
  const CompactOptions keep{.keep = [](uint64_t seq, auto) { return Keep(seq); }};
  ASSERT_OK_AND_ASSIGN(CompactionStats stats, log.Compact(keep));
  EXPECT_LT(stats.records_kept, stats.records_in);
  EXPECT_GT(log.info().generation, 0u);
  ASSERT_OK(log.TruncateBefore(log.end() / 2));
  EXPECT_EQ(log.begin(), log.end() / 2);
}

TEST(CompactionReaderTest, ScanStartedBeforeCompactionKeepsItsRecords) {
  Logs l = MakeLogs(TestDir());
  ASSERT_NE(l.store, nullptr);
  const uint64_t events_end = l.events.end(), trades_end = l.trades.end();
  auto events_scan = l.events.Scan();
  auto trades_scan = l.trades.Scan();
  auto e = events_scan.begin();
  auto t = trades_scan.begin();
  // Start both scans (their first records pin the segments), then compact and truncate.
  for (int i = 0; i < 3; ++i, ++e, ++t) {
    ASSERT_EQ((*e).seq, static_cast<uint64_t>(i));
    ASSERT_EQ((*t).seq, static_cast<uint64_t>(i));
  }
  ASSERT_NO_FATAL_FAILURE(CompactAndTruncate(l.events));
  ASSERT_NO_FATAL_FAILURE(CompactAndTruncate(l.trades));
  uint64_t next = 3;
  for (; e != events_scan.end(); ++e, ++next) {
    ASSERT_EQ((*e).seq, next);
    ASSERT_EQ(AsString((*e).value), Event(next)) << "event " << next;
  }
  ASSERT_OK(events_scan.status());
  EXPECT_EQ(next, events_end);
  next = 3;
  for (; t != trades_scan.end(); ++t, ++next) {
    ASSERT_EQ((*t).seq, next);
    ASSERT_TRUE(SameTrade((*t).value, next)) << "trade " << next;
  }
  ASSERT_OK(trades_scan.status());
  EXPECT_EQ(next, trades_end);
  // A new scan sees the new state: from the new begin, without what the predicate dropped
  // below compacted_end.
  const View view = ViewOf(l.events);
  uint64_t records = 0;
  ASSERT_NO_FATAL_FAILURE(CheckScan(l.events, view, false, &records));
  EXPECT_LT(records, events_end - view.begin);
  uint64_t trades_seen = 0;
  const uint64_t trades_compacted_end = l.trades.info().compacted_end;
  for (const auto& [seq, tr] : l.trades.Scan()) {
    ASSERT_GE(seq, l.trades.begin());
    ASSERT_TRUE(seq >= trades_compacted_end || Keep(seq)) << "trade " << seq << " came back";
    ASSERT_TRUE(SameTrade(tr, seq));
    ++trades_seen;
  }
  EXPECT_GT(trades_seen, 0u);
}

TEST(CompactionReaderTest, PinKeepsGetPointersValid) {
  Logs l = MakeLogs(TestDir());
  ASSERT_NE(l.store, nullptr);
  const uint64_t events_end = l.events.end(), trades_end = l.trades.end();
  ReadPin events_pin = l.events.Pin();
  ReadPin trades_pin = l.trades.Pin();
  ASSERT_NE(events_pin, nullptr);
  ASSERT_NE(trades_pin, nullptr);
  std::vector<std::span<const std::byte>> events;
  std::vector<const Trade*> trades;
  for (uint64_t i = 0; i < events_end; ++i) {
    ASSERT_OK_AND_ASSIGN(auto e, l.events.Get(i));
    events.push_back(e);
  }
  for (uint64_t i = 0; i < trades_end; ++i) {
    ASSERT_OK_AND_ASSIGN(const Trade* t, l.trades.Get(i));
    trades.push_back(t);
  }
  ASSERT_NO_FATAL_FAILURE(CompactAndTruncate(l.events));
  ASSERT_NO_FATAL_FAILURE(CompactAndTruncate(l.trades));
  for (uint64_t i = 0; i < events_end; ++i) ASSERT_EQ(AsString(events[i]), Event(i)) << i;
  for (uint64_t i = 0; i < trades_end; ++i) ASSERT_TRUE(SameTrade(*trades[i], i)) << i;
  events_pin.reset();
  trades_pin.reset();
  // Without the pin, Get follows the new state.
  EXPECT_THAT(l.events.Get(0).status(), StatusIs(absl::StatusCode::kOutOfRange));
  const View view = ViewOf(l.events);
  for (uint64_t s = view.begin; s < view.end; ++s) {
    absl::StatusOr<std::span<const std::byte>> got = l.events.Get(s);
    if (view.Has(s)) {
      ASSERT_OK(got.status());
      ASSERT_EQ(AsString(*got), Event(s));
    } else {
      ASSERT_THAT(got.status(), StatusIs(absl::StatusCode::kNotFound)) << s;
    }
  }
}

}  // namespace
}  // namespace recstore
