// `recstore ship` killed with SIGKILL at random moments while a writer keeps appending, then
// run to the end: the stream holds every record exactly once, in order. Then `ship --follow`
// ended by SIGINT commits its position and exits 0.
//
// Kills: RECSTORE_SHIP_KILLS (default 6, as CI runs it); the long run is
//   ./bazelw test //tests/ship:ship_kill_test --test_env=RECSTORE_SHIP_KILLS=25
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stream_checks.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tool_process.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::NatsCluster;
using ::recstore::testing::TestDir;
using ::recstore::testing::ToolProcess;
using ::recstore::testing::ToolUnderTest;

constexpr uint64_t kPerRound = 20'000;
constexpr char kStream[] = "KILLS";

int Kills() {
  const char* env = std::getenv("RECSTORE_SHIP_KILLS");
  return env != nullptr ? std::max(1, std::atoi(env)) : 6;
}

void AppendRound(const ByteLog& log, uint64_t round) {
  std::vector<std::string> batch;
  for (uint64_t i = 0; i < kPerRound; ++i) {
    batch.push_back("round " + std::to_string(round) + " record " + std::to_string(i) +
                    std::string(i % 97, '.'));
  }
  std::vector<std::string_view> views(batch.begin(), batch.end());
  ASSERT_THAT(log.AppendBatch(views), IsOk());
  ASSERT_THAT(log.Sync(), IsOk());
}

TEST(ShipKillTest, KilledShippersLeaveEveryRecordExactlyOnce) {
  const std::string dir = TestDir();
  const std::string nats_dir = TestDir("nats");
  std::filesystem::create_directories(nats_dir);
  auto cluster = NatsCluster::Start({.nodes = 3, .dir = nats_dir});
  ASSERT_THAT(cluster, IsOk());
  const std::string urls = (*cluster)->Urls();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  const std::vector<std::string> ship = {
      "ship",       dir, "events",        "--server", urls, "--stream", kStream, "--create-stream",
      "--replicas", "3", "--max-pending", "1024"};
  std::mt19937_64 rng(std::random_device{}());
  const int kills = Kills();
  int killed_mid_run = 0;
  for (int round = 0; round < kills; ++round) {
    AppendRound(*log, static_cast<uint64_t>(round));
    ToolProcess p(ToolUnderTest(), ship);
    ASSERT_TRUE(p.started());
    absl::SleepFor(absl::Milliseconds(100 + rng() % 1200));
    p.Signal(SIGKILL);
    const std::optional<int> status = p.Finish(std::chrono::seconds(20));
    ASSERT_TRUE(status.has_value());
    if (*status == 128 + SIGKILL) ++killed_mid_run;
    // Whatever the moment, the stream never holds more than the records, nor a duplicate:
    // the final check below proves the order; here the count.
    EXPECT_LE(testing::StreamMessages(urls, kStream), log->end());
  }
  EXPECT_GE(killed_mid_run, kills / 2) << "most kills must land while shipping";
  ToolProcess last(ToolUnderTest(), ship);
  const std::optional<int> status = last.Finish(std::chrono::seconds(120));
  ASSERT_EQ(status, 0) << last.err();
  testing::ExpectShippedExactlyOnce(urls, kStream, **store, "events", dir + "-pulled");
  auto cursors = (*store)->ListCursors("events");
  ASSERT_THAT(cursors, IsOk());
  ASSERT_EQ(cursors->size(), 1u);
  EXPECT_EQ((*cursors)[0].position, log->end());

  // --follow until SIGINT: ships the new round, then commits and exits 0 on the signal.
  AppendRound(*log, static_cast<uint64_t>(kills));
  std::vector<std::string> follow = ship;
  follow.push_back("--follow");
  ToolProcess f(ToolUnderTest(), follow);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (testing::StreamMessages(urls, kStream) < log->end() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  f.Signal(SIGINT);
  ASSERT_EQ(f.Finish(std::chrono::seconds(30)), 0) << f.err();
  EXPECT_NE(f.out().find("shipped"), std::string::npos) << f.out();
  cursors = (*store)->ListCursors("events");
  ASSERT_THAT(cursors, IsOk());
  EXPECT_EQ((*cursors)[0].position, log->end());
  testing::ExpectShippedExactlyOnce(urls, kStream, **store, "events", dir + "-pulled");
}

// A store at `dir` whose byte log "events" holds one durable record.
void MakeStoreWithOneRecord(const std::string& dir) {
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT(log->Append("one"), IsOk());
  ASSERT_THAT(log->Sync(), IsOk());
}

// Errors of `recstore ship` and `recstore pull` are one line on stderr and exit status 2.
TEST(ShipCliTest, ErrorsAreOneLineAndExitTwo) {
  const std::string dir = TestDir();
  const std::string nats_dir = TestDir("nats");
  std::filesystem::create_directories(nats_dir);
  auto server = NatsCluster::Start({.nodes = 1, .dir = nats_dir});
  ASSERT_THAT(server, IsOk());
  ASSERT_NO_FATAL_FAILURE(MakeStoreWithOneRecord(dir));
  const std::string url = (*server)->Url(0);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"ship", dir, "events", "--server", "nats://127.0.0.1:1", "--stream", "S"},
       "recstore: ship: cannot connect to nats://127.0.0.1:1"},
      {{"ship", dir, "events", "--server", url, "--stream", "MISSING"},
       "recstore: ship: stream MISSING does not exist"},
      {{"ship", dir, "events", "--stream", "S"}, "recstore: ship: --server"},
      {{"ship", dir, "events", "--server", url}, "recstore: ship: --stream"},
      {{"ship", dir, "nope", "--server", url, "--stream", "S"}, "recstore: ship: "},
      {{"ship", dir, "events", "--server", url, "--stream", "S", "--replicas", "9"},
       "recstore: ship: --replicas must be 1 to 5"},
      {{"pull", "--server", url, "--stream", "MISSING", dir + "-copy", "events"},
       "recstore: pull: stream MISSING"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.says);
    ToolProcess p(ToolUnderTest(), c.args);
    ASSERT_EQ(p.Finish(std::chrono::seconds(30)), 2) << p.err();
    EXPECT_EQ(p.err().rfind(c.says, 0), 0u) << p.err();
    EXPECT_EQ(std::count(p.err().begin(), p.err().end(), '\n'), 1) << p.err();
    EXPECT_EQ(p.out(), "");
  }
}

