// Several processes on one store: a read-only process tails the writer with Refresh() while the
// writer rotates segments; a second writer process is refused while the first keeps appending
// and syncing; a writer killed with SIGKILL while holding the lock is replaced at once by a new
// writer that recovers everything the killed one had synced.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::MakeTrade;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::AllOf;
using ::testing::HasSubstr;

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
  // Blocks until a value arrives; false at end of file.
  bool Receive(uint64_t* v) const { return read(read_, v, sizeof(*v)) == sizeof(*v); }
  // True when a value is waiting.
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

bool SameTrade(const Trade& t, uint64_t i) {
  const Trade want = MakeTrade(i);
  return std::memcmp(&t, &want, sizeof(Trade)) == 0;
}

void ExpectChildExitedCleanly(pid_t pid) {
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ProcessTest, ReaderTailsTheWriterAcrossSegmentRotations) {
  const std::string dir = TestDir();
  constexpr uint64_t kTrades = 30000;  // about 20 segments; every 3rd also appends an event
  Channel to_parent, to_child;
  const pid_t child = fork();
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) _exit(10);
    auto trades = (*store)->OpenLog<Trade>("trades");
    auto events = (*store)->OpenByteLog("events");
    if (!trades.ok() || !events.ok()) _exit(11);
    if (!to_parent.Send(0)) _exit(12);
    uint64_t n_events = 0;
    for (uint64_t i = 0; i < kTrades; ++i) {
      if (!trades->Append(MakeTrade(i)).ok()) _exit(13);
      if (i % 3 == 0 && !events->Append(Event(n_events++)).ok()) _exit(14);
      if (i % 100 == 99 && (!trades->Sync().ok() || !events->Sync().ok())) _exit(15);
      if (i % 2000 == 0) usleep(1000);  // let the reader catch up now and then
    }
    if (!to_parent.Send(n_events)) _exit(16);
    uint64_t go;
    to_child.Receive(&go);
    _exit(0);
  }
  uint64_t v;
  ASSERT_TRUE(to_parent.Receive(&v));
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto trades, reader->OpenLog<Trade>("trades"));
  ASSERT_OK_AND_ASSIGN(auto events, reader->OpenByteLog("events"));
  uint64_t next_trade = 0, next_event = 0, rounds_with_news = 0;
  bool writer_done = false;
  uint64_t final_events = 0;
  while (true) {
    // Decide before refreshing, so the last round sees everything the writer wrote.
    if (!writer_done && to_parent.Ready()) {
      ASSERT_TRUE(to_parent.Receive(&final_events));
      writer_done = true;
    }
    const uint64_t ends_before = trades.end() + events.end();
    ASSERT_OK(trades.Refresh());
    ASSERT_OK(events.Refresh());
    if (trades.end() + events.end() > ends_before) ++rounds_with_news;
    ASSERT_GE(trades.end(), next_trade);
    ASSERT_GE(events.end(), next_event);
    auto scan = trades.Scan(next_trade);
    for (const auto& [seq, t] : scan) {
      ASSERT_EQ(seq, next_trade);
      ASSERT_TRUE(SameTrade(t, seq)) << "trade " << seq;
      ++next_trade;
    }
    ASSERT_OK(scan.status());
    auto escan = events.Scan(next_event);
    for (const auto& [seq, e] : escan) {
      ASSERT_EQ(seq, next_event);
      ASSERT_EQ(AsString(e), Event(seq)) << "event " << seq;
      ASSERT_OK_AND_ASSIGN(auto got, events.Get(seq));
      ASSERT_EQ(got.data(), e.data());
      ++next_event;
    }
    ASSERT_OK(escan.status());
    ASSERT_EQ(next_trade, trades.end());
    ASSERT_EQ(next_event, events.end());
    if (writer_done) break;
  }
  EXPECT_EQ(next_trade, kTrades);
  EXPECT_EQ(next_event, final_events);
  EXPECT_EQ(next_event, (kTrades + 2) / 3);
  std::printf("the reader saw new records in %llu refresh rounds\n",
              static_cast<unsigned long long>(rounds_with_news));
  to_child.Send(0);
  ExpectChildExitedCleanly(child);
}

