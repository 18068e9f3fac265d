// MappedStruct in one process (and simple forked children): snapshots and the first open's
// restore, exclusive and shared opens, read-only copies, damaged slots and files, and schema
// checks. The many-process counters are in struct_process_test.cc.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "src/base/endian.h"
#include "src/format/mapped_file.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/child.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/mapped_records.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::testing::AllOf;
using testing::Counters;
using testing::CountersRenamed;
using ::testing::HasSubstr;
using testing::StatusIs;

using Struct = MappedStruct<Counters>;

const format::StructLayout kLayout = format::StructLayoutFor(sizeof(Counters));

// Creates the struct file (snapshot 1, zeroed) and syncs twice: snapshot 2 holds
// requests - 1, snapshot 3 (the newest) requests and host "host-a".
void Make(const std::string& path, uint64_t requests) {
  auto c = Struct::Open(path, {.create_if_missing = true});
  ASSERT_OK(c.status());
  c->mutable_get()->requests = requests - 1;
  ASSERT_OK(c->Sync());
  c->mutable_get()->requests = requests;
  std::strcpy(c->mutable_get()->host, "host-a");
  ASSERT_OK(c->Sync());
  ASSERT_EQ(c->sync_count(), 3u);
}

// The newest snapshot's slot: the one with the larger seq.
int NewestSlot(const std::string& path) {
  const std::string bytes = testing::ReadFileBytes(path);
  const uint64_t a = base::DecodeFixed<uint64_t>(bytes.data() + kLayout.slot[0]);
  const uint64_t b = base::DecodeFixed<uint64_t>(bytes.data() + kLayout.slot[1]);
  return a > b ? 0 : 1;
}

TEST(Struct, CreateSyncReopen) {
  const std::string path = testing::TestDir("c.rss");
  {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path, {.create_if_missing = true}));
    EXPECT_EQ(c.path(), path);
    EXPECT_FALSE(c.read_only());
    EXPECT_EQ(c->requests, 0u);
    EXPECT_EQ(c.get().host[0], '\0');
    EXPECT_EQ(c.sync_count(), 1u);
    c.Atomic(&Counters::requests).fetch_add(41);
    c.Atomic(&Counters::requests).fetch_add(1);
    c.mutable_get()->errors = 7;
    std::strcpy(c.mutable_get()->host, "example");
    EXPECT_EQ(c.Load().requests, 42u);
    ASSERT_OK(c.Sync());
    EXPECT_EQ(c.sync_count(), 2u);
  }
  EXPECT_EQ(std::filesystem::file_size(path), kLayout.file_size);
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_EQ(c->requests, 42u);
  EXPECT_EQ(c->errors, 7u);
  EXPECT_STREQ(c->host, "example");
  EXPECT_EQ(c.sync_count(), 2u);
}

TEST(Struct, CreateIfMissingOpensAnExistingFile) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  for (bool shared : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path, {.create_if_missing = true, .shared = shared}));
    EXPECT_EQ(c->requests, 10u);
    EXPECT_EQ(c.sync_count(), 3u);
  }
}

TEST(Struct, UnsyncedChangesDroppedAtTheNextFirstOpen) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
    c.Set({99, 99, "unsynced"});
  }
  {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path, {.shared = true}));
    EXPECT_EQ(c->requests, 10u);
    EXPECT_STREQ(c->host, "host-a");
    c.Atomic(&Counters::requests).fetch_add(5);
    // A second opener while the first is open shares the live struct, synced or not.
    ASSERT_OK_AND_ASSIGN(auto d, Struct::Open(path, {.shared = true}));
    EXPECT_EQ(d->requests, 15u);
    d.Atomic(&Counters::errors).fetch_add(1);
    EXPECT_EQ(c->errors, 1u);
  }
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_EQ(c->requests, 10u);
  EXPECT_EQ(c->errors, 0u);
  EXPECT_EQ(c.sync_count(), 3u);
}

TEST(Struct, ExclusiveOpenRefusesEveryOtherOpener) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path)));
  EXPECT_THAT(Struct::Open(path, {.create_if_missing = true}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Struct::Open(path, {.shared = true}), StatusIs(absl::StatusCode::kUnavailable));
  // Readers take no lock.
  ASSERT_OK_AND_ASSIGN(auto r, Struct::Open(path, {.read_only = true}));
  EXPECT_EQ(r->requests, 10u);
  const int child = testing::RunInChild([&](void (*)(int)) {
    if (!absl::IsUnavailable(Struct::Open(path).status())) return 1;
    if (!absl::IsUnavailable(Struct::Open(path, {.shared = true}).status())) return 2;
    auto rr = Struct::Open(path, {.read_only = true});
    if (!rr.ok() || rr->get().requests != 10) return 3;
    return 0;
  });
  EXPECT_EQ(child, 0);
}

