// A program started with descriptors 0, 1 and 2 closed. Before the fix the kernel handed
// the store's next opens those numbers: with stdout and stderr closed a segment became
// descriptor 2, and the program's own error message then overwrote the segment's header
// (every synced record in it unreadable, `verify` said bad magic). The library now never
// keeps a store file below descriptor 3. Each test runs in a child that closes 0-2 first and
// reports to the parent through a pipe made before (so its ends are above 2).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/env.h"
#include "recstore/recstore.h"
#include "src/os/file.h"
#include "src/os/syscalls.h"
#include "tests/faults/checks.h"
#include "tests/faults/flaky_syscalls.h"
#include "tests/testing/child.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::ChildProcess;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;

// Which of descriptors 0-2 are open, e.g. "none" or "1 2".
std::string OpenStdio() {
  std::string open;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1) absl::StrAppend(&open, open.empty() ? "" : " ", fd);
  }
  return open.empty() ? "none" : open;
}

// Runs `body` in a child with descriptors 0, 1 and 2 closed. `body` reports each problem it
// finds with `fail`; the parent turns them into test failures.
void WithStdioClosed(
    const std::function<void(const std::function<void(std::string)>& fail)>& body) {
  ChildProcess child([&](ChildProcess::Side& parent) {
    ::close(0);
    ::close(1);
    ::close(2);
    body([&](std::string problem) { parent.Report(absl::StrCat("FAIL ", problem)); });
    parent.Report("done");
    return 0;
  });
  ASSERT_TRUE(child.started());
  while (std::optional<std::string> line = child.ReadLine()) {
    if (*line == "done") break;
    ADD_FAILURE() << *line;
  }
  EXPECT_EQ(child.Wait(), 0);
}

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kTrades = 4000;  // three segments of 64 KiB
constexpr uint64_t kBytes = 3000;

// The program's own messages, written while the store is open, to the standard descriptors
// it closed: they must reach no store file.
void WriteMessages() {
  static constexpr char kMessage[] = "recstore: error: this message must not land in a segment\n";
  for (int fd = 1; fd <= 2; ++fd) {
    [[maybe_unused]] ssize_t n = ::write(fd, kMessage, sizeof(kMessage) - 1);
  }
  std::fputs(kMessage, stderr);
  std::fflush(stderr);
  std::fputs(kMessage, stdout);
  std::fflush(stdout);
}

