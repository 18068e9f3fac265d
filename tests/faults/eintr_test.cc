// EINTR, short transfers and EIO below PosixEnv (through a Syscalls table): every Env call
// retries an interrupted system call and finishes a partial read or write, never retries
// close or a call that failed for real (an fsync that said EIO in particular), and a whole
// store workload run under interruptions gives byte-identical files and identical results.
#include <fcntl.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/env.h"
#include "src/os/file.h"
#include "src/os/syscalls.h"
#include "tests/faults/flaky_syscalls.h"
#include "tests/faults/workload.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

// One Env call, the system call under it, and a fresh file and directory to call it on.
struct EnvCall {
  std::string name;
  Sys sys;
  std::function<absl::Status(Env*, int fd, const std::string& dir)> run;
  friend void PrintTo(const EnvCall& c, std::ostream* os) { *os << c.name; }
};

std::vector<EnvCall> EnvCalls() {
  using S = absl::Status;
  const auto file = [](const std::string& dir) { return dir + "/f"; };
  return {
      {"Open", Sys::kOpen,
       [=](Env* env, int, const std::string& dir) {
         absl::StatusOr<int> fd = env->Open(file(dir), O_RDONLY, 0);
         if (fd.ok()) return env->Close(*fd, file(dir));
         return fd.status();
       }},
      {"FileSize", Sys::kFstat,
       [=](Env* env, int fd, const std::string& dir) -> S {
         absl::StatusOr<uint64_t> n = env->FileSize(fd, file(dir));
         if (n.ok() && *n != 8192) return absl::InternalError("wrong size");
         return n.status();
       }},
      {"Allocate", Sys::kPosixFallocate,
       [=](Env* env, int fd, const std::string& dir) {
         return env->Allocate(fd, file(dir), 0, 1 << 16);
       }},
      {"ZeroRange", Sys::kFallocate,
       [=](Env* env, int fd, const std::string& dir) {
         return env->ZeroRange(fd, file(dir), 0, 4096);
       }},
      {"Truncate", Sys::kFtruncate,
       [=](Env* env, int fd, const std::string& dir) { return env->Truncate(fd, file(dir), 100); }},
      {"PWrite", Sys::kPwrite,
       [=](Env* env, int fd, const std::string& dir) {
         return env->PWrite(fd, file(dir), std::string(5000, 'w'), 10);
       }},
      {"PRead", Sys::kPread,
       [=](Env* env, int fd, const std::string& dir) -> S {
         std::string buf(8192, '\0');
         absl::StatusOr<size_t> n = env->PRead(fd, file(dir), buf.data(), buf.size(), 0);
         if (n.ok() && (*n != 8192 || buf != std::string(8192, 'x'))) {
           return absl::InternalError("short or wrong read");
         }
         return n.status();
       }},
      {"SyncData", Sys::kFdatasync,
       [=](Env* env, int fd, const std::string& dir) { return env->SyncData(fd, file(dir)); }},
      {"SyncAll", Sys::kFsync,
       [=](Env* env, int fd, const std::string& dir) { return env->SyncAll(fd, file(dir)); }},
      {"SyncDir", Sys::kFsync,
       [=](Env* env, int, const std::string& dir) { return os::SyncDir(env, dir); }},
      {"Lock", Sys::kFcntl,
       [=](Env* env, int fd, const std::string& dir) {
         return env->Lock(fd, file(dir), 0, LockKind::kExclusive);
       }},
      {"MakeDir", Sys::kMkdir,
       [=](Env* env, int, const std::string& dir) { return env->MakeDir(dir + "/d", 0755); }},
      {"ListDir", Sys::kOpen,
       [=](Env* env, int, const std::string& dir) -> S {
         absl::StatusOr<std::vector<std::string>> names = env->ListDir(dir);
         if (names.ok() && *names != std::vector<std::string>{"f"}) {
           return absl::InternalError("wrong listing");
         }
         return names.status();
       }},
      {"Rename", Sys::kRename,
       [=](Env* env, int, const std::string& dir) { return env->Rename(file(dir), dir + "/g"); }},
      {"Remove", Sys::kUnlink,
       [=](Env* env, int, const std::string& dir) { return env->Remove(file(dir)); }},
      {"RemoveDir", Sys::kRmdir,
       [=](Env* env, int, const std::string& dir) -> S {
         std::filesystem::create_directory(dir + "/d");
         return env->RemoveDir(dir + "/d");
       }},
      {"Exists", Sys::kStat,
       [=](Env* env, int, const std::string& dir) { return env->Exists(file(dir)); }},
  };
}

