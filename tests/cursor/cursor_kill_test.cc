// A consumer killed with SIGKILL at random moments while it commits its cursor. The child
// reports each position before it asks Commit for it ("attempt") and once Commit returned
// ("ack"); after each kill the reopened cursor must be at or past the last acknowledged
// position and never past the last attempted one.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;

constexpr int kKills = 25;

// Writes one 9-byte message: 'a' (attempt) or 'k' (acknowledged), then the position.
void Report(int fd, char kind, uint64_t position) {
  char msg[9];
  msg[0] = kind;
  std::memcpy(msg + 1, &position, 8);
  ssize_t n;
  do {
    n = ::write(fd, msg, sizeof(msg));
  } while (n < 0 && errno == EINTR);
}

// The child: commits increasing positions from the cursor's own until killed.
[[noreturn]] void Consume(const std::string& dir, int fd) {
  auto store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) _exit(2);
  absl::StatusOr<Cursor> c = (*store)->OpenCursor("events", "consumer");
  if (!c.ok()) _exit(3);
  for (uint64_t next = c->position() + 1;; next += 1 + next % 3) {
    Report(fd, 'a', next);
    if (!c->Commit(next).ok()) _exit(4);
    Report(fd, 'k', next);
  }
}

TEST(CursorKillTest, CommittedPositionSurvivesSigkill) {
  const std::string dir = testing::TestDir();
  {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = 64 << 10});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->OpenByteLog("events"), IsOk());
  }
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  uint64_t acked = 0;
  int kills = 0;
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      Consume(dir, fds[1]);
    }
    ::close(fds[1]);
    // Once it has reached its commit loop (its first attempt; starting may take long under a
    // sanitizer), let it run a random while: a kill may land anywhere in a commit.
    uint64_t attempted = acked;
    char msg[9];
    if (::read(fds[0], msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg))) {
      std::memcpy(&attempted, msg + 1, 8);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the consumer exited with " << WEXITSTATUS(status);
    ++kills;
    while (::read(fds[0], msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg))) {
      uint64_t position;
      std::memcpy(&position, msg + 1, 8);
      if (msg[0] == 'a') attempted = std::max(attempted, position);
      if (msg[0] == 'k') acked = std::max(acked, position);
    }
    ::close(fds[0]);
    auto store = Store::Open(dir, {.read_only = true});
    ASSERT_THAT(store, IsOk());
    // Created here if the first child was killed before it had created it.
    absl::StatusOr<Cursor> c = (*store)->OpenCursor("events", "consumer");
    ASSERT_THAT(c, IsOk()) << "round " << round;
    EXPECT_GE(c->position(), acked) << "round " << round << ": an acknowledged commit was lost";
    EXPECT_LE(c->position(), attempted) << "round " << round;
    acked = c->position();  // what the next child starts from
  }
  EXPECT_GE(kills, 20);
  EXPECT_GT(acked, 0u);
}

}  // namespace
}  // namespace recstore
