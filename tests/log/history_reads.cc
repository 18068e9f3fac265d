#include "tests/log/history_reads.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace recstore::testing::history {

namespace {

struct OpMark {
  const char* op = "";
  const char* log = "";
  uint64_t seq = 0;
};
thread_local OpMark g_op;
struct sigaction g_previous[2];

void Append(char* buf, size_t* n, size_t cap, const char* s) {
  while (*s != '\0' && *n + 1 < cap) buf[(*n)++] = *s++;
}

void OnCrash(int sig, siginfo_t*, void*) {
  // Only async-signal-safe calls: format by hand, write(2).
  char buf[256];
  size_t n = 0;
  Append(buf, &n, sizeof(buf), sig == SIGSEGV ? "history_test: SIGSEGV" : "history_test: SIGBUS");
  Append(buf, &n, sizeof(buf), " in a thread doing: ");
  Append(buf, &n, sizeof(buf), g_op.op[0] != '\0' ? g_op.op : "(no checked operation)");
  Append(buf, &n, sizeof(buf), " on ");
  Append(buf, &n, sizeof(buf), g_op.log);
  Append(buf, &n, sizeof(buf), " at ");
  char digits[24];
  int d = 0;
  uint64_t v = g_op.seq;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (d > 0 && n + 2 < sizeof(buf)) buf[n++] = digits[--d];
  buf[n++] = '\n';
  if (write(2, buf, n) < 0) {
    // Nothing else to do in a crashing process.
  }
  // The crashing thread may be a tail race follower, at idle priority on one CPU: give it a
  // normal priority and every CPU back, or the previous handler's report (a sanitizer's) may
  // take minutes while another thread keeps that CPU busy.
  sched_param normal{};
  sched_setscheduler(0, SCHED_OTHER, &normal);
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  sched_setaffinity(0, sizeof(all), &all);
  // Returning re-runs the faulting instruction under the previous handler.
  sigaction(sig, &g_previous[sig == SIGSEGV ? 0 : 1], nullptr);
}

}  // namespace

void SetOp(const char* op, const char* log, uint64_t seq) { g_op = {op, log, seq}; }

void InstallCrashReporter() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnCrash;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous[0]);
  sigaction(SIGBUS, &sa, &g_previous[1]);
}

ReadOnlyReader::ReadOnlyReader(std::string dir, SharedHistory* shared, uint64_t seed,
                               std::string who, EnvTiming timing)
    : env_(timing), dir_(std::move(dir)), shared_(shared), who_(std::move(who)), rng_(seed) {}

bool ReadOnlyReader::Open(Tally* tally) {
  SetOp("read-only open", "store", 0);
  absl::StatusOr<std::unique_ptr<Store>> store =
      ::recstore::testing::OpenStore(&env_, dir_, {.read_only = true});
  absl::Status st = store.status();
  if (st.ok()) {
    store_ = *std::move(store);
    absl::StatusOr<Log<Trade>> f = store_->OpenLog<Trade>(kFixedLog, {.create_if_missing = false});
    absl::StatusOr<ByteLog> b = store_->OpenByteLog(kByteLog, {.create_if_missing = false});
    absl::StatusOr<Checkpoints> c = store_->OpenCheckpoints(
        kCheckpointSet, {.keep = shared_->checkpoints.keep, .create_if_missing = false});
    st = !f.ok() ? f.status() : !b.ok() ? b.status() : c.status();
    if (st.ok()) {
      fixed_ = *std::move(f);
      bytes_ = *std::move(b);
      checkpoints_ = *std::move(c);
    }
  }
  SetOp("", "", 0);
  if (!st.ok()) {
    tally->Fail(absl::StrCat(who_, " store: read-only open ", CodeName(st)), st.ToString());
    return false;
  }
  fixed_watch_ = std::make_unique<HandleWatch>(shared_->fixed, who_ + " fixed");
  bytes_watch_ = std::make_unique<HandleWatch>(shared_->bytes, who_ + " bytes");
  return true;
}

template <typename LogT>
void ReadOnlyReader::StepLog(const LogT& log, LogModel& m, HandleWatch* watch, Counts* counts,
                             Tally* tally) {
  const std::string who = absl::StrCat(who_, " ", m.name());
  // Everything this handle reads until the next Refresh must agree with the floor at the
  // start of this Refresh (the records of a read-only handle change only at Refresh).
  const Bounds floor = m.Floor();
  SetOp("Refresh", m.name(), floor.end);
  const absl::Status refreshed = log.Refresh();
  SetOp("", m.name(), 0);
  ++(*counts)[who + " Refresh"];
  if (!refreshed.ok()) {
    tally->Fail(absl::StrCat(who, ": Refresh ", CodeName(refreshed)), refreshed.ToString());
    return;
  }
  const uint64_t begin = log.begin(), end = log.end();
  watch->Observe(begin, end, floor, tally);
  if (end > begin) {
    CheckedGet(log, m, who + " Get(end()-1)", end - 1, floor, end, false, counts, tally);
    for (int i = 0; i < 3; ++i) {
      CheckedGet(log, m, who + " Get", begin + rng_() % (end - begin), floor, end, false, counts,
                 tally);
    }
    (*counts)[who + " Get"] += 4;
  }
  if (rng_() % 3 == 0) {
    const uint64_t from = begin + rng_() % (end - begin + 1);
    CheckedScan(log, m, who + " Scan", from, floor, counts, tally);
    ++(*counts)[who + " Scan"];
  }
  if (rng_() % 16 == 0) {
    CheckedVerify(log, m, who + " Verify", floor, tally);
    ++(*counts)[who + " Verify"];
  }
}

void ReadOnlyReader::Step(Counts* counts, Tally* tally) {
  StepLog(fixed_, shared_->fixed, fixed_watch_.get(), counts, tally);
  StepLog(bytes_, shared_->bytes, bytes_watch_.get(), counts, tally);
  const uint64_t r = rng_() % 8;
  if (r < 2) {
    const uint64_t saved = shared_->checkpoints.saved.load();
    SetOp("checkpoint Load", "checkpoints", saved);
    CheckLoad(shared_->checkpoints, who_ + " checkpoints", saved, checkpoints_.Load(), tally);
    ++(*counts)[who_ + " checkpoint Load"];
  } else if (r == 2) {
    const uint64_t saved = shared_->checkpoints.saved.load();
    SetOp("checkpoint List", "checkpoints", saved);
    CheckList(shared_->checkpoints, who_ + " checkpoints", saved, checkpoints_.List(), tally);
    ++(*counts)[who_ + " checkpoint List"];
  }
  SetOp("", "", 0);
}

int ReaderProcessMain(const std::string& dir, SharedHistory* shared, uint64_t seed,
                      EnvTiming timing, int fd) {
  Tally tally;
  Counts counts;
  int round = -1;
  std::unique_ptr<ReadOnlyReader> reader;
  while (!shared->stop.load()) {
    // A new read-only open at each round (the writer reopens the store at each).
    if (reader == nullptr || shared->round.load() != round) {
      const int now = shared->round.load();
      reader = std::make_unique<ReadOnlyReader>(dir, shared, Mix(seed) + now, "ro process", timing);
      if (!reader->Open(&tally)) {
        reader.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      round = now;
      ++counts["ro process opens"];
    }
    reader->Step(&counts, &tally);
  }
  tally.Merge(counts);
  const std::string out = tally.Serialize();
  for (size_t done = 0; done < out.size();) {
    const ssize_t n = write(fd, out.data() + done, out.size() - done);
    if (n <= 0) return 3;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace recstore::testing::history
