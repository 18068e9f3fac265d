// A model-checked concurrent history on one store (issue 12, test kind 1). In rounds, each on
// a freshly reopened writer with 64 KiB segments (rotations are constant), threads run at
// once for a fixed number of operations: an appender for a fixed-record log (Trade) and one
// for a byte log (1 byte to more than a segment, singles and batches); a follower that polls
// Get(next) and Get(end()-1) at the tail; a reader that Gets random records under a Pin,
// Scans from random points and Verifies; maintenance (TruncateBefore, SetRetention,
// ApplyRetention, Compact with a keep predicate, Merge, runs of Merges with appends paused);
// a checkpoint saver and a loader; a read-only Store of the same process that Refreshes and
// reads. A forked process does the same read-only reads for the whole run.
//
// Every result is checked against the model (history_model.h): exact bytes, monotonic
// begin()/end(), nothing missing that no completed or running truncation, retention or
// compaction could have removed, nothing returned that one had removed before, Verify ok with
// a plausible count, checkpoints as new as the last returned Save. After each round, with no
// other thread left, a scan and Verify must match the model exactly, and so must the reopen.
//
// Seeded and bounded by operation counts. Flags (or RECSTORE_HISTORY_<NAME> variables):
//   --seed=N --rounds=N --scale=X (operation counts) --seconds=S (rounds go on for S seconds)
//   --actors=tail,append,follow,read,maintain,checkpoint,readonly,process (default: all;
//   tail-fixed or tail-bytes: the tail race on one log only)
// Long run: ./bazelw run --config=opt //tests/log:history_test -- --seconds=600
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/log/history_actors.h"
#include "tests/log/history_append.h"
#include "tests/log/history_model.h"
#include "tests/log/history_reads.h"
#include "tests/testing/records.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing::history {
namespace {

HistoryConfig g_config;
double g_scale = 1.0;

// Sanitizer builds run several times slower: fewer and smaller rounds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kBuildScale = 0.5;
constexpr char kDefaultRounds[] = "2";
#else
constexpr double kBuildScale = 1.0;
constexpr char kDefaultRounds[] = "3";
#endif

constexpr auto kRoundDeadline = std::chrono::seconds(150);

StoreOptions WriterOptions(bool create) {
  return {.create_if_missing = create, .segment_size = g_config.segment_size};
}

struct Writer {
  std::unique_ptr<Store> store;
  Log<Trade> fixed;
  ByteLog bytes;
  Checkpoints checkpoints;
};

absl::Status OpenWriter(const std::string& dir, bool create, const SharedHistory& shared,
                        Writer* w) {
  static HistoryEnv* const env = new HistoryEnv(g_config.writer_env);
  absl::StatusOr<std::unique_ptr<Store>> store =
      ::recstore::testing::OpenStore(env, dir, WriterOptions(create));
  if (!store.ok()) return store.status();
  w->store = *std::move(store);
  absl::StatusOr<Log<Trade>> f = w->store->OpenLog<Trade>(kFixedLog);
  if (!f.ok()) return f.status();
  w->fixed = *std::move(f);
  absl::StatusOr<ByteLog> b = w->store->OpenByteLog(kByteLog);
  if (!b.ok()) return b.status();
  w->bytes = *std::move(b);
  absl::StatusOr<Checkpoints> c =
      w->store->OpenCheckpoints(kCheckpointSet, {.keep = shared.checkpoints.keep});
  if (!c.ok()) return c.status();
  w->checkpoints = *std::move(c);
  return absl::OkStatus();
}

// With nothing else running: the log holds exactly what the model says, for a scan and for
// Verify, and its ends agree with the model.
template <typename LogT>
void CheckExactly(const LogT& log, const LogModel& m, const std::string& when, Tally* tally) {
  const std::string who = absl::StrCat(m.name(), " ", when);
  const uint64_t begin = log.begin(), end = log.end();
  if (end != m.acked_end.load()) {
    tally->Fail(who + ": end() differs from the appends",
                absl::StrCat("end() ", end, ", appended ", m.acked_end.load()));
  }
  if (begin < m.trunc_done.load()) {
    tally->Fail(who + ": begin() below a truncation",
                absl::StrCat("begin() ", begin, ", truncated to ", m.trunc_done.load()));
  }
  if (m.compacting.load()) return;  // a compaction failed: which records it removed is unknown
  const uint64_t removed = m.removed_below.load();
  uint64_t want = begin, records = 0;
  auto next_kept = [&](uint64_t s) {
    while (s < end && s < removed && Droppable(m.fixed, s)) ++s;
    return s;
  };
  want = next_kept(want);
  auto scan = log.Scan();
  for (const auto& [seq, value] : scan) {
    if (seq != want || !m.RecordIs(seq, ValueBytes(value))) {
      tally->Fail(who + ": scan differs from the model",
                  absl::StrCat("record ", seq, ", expected record ", want));
      return;
    }
    ++records;
    want = next_kept(want + 1);
  }
  if (!scan.status().ok() || want != end) {
    tally->Fail(who + ": scan ended early",
                absl::StrCat("at ", want, " of ", end, ": ", scan.status().ToString()));
    return;
  }
  absl::StatusOr<VerifyReport> v = log.Verify();
  if (!v.ok() || !v->ok || v->records_checked != records) {
    tally->Fail(who + ": Verify differs from the model",
                v.ok() ? absl::StrCat("ok ", v->ok, ", ", v->records_checked, " records, expected ",
                                      records, "; ", v->first_bad.file, " ", v->first_bad.reason)
                       : v.status().ToString());
  }
}

// After the writer opened the store: its ends agree with the model, and the records do (read
// through the writer, or through a read-only Store when the writer's segments are to stay
// unmapped until the round's threads read them).
void CheckAfterOpen(const Writer& w, SharedHistory& shared, const std::string& when,
                    bool read_through_writer, Tally* tally) {
  for (const LogBase* log :
       {static_cast<const LogBase*>(&w.fixed), static_cast<const LogBase*>(&w.bytes)}) {
    LogModel& m = shared.log(log == &w.fixed);
    const uint64_t begin = log->begin(), end = log->end();
    if (end != m.acked_end.load() || begin < m.trunc_done.load()) {
      tally->Fail(absl::StrCat(m.name(), " ", when, ": ends differ from the model"),
                  absl::StrCat("begin() ", begin, ", end() ", end, "; appended ",
                               m.acked_end.load(), ", truncated to ", m.trunc_done.load()));
    }
    // The writer's open applies retention: what it dropped is gone for everyone.
    uint64_t cur = m.trunc_done.load();
    while (cur < begin && !m.trunc_done.compare_exchange_weak(cur, begin)) {
    }
  }
  if (read_through_writer) {
    CheckExactly(w.fixed, shared.fixed, when, tally);
    CheckExactly(w.bytes, shared.bytes, when, tally);
  } else {
    absl::StatusOr<std::unique_ptr<Store>> ro = Store::Open(w.store->path(), {.read_only = true});
    absl::StatusOr<Log<Trade>> f = ro.ok() ? (*ro)->OpenLog<Trade>(kFixedLog) : ro.status();
    absl::StatusOr<ByteLog> b = ro.ok() ? (*ro)->OpenByteLog(kByteLog) : ro.status();
    if (f.ok() && b.ok()) {
      CheckExactly(*f, shared.fixed, when + " (read-only)", tally);
      CheckExactly(*b, shared.bytes, when + " (read-only)", tally);
    } else {
      const absl::Status st = f.ok() ? b.status() : f.status();
      tally->Fail(absl::StrCat(when, ": read-only open ", CodeName(st)), st.ToString());
    }
  }
  const uint64_t saved = shared.checkpoints.saved.load();
  if (w.checkpoints.log().end() != saved) {
    tally->Fail("checkpoints " + when + ": versions differ from the saves",
                absl::StrCat("log end ", w.checkpoints.log().end(), ", saved ", saved));
  }
}

// A new store: both logs with retention and a prefix of records (several segments, so each
// round's reopened writer starts with older segments a pinned scan may outlive), and three
// checkpoints.
void CreateStore(const std::string& dir, SharedHistory& shared, Tally* tally) {
  Writer w;
  absl::Status st = OpenWriter(dir, true, shared, &w);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(w.fixed.SetRetention({.max_records = shared.fixed.retention_floor}).ok());
  ASSERT_TRUE(w.bytes.SetRetention({.max_records = shared.bytes.retention_floor}).ok());
  const uint64_t fixed_n = shared.fixed.retention_floor + 2 * 1536;
  std::vector<Trade> trades;
  for (uint64_t s = 0; s < fixed_n; ++s) trades.push_back(MakeTrade(s));
  ASSERT_TRUE(w.fixed.AppendBatch(trades).ok());
  for (uint64_t s = 0; s < shared.bytes.retention_floor + 200; ++s) {
    ASSERT_TRUE(w.bytes.Append(ByteRecord(s)).ok());
  }
  for (uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(w.checkpoints.Save(CheckpointPayload(v)).ok());
  shared.checkpoints.started = shared.checkpoints.saved = 3;
  for (LogModel* m : {&shared.fixed, &shared.bytes}) {
    const LogBase& log = m->fixed ? static_cast<const LogBase&>(w.fixed) : w.bytes;
    m->started_end = m->acked_end = log.end();
    m->trunc_done = log.begin();
  }
  CheckAfterOpen(w, shared, "after setup", true, tally);
}

// One round; returns false if it could not run.
bool RunRound(const std::string& dir, SharedHistory& shared, Tally* tally, int index) {
  const auto round_start = std::chrono::steady_clock::now();
  Round r(g_config, &shared, tally, index, dir);
  shared.round.store(index);
  Writer w;
  if (absl::Status st = OpenWriter(dir, false, shared, &w); !st.ok()) {
    tally->Fail("writer reopen: " + CodeName(st), st.ToString());
    return false;
  }
  CheckAfterOpen(w, shared, "after reopen", false, tally);
  r.store = std::move(w.store);
  r.fixed = w.fixed;
  r.bytes = w.bytes;
  r.checkpoints = w.checkpoints;
  w = Writer();
  for (int i = 0; i < 2; ++i) r.follow_pos[i] = shared.log(i == 0).acked_end.load();
  const HistoryConfig& cfg = g_config;
  if (!cfg.Has("append")) r.appender_done[0] = r.appender_done[1] = true;

  // Everything at once, then the tail race alone (history_append.h): the round's first scans
  // pin the segments the reopened writer opened, which the round's first truncations retire.
  std::atomic<int> writers_running{0};
  std::vector<std::thread> writers, readers;
  auto writer = [&](auto fn) {
    ++writers_running;
    writers.emplace_back([&r, &writers_running, fn] {
      fn(&r);
      --writers_running;
    });
  };
  if (cfg.Has("append")) {
    writer([](Round* x) { RunAppender(x, true); });
    writer([](Round* x) { RunAppender(x, false); });
  }
  if (cfg.Has("maintain")) writer(RunMaintenance);
  if (cfg.Has("checkpoint")) writer(RunSaver);
  if (cfg.Has("follow")) {
    for (int f = 0; f < cfg.followers; ++f) readers.emplace_back(RunFollower, &r, f);
  }
  if (cfg.Has("read")) readers.emplace_back(RunReader, &r);
  if (cfg.Has("checkpoint")) readers.emplace_back(RunCheckpointReader, &r);
  if (cfg.Has("readonly")) readers.emplace_back(RunReadOnlyThread, &r);
  const auto deadline = std::chrono::steady_clock::now() + kRoundDeadline;
  while (writers_running.load() > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      tally->Fail("round did not finish in time", absl::StrCat("round ", index));
      r.abort = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (std::thread& t : writers) t.join();
  r.writers_done = true;
  for (std::thread& t : readers) t.join();
  const auto tail_start = std::chrono::steady_clock::now();
  std::fprintf(stderr, "history: round %d: %.2f s with every actor at once\n", index,
               std::chrono::duration<double>(tail_start - round_start).count());
  if (!r.abort.load()) RunTailRace(&r, cfg.tail_rotations);
  std::fprintf(
      stderr, "history: round %d: %.2f s tail race\n", index,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - tail_start).count());
  CheckExactly(r.fixed, shared.fixed, "after the round", tally);
  CheckExactly(r.bytes, shared.bytes, "after the round", tally);
  return true;
}

// Starts the read-only reader process; returns its pid and the pipe it reports on.
pid_t StartReaderProcess(const std::string& dir, SharedHistory* shared, int* report_fd) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Dies with the test (a crash of the test must not leave the reader running).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(4);
    close(fds[0]);
    _exit(ReaderProcessMain(dir, shared, g_config.seed * 31 + 17, g_config.reader_env, fds[1]));
  }
  close(fds[1]);
  *report_fd = fds[0];
  return pid;
}

