// Live tailing: WaitFor, Follow and the cheap Refresh, in this process and from others,
// across rotation, retention and compaction, with writers that die and spurious wake-ups.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ChildProcess;
using ::recstore::testing::FaultEnv;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::HasSubstr;

// The record with sequence number `seq`: its content names it, so a reader can check it.
std::string Payload(uint64_t seq) {
  return "record-" + std::to_string(seq) + std::string(seq % 50, 'x');
}

absl::Time In(absl::Duration d) { return absl::Now() + d; }

std::unique_ptr<Store> OpenWriter(const std::string& dir, uint64_t segment_size = 64 << 10) {
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = segment_size});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::unique_ptr<Store> OpenReader(const std::string& dir, Env* env = nullptr) {
  auto store = Store::Open(dir, {.read_only = true, .env = env});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Follows `log` from 0, checking that each record is Payload(seq) and comes in order, until
// `count` records; returns how many passed the check.
uint64_t FollowAndCheck(const ByteLog& log, uint64_t count) {
  uint64_t next = 0;
  auto follow = log.Follow(0);
  for (auto [seq, rec] : follow) {
    if (seq != next || AsString(rec) != Payload(seq)) return next;
    if (++next == count) break;
  }
  return next;
}

TEST(TailTest, WaitForReturnsOnceAnotherThreadAppends) {
  auto store = OpenWriter(TestDir());
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (uint64_t i = 0; i < 6; ++i) ASSERT_OK(log.Append(Payload(i)).status());
  });
  ASSERT_OK_AND_ASSIGN(uint64_t end, log.WaitFor(5, In(absl::Seconds(30))));
  EXPECT_GE(end, 6u);
  writer.join();
}

TEST(TailTest, WaitForTimesOutWithTheReason) {
  auto store = OpenWriter(TestDir());
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
  ASSERT_OK(log.Append("a").status());
  const absl::Time start = absl::Now();
  EXPECT_THAT(log.WaitFor(1, In(absl::Milliseconds(100))),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("record 1")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  // A record that is there returns at once, even past the deadline.
  EXPECT_THAT(log.WaitFor(0, absl::InfinitePast()), ::recstore::testing::IsOkAndHolds(1u));
}

TEST(TailTest, DurableWaitersWakeOnSyncNotOnAppend) {
  auto store = OpenWriter(TestDir());
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
  const WaitOptions durable{.until = WaitOptions::Until::kDurable};
  ASSERT_OK(log.Append("a").status());
  EXPECT_THAT(log.WaitFor(0, In(absl::Milliseconds(50)), durable),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("durable")));
  std::thread syncer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_OK(log.Sync().status());
  });
  EXPECT_THAT(log.WaitFor(0, In(absl::Seconds(30)), durable),
              ::recstore::testing::IsOkAndHolds(1u));
  syncer.join();
}

TEST(TailTest, ReadOnlyWaiterSeesDurableEndTheWriterReports) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  const WaitOptions durable{.until = WaitOptions::Until::kDurable};
  for (int i = 0; i < 3; ++i) ASSERT_OK(log.Append("r").status());
  ASSERT_OK_AND_ASSIGN(uint64_t end, follower.WaitFor(2, In(absl::Seconds(30))));
  EXPECT_EQ(end, 3u);
  EXPECT_EQ(follower.durable(), 0u);
  std::thread syncer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ASSERT_OK(log.Sync().status());
  });
  EXPECT_THAT(follower.WaitFor(2, In(absl::Seconds(30)), durable),
              ::recstore::testing::IsOkAndHolds(3u));
  EXPECT_EQ(follower.durable(), 3u);
  syncer.join();
}