// A user the server does not let publish on the subject: the shipper stops with one line
// naming the permissions violation, and nothing is acknowledged locally.
TEST(ShipCliTest, APublishPermissionViolationIsOneLineAndExitTwo) {
  const std::string dir = TestDir();
  const std::string nats_dir = TestDir("nats");
  std::filesystem::create_directories(nats_dir);
  auto server = NatsCluster::Start(
      {.nodes = 1,
       .dir = nats_dir,
       .extra_config = "authorization {\n  users = [\n"
                       "    {user: admin, password: a, permissions: {publish: \">\", "
                       "subscribe: \">\"}}\n"
                       "    {user: shipper, password: s, permissions: {publish: {deny: "
                       "\"recstore.>\"}, subscribe: \">\"}}\n  ]\n}"});
  ASSERT_THAT(server, IsOk());
  ASSERT_NO_FATAL_FAILURE(MakeStoreWithOneRecord(dir));
  const int port = (*server)->ClientPort(0);
  const std::string admin = "nats://admin:a@127.0.0.1:" + std::to_string(port);
  const std::string shipper = "nats://shipper:s@127.0.0.1:" + std::to_string(port);
  {
    ToolProcess create(ToolUnderTest(), {"ship", dir, "events", "--server", admin, "--stream", "S",
                                         "--create-stream"});
    ASSERT_EQ(create.Finish(std::chrono::seconds(30)), 0) << create.err();
  }
  auto store = Store::Open(dir);
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT(log->Append("two"), IsOk());
  ASSERT_THAT(log->Sync(), IsOk());
  ToolProcess p(ToolUnderTest(),
                {"ship", dir, "events", "--server", shipper, "--stream", "S", "--retry-for", "5"});
  ASSERT_EQ(p.Finish(std::chrono::seconds(60)), 2) << p.err();
  // Progress lines ("ship: ..."), then the one error line.
  const size_t error_at = p.err().find("recstore: ship: ");
  ASSERT_NE(error_at, std::string::npos) << p.err();
  EXPECT_TRUE(error_at == 0 || p.err()[error_at - 1] == '\n') << p.err();
  EXPECT_EQ(p.err().find('\n', error_at), p.err().size() - 1) << p.err();
  EXPECT_NE(p.err().find("Permissions Violation", error_at), std::string::npos) << p.err();
  EXPECT_EQ(testing::StreamMessages(admin, "S"), 1u);
  auto cursors = (*store)->ListCursors("events");
  ASSERT_THAT(cursors, IsOk());
  EXPECT_EQ((*cursors)[0].position, 1u);
}

}  // namespace
}  // namespace recstore

int main(int argc, char** argv) { return recstore::testing::ToolTestMain(argc, argv); }