TEST(ClosedStdioTest, StoreFilesNeverTakeDescriptors0To2AndMessagesNeverReachThem) {
  const std::string dir = TestDir();
  WithStdioClosed([&](const auto& fail) {
    auto check = [&](const char* when) {
      if (OpenStdio() != "none") fail(absl::StrCat(when, ": descriptors open: ", OpenStdio()));
    };
    {
      absl::StatusOr<std::unique_ptr<Store>> store =
          Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
      if (!store.ok()) return fail(store.status().ToString());
      check("after creating the store");
      absl::StatusOr<Log<Trade>> trades = (*store)->OpenLog<Trade>("trades");
      absl::StatusOr<ByteLog> events = (*store)->OpenByteLog("events");
      if (!trades.ok() || !events.ok()) return fail("opening the collections");
      for (uint64_t i = 0; i < kTrades; ++i) {
        if (!trades->Append(MakeTrade(i)).ok()) return fail("append trades");
      }
      for (uint64_t i = 0; i < kBytes; ++i) {
        if (!events->Append(ByteRecord(i)).ok()) return fail("append events");
      }
      if (!trades->Sync().ok() || !events->Sync().ok()) return fail("sync");
      check("after appending and syncing");
      WriteMessages();
    }
    check("after closing");
    // A read-only open and a writer's reopen (recovery, segment mappings) too.
    {
      absl::StatusOr<std::unique_ptr<Store>> reader = Store::Open(dir, {.read_only = true});
      if (!reader.ok()) return fail(reader.status().ToString());
      absl::StatusOr<Log<Trade>> trades = (*reader)->OpenLog<Trade>("trades");
      if (!trades.ok() || trades->size() != kTrades) return fail("reader: trades");
      check("after a read-only open");
      WriteMessages();
      absl::StatusOr<std::unique_ptr<Store>> writer = Store::Open(dir);
      if (!writer.ok()) return fail(writer.status().ToString());
      absl::StatusOr<ByteLog> events = (*writer)->OpenByteLog("events");
      if (!events.ok() || events->size() != kBytes) return fail("writer: events");
      check("after a writer's reopen");
      WriteMessages();
    }
  });
  // Every segment header and record is intact.
  ASSERT_OK_AND_ASSIGN(auto store,
                       Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_GE(FilesIn(CollectionDir(dir, 1, "trades")).size(), 3u);
  EXPECT_TRUE(TradesIntact(trades, kTrades));
  EXPECT_TRUE(BytesIntact(events, kBytes));
  for (const LogBase* log :
       {static_cast<const LogBase*>(&trades), static_cast<const LogBase*>(&events)}) {
    ASSERT_OK_AND_ASSIGN(VerifyReport report, log->Verify());
    EXPECT_TRUE(report.ok);
  }
}

// The Env's own calls: Open, SyncDir and ListDir (through open + fdopendir, not opendir) use
// no descriptor below 3, as a Syscalls table that records them shows.
std::vector<int>& SeenFds() {
  static std::vector<int> fds;
  return fds;
}

os::Syscalls RecordingCalls() {
  os::Syscalls calls = os::RealSyscalls();
  calls.fsync = [](int fd) {
    SeenFds().push_back(fd);
    return os::RealSyscalls().fsync(fd);
  };
  calls.fdopendir = [](int fd) {
    SeenFds().push_back(fd);
    return os::RealSyscalls().fdopendir(fd);
  };
  calls.pwrite = [](int fd, const void* buf, size_t n, off_t offset) {
    SeenFds().push_back(fd);
    return os::RealSyscalls().pwrite(fd, buf, n, offset);
  };
  return calls;
}

TEST(ClosedStdioTest, EnvCallsUseNoDescriptorBelow3) {
  const std::string dir = TestDir();
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  WithStdioClosed([&](const auto& fail) {
    std::unique_ptr<Env> env = os::NewPosixEnv(RecordingCalls());
    const std::string file = dir + "/f";
    absl::StatusOr<int> fd = env->Open(file, O_RDWR | O_CREAT, 0644);
    if (!fd.ok()) return fail(fd.status().ToString());
    if (*fd < 3) fail(absl::StrCat("Open gave descriptor ", *fd));
    if (OpenStdio() != "none") fail(absl::StrCat("after Open: open ", OpenStdio()));
    if (!env->PWrite(*fd, file, "x", 0).ok()) fail("PWrite");
    if (!os::SyncDir(env.get(), dir).ok()) fail("SyncDir");
    absl::StatusOr<std::vector<std::string>> names = env->ListDir(dir);
    if (!names.ok() || *names != std::vector<std::string>{"f"}) fail("ListDir");
    if (OpenStdio() != "none") fail(absl::StrCat("after SyncDir and ListDir: open ", OpenStdio()));
    if (!env->Close(*fd, file).ok()) fail("Close");
    if (SeenFds().size() != 3) fail(absl::StrCat(SeenFds().size(), " calls recorded, want 3"));
    for (int seen : SeenFds()) {
      if (seen < 3) fail(absl::StrCat("a system call was made on descriptor ", seen));
    }
  });
}

// Moving the descriptor up can fail (no descriptor free above 2): the open fails with the
// error, naming the call and the file, and the low descriptor is not left open.
TEST(ClosedStdioTest, MovingTheDescriptorFailsCleanly) {
  const std::string dir = TestDir();
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  WithStdioClosed([&](const auto& fail) {
    FlakySyscalls::Reset();
    FlakySyscalls::FailOnce(Sys::kDupfd, 0, EMFILE);
    std::unique_ptr<Env> env = os::NewPosixEnv(FlakySyscalls::Table());
    absl::StatusOr<int> fd = env->Open(dir + "/f", O_RDWR | O_CREAT, 0644);
    if (fd.ok()) return fail("Open succeeded");
    if (!FlakySyscalls::Failed()) fail("the move was never tried");
    if (fd.status().code() != absl::StatusCode::kResourceExhausted ||
        fd.status().message().find("fcntl(F_DUPFD_CLOEXEC) " + dir + "/f") ==
            absl::string_view::npos) {
      fail(fd.status().ToString());
    }
    if (OpenStdio() != "none") fail(absl::StrCat("left open: ", OpenStdio()));
    FlakySyscalls::Reset();
  });
}

}  // namespace
}  // namespace recstore::faults
