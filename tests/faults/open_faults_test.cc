// Faults while opening a store and recovering its collections: listing a folder, opening,
// reading or mapping the manifest, the lock or a segment, and the recovery's own writes
// (zeroing the tail, flushing, removing a stale file). Each open returns the error, naming the
// call and the file, and leaves every file as it was; an open without the fault then
// recovers every record.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/faults/checks.h"
#include "tests/faults/workload.h"
#include "tests/testing/child.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/open_store.h"
#include "tests/testing/records.h"
#include "tests/testing/state_page.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::FaultEnv;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::RunInChild;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::recstore::testing::Trade;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint64_t kPer = (kSegment - 4096) / 40;  // 1536 Trade slots per segment
constexpr uint64_t kTradesSynced = 2 * kPer + 100;
constexpr uint64_t kTrades = kTradesSynced + 200;
constexpr uint64_t kEventsSynced = 120;
constexpr uint64_t kEvents = 150;
constexpr char kNewestTrades[] = "00000000000000003072.seg";

// A writer that syncs part of what it appends and dies: recovery has a tail to scan, a stale
// segment .tmp to remove, commit blocks to write.
void CrashedWriter(const std::string& dir) {
  const int rc = RunInChild([&](auto crash) {
    auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
    if (!store.ok()) return 10;
    auto trades = (*store)->OpenLog<Trade>("trades");
    auto events = (*store)->OpenByteLog("events");
    if (!trades.ok() || !events.ok()) return 11;
    for (uint64_t i = 0; i < kTrades; ++i) {
      if (!trades->Append(MakeTrade(i)).ok()) return 12;
      if (i + 1 == kTradesSynced && !trades->Sync().ok()) return 13;
    }
    for (uint64_t i = 0; i < kEvents; ++i) {
      if (!events->Append(ByteRecord(i)).ok()) return 14;
      if (i + 1 == kEventsSynced && !events->Sync().ok()) return 15;
    }
    std::ofstream(CollectionDir(dir, 1, "trades") + "/00000000000000004608.seg.tmp") << "torn";
    crash(0);
    return 1;
  });
  ASSERT_EQ(rc, 0);
}

// Every file but LOCK (whose content is the pid of the last writer), the state pages (hints
// that every writer open rewrites) and stale *.tmp files (which recovery removes first of all).
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files = ReadTree(dir);
  files.erase("LOCK");
  std::erase_if(files, [](const auto& f) { return ::recstore::testing::IsStatePage(f.first); });
  std::erase_if(files, [](const auto& f) { return f.first.ends_with(".tmp"); });
  return files;
}

struct OpenFault {
  const char* name;
  const char* collection;  // the collection opened after the store ("": none)
  const char* op;
  int err;
  std::string path_part;  // "newest events": the last segment of events, found at run time
  absl::StatusCode code;
  friend void PrintTo(const OpenFault& f, std::ostream* os) { *os << f.name; }
};

class OpenFaultTest : public ::testing::TestWithParam<OpenFault> {};

TEST_P(OpenFaultTest, OpenFailsAndChangesNothing) {
  const OpenFault& f = GetParam();
  const std::string dir = TestDir();
  CrashedWriter(dir);
  std::string part = f.path_part;
  if (part == "newest events") part = FilesIn(CollectionDir(dir, 2, "events")).back();
  const std::map<std::string, std::string> before = Files(dir);

  FaultEnv env;
  env.Fail(f.op, f.err, 0, part);
  absl::Status s = [&]() -> absl::Status {
    RECSTORE_ASSIGN_OR_RETURN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
    if (f.collection == std::string("trades")) return store->OpenLog<Trade>("trades").status();
    if (f.collection == std::string("events")) return store->OpenByteLog("events").status();
    return absl::OkStatus();
  }();
  ASSERT_GT(env.Failures(), 0) << "the fault never fired";
  EXPECT_THAT(s, StatusIs(f.code, AllOf(HasSubstr(f.op), HasSubstr(dir), HasSubstr(part))));
  const std::map<std::string, std::string> after = Files(dir);
  EXPECT_EQ(after.size(), before.size());
  for (const auto& [path, bytes] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      ADD_FAILURE() << path << " was removed";
    } else if (it->second != bytes) {
      ADD_FAILURE() << path << " was changed";
    }
  }

  // Without the fault, everything the writer published is there (the page cache kept it).
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  ASSERT_OK_AND_ASSIGN(auto events, store->OpenByteLog("events"));
  EXPECT_EQ(trades.size(), kTrades);
  EXPECT_TRUE(TradesIntact(trades, kTrades));
  EXPECT_EQ(events.size(), kEvents);
  EXPECT_TRUE(BytesIntact(events, kEvents));
}

