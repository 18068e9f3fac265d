// FaultEnv: failing the n-th call of one kind, or of any kind, with a chosen errno.
#include "tests/testing/fault_env.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/open_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::FaultEnv;
using ::recstore::testing::IsOk;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;

TEST(FaultEnvTest, FailsOnlyTheNthCallOfAKind) {
  const std::string dir = TestDir();
  FaultEnv env;
  env.FailNth("Exists", 3, ENOSPC);
  EXPECT_THAT(env.Exists(dir), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(env.MakeDir(dir, 0755), IsOk());
  EXPECT_THAT(env.Exists(dir), IsOk());
  EXPECT_THAT(env.Exists(dir), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(env.Exists(dir), IsOk());  // only the third
  EXPECT_EQ(env.Calls("Exists"), 4);
  EXPECT_EQ(env.Calls("MakeDir"), 1);
  EXPECT_EQ(env.Calls(FaultEnv::kAnyCall), 5);
  EXPECT_EQ(env.Failures(), 1);
}

TEST(FaultEnvTest, FailsTheNthCallOfAnyKind) {
  const std::string dir = TestDir();
  FaultEnv env;
  env.FailNth(FaultEnv::kAnyCall, 2, EIO);
  EXPECT_THAT(env.MakeDir(dir, 0755), IsOk());
  EXPECT_THAT(env.ListDir(dir), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(env.ListDir(dir), IsOk());
}

TEST(FaultEnvTest, KindAndAnyCallRulesCountTheirOwnCalls) {
  const std::string dir = TestDir();
  FaultEnv env;
  env.Fail("SyncDir", EIO, /*skip=*/1);                     // the second SyncDir onwards
  env.Fail(FaultEnv::kAnyCall, EINTR, 4, "", /*times=*/1);  // the fifth call
  EXPECT_THAT(env.MakeDir(dir, 0755), IsOk());              // 1
  ASSERT_OK_AND_ASSIGN(int fd, env.Open(dir, O_RDONLY | O_DIRECTORY, 0));     // 2
  EXPECT_THAT(env.SyncAll(fd, dir), IsOk());                                 // 3: SyncDir
  EXPECT_THAT(env.SyncAll(fd, dir), StatusIs(absl::StatusCode::kInternal));  // 4: EIO
  EXPECT_THAT(env.Exists(dir), StatusIs(absl::StatusCode::kUnavailable));    // 5: EINTR
  EXPECT_THAT(env.Exists(dir), IsOk());
  EXPECT_THAT(env.Close(fd, dir), IsOk());
  EXPECT_EQ(env.Calls("SyncDir"), 2);
  EXPECT_EQ(env.Calls("SyncAll"), 0);
}

TEST(FaultEnvTest, PathFilterAndFailedCloseStillCloses) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_THAT(env.MakeDir(dir, 0755), IsOk());
  env.Fail("Close", EIO, 0, "b.txt");
  ASSERT_OK_AND_ASSIGN(int a, env.Open(dir + "/a.txt", O_RDWR | O_CREAT, 0644));
  ASSERT_OK_AND_ASSIGN(int b, env.Open(dir + "/b.txt", O_RDWR | O_CREAT, 0644));
  EXPECT_THAT(env.Close(a, dir + "/a.txt"), IsOk());
  EXPECT_THAT(env.Close(b, dir + "/b.txt"), StatusIs(absl::StatusCode::kInternal));
  // The descriptor is gone all the same.
  EXPECT_THAT(Env::Default()->FileSize(b, dir + "/b.txt"), StatusIs(absl::StatusCode::kInternal));
}

// The engine over a FaultEnv: ENOSPC on the n-th Allocate leaves earlier records intact.
TEST(FaultEnvTest, EngineSeesTheInjectedErrorOfTheNthAllocate) {
  const std::string dir = TestDir();
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ::recstore::testing::OpenStore(
                           &env, dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSERT_OK_AND_ASSIGN(ByteLog log, store->OpenByteLog("events"));  // first Allocate
  env.FailNth("Allocate", 1, ENOSPC);
  const std::string big(40 << 10, 'x');
  ASSERT_THAT(log.Append(big), IsOk());  // fits in the first segment
  EXPECT_THAT(log.Append(big), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(log.Append(big), IsOk());  // only that one call failed
  EXPECT_EQ(log.end(), 2u);
  EXPECT_EQ(env.Failures(), 1);
}

}  // namespace
}  // namespace recstore
