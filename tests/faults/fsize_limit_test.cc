// A file-size limit (RLIMIT_FSIZE) hit mid-run, in a child process: segments are allocated
// in full before they are mapped, so a segment past the limit is an EFBIG error from the
// append (or the collection open) that needed it, never a SIGBUS from a store through the
// mapping; the log goes on below the limit, and the parent finds every synced record.
//
// What a user must do: the kernel also sends SIGXFSZ to a process that exceeds its limit,
// and SIGXFSZ kills by default. A process that runs under RLIMIT_FSIZE must ignore SIGXFSZ
// (signal(SIGXFSZ, SIG_IGN)) to get the error instead; otherwise the limit acts as a crash
// at segment creation (shown below), after which a reopen recovers as from any crash.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/faults/checks.h"
#include "tests/testing/child.h"
#include "tests/testing/records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::RunInChild;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr rlim_t kLimit = 256 << 10;  // above the 64 KiB segments, below the big ones
constexpr uint64_t kSynced = 200;     // about 200 KB of byte records: four segments
constexpr uint64_t kBig = 300 << 10;  // needs a segment of its own, above the limit
constexpr uint64_t kWideSegment = 1 << 20;

// Exit codes of the child, one per check.
enum Exit {
  kOk = 0,
  kOpenFailed = 10,
  kAppendFailed,
  kBigAppendSucceeded,
  kWrongError,
  kAppendAfterFailed,
  kWideOpenSucceeded,
  kWideWrongError,
};

// Limits the child's files to kLimit bytes and makes no core dump.
void LimitFileSize(bool ignore_sigxfsz) {
  const rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  if (ignore_sigxfsz) std::signal(SIGXFSZ, SIG_IGN);
  const rlimit fsize = {kLimit, kLimit};
  setrlimit(RLIMIT_FSIZE, &fsize);
}

bool IsEfbig(const absl::Status& s) {
  std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
  return s.code() == absl::StatusCode::kResourceExhausted &&
         s.message().find("errno 27") != std::string::npos &&
         s.message().find(".seg") != std::string::npos;
}

// In the child: syncs kSynced byte records under the limit, then needs a segment above it.
int Writer(const std::string& dir, bool ignore_sigxfsz, void (*crash)(int)) {
  LimitFileSize(ignore_sigxfsz);
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
  if (!store.ok()) return kOpenFailed;
  auto events = (*store)->OpenByteLog("events");
  if (!events.ok()) return kOpenFailed;
  for (uint64_t i = 0; i < kSynced; ++i) {
    if (!events->Append(ByteRecord(i)).ok()) return kAppendFailed;
    if ((i + 1) % 20 == 0 && !events->Sync().ok()) return kAppendFailed;
  }
  const absl::Status big = events->Append(std::string(kBig, 'b')).status();
  if (big.ok()) return kBigAppendSucceeded;
  if (!IsEfbig(big)) return kWrongError;
  // Below the limit, the same handle goes on.
  if (!events->Append(ByteRecord(kSynced)).ok() || !events->Sync().ok()) {
    return kAppendAfterFailed;
  }
  // A collection whose very first segment is above the limit.
  const absl::Status wide =
      (*store)->OpenLog<Trade>("wide", {.segment_size = kWideSegment}).status();
  if (wide.ok()) return kWideOpenSucceeded;
  if (!IsEfbig(wide)) return kWideWrongError;
  crash(kOk);  // no close: only what was synced counts
  return kOk;
}

TEST(FileSizeLimitTest, EfbigIsAnErrorAndTheSyncedRecordsSurvive) {
  const std::string dir = TestDir();
  const int rc = RunInChild([&](auto crash) { return Writer(dir, true, crash); });
  ASSERT_EQ(rc, kOk) << "child exit code (128 + signal if killed)";
  // The failed creations left no temporary file.
  for (const char* coll : {"000001-events", "000002-wide"}) {
    for (const std::string& name : FilesIn(dir + "/" + coll)) {
      EXPECT_FALSE(name.ends_with(".tmp")) << coll << "/" << name;
    }
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_EQ(events.size(), kSynced + 1);
  EXPECT_TRUE(BytesIntact(events, kSynced + 1));
  // Without the limit, the big record and the collection that could not start now fit.
  ASSERT_OK(events.Append(std::string(kBig, 'b')).status());
  ASSERT_OK_AND_ASSIGN(auto wide, store->OpenLog<Trade>("wide"));
  EXPECT_EQ(wide.size(), 0u);
  ASSERT_OK(wide.Append(testing::MakeTrade(0)).status());
  ASSERT_OK(wide.Sync().status());
}

TEST(FileSizeLimitTest, UnhandledSigxfszKillsTheWriterLikeACrash) {
  const std::string dir = TestDir();
  const int rc = RunInChild([&](auto crash) { return Writer(dir, false, crash); });
  EXPECT_EQ(rc, 128 + SIGXFSZ) << "the default action of SIGXFSZ ends the process";
  // Killed while creating the segment: its temporary file is left, and the next writer open
  // removes it.
  bool tmp = false;
  for (const std::string& name : FilesIn(dir + "/000001-events")) tmp |= name.ends_with(".tmp");
  EXPECT_TRUE(tmp);
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_EQ(events.size(), kSynced);
  EXPECT_TRUE(BytesIntact(events, kSynced));
  for (const std::string& name : FilesIn(dir + "/000001-events")) {
    EXPECT_FALSE(name.ends_with(".tmp")) << name;
  }
}

}  // namespace
}  // namespace recstore::faults
