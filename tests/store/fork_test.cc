// fork() without exec: the child inherits every descriptor, and an OFD lock lasts while any
// descriptor refers to its open file description. The bug: a child that outlived its
// parent's Store kept the store's writer lock, so no writer could open the store until the
// child exited. Now the child's copy of the lock descriptor points at /dev/null from the
// moment fork() returns, and the lock goes when the parent lets it go.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::ChildProcess;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

// Whether some open file description holds a lock of `type` on `byte` of LOCK.
bool LockHeld(const std::string& dir, short type, off_t byte) {
  const int fd = ::open((dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

// How many descriptors of this process refer to `path`. Without allocating: it runs in
// children forked from a multi-threaded process, where another thread may have held the
// allocator's lock at the fork (the sanitizers' allocators are not fork-safe).
int DescriptorsOn(const char* path) {
  const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  int n = 0;
  alignas(8) char buf[4096];
  while (true) {
    const ssize_t got = ::getdents64(dir, buf, sizeof(buf));
    if (got <= 0) break;
    for (ssize_t off = 0; off < got;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
      off += e->d_reclen;
      char target[PATH_MAX];
      const ssize_t len = ::readlinkat(dir, e->d_name, target, sizeof(target) - 1);
      if (len < 0) continue;
      target[len] = '\0';
      if (std::strcmp(target, path) == 0) ++n;
    }
  }
  ::close(dir);
  return n;
}

std::string LockPath(const std::string& dir) {
  return std::filesystem::canonical(dir).string() + "/LOCK";
}

TEST(ForkTest, ChildDoesNotKeepTheWriterLockAfterTheParentClosedTheStore) {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_OK(store.status());
  ASSERT_OK_AND_ASSIGN(ByteLog log, (*store)->OpenByteLog("events"));
  ASSERT_OK(log.Append("before the fork").status());
  ASSERT_OK(log.Sync().status());
  ASSERT_EQ(DescriptorsOn(LockPath(dir).c_str()), 1);

  // The child sleeps until told, holding a copy of every descriptor the parent had.
  ChildProcess child([&](ChildProcess::Side& parent) {
    parent.Report(std::to_string(DescriptorsOn(LockPath(dir).c_str())));
    if (parent.Await() != 'o') return 1;
    // Once the parent's Store is gone, the child may open the store as its writer.
    absl::StatusOr<std::unique_ptr<Store>> own = Store::Open(dir);
    parent.Report(own.ok() ? "opened" : std::string(own.status().message()));
    if (parent.Await() != 'x') return 1;
    return 0;
  });
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.ReadLine(), "0") << "the child still refers to LOCK";
  // While the parent's Store is open, it is the one writer.
  EXPECT_TRUE(LockHeld(dir, F_WRLCK, 0));
  EXPECT_THAT(Store::Open(dir).status(), StatusIs(absl::StatusCode::kUnavailable));

  log = ByteLog();
  store->reset();
  // The child still runs; the lock went with the parent's Store.
  EXPECT_FALSE(LockHeld(dir, F_WRLCK, 0));
  // Another process can be the writer now...
  EXPECT_EQ(RunInChild([&](auto) {
              absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(dir);
              return s.ok() ? 0 : 1;
            }),
            0);
  // ... and the parent again, and then the child itself (once the parent closed again).
  {
    ASSERT_OK_AND_ASSIGN(auto again, Store::Open(dir));
    ASSERT_OK_AND_ASSIGN(ByteLog events, again->OpenByteLog("events"));
    EXPECT_EQ(events.size(), 1u);
  }
  child.Send('o');
  EXPECT_EQ(child.ReadLine(), "opened");
  child.Send('x');
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ForkTest, ChildDoesNotKeepAReadersLock) {
  const std::string dir = TestDir();
  ASSERT_OK(Store::Open(dir, {.create_if_missing = true}).status());
  auto reader = Store::Open(dir, {.read_only = true});
  ASSERT_OK(reader.status());
  // Readers hold a shared lock on byte 1.
  EXPECT_TRUE(LockHeld(dir, F_WRLCK, 1));
  ChildProcess child([&](ChildProcess::Side& parent) {
    parent.Report(std::to_string(DescriptorsOn(LockPath(dir).c_str())));
    return parent.Await() == 'x' ? 0 : 1;
  });
  EXPECT_EQ(child.ReadLine(), "0");
  reader->reset();
  EXPECT_FALSE(LockHeld(dir, F_WRLCK, 1));
  child.Send('x');
  EXPECT_EQ(child.Wait(), 0);
}

// Forks while another thread opens and closes the store over and over: no child is ever
// left with a descriptor on LOCK, whatever point of an open or a close the fork met (the
// fork handlers hold the registry across both), and nothing deadlocks.
TEST(ForkTest, ForksDuringOpensAndClosesNeverLeaveTheChildALockDescriptor) {
  const std::string dir = TestDir();
  ASSERT_OK(Store::Open(dir, {.create_if_missing = true}).status());
  const std::string lock_path = LockPath(dir);
  std::atomic<bool> stop{false};
  std::atomic<int> opens{0};
  std::thread opener([&] {
    while (!stop.load()) {
      // Writer and reader opens in turn.
      absl::StatusOr<std::unique_ptr<Store>> s =
          Store::Open(dir, {.read_only = opens.load() % 2 == 1});
      if (s.ok()) opens.fetch_add(1);
    }
  });
  int forks = 0;
  while (forks < 60 || opens.load() < 60) {
    ChildProcess child(
        [&](ChildProcess::Side&) { return DescriptorsOn(lock_path.c_str()) == 0 ? 0 : 1; });
    ASSERT_TRUE(child.started());
    EXPECT_EQ(child.Wait(), 0) << "fork " << forks << ": the child has a descriptor on LOCK";
    ++forks;
  }
  stop = true;
  opener.join();
}

}  // namespace
}  // namespace recstore