void CollectReaderProcess(pid_t pid, int fd, Tally* tally) {
  std::string report;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) report.append(buf, static_cast<size_t>(n));
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    tally->Fail("reader process died", WIFSIGNALED(status)
                                           ? absl::StrCat("signal ", WTERMSIG(status))
                                           : absl::StrCat("exit code ", WEXITSTATUS(status)));
  }
  tally->Absorb(report, "");
}

void PrintSummary(const Tally& tally, int rounds, double seconds) {
  std::printf("history: seed %llu, %d rounds in %.1f s\n",
              static_cast<unsigned long long>(g_config.seed), rounds, seconds);
  for (const auto& [name, n] : tally.counts()) {
    std::printf("  %-58s %12llu\n", name.c_str(), static_cast<unsigned long long>(n));
  }
  const uint64_t failures = tally.failures();
  std::printf("history: %llu failures\n%s", static_cast<unsigned long long>(failures),
              tally.FailureReport().c_str());
  std::fflush(stdout);
}

TEST(HistoryTest, ConcurrentHistoryMatchesTheModel) {
  const std::string dir = TestDir();
  void* mem = mmap(nullptr, sizeof(SharedHistory), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  SharedHistory* shared = new (mem) SharedHistory();
  shared->fixed.fixed = true;
  shared->fixed.retention_floor = g_config.fixed_retention;
  shared->bytes.fixed = false;
  shared->bytes.retention_floor = g_config.byte_retention;
  shared->checkpoints.keep = 2;
  Tally tally;
  CreateStore(dir, *shared, &tally);
  if (HasFatalFailure()) return;

  // Forked before any thread starts and while no writer holds the store (issue 12, bug 9).
  int report_fd = -1;
  const pid_t reader = g_config.Has("process") ? StartReaderProcess(dir, shared, &report_fd) : -1;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int rounds = 0;
  while (rounds < g_config.rounds || elapsed() < g_config.seconds) {
    if (!RunRound(dir, *shared, &tally, ++rounds)) break;
  }
  {
    Writer w;
    absl::Status st = OpenWriter(dir, false, *shared, &w);
    if (st.ok()) {
      CheckAfterOpen(w, *shared, "after the last reopen", true, &tally);
    } else {
      tally.Fail("final reopen: " + CodeName(st), st.ToString());
    }
  }
  shared->stop = true;
  if (reader > 0) CollectReaderProcess(reader, report_fd, &tally);
  PrintSummary(tally, rounds, elapsed());
  EXPECT_EQ(tally.failures(), 0u) << "failures by kind above";
  shared->~SharedHistory();
  munmap(mem, sizeof(SharedHistory));
}

// --name=value, else RECSTORE_HISTORY_<NAME>, else `fallback`.
std::string Option(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string flag = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).starts_with(flag)) return std::string(argv[i]).substr(flag.size());
  }
  std::string env = "RECSTORE_HISTORY_" + name;
  for (char& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const char* v = std::getenv(env.c_str());
  return v != nullptr ? v : fallback;
}