class EnvCallTest : public ::testing::TestWithParam<EnvCall> {
 protected:
  void SetUp() override {
    FlakySyscalls::Reset();
    dir_ = TestDir(GetParam().name);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/f", std::ios::binary) << std::string(8192, 'x');
    fd_ = ::open((dir_ + "/f").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    FlakySyscalls::Reset();
  }

  std::unique_ptr<Env> env_ = os::NewPosixEnv(FlakySyscalls::Table());
  std::string dir_;
  int fd_ = -1;
};

TEST_P(EnvCallTest, RetriesEintr) {
  const EnvCall& c = GetParam();
  FlakySyscalls::Interrupt(3, /*repeat=*/false);
  FlakySyscalls::ShortTransfers(true);
  EXPECT_OK(c.run(env_.get(), fd_, dir_));
  EXPECT_EQ(FlakySyscalls::Interrupted(c.sys), 3) << SysName(c.sys);
  EXPECT_GE(FlakySyscalls::Calls(c.sys), 4) << SysName(c.sys);
}

TEST_P(EnvCallTest, ReturnsEioAtOnceAndNeverRetries) {
  const EnvCall& c = GetParam();
  FlakySyscalls::FailOnce(c.sys, 0, EIO);
  // The failure is one-shot: a retry would have succeeded and hidden it.
  EXPECT_THAT(c.run(env_.get(), fd_, dir_),
              StatusIs(absl::StatusCode::kInternal, AllOf(HasSubstr(std::string(SysName(c.sys))),
                                                          HasSubstr(dir_), HasSubstr("errno 5"))));
  EXPECT_EQ(FlakySyscalls::Calls(c.sys), 1) << SysName(c.sys);
}

INSTANTIATE_TEST_SUITE_P(Calls, EnvCallTest, ::testing::ValuesIn(EnvCalls()),
                         [](const auto& info) { return info.param.name; });

TEST(EnvCloseTest, CloseIsNeverRetried) {
  FlakySyscalls::Reset();
  const std::string dir = TestDir();
  std::filesystem::create_directories(dir);
  auto env = os::NewPosixEnv(FlakySyscalls::Table());
  ASSERT_OK_AND_ASSIGN(int fd, env->Open(dir + "/f", O_RDWR | O_CREAT, 0644));
  FlakySyscalls::Interrupt(1, /*repeat=*/false);
  // Linux releases the descriptor even when close says EINTR; a second close could close
  // a descriptor another thread has just been given.
  EXPECT_OK(env->Close(fd, dir + "/f"));
  EXPECT_EQ(FlakySyscalls::Calls(Sys::kClose), 1);
  FlakySyscalls::Reset();
}

// The workload without faults, through the same table (to count the calls it makes).
struct Reference {
  std::string summary;
  std::map<std::string, std::string> files;
  int calls[static_cast<int>(Sys::kCount)] = {};
};

// Both runs must write the same bytes: collections record their creation time and byte
// records their append time, so the clock stands still.
class StoppedClock : public recstore::testing::FaultEnv {
 public:
  explicit StoppedClock(Env* base) : FaultEnv(base) {}
  int64_t NowUnixNanos() override { return int64_t{1'700'000'000} * 1'000'000'000; }
};

const Reference& GetReference() {
  static const Reference* ref = [] {
    auto* r = new Reference();
    FlakySyscalls::Reset();
    const std::string dir = TestDir("reference");
    auto env = os::NewPosixEnv(FlakySyscalls::Table());
    StoppedClock clock(env.get());
    absl::StatusOr<std::string> summary = RunWorkload(&clock, dir);
    EXPECT_OK(summary);
    r->summary = summary.value_or("");
    r->files = ReadTree(dir);
    for (int s = 0; s < static_cast<int>(Sys::kCount); ++s) {
      r->calls[s] = FlakySyscalls::Calls(static_cast<Sys>(s));
    }
    FlakySyscalls::Reset();
    return r;
  }();
  return *ref;
}

struct Interruptions {
  std::string name;
  int k;
  bool repeat;
  bool short_io;
  friend void PrintTo(const Interruptions& p, std::ostream* os) { *os << p.name; }
};

class EintrWorkloadTest : public ::testing::TestWithParam<Interruptions> {};

TEST_P(EintrWorkloadTest, SameFilesAndResults) {
  const Reference& ref = GetReference();
  const Interruptions& p = GetParam();
  FlakySyscalls::Reset();
  FlakySyscalls::Interrupt(p.k, p.repeat);
  FlakySyscalls::ShortTransfers(p.short_io);
  const std::string dir = TestDir();
  auto env = os::NewPosixEnv(FlakySyscalls::Table());
  StoppedClock clock(env.get());
  absl::StatusOr<std::string> summary = RunWorkload(&clock, dir);
  FlakySyscalls::Interrupt(0, false);
  ASSERT_OK(summary);
  EXPECT_EQ(*summary, ref.summary);
  // Every kind of call the workload makes was interrupted, and still went through.
  for (Sys s : {Sys::kOpen, Sys::kClose, Sys::kFstat, Sys::kStat, Sys::kPosixFallocate,
                Sys::kFallocate, Sys::kFtruncate, Sys::kPwrite, Sys::kPread, Sys::kFdatasync,
                Sys::kFsync, Sys::kFcntl, Sys::kMkdir, Sys::kRename, Sys::kUnlink, Sys::kRmdir}) {
    EXPECT_GT(FlakySyscalls::Interrupted(s), 0) << SysName(s);
  }
  const std::map<std::string, std::string> files = ReadTree(dir);
  ASSERT_EQ(files.size(), ref.files.size());
  for (const auto& [path, bytes] : ref.files) {
    auto it = files.find(path);
    ASSERT_NE(it, files.end()) << path;
    EXPECT_TRUE(it->second == bytes) << path << " differs from the run without interruptions";
  }
  FlakySyscalls::Reset();
}

INSTANTIATE_TEST_SUITE_P(Modes, EintrWorkloadTest,
                         ::testing::Values(Interruptions{"FirstTwoOfEachKind", 2, false, false},
                                           Interruptions{"EveryCallOnceWithShortTransfers", 1, true,
                                                         true},
                                           Interruptions{"EveryCallThreeTimes", 3, true, false}),
                         [](const auto& info) { return info.param.name; });

// EIO where the workload met EINTR: the error comes back, naming the call and the file, and
// the failed call is not retried (the fault is one-shot, so a retry would hide it).
struct EioAt {
  Sys sys;
  bool middle;  // the middle call of that kind in the workload, else the first
  friend void PrintTo(const EioAt& p, std::ostream* os) {
    *os << SysName(p.sys) << (p.middle ? " middle" : " first");
  }
};

class EioWorkloadTest : public ::testing::TestWithParam<EioAt> {};

TEST_P(EioWorkloadTest, FailsWithTheError) {
  const Reference& ref = GetReference();
  const EioAt& p = GetParam();
  const int nth = p.middle ? ref.calls[static_cast<int>(p.sys)] / 2 : 0;
  FlakySyscalls::Reset();
  FlakySyscalls::FailOnce(p.sys, nth, EIO);
  const std::string dir = TestDir();
  auto env = os::NewPosixEnv(FlakySyscalls::Table());
  absl::StatusOr<std::string> summary = RunWorkload(env.get(), dir);
  const bool fired = FlakySyscalls::Failed();
  FlakySyscalls::Reset();
  ASSERT_TRUE(fired) << SysName(p.sys) << " call " << nth << " never happened";
  // The first calls concern the store's parent directory.
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  EXPECT_THAT(summary,
              StatusIs(absl::StatusCode::kInternal, AllOf(HasSubstr(std::string(SysName(p.sys))),
                                                          HasSubstr(parent), HasSubstr("errno 5"))))
      << SysName(p.sys) << " call " << nth;
}

std::vector<EioAt> EioPoints() {
  std::vector<EioAt> points;
  for (Sys s :
       {Sys::kOpen, Sys::kFstat, Sys::kStat, Sys::kPosixFallocate, Sys::kFallocate, Sys::kFtruncate,
        Sys::kPwrite, Sys::kPread, Sys::kFdatasync, Sys::kFsync, Sys::kFcntl, Sys::kMkdir,
        Sys::kRename, Sys::kUnlink, Sys::kRmdir, Sys::kFdopendir}) {
    points.push_back({s, false});
    points.push_back({s, true});
  }
  return points;
}

INSTANTIATE_TEST_SUITE_P(Calls, EioWorkloadTest, ::testing::ValuesIn(EioPoints()),
                         [](const auto& info) {
                           return std::string(SysName(info.param.sys)) +
                                  (info.param.middle ? "_Middle" : "_First");
                         });

}  // namespace
}  // namespace recstore::faults