TEST(TailTest, ARefreshThatFindsNothingNewTouchesNoFile) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  ASSERT_OK(log.Append("first").status());
  FaultEnv env;
  auto reader = OpenReader(dir, &env);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  ASSERT_OK(follower.Refresh());  // the full refresh, which notes the page's generation
  const int opens = env.Calls("Open"), reads = env.Calls("PRead");
  for (int i = 0; i < 100; ++i) ASSERT_OK(follower.Refresh());
  EXPECT_EQ(env.Calls("Open"), opens);
  EXPECT_EQ(env.Calls("PRead"), reads);
  // New records in the same segment: still no file, and the records show.
  ASSERT_OK(log.Append("second").status());
  ASSERT_OK(follower.Refresh());
  EXPECT_EQ(follower.end(), 2u);
  EXPECT_EQ(env.Calls("Open"), opens);
  // A change of the files (retention) moves the generation: the manifest is read again.
  for (int i = 0; i < 3000; ++i) ASSERT_OK(log.Append(Payload(i)).status());
  ASSERT_OK(log.Sync().status());
  ASSERT_OK(log.TruncateBefore(2000).status());
  ASSERT_OK(follower.Refresh());
  EXPECT_GT(env.Calls("Open"), opens);
  EXPECT_EQ(follower.begin(), 2000u);
  EXPECT_EQ(follower.end(), 3002u);
}

TEST(TailTest, StopEndsABlockedFollowFromAnotherThread) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  ASSERT_OK(log.Append("only").status());
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  auto follow = follower.Follow(0);
  std::atomic<int> seen{0};
  std::thread consumer([&] {
    for (auto [seq, rec] : follow) {
      EXPECT_EQ(AsString(rec), "only");
      seen.fetch_add(1);
    }
  });
  while (seen.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // asleep on the page by now
  const absl::Time stop = absl::Now();
  follow.Stop();
  consumer.join();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(5));
  EXPECT_TRUE(follow.done());
  EXPECT_THAT(follow.status(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(seen.load(), 1);
  EXPECT_EQ(follow.position(), 1u);
}

TEST(TailTest, AFollowBelowBeginReportsTheGap) {
  auto store = OpenWriter(TestDir());
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
  for (uint64_t i = 0; i < 3000; ++i) ASSERT_OK(log.Append(Payload(i)).status());
  ASSERT_OK(log.Sync().status());
  ASSERT_OK(log.TruncateBefore(1000).status());
  // Scans report what they could not read.
  auto scan = log.Scan(10);
  EXPECT_EQ(scan.lost(), (Gap{10, 1000}));
  EXPECT_EQ(log.Scan(1500).lost(), Gap{});
  // kStop: the follow ends, naming the range.
  auto stop = log.Follow(10);
  ScanBase::Batch batch;
  stop.Next(&batch, In(absl::Seconds(5)));
  EXPECT_EQ(batch.count, 0u);
  EXPECT_TRUE(stop.done());
  EXPECT_THAT(stop.status(), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("[10, 1000)")));
  ASSERT_EQ(stop.gaps().size(), 1u);
  EXPECT_EQ(stop.gaps()[0], (Gap{10, 1000}));
  // kSkip: it goes on from begin(), and says what it skipped.
  auto skip = log.Follow(10, {.on_gap = FollowOptions::OnGap::kSkip});
  skip.Next(&batch, In(absl::Seconds(5)));
  ASSERT_GT(batch.count, 0u);
  EXPECT_EQ(batch.SeqAt(0), 1000u);
  EXPECT_EQ(AsString(batch.records[0]), Payload(1000));
  ASSERT_EQ(skip.gaps().size(), 1u);
  EXPECT_EQ(skip.gaps()[0], (Gap{10, 1000}));
  EXPECT_FALSE(skip.done());
}

TEST(TailTest, FollowWithADeadlineReturnsEmptyAndGoesOn) {
  auto store = OpenWriter(TestDir());
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
  auto follow = log.Follow(0);
  ScanBase::Batch batch;
  follow.Next(&batch, In(absl::Milliseconds(20)));
  EXPECT_EQ(batch.count, 0u);
  EXPECT_FALSE(follow.done());
  ASSERT_OK(log.Append("late").status());
  follow.Next(&batch, In(absl::Seconds(5)));
  ASSERT_EQ(batch.count, 1u);
  EXPECT_EQ(AsString(batch.records[0]), "late");
}