TEST(ProcessTest, SecondWriterIsRefusedWhileTheFirstKeepsWorking) {
  const std::string dir = TestDir();
  constexpr uint64_t kRounds = 40, kPerRound = 200;
  Channel to_parent, to_child;
  const pid_t child = fork();
  if (child == 0) {
    // Rounds of appends and a sync. The first half waits for the parent after each round (so
    // an open is tried between every two rounds); the second half runs freely while the
    // parent keeps trying.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) _exit(10);
    auto trades = (*store)->OpenLog<Trade>("trades");
    if (!trades.ok()) _exit(11);
    for (uint64_t r = 0; r < kRounds; ++r) {
      for (uint64_t i = r * kPerRound; i < (r + 1) * kPerRound; ++i) {
        if (!trades->Append(MakeTrade(i)).ok()) _exit(12);
      }
      auto durable = trades->Sync();
      if (!durable.ok() || *durable != (r + 1) * kPerRound) _exit(13);
      if (!to_parent.Send(r)) _exit(14);
      uint64_t go;
      if (r < kRounds / 2 && !to_child.Receive(&go)) _exit(15);
    }
    uint64_t go;  // keep the lock until the parent has seen the last round
    if (!to_child.Receive(&go)) _exit(16);
    _exit(0);
  }
  const std::string pid = "pid " + std::to_string(child);
  uint64_t round = 0, attempts = 0;
  for (uint64_t r = 0; r < kRounds / 2; ++r) {
    ASSERT_TRUE(to_parent.Receive(&round));
    ASSERT_EQ(round, r);
    EXPECT_THAT(Store::Open(dir), StatusIs(absl::StatusCode::kUnavailable,
                                           AllOf(HasSubstr("locked by a writer"), HasSubstr(pid))));
    ++attempts;
    ASSERT_TRUE(to_child.Send(r));
  }
  while (round + 1 < kRounds) {
    EXPECT_THAT(Store::Open(dir), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(pid)));
    ++attempts;
    while (to_parent.Ready()) ASSERT_TRUE(to_parent.Receive(&round));
  }
  ASSERT_TRUE(to_child.Send(0));
  ExpectChildExitedCleanly(child);
  std::printf("%llu refused opens\n", static_cast<unsigned long long>(attempts));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  EXPECT_TRUE(trades.recovery().clean());
  ASSERT_EQ(trades.size(), kRounds * kPerRound);
  for (const auto& [seq, t] : trades.Scan()) ASSERT_TRUE(SameTrade(t, seq)) << seq;
}

TEST(ProcessTest, WriterKilledHoldingTheLockIsReplacedAtOnce) {
  const std::string dir = TestDir();
  uint64_t expected_start = 0;
  for (int round = 0; round < 3; ++round) {
    Channel to_parent;
    const pid_t child = fork();
    if (child == 0) {
      // Appends and syncs, reports each durable end, and goes on appending (some of it never
      // synced) until it is killed.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
      if (!store.ok()) _exit(10);
      auto trades = (*store)->OpenLog<Trade>("trades");
      auto events = (*store)->OpenByteLog("events");
      if (!trades.ok() || !events.ok()) _exit(11);
      const uint64_t start = trades->end();
      for (uint64_t i = start;; ++i) {
        if (!trades->Append(MakeTrade(i)).ok()) _exit(12);
        if (!events->Append(Event(i)).ok()) _exit(13);
        if ((i - start) % 1000 == 999) {
          auto d = trades->Sync();
          if (!d.ok() || !events->Sync().ok() || !to_parent.Send(*d)) _exit(14);
        }
      }
    }
    uint64_t durable = 0;
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(to_parent.Receive(&durable));
    // The writer holds the lock...
    EXPECT_THAT(Store::Open(dir), StatusIs(absl::StatusCode::kUnavailable,
                                           HasSubstr("pid " + std::to_string(child))));
    // ...until it is killed; the next writer opens on its first try.
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
    ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
    EXPECT_GE(trades.end(), durable);
    EXPECT_GE(durable, expected_start + 3000);
    // Each append of a trade was followed by an event: the killed writer had at most one
    // trade more.
    EXPECT_TRUE(trades.end() == events.end() || trades.end() == events.end() + 1);
    for (const auto& [seq, t] : trades.Scan()) ASSERT_TRUE(SameTrade(t, seq)) << seq;
    for (const auto& [seq, e] : events.Scan()) ASSERT_EQ(AsString(e), Event(seq)) << seq;
    ASSERT_OK_AND_ASSIGN(VerifyReport v, events.Verify());
    EXPECT_TRUE(v.ok);
    EXPECT_EQ(v.records_checked, events.end());
    // The new writer's pid replaced the killed one's in the lock file.
    const std::string me = "pid " + std::to_string(getpid());
    EXPECT_EQ(RunInChild([&](auto) {
                absl::Status s = Store::Open(dir).status();
                return s.code() == absl::StatusCode::kUnavailable &&
                               std::string(s.message()).find(me) != std::string::npos
                           ? 0
                           : 1;
              }),
              0);
    expected_start = events.end();
    // The events log is one shorter when the kill fell between the two appends; the next
    // writer starts from the trades' end, so drop the difference by appending the event.
    if (events.end() < trades.end()) {
      ASSERT_OK(events.Append(Event(events.end())));
      expected_start = events.end();
    }
  }
}

}  // namespace
}  // namespace recstore