void Configure(int argc, char** argv) {
  HistoryConfig& c = g_config;
  c.seed = std::stoull(Option(argc, argv, "seed", "1"));
  c.rounds = std::stoi(Option(argc, argv, "rounds", kDefaultRounds));
  c.seconds = std::stod(Option(argc, argv, "seconds", "0"));
  c.actors = Option(argc, argv, "actors", "all");
  c.followers = std::stoi(Option(argc, argv, "followers", "2"));
  c.tail_rotations = std::stoull(Option(argc, argv, "tail_rotations", "100"));
  c.writer_env.sync_us = std::stoll(Option(argc, argv, "sync_us", "500"));
  c.reader_env.slow_list_one_in =
      static_cast<uint32_t>(std::stoul(Option(argc, argv, "slow_list_one_in", "2")));
  c.reader_env.slow_list_us = std::stoll(Option(argc, argv, "slow_list_us", "10000"));
  const double scale = std::stod(Option(argc, argv, "scale", "1"));
  g_scale = scale * kBuildScale;
  c.fixed_appends = static_cast<uint64_t>(static_cast<double>(c.fixed_appends) * g_scale);
  c.byte_appends = static_cast<uint64_t>(static_cast<double>(c.byte_appends) * g_scale);
  c.maintenance_ops = std::max(3, static_cast<int>(c.maintenance_ops * g_scale));
  c.saves = std::max(1, static_cast<int>(c.saves * g_scale));
  // Not fewer under sanitizers: each rotation is one chance for the race the tail race seeks.
  c.tail_rotations = static_cast<uint64_t>(static_cast<double>(c.tail_rotations) * scale);
  std::fprintf(stderr,
               "history: seed %llu, %d rounds%s, scale %.2f: %llu fixed and %llu byte appends, "
               "%d maintenance operations, %d checkpoint saves, %llu tail race rotations per "
               "round; actors: %s; writer syncs %lld us, read-only listings 1 in %u slower by "
               "%lld us\n",
               static_cast<unsigned long long>(c.seed), c.rounds,
               c.seconds > 0 ? absl::StrCat(" or more for ", c.seconds, " s").c_str() : "", g_scale,
               static_cast<unsigned long long>(c.fixed_appends),
               static_cast<unsigned long long>(c.byte_appends), c.maintenance_ops, c.saves,
               static_cast<unsigned long long>(c.tail_rotations), c.actors.c_str(),
               static_cast<long long>(c.writer_env.sync_us), c.reader_env.slow_list_one_in,
               static_cast<long long>(c.reader_env.slow_list_us));
}

}  // namespace
}  // namespace recstore::testing::history

int main(int argc, char** argv) {
  recstore::testing::history::InstallCrashReporter();
  testing::InitGoogleTest(&argc, argv);
  recstore::testing::history::Configure(argc, argv);
  return RUN_ALL_TESTS();
}