TEST(Struct, SharedOpensCoexistAndKeepExclusiveOut) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  {
    ASSERT_OK_AND_ASSIGN(auto a, Struct::Open(path, {.shared = true}));
    ASSERT_OK_AND_ASSIGN(auto b, Struct::Open(path, {.shared = true}));
    EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path)));
    a.Atomic(&Counters::requests).fetch_add(1);
    // Another process maps the same live struct.
    testing::ChildProcess child([&](testing::ChildProcess::Side& parent) {
      if (!absl::IsUnavailable(Struct::Open(path).status())) return 1;
      auto c = Struct::Open(path, {.shared = true});
      if (!c.ok()) return 2;
      parent.Report(std::to_string(c->get().requests));
      c->Atomic(&Counters::requests).fetch_add(100);
      if (!c->Sync().ok()) return 3;
      parent.Report("synced");
      return parent.Await() == 'q' ? 0 : 4;
    });
    EXPECT_EQ(child.ReadLine(), "11");
    EXPECT_EQ(child.ReadLine(), "synced");
    EXPECT_EQ(b->requests, 111u);
    EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kUnavailable));
    child.Send('q');
    EXPECT_EQ(child.Wait(), 0);
    EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kUnavailable));
  }
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_EQ(c->requests, 111u);  // the child's sync
}

TEST(Struct, ReadOnlyShowsTheNewestSnapshot) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  ASSERT_OK_AND_ASSIGN(auto w, Struct::Open(path, {.shared = true}));
  w.Atomic(&Counters::requests).fetch_add(5);  // live, not yet a snapshot
  ASSERT_OK_AND_ASSIGN(auto r, Struct::Open(path, {.read_only = true}));
  EXPECT_TRUE(r.read_only());
  EXPECT_EQ(r->requests, 10u);
  EXPECT_EQ(r.sync_count(), 3u);
  ASSERT_OK(w.Sync());
  EXPECT_EQ(r->requests, 10u);  // a copy, until Refresh
  ASSERT_OK(r.Refresh());
  EXPECT_EQ(r->requests, 15u);
  EXPECT_EQ(r.sync_count(), 4u);
  // Its private copy: stores stay there and vanish at Refresh.
  r.mutable_get()->requests = 1000;
  EXPECT_EQ(w->requests, 15u);
  EXPECT_THAT(r.Sync(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
  ASSERT_OK(r.Refresh());
  EXPECT_EQ(r->requests, 15u);
  EXPECT_THAT(w.Refresh(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(Struct, DamagedNewestSlotFallsBackToTheOlder) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));  // newest: 10 (seq 3); older: 9 (seq 2)
  const int newest = NewestSlot(path);
  for (uint64_t at : {uint64_t{0}, uint64_t{8}, uint64_t{16}, uint64_t{16 + 40}}) {
    SCOPED_TRACE(at);  // its seq, its checksum, the payload's requests, the payload's host
    testing::FlipFileByte(path, kLayout.slot[newest] + at);
    {
      ASSERT_OK_AND_ASSIGN(auto r, Struct::Open(path, {.read_only = true}));
      EXPECT_EQ(r->requests, 9u);
      EXPECT_EQ(r.sync_count(), 2u);
    }
    {
      ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
      EXPECT_EQ(c->requests, 9u);
      EXPECT_EQ(c.sync_count(), 2u);
    }
    testing::FlipFileByte(path, kLayout.slot[newest] + at);  // repaired
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
    EXPECT_EQ(c->requests, 10u);
  }
  // The next sync goes to the damaged slot, never over the valid one.
  testing::FlipFileByte(path, kLayout.slot[newest] + 20);
  {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
    c.mutable_get()->requests = 50;
    ASSERT_OK(c.Sync());
    EXPECT_EQ(c.sync_count(), 3u);
  }
  EXPECT_EQ(NewestSlot(path), newest);
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_EQ(c->requests, 50u);
}

TEST(Struct, BothSlotsDamagedIsDataLoss) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  testing::FlipFileByte(path, kLayout.slot[0] + 20);
  testing::FlipFileByte(path, kLayout.slot[1] + 20);
  const std::string before = testing::ReadFileBytes(path);
  const auto loss = StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path));
  EXPECT_THAT(Struct::Open(path), loss);
  EXPECT_THAT(Struct::Open(path, {.shared = true}), loss);
  EXPECT_THAT(Struct::Open(path, {.read_only = true}), loss);
  EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
}

