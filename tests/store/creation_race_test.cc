// Races on creating and opening a store. Two processes create and open the same store at
// once, and the interleaving is forced through the Env: process A runs over an Env that stops
// it before its k-th call, for every k of its run, while process B runs whole; then A goes on.
// Whatever the interleaving:
//   * each open ends OK or with the clear error the state it met calls for: Unavailable
//     (naming the pid) while the other process holds the writer lock, "does not exist" before
//     the store has a manifest; a creator never refuses a store another process just created;
//   * there is never more than one writer: while A holds the lock B is refused, and while B
//     holds it A is;
//   * a read-only open sees no store (a clear error) or a complete one: every collection
//     opens, every record is one some writer appended, Verify() is clean;
//   * the store left at the end holds everything either side synced, byte for byte.
// The bug this found: a creator looked for MANIFEST before taking the lock and, once it had
// the lock, wrote an empty manifest from that stale look, then emptied the folder of the
// collection the other process had created and synced.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ChildProcess;
using ::recstore::testing::FaultEnv;

using ::recstore::testing::TestDir;

constexpr int kRecords = 20;  // each writer appends and syncs this many
constexpr int kSetupRecords = 10;

// Record `seq` appended by the writer tagged `tag`.
std::string Record(char tag, uint64_t seq) { return absl::StrCat(std::string(1, tag), "/", seq); }

enum class Role { kCreator, kWriter, kReader };

struct Actor {
  Role role;
  char tag = 0;            // writers: their records are Record(tag, seq)
  std::string collection;  // writers: the byte log they create (if missing) and append to
  bool hold = false;       // writers: keep the store open until the parent sends 'r'
};

// How an actor's run ended.
struct Result {
  absl::StatusCode code = absl::StatusCode::kUnknown;
  uint64_t first = 0;  // writers: the sequence number of their first record
  uint64_t count = 0;  // writers: records appended and synced; readers: records read
  std::string message;
  bool ok() const { return code == absl::StatusCode::kOk; }
};

std::string ResultLine(const Result& r) {
  return absl::StrCat("result ", static_cast<int>(r.code), " ", r.first, " ", r.count, " ",
                      r.message);
}

std::optional<Result> ParseResult(const std::optional<std::string>& line) {
  if (!line) return std::nullopt;
  std::vector<std::string> f = absl::StrSplit(*line, absl::MaxSplits(' ', 4));
  int code = 0;
  Result r;
  if (f.size() < 4 || f[0] != "result" || !absl::SimpleAtoi(f[1], &code) ||
      !absl::SimpleAtoi(f[2], &r.first) || !absl::SimpleAtoi(f[3], &r.count)) {
    return std::nullopt;
  }
  r.code = static_cast<absl::StatusCode>(code);
  if (f.size() == 5) r.message = f[4];
  return r;
}

std::ostream& operator<<(std::ostream& os, const Result& r) { return os << ResultLine(r); }