// Wakes every WaitWord at once: a waiter must re-check and sleep again, never return early
// with a wrong answer.
class SpuriousWakeEnv : public EnvWrapper {
 public:
  SpuriousWakeEnv() : EnvWrapper(Env::Default()) {}
  absl::Status WaitWord(const uint32_t*, uint32_t, std::chrono::nanoseconds) override {
    waits.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return absl::OkStatus();
  }
  std::atomic<int> waits{0};
};

TEST(TailTest, SpuriousWakeUpsAreHarmless) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  SpuriousWakeEnv env;
  auto reader = OpenReader(dir, &env);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  EXPECT_THAT(follower.WaitFor(0, In(absl::Milliseconds(30))),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_GT(env.waits.load(), 0);
  std::thread appender([&] {
    for (uint64_t i = 0; i < 200; ++i) {
      ASSERT_OK(log.Append(Payload(i)).status());
      if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  EXPECT_EQ(FollowAndCheck(follower, 200), 200u);
  appender.join();
}

TEST(TailTest, ADamagedStatePageOnlyCostsLatency) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  ASSERT_OK(log.Append(Payload(0)).status());
  // Garbage over the whole page, as a stray write could leave it.
  std::string state_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().filename() == "STATE") state_path = e.path().string();
  }
  ASSERT_FALSE(state_path.empty());
  std::string garbage(4096, '\xA5');
  ::recstore::testing::WriteFileBytes(state_path, garbage);
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  std::thread appender([&] {
    for (uint64_t i = 1; i < 50; ++i) {
      ASSERT_OK(log.Append(Payload(i)).status());
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  EXPECT_EQ(FollowAndCheck(follower, 50), 50u);
  appender.join();
}

TEST(TailTest, AStatePageThatLiesWithAValidHeaderOnlyCostsLatency) {
  const std::string dir = TestDir();
  {
    auto writer = OpenWriter(dir);
    ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
    for (uint64_t i = 0; i < 5; ++i) ASSERT_OK(log.Append(Payload(i)).status());
  }
  // The header (and its checksum) stays valid; the words claim records that do not exist, a
  // durable end far ahead, and a registration that wants nothing.
  std::string state_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().filename() == "STATE") state_path = e.path().string();
  }
  ASSERT_FALSE(state_path.empty());
  std::string page = ::recstore::testing::ReadFileBytes(state_path);
  ASSERT_EQ(page.size(), 4096u);
  const uint64_t lie = UINT64_MAX - 7;
  for (size_t at : {64, 72, 136, 144}) std::memcpy(page.data() + at, &lie, 8);
  ::recstore::testing::WriteFileBytes(state_path, page);
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  ASSERT_OK(follower.Refresh());
  EXPECT_EQ(follower.end(), 5u);
  EXPECT_LE(follower.durable(), follower.end());
  ASSERT_OK_AND_ASSIGN(auto got, follower.Get(4));
  EXPECT_EQ(AsString(got), Payload(4));
  // A wait for a record that does not exist times out; it never returns on the page's word.
  EXPECT_THAT(follower.WaitFor(5, In(absl::Milliseconds(300))),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The next writer takes the page over, and the follower gets its records.
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto writer = OpenWriter(dir);
    ASSERT_NE(writer, nullptr);
    auto log = writer->OpenByteLog("events");
    ASSERT_OK(log.status());
    ASSERT_OK(log->Append(Payload(5)).status());
  });
  EXPECT_THAT(follower.WaitFor(5, In(absl::Seconds(30))), ::recstore::testing::IsOkAndHolds(6u));
  appender.join();
  ASSERT_OK_AND_ASSIGN(got, follower.Get(5));
  EXPECT_EQ(AsString(got), Payload(5));
}

