// Locking across processes: one writer, many readers that see what the writer publishes.
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
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
using ::testing::AllOf;
using ::testing::HasSubstr;

// One byte over a pipe: a step of the choreography between parent and child.
void Send(int fd) {
  char c = 1;
  ASSERT_EQ(write(fd, &c, 1), 1);
}
bool Receive(int fd) {
  char c;
  return read(fd, &c, 1) == 1;
}

TEST(LockTest, SecondWriterProcessIsUnavailableReadersFollowTheWriter) {
  const std::string dir = TestDir();
  int to_parent[2], to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  pid_t child = fork();
  if (child == 0) {
    // The writer: appends 100 records (unsynced), waits, appends 5000 more (several
    // segments), waits, exits cleanly.
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10});
    if (!store.ok()) _exit(10);
    auto trades = (*store)->OpenLog<Trade>("trades");
    if (!trades.ok()) _exit(11);
    for (int i = 0; i < 100; ++i) {
      if (!trades->Append(MakeTrade(i)).ok()) _exit(12);
    }
    Send(to_parent[1]);
    if (!Receive(to_child[0])) _exit(13);
    for (int i = 100; i < 5100; ++i) {
      if (!trades->Append(MakeTrade(i)).ok()) _exit(14);
    }
    Send(to_parent[1]);
    if (!Receive(to_child[0])) _exit(15);
    _exit(0);
  }
  ASSERT_TRUE(Receive(to_parent[0]));
  EXPECT_THAT(Store::Open(dir), StatusIs(absl::StatusCode::kUnavailable,
                                         AllOf(HasSubstr("locked by a writer"),
                                               HasSubstr("pid " + std::to_string(child)))));
  ASSERT_OK_AND_ASSIGN(auto reader, Store::Open(dir, {.read_only = true}));
  ASSERT_OK_AND_ASSIGN(auto trades, reader->OpenLog<Trade>("trades"));
  EXPECT_EQ(trades.size(), 100u);  // published, not yet synced: visible all the same
  EXPECT_FALSE(trades.recovery().truncated);
  Send(to_child[1]);
  ASSERT_TRUE(Receive(to_parent[0]));
  EXPECT_EQ(trades.size(), 100u);
  ASSERT_OK(trades.Refresh());
  EXPECT_EQ(trades.size(), 5100u);
  uint64_t n = 0;
  for (const auto& [seq, t] : trades.Scan()) {
    ASSERT_EQ(t.ts_ns, MakeTrade(seq).ts_ns);
    ++n;
  }
  EXPECT_EQ(n, 5100u);
  Send(to_child[1]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The writer is gone: a new writer may open while the reader is still open.
  ASSERT_OK_AND_ASSIGN(auto writer, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto w, writer->OpenLog<Trade>("trades"));
  EXPECT_EQ(w.size(), 5100u);
}

}  // namespace
}  // namespace recstore