// Every collection of `store` opens and holds only records some writer appended at their
// sequence number; scans end cleanly; Verify() is clean. `*records` counts them.
absl::Status CheckComplete(Store& store, uint64_t* records) {
  for (const CollectionInfo& c : store.ListCollections()) {
    RECSTORE_ASSIGN_OR_RETURN(ByteLog log, store.OpenByteLog(c.name, {.create_if_missing = false}));
    auto scan = log.Scan();
    for (const auto& [seq, bytes] : scan) {
      const std::string_view got(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      // Tags: 'S' (the setup), 'A' and 'B' (the two processes).
      if (got.empty() || std::string_view("SAB").find(got[0]) == std::string_view::npos ||
          got != Record(got[0], seq)) {
        return absl::DataLossError(
            absl::StrCat(c.name, ": record ", seq, " is '", std::string(got), "'"));
      }
      ++*records;
    }
    RECSTORE_RETURN_IF_ERROR(scan.status());
    RECSTORE_ASSIGN_OR_RETURN(VerifyReport report, log.Verify());
    if (!report.ok) return absl::DataLossError(absl::StrCat(c.name, ": Verify() is not clean"));
  }
  return absl::OkStatus();
}

// Runs `actor` on the store at `dir` over `env`, and reports its Result to the parent as soon
// as it is known (a holding writer then reports "holding" and waits for 'r'). Returns the
// child's exit code: 0 unless the parent's orders were not the expected ones.
int RunActor(Env* env, const std::string& dir, const Actor& actor, ChildProcess::Side& parent) {
  Result r;
  auto report = [&](const absl::Status& s) {
    r.code = s.code();
    r.message = std::string(s.message());
    parent.Report(ResultLine(r));
    return 0;
  };
  if (actor.role == Role::kReader) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        ::recstore::testing::OpenStore(env, dir, {.read_only = true});
    if (!store.ok()) return report(store.status());
    return report(CheckComplete(**store, &r.count));
  }
  absl::StatusOr<std::unique_ptr<Store>> store = ::recstore::testing::OpenStore(
      env, dir, {.create_if_missing = actor.role == Role::kCreator, .segment_size = 64 << 10});
  if (!store.ok()) return report(store.status());
  absl::StatusOr<ByteLog> log = (*store)->OpenByteLog(actor.collection);
  if (!log.ok()) return report(log.status());
  r.first = log->end();
  std::vector<std::string> records;
  for (int i = 0; i < kRecords; ++i) records.push_back(Record(actor.tag, r.first + i));
  const std::vector<std::string_view> views(records.begin(), records.end());
  absl::StatusOr<uint64_t> seq = log->AppendBatch(views);
  if (!seq.ok()) return report(seq.status());
  absl::StatusOr<uint64_t> durable = log->Sync();
  if (!durable.ok()) return report(durable.status());
  if (*seq != r.first || *durable < r.first + kRecords) {
    return report(absl::InternalError(absl::StrCat("appended at ", *seq, ", durable ", *durable)));
  }
  r.count = kRecords;
  report(absl::OkStatus());
  if (actor.hold) {
    parent.Report("holding");
    if (parent.Await() != 'r') return 2;
  }
  return 0;  // closes the log, then the store
}