TEST(TailTest, AReaderLearnsThatTheWriterFailed) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto writer,
                       ::recstore::testing::OpenStore(&env, dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  ASSERT_OK(log.Append("a").status());
  env.Fail("SyncData", EIO);
  EXPECT_FALSE(log.Sync().ok());
  const WaitOptions durable{.until = WaitOptions::Until::kDurable};
  EXPECT_THAT(follower.WaitFor(0, In(absl::Seconds(30)), durable),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("failed flush")));
  EXPECT_THAT(log.WaitFor(0, In(absl::Seconds(30)), durable),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // What was appended stays readable.
  EXPECT_THAT(follower.WaitFor(0, In(absl::Seconds(30))), ::recstore::testing::IsOkAndHolds(1u));
}

// A follower process's start: opens the store read-only and the "events" log, says "ready"
// and runs `body` on the log; returns body's exit code (20 and 21: the opens failed).
int InFollower(const std::string& dir, ChildProcess::Side& parent,
               const std::function<int(const ByteLog&)>& body) {
  auto store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return 20;
  auto log = (*store)->OpenByteLog("events");
  if (!log.ok()) return 21;
  parent.Report("ready");
  return body(*log);
}

// Creates the store and its empty "events" log.
void CreateEvents(const std::string& dir) {
  auto store = OpenWriter(dir);
  ASSERT_OK(store->OpenByteLog("events").status());
}

// A writer process appends `count` records from `first` on (each checked by its content),
// pausing now and then; it rotates segments (small segments), truncates and merges as it goes.
int WriteInChild(const std::string& dir, uint64_t first, uint64_t count, bool maintenance) {
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10});
  if (!store.ok()) return 10;
  auto log = (*store)->OpenByteLog("events");
  if (!log.ok()) return 11;
  if (log->end() != first) return 12;
  for (uint64_t seq = first; seq < first + count; ++seq) {
    if (!log->Append(Payload(seq)).ok()) return 13;
    if (seq % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (seq % 1000 == 999) {
      if (!log->Sync().ok()) return 14;
      if (maintenance && seq % 3000 == 2999 && !log->Merge().ok()) return 15;
    }
  }
  if (!log->Sync().ok()) return 16;
  return 0;
}

TEST(TailTest, FollowersInOtherProcessesSeeEveryRecordAcrossRotationAndMerges) {
  const std::string dir = TestDir();
  CreateEvents(dir);
  constexpr uint64_t kRecords = 12000;
  constexpr int kFollowers = 4;
  std::vector<std::unique_ptr<ChildProcess>> followers;
  for (int f = 0; f < kFollowers; ++f) {
    followers.push_back(std::make_unique<ChildProcess>([&](ChildProcess::Side& parent) {
      return InFollower(dir, parent, [](const ByteLog& log) {
        return FollowAndCheck(log, kRecords) == kRecords ? 0 : 22;
      });
    }));
  }
  for (auto& f : followers) ASSERT_EQ(f->ReadLine(), "ready");
  ASSERT_EQ(WriteInChild(dir, 0, kRecords, /*maintenance=*/true), 0);
  for (auto& f : followers) EXPECT_EQ(f->Wait(), 0);
}

TEST(TailTest, FollowersSurviveAKilledWriterAndResumeWithTheNext) {
  const std::string dir = TestDir();
  CreateEvents(dir);
  ChildProcess follower([&](ChildProcess::Side& parent) {
    return InFollower(dir, parent,
                      [](const ByteLog& log) { return FollowAndCheck(log, 300) == 300 ? 0 : 22; });
  });
  ASSERT_EQ(follower.ReadLine(), "ready");
  // The first writer appends 100 records, then hangs until it is killed.
  ChildProcess first([&](ChildProcess::Side& parent) {
    auto store = Store::Open(dir, {});
    if (!store.ok()) return 10;
    auto log = (*store)->OpenByteLog("events");
    if (!log.ok()) return 11;
    for (uint64_t seq = 0; seq < 100; ++seq) {
      if (!log->Append(Payload(seq)).ok()) return 12;
    }
    parent.Report("appended");
    parent.Await();
    std::this_thread::sleep_for(std::chrono::hours(1));
    return 0;
  });
  ASSERT_EQ(first.ReadLine(), "appended");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the follower sleeps again
  ::kill(first.pid(), SIGKILL);
  EXPECT_EQ(first.Wait(), 128 + SIGKILL);
  // The next writer recovers (the records survive the process) and goes on.
  ASSERT_EQ(WriteInChild(dir, 100, 200, /*maintenance=*/false), 0);
  EXPECT_EQ(follower.Wait(), 0);
}