// Verify() reads one snapshot of segments mapped when they joined the collection: it opens no
// file, so a file that cannot be opened any more (or was removed) does not change its report.
TEST(VerifyFaultTest, VerifyReadsTheMappingsNotTheFiles) {
  const std::string dir = TestDir();
  CrashedWriter(dir);
  FaultEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, ::recstore::testing::OpenStore(&env, dir, {}));
  ASSERT_OK_AND_ASSIGN(auto trades, store->OpenLog<Trade>("trades"));
  env.Fail("Open", EIO);
  const int opens = env.Calls("Open");
  ASSERT_OK_AND_ASSIGN(VerifyReport report, trades.Verify());
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.records_checked, kTrades);
  EXPECT_EQ(env.Calls("Open"), opens);
}

// A newest segment whose header is zeros is damage, not a torn creation (a segment is named
// only once its header is durable): the open refuses, naming it, and removes nothing.
TEST(TornSegmentTest, NewestSegmentWithAZeroedHeaderFailsTheOpenAndStays) {
  const std::string dir = TestDir();
  CrashedWriter(dir);
  const std::string torn = CollectionDir(dir, 1, "trades") + "/00000000000000004608.seg";
  std::ofstream(torn) << std::string(8192, '\0');
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  EXPECT_THAT(store->OpenLog<Trade>("trades"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(torn)));
  EXPECT_TRUE(std::filesystem::exists(torn));
}

using absl::StatusCode;

INSTANTIATE_TEST_SUITE_P(
    Points, OpenFaultTest,
    ::testing::Values(
        OpenFault{"StoreExistsEio", "", "Exists", EIO, "store", StatusCode::kInternal},
        OpenFault{"LockOpenEmfile", "", "Open", EMFILE, "LOCK", StatusCode::kResourceExhausted},
        OpenFault{"LockEnolck", "", "Lock", ENOLCK, "LOCK", StatusCode::kInternal},
        OpenFault{"ManifestOpenEio", "", "Open", EIO, "MANIFEST", StatusCode::kInternal},
        OpenFault{"ManifestReadEio", "", "PRead", EIO, "MANIFEST", StatusCode::kInternal},
        OpenFault{"StoreListDirEio", "", "ListDir", EIO, "store", StatusCode::kInternal},
        OpenFault{"CollectionListDirEnomem", "trades", "ListDir", ENOMEM, "-trades",
                  StatusCode::kResourceExhausted},
        OpenFault{"StaleTmpRemoveEio", "trades", "Remove", EIO, ".tmp", StatusCode::kInternal},
        OpenFault{"SegmentOpenEmfile", "trades", "Open", EMFILE, kNewestTrades,
                  StatusCode::kResourceExhausted},
        OpenFault{"SegmentOpenEio", "trades", "Open", EIO, kNewestTrades, StatusCode::kInternal},
        OpenFault{"SegmentHeaderReadEio", "trades", "PRead", EIO, kNewestTrades,
                  StatusCode::kInternal},
        OpenFault{"SegmentMapEnomem", "trades", "Map", ENOMEM, kNewestTrades,
                  StatusCode::kResourceExhausted},
        OpenFault{"SegmentMapEio", "trades", "Map", EIO, kNewestTrades, StatusCode::kInternal},
        OpenFault{"ByteSegmentOpenEio", "events", "Open", EIO, "newest events",
                  StatusCode::kInternal},
        OpenFault{"ByteSegmentSizeEio", "events", "FileSize", EIO, "newest events",
                  StatusCode::kInternal},
        OpenFault{"ByteSegmentMapEnomem", "events", "Map", ENOMEM, "newest events",
                  StatusCode::kResourceExhausted},
        OpenFault{"TailZeroEnospc", "trades", "ZeroRange", ENOSPC, kNewestTrades,
                  StatusCode::kResourceExhausted},
        OpenFault{"RecoveryFlushEio", "trades", "SyncData", EIO, kNewestTrades,
                  StatusCode::kInternal},
        OpenFault{"RecoveryDirFlushEio", "trades", "SyncDir", EIO, "-trades",
                  StatusCode::kInternal}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace recstore::faults