// Whether some process holds the writer lock (byte 0 of LOCK).
bool WriterLockHeld(const std::string& dir) {
  const int fd = ::open((dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

// Whether LOCK holds `pid`, as the writer that holds the lock writes it.
bool LockFileNames(const std::string& dir, pid_t pid) {
  std::ifstream f(dir + "/LOCK");
  std::string line;
  return std::getline(f, line) && line == std::to_string(pid);
}

enum class Setup {
  kNoDirectory,  // the store's directory does not exist yet
  kStore,        // a store whose byte log "trades" holds kSetupRecords records tagged 'S'
};

struct Interleaving {
  const char* name;
  Setup setup;
  Actor a;  // stopped before its k-th Env call
  Actor b;  // runs whole while A is stopped
  friend void PrintTo(const Interleaving& i, std::ostream* os) { *os << i.name; }
};

void MakeSetup(Setup setup, const std::string& dir) {
  if (setup == Setup::kNoDirectory) return;
  // Small segments: hundreds of interleavings each make a store (64 MiB ones filled a disk).
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("trades"));
  for (uint64_t i = 0; i < kSetupRecords; ++i) ASSERT_OK(log.Append(Record('S', i)).status());
  ASSERT_OK(log.Sync().status());
}

// How many Env calls A makes when it runs alone on `setup`.
int CallsOfA(const Interleaving& in) {
  const std::string dir = TestDir("solo");
  MakeSetup(in.setup, dir);
  ChildProcess a([&](ChildProcess::Side& parent) {
    FaultEnv env;
    const int rc = RunActor(&env, dir, in.a, parent);
    parent.Report(absl::StrCat("calls ", env.Calls(FaultEnv::kAnyCall)));
    return rc;
  });
  const std::optional<Result> r = ParseResult(a.ReadLine());
  EXPECT_TRUE(r.has_value()) << "A alone reported nothing";
  const std::optional<std::string> line = a.ReadLine();
  int calls = 0;
  EXPECT_TRUE(line && line->starts_with("calls ") && absl::SimpleAtoi(line->substr(6), &calls))
      << line.value_or("(nothing)");
  EXPECT_EQ(a.Wait(), 0);
  return calls;
}

// What an open must have ended with, given what the store looked like when it ran.
void ExpectOutcome(const Actor& actor, const Result& r, bool store_existed, bool other_writer,
                   bool lock_names_pid, pid_t other_pid, const std::string& who) {
  if (actor.role != Role::kCreator && !store_existed) {
    // No store yet: a clear "does not exist" (no directory, or no MANIFEST in it).
    EXPECT_TRUE(r.code == absl::StatusCode::kNotFound ||
                r.code == absl::StatusCode::kFailedPrecondition)
        << who << ": " << r;
    EXPECT_THAT(r.message, ::testing::HasSubstr("does not exist")) << who;
    return;
  }
  if (actor.role != Role::kReader && other_writer) {
    // Refused. The message names the pid the holder wrote into LOCK, once it has written it
    // (just after taking the lock); before that, it names the previous writer or none.
    EXPECT_EQ(r.code, absl::StatusCode::kUnavailable) << who << ": " << r;
    EXPECT_THAT(r.message, ::testing::HasSubstr(" is locked by ")) << who;
    if (lock_names_pid) {
      EXPECT_THAT(r.message,
                  ::testing::HasSubstr(absl::StrCat("locked by a writer (pid ", other_pid, ")")))
          << who;
    }
    return;
  }
  EXPECT_TRUE(r.ok()) << who << ": " << r;
}

class CreationRaceTest : public ::testing::TestWithParam<Interleaving> {};

TEST_P(CreationRaceTest, EveryStopOfAEndsInOneWriterAndEverySyncedRecord) {
  const Interleaving& in = GetParam();
  const int n = CallsOfA(in);
  ASSERT_GT(n, 0);
  std::printf("%s: A stopped before each of its %d Env calls\n", in.name, n);
  for (int k = 1; k <= n; ++k) {
    SCOPED_TRACE(absl::StrCat("A stopped before its Env call ", k, " of ", n));
    const std::string dir = TestDir(absl::StrCat("k", k));
    MakeSetup(in.setup, dir);
    ChildProcess a([&](ChildProcess::Side& parent) {
      FaultEnv env;
      int calls = 0;
      env.BeforeEachCall([&](std::string_view op, const std::string& path) {
        if (++calls != k) return;
        parent.Report(absl::StrCat("stopped before ", std::string(op), " ", path));
        if (parent.Await() != 'g') _exit(3);
      });
      return RunActor(&env, dir, in.a, parent);
    });
    // A reports its result before it closes the store, so a stop among the calls of the
    // close comes after the result.
    std::optional<Result> ra;
    std::optional<std::string> stop = a.ReadLine();
    if (stop && stop->starts_with("result")) {
      ra = ParseResult(stop);
      stop = a.ReadLine();
    }
    ASSERT_TRUE(stop && stop->starts_with("stopped"))
        << "A never reached call " << k << ": " << stop.value_or("(nothing)");
    SCOPED_TRACE(*stop);
    // The store as B meets it.
    const bool store_existed = std::filesystem::exists(dir + "/MANIFEST");
    const bool a_locked = WriterLockHeld(dir);
    const bool lock_names_a = LockFileNames(dir, a.pid());

    ChildProcess b(
        [&](ChildProcess::Side& parent) { return RunActor(Env::Default(), dir, in.b, parent); });
    const std::optional<Result> rb = ParseResult(b.ReadLine());
    ASSERT_TRUE(rb) << "B reported nothing";
    const bool b_holds = in.b.hold && rb->ok();
    if (b_holds) {
      ASSERT_EQ(b.ReadLine(), "holding");
    } else {
      ASSERT_EQ(b.Wait(), 0);
    }
    a.Send('g');
    if (!ra) ra = ParseResult(a.ReadLine());
    ASSERT_TRUE(ra) << "A reported nothing";
    if (b_holds) b.Send('r');
    ASSERT_EQ(b.Wait(), 0);
    ASSERT_EQ(a.Wait(), 0);

    ExpectOutcome(in.b, *rb, store_existed, a_locked, lock_names_a, a.pid(), "B");
    // A met the store B left (B's run was whole), locked if B still held it.
    ExpectOutcome(in.a, *ra, /*store_existed=*/true, b_holds, /*lock_names_pid=*/true, b.pid(),
                  "A");

    // The store left at the end holds everything either side synced.
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
    uint64_t records = 0;
    EXPECT_OK(CheckComplete(*store, &records));
    std::vector<std::pair<const Actor*, const Result*>> synced = {{&in.a, &*ra}, {&in.b, &*rb}};
    for (const auto& [actor, r] : synced) {
      if (actor->role == Role::kReader || !r->ok()) continue;
      ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog(actor->collection));
      for (uint64_t seq = r->first; seq < r->first + r->count; ++seq) {
        absl::StatusOr<std::span<const std::byte>> got = log.Get(seq);
        ASSERT_OK(got.status()) << actor->collection << " record " << seq;
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(got->data()), got->size()),
                  Record(actor->tag, seq));
      }
    }
    if (in.setup == Setup::kStore) {
      ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("trades"));
      for (uint64_t seq = 0; seq < kSetupRecords; ++seq) {
        absl::StatusOr<std::span<const std::byte>> got = log.Get(seq);
        ASSERT_OK(got.status());
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(got->data()), got->size()),
                  Record('S', seq));
      }
    }
    if (::testing::Test::HasFailure()) return;  // the first failing stop says enough
    store.reset();
    std::filesystem::remove_all(dir);  // hundreds of stores: keep the disk free
  }
}