TEST(TailTest, AFollowerKilledWhileAsleepLeavesOthersAndTheWriterUnharmed) {
  const std::string dir = TestDir();
  CreateEvents(dir);
  auto follow_body = [&](ChildProcess::Side& parent) {
    return InFollower(
        dir, parent, [](const ByteLog& log) { return FollowAndCheck(log, 2000) == 2000 ? 0 : 22; });
  };
  ChildProcess victim(follow_body);
  ChildProcess survivor(follow_body);
  ASSERT_EQ(victim.ReadLine(), "ready");
  ASSERT_EQ(survivor.ReadLine(), "ready");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(victim.pid(), SIGKILL);
  EXPECT_EQ(victim.Wait(), 128 + SIGKILL);
  ASSERT_EQ(WriteInChild(dir, 0, 2000, /*maintenance=*/false), 0);
  EXPECT_EQ(survivor.Wait(), 0);
}

TEST(TailTest, AFollowAcrossRetentionInAnotherProcessReportsEveryGap) {
  const std::string dir = TestDir();
  CreateEvents(dir);
  // The follower reads record 0, then waits while the writer appends 10000 records keeping
  // only the last 2000. Every record it does not see must be inside a gap it was told of.
  ChildProcess follower([&](ChildProcess::Side& parent) {
    return InFollower(dir, parent, [&](const ByteLog& log) {
      uint64_t next = 0;
      auto follow = log.Follow(0, {.on_gap = FollowOptions::OnGap::kSkip});
      size_t gaps = 0;
      for (auto [seq, rec] : follow) {
        while (gaps < follow.gaps().size()) {
          const Gap g = follow.gaps()[gaps++];
          if (g.from != next || g.to <= g.from) return 24;
          next = g.to;
        }
        if (seq != next || AsString(rec) != Payload(seq)) return 22;
        if (seq == 0) {
          parent.Report("first");
          if (parent.Await() != 'g') return 25;
        }
        if (++next == 10000) {
          parent.Report("gaps " + std::to_string(gaps));
          return 0;
        }
      }
      return 23;
    });
  });
  ASSERT_EQ(follower.ReadLine(), "ready");
  {
    auto store = OpenWriter(dir);
    ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));
    ASSERT_OK(log.SetRetention({.max_records = 2000}));
    ASSERT_OK(log.Append(Payload(0)).status());
    ASSERT_EQ(follower.ReadLine(), "first");
    for (uint64_t seq = 1; seq < 10000; ++seq) {
      ASSERT_OK(log.Append(Payload(seq)).status());
      if (seq % 1000 == 999) {
        ASSERT_OK(log.ApplyRetention().status());
      }
    }
    ASSERT_OK(log.Sync().status());
    EXPECT_GT(log.begin(), 1u);
    follower.Send('g');
  }
  EXPECT_EQ(follower.ReadLine(), "gaps 1");
  EXPECT_EQ(follower.Wait(), 0);
}

}  // namespace
}  // namespace recstore