TEST(Struct, WrongFileSizeIsDataLoss) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  for (uint64_t size : {kLayout.file_size + 1, kLayout.file_size - 4096, uint64_t{4096}}) {
    SCOPED_TRACE(size);
    std::filesystem::resize_file(path, size);
    const std::string before = testing::ReadFileBytes(path);
    EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
    EXPECT_THAT(Struct::Open(path, {.read_only = true}),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
    EXPECT_TRUE(testing::ReadFileBytes(path) == before) << "the file changed";
  }
}

TEST(Struct, DamagedHeaderIsDataLoss) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  testing::FlipFileByte(path, 60);  // inside the schema
  EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  EXPECT_THAT(Struct::Open(path, {.read_only = true}), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(Struct, RefusedFiles) {
  const std::string dir = testing::TestDir("d");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/c.rss";
  EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(Struct::Open(path, {.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_FALSE(std::filesystem::exists(path));

  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  const auto schema =
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr(path), HasSubstr("'errors'"), HasSubstr("'failures'")));
  EXPECT_THAT(MappedStruct<CountersRenamed>::Open(path), schema);
  EXPECT_THAT(MappedStruct<CountersRenamed>::Open(path, {.shared = true}), schema);
  EXPECT_THAT(MappedStruct<CountersRenamed>::Open(path, {.read_only = true}), schema);

  // A newer format version (with a valid checksum).
  std::string bytes = testing::ReadFileBytes(path);
  base::EncodeFixed<uint32_t>(bytes.data() + 8, format::kMappedFormatVersion + 1);
  testing::FixMappedHeaderChecksum(bytes.data());
  testing::WriteFileBytes(path, bytes);
  EXPECT_THAT(Struct::Open(path), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           AllOf(HasSubstr(path), HasSubstr("version"))));
  EXPECT_THAT(Struct::Open(path, {.read_only = true}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(testing::ReadFileBytes(path) == bytes) << "the file changed";

  const std::string vec = dir + "/v.rsv";
  {
    ASSERT_OK_AND_ASSIGN(auto v, MappedVector<Counters>::Open(vec, {.create_if_missing = true}));
    ASSERT_OK(v.push_back({}));
    ASSERT_OK(v.Sync());
  }
  EXPECT_THAT(Struct::Open(vec), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          AllOf(HasSubstr(vec), HasSubstr("vector"))));
  EXPECT_THAT(Struct::Open(vec, {.read_only = true}),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  const std::string text = dir + "/t.txt";
  testing::WriteFileBytes(text, std::string(3 * 4096, 'x'));
  EXPECT_THAT(Struct::Open(text), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(text)));
  EXPECT_THAT(Struct::Open(text, {.create_if_missing = true, .shared = true}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(testing::ReadFileBytes(text), std::string(3 * 4096, 'x'));
}

// A failed snapshot write leaves the previous snapshot; the next Sync succeeds.
TEST(Struct, SyncFailureKeepsThePreviousSnapshot) {
  const std::string path = testing::TestDir("c.rss");
  ASSERT_NO_FATAL_FAILURE(Make(path, 10));
  testing::FaultEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path, {.env = &env}));
    c.mutable_get()->requests = 11;
    // A failed write leaves the snapshot in force; the next sync may try again.
    env.Fail("PWrite", EIO);
    EXPECT_THAT(c.Sync(), StatusIs(absl::StatusCode::kInternal, HasSubstr(path)));
    EXPECT_EQ(c.sync_count(), 3u);
    env.Clear();
    c.mutable_get()->requests = 12;
    ASSERT_OK(c.Sync());
    EXPECT_EQ(c.sync_count(), 4u);
    // A failed flush is final for this open: the kernel may have dropped the page.
    c.mutable_get()->requests = 13;
    env.Fail("SyncData", ENOSPC);
    EXPECT_THAT(c.Sync(), StatusIs(absl::StatusCode::kResourceExhausted));
    env.Clear();
    EXPECT_THAT(c.Sync(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("earlier sync failed to flush")));
  }
  // The reopen shows the last acknowledged snapshot, or the one whose flush failed (its slot
  // may have reached the disk): never anything else.
  ASSERT_OK_AND_ASSIGN(auto c, Struct::Open(path));
  EXPECT_TRUE(c->requests == 12u || c->requests == 13u) << c->requests;
}

// Structs of a size that is not a multiple of 8, and larger than a page.
struct Odd {
  uint8_t a;
  char b[4];
};
RECSTORE_RECORD(Odd, a, b);
struct Large {
  uint64_t n;
  char data[9000];
};
RECSTORE_RECORD(Large, n, data);

TEST(Struct, OddAndLargeSizes) {
  const std::string odd = testing::TestDir("odd.rss");
  {
    ASSERT_OK_AND_ASSIGN(auto c, MappedStruct<Odd>::Open(odd, {.create_if_missing = true}));
    c.Set({7, {'a', 'b', 'c', 'd'}});
    EXPECT_EQ(c.Load().b[3], 'd');
    ASSERT_OK(c.Sync());
  }
  EXPECT_EQ(std::filesystem::file_size(odd), format::StructLayoutFor(sizeof(Odd)).file_size);
  {
    ASSERT_OK_AND_ASSIGN(auto c, MappedStruct<Odd>::Open(odd));
    EXPECT_EQ(c->a, 7);
    EXPECT_EQ(c->b[3], 'd');
  }
  const std::string large = testing::TestDir("large.rss");
  const format::StructLayout layout = format::StructLayoutFor(sizeof(Large));
  {
    ASSERT_OK_AND_ASSIGN(auto c, MappedStruct<Large>::Open(large, {.create_if_missing = true}));
    c.mutable_get()->n = 1;
    c.mutable_get()->data[8999] = 'x';
    ASSERT_OK(c.Sync());  // seq 2
    c.mutable_get()->n = 2;
    c.mutable_get()->data[8999] = 'y';
    ASSERT_OK(c.Sync());  // seq 3
  }
  EXPECT_EQ(std::filesystem::file_size(large), layout.file_size);
  {
    ASSERT_OK_AND_ASSIGN(auto c, MappedStruct<Large>::Open(large));
    EXPECT_EQ(c->n, 2u);
    EXPECT_EQ(c->data[8999], 'y');
  }
  // Damage the end of the newest slot's payload: the older slot is whole.
  const std::string bytes = testing::ReadFileBytes(large);
  const int newest = base::DecodeFixed<uint64_t>(bytes.data() + layout.slot[0]) >
                             base::DecodeFixed<uint64_t>(bytes.data() + layout.slot[1])
                         ? 0
                         : 1;
  testing::FlipFileByte(large, layout.slot[newest] + format::kSlotHeaderSize + 9007);
  ASSERT_OK_AND_ASSIGN(auto c, MappedStruct<Large>::Open(large));
  EXPECT_EQ(c->n, 1u);
  EXPECT_EQ(c->data[8999], 'x');
}

// Two openers racing to create the file: the one that finds the file before its creator has
// locked and written it does not read the empty file. With `shared` both succeed; exclusive,
// the creator wins and the other is refused as for any exclusive opener.
void RaceTheCreator(bool shared) {
  const std::string path = testing::TestDir(shared ? "shared.rss" : "exclusive.rss");
  testing::FaultEnv creator_env;
  std::atomic<int> creator_paused{0};
  std::atomic<bool> release{false};
  creator_env.BeforeEachCall([&](std::string_view op, const std::string&) {
    if (op != "Lock" || creator_paused.exchange(1) != 0) return;
    // Paused between creating the file and locking it, until the other opener went ahead.
    for (int i = 0; i < 2000 && !release.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  absl::Status creator_status;
  std::thread creator([&] {
    auto c = Struct::Open(path, {.create_if_missing = true, .shared = shared, .env = &creator_env});
    creator_status = c.status();
  });
  while (creator_paused.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  testing::FaultEnv opener_env;
  opener_env.BeforeEachCall([&](std::string_view op, const std::string&) {
    if (op == "PRead" || op == "FileSize") release = true;  // past its lock: let the creator go
  });
  auto opener = Struct::Open(path, {.shared = shared, .env = &opener_env});
  release = true;
  creator.join();
  EXPECT_OK(creator_status);
  if (shared) {
    ASSERT_OK(opener.status());
    EXPECT_EQ(opener->sync_count(), 1u);
  } else {
    EXPECT_THAT(opener, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(path)));
  }
}

TEST(Struct, SharedOpenerWaitsForTheCreator) { RaceTheCreator(/*shared=*/true); }
TEST(Struct, ExclusiveOpenerLosesToTheCreator) { RaceTheCreator(/*shared=*/false); }

}  // namespace
}  // namespace recstore