const Actor kCreateTrades{Role::kCreator, 'A', "trades"};
const Actor kReaderA{Role::kReader};

INSTANTIATE_TEST_SUITE_P(
    Interleavings, CreationRaceTest,
    ::testing::Values(
        // Two processes create the same store and collection.
        Interleaving{
            "TwoCreators", Setup::kNoDirectory, kCreateTrades, {Role::kCreator, 'B', "trades"}},
        // B still has the store open when A goes on: A must be refused.
        Interleaving{"TwoCreatorsOtherStillOpen",
                     Setup::kNoDirectory,
                     kCreateTrades,
                     {Role::kCreator, 'B', "trades", /*hold=*/true}},
        // B creates the store with another collection.
        Interleaving{"CreatorVsCollectionCreation",
                     Setup::kNoDirectory,
                     kCreateTrades,
                     {Role::kCreator, 'B', "events"}},
        // B opens as the writer of an existing store only.
        Interleaving{"CreatorVsWriterOpen",
                     Setup::kNoDirectory,
                     kCreateTrades,
                     {Role::kWriter, 'B', "events"}},
        Interleaving{"CreatorVsReadOnlyOpen", Setup::kNoDirectory, kCreateTrades, {Role::kReader}},
        // The same on a store that exists: opening with create_if_missing must not recreate.
        Interleaving{
            "CreatorsOnAStore", Setup::kStore, kCreateTrades, {Role::kCreator, 'B', "trades"}},
        Interleaving{"CreatorOnAStoreOtherStillOpen",
                     Setup::kStore,
                     kCreateTrades,
                     {Role::kWriter, 'B', "trades", /*hold=*/true}},
        Interleaving{"CollectionCreationsOnAStore",
                     Setup::kStore,
                     kCreateTrades,
                     {Role::kWriter, 'B', "events"}},
        Interleaving{
            "CreatorVsReadOnlyOpenOnAStore", Setup::kStore, kCreateTrades, {Role::kReader}},
        // A read-only open stopped anywhere while a writer creates or appends.
        Interleaving{"ReadOnlyOpenVsCreator",
                     Setup::kNoDirectory,
                     kReaderA,
                     {Role::kCreator, 'B', "trades"}},
        Interleaving{
            "ReadOnlyOpenVsWriter", Setup::kStore, kReaderA, {Role::kCreator, 'B', "trades"}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace recstore