namespace recstore {
namespace {

// A Refresh shows every record appended before it began, while the writer rotates segments
// and applies retention: the cheap path must never hide one.
TEST(TailTest, RefreshNeverMissesAReturnedAppend) {
  const std::string dir = TestDir();
  auto writer = OpenWriter(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog log, writer->OpenByteLog("events"));
  ASSERT_OK(log.SetRetention({.max_records = 3000}));
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(ByteLog follower, reader->OpenByteLog("events"));
  std::atomic<uint64_t> returned{0};
  std::atomic<bool> done{false};
  std::thread appender([&] {
    for (uint64_t seq = 0; seq < 60000; ++seq) {
      ASSERT_OK(log.Append(Payload(seq)).status());
      returned.store(seq + 1, std::memory_order_release);
      if (seq % 5000 == 4999) {
        ASSERT_OK(log.ApplyRetention().status());
      }
    }
    done.store(true);
  });
  uint64_t refreshes = 0, misses = 0;
  while (!done.load()) {
    const uint64_t before = returned.load(std::memory_order_acquire);
    ASSERT_OK(follower.Refresh());
    ++refreshes;
    if (follower.end() < before) {
      if (++misses < 5) ADD_FAILURE() << "end " << follower.end() << " below " << before;
    }
  }
  appender.join();
  EXPECT_EQ(misses, 0u) << "of " << refreshes << " refreshes";
}

}  // namespace
}  // namespace recstore

namespace recstore {
namespace {

// The README's application-log example, as written there (only Index is the test's).
std::atomic<uint64_t> g_indexed{0};
void Index(std::string_view line) {
  if (line == "GET /index.html 200") g_indexed.fetch_add(1);
}

absl::Status WriteLog(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store,
                   recstore::Store::Open(dir, {.create_if_missing = true,
                                               .sync_policy = recstore::SyncPolicy::Background(
                                                   1000, std::chrono::milliseconds(50))}));
  ASSIGN_OR_RETURN(auto log, store->OpenByteLog("app"));
  // Keep a day of lines, longer for a consumer that lags, but never more than 1 GiB.
  RETURN_IF_ERROR(log.SetRetention({.max_age = std::chrono::hours(24),
                                    .keep_unconsumed = true,
                                    .hard_max_bytes = uint64_t{1} << 30}));
  for (int i = 0; i < 1000; ++i) RETURN_IF_ERROR(log.Append("GET /index.html 200").status());
  return absl::OkStatus();
}

absl::Status FollowLog(const std::string& dir, uint64_t lines) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.read_only = true}));
  ASSIGN_OR_RETURN(auto log, store->OpenByteLog("app"));
  ASSIGN_OR_RETURN(recstore::Cursor cursor, store->OpenCursor("app", "indexer"));
  auto follow = log.Follow(cursor.position(), {.on_gap = recstore::FollowOptions::OnGap::kSkip});
  for (const auto& [seq, line] : follow) {  // follow.Stop() from any thread ends the loop
    Index(recstore::AsString(line));
    if (seq + 1 == lines || seq % 100 == 99) RETURN_IF_ERROR(cursor.Commit(seq + 1));
    if (seq + 1 == lines) break;
  }
  return follow.status();  // gaps(): ranges retention dropped unread
}

TEST(TailTest, ReadmeAppLogExample) {
  const std::string dir = TestDir();
  {
    auto store = OpenWriter(dir);
    ASSERT_OK(store->OpenByteLog("app").status());
  }
  ChildProcess follower([&](ChildProcess::Side& parent) {
    parent.Report("ready");
    const absl::Status s = FollowLog(dir, 2000);
    return s.ok() && g_indexed.load() == 2000 ? 0 : 1;
  });
  ASSERT_EQ(follower.ReadLine(), "ready");
  ASSERT_OK(WriteLog(dir));
  ASSERT_OK(WriteLog(dir));  // a second run of the application appends after the first
  EXPECT_EQ(follower.Wait(), 0);
  // The follower committed its cursor at the end: a new follower would start there.
  auto reader = OpenReader(dir);
  ASSERT_OK_AND_ASSIGN(std::vector<CursorInfo> cursors, reader->ListCursors("app"));
  ASSERT_EQ(cursors.size(), 1u);
  EXPECT_EQ(cursors[0].position, 2000u);
}

}  // namespace
}  // namespace recstore
