// Shipping while NATS nodes go away: a follower node stopped, then the stream's leader, then
// the whole cluster restarted, each in the middle of a run; the run goes on (or resumes) and
// the stream ends up with every record exactly once, in order.
#include <atomic>
#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "recstore/ship.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stream_checks.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::NatsCluster;
using ::recstore::testing::TestDir;

constexpr uint64_t kRecords = 200'000;
constexpr char kStream[] = "FAILOVER";

class ShipFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    const std::string nats_dir = TestDir("nats");
    std::filesystem::create_directories(nats_dir);
    auto c = NatsCluster::Start({.nodes = 3, .dir = nats_dir});
    ASSERT_THAT(c, IsOk());
    cluster_ = *std::move(c);
    auto store = Store::Open(dir_, {.create_if_missing = true});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    auto log = store_->OpenByteLog("events");
    ASSERT_THAT(log, IsOk());
    std::vector<std::string> batch;
    std::vector<std::string_view> views;
    for (uint64_t i = 0; i < kRecords; i += 1000) {
      batch.clear();
      for (uint64_t j = i; j < i + 1000; ++j) batch.push_back("event " + std::to_string(j));
      views.assign(batch.begin(), batch.end());
      ASSERT_THAT(log->AppendBatch(views), IsOk());
    }
    ASSERT_THAT(log->Sync(), IsOk());
  }

  // Ships in a thread; calls `disrupt` once `at` records are acknowledged; returns the
  // run's report after it ended (it must end by itself).
  absl::StatusOr<ShipReport> ShipWhile(uint64_t at, const std::function<void()>& disrupt) {
    std::atomic<uint64_t> acked{0};
    ShipOptions o{.nats = {.servers = cluster_->Urls()},
                  .stream = kStream,
                  .create_stream = true,
                  .replicas = 3};
    o.retry_for = absl::Seconds(90);
    o.max_pending = 1024;  // a smaller window: the disruption lands mid-run
    o.acked = [&](uint64_t end) { acked.store(end); };
    absl::StatusOr<ShipReport> result;
    std::thread shipper([&] { result = Ship(*store_, "events", o); });
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (acked.load() < at && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    EXPECT_GE(acked.load(), at);
    EXPECT_LT(acked.load(), kRecords) << "the run ended before the disruption";
    disrupt();
    shipper.join();
    return result;
  }

  int NodeOf(absl::StatusOr<std::string> name) {
    EXPECT_THAT(name, IsOk());
    if (!name.ok()) return 0;
    absl::StatusOr<int> i = cluster_->IndexOf(*name);
    EXPECT_THAT(i, IsOk());
    return i.ok() ? *i : 0;
  }

  std::string dir_;
  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<Store> store_;
};

TEST_F(ShipFailoverTest, AFollowerThenTheLeaderStop) {
  int follower = -1, leader = -1;
  auto r = ShipWhile(20'000, [&] {
    leader = NodeOf(cluster_->StreamLeader(kStream));
    follower = (leader + 1) % 3;
    ASSERT_THAT(cluster_->StopNode(follower), IsOk());
    absl::SleepFor(absl::Milliseconds(300));
    ASSERT_THAT(cluster_->StartNode(follower), IsOk());
    ASSERT_THAT(cluster_->WaitForHealthy(absl::Seconds(30)), IsOk());
    leader = NodeOf(cluster_->StreamLeader(kStream));
    ASSERT_THAT(cluster_->StopNode(leader), IsOk());
  });
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->position, kRecords);
  ASSERT_THAT(cluster_->StartNode(leader), IsOk());
  ASSERT_THAT(cluster_->WaitForHealthy(absl::Seconds(30)), IsOk());
  testing::ExpectShippedExactlyOnce(cluster_->Urls(), kStream, *store_, "events", dir_ + "-pulled");
}

TEST_F(ShipFailoverTest, TheWholeClusterRestarts) {
  auto r = ShipWhile(20'000, [&] { ASSERT_THAT(cluster_->RestartAll(), IsOk()); });
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->position, kRecords);
  testing::ExpectShippedExactlyOnce(cluster_->Urls(), kStream, *store_, "events", dir_ + "-pulled");
}

// A 2.9 server restarted after the duplicate window no longer knows its last message id;
// the chain is by stream sequence, which it always knows, so shipping resumes.
TEST_F(ShipFailoverTest, ResumesAfterARestartPastTheDuplicateWindow) {
  ShipOptions o{.nats = {.servers = cluster_->Urls()},
                .stream = "WINDOW",
                .create_stream = true,
                .replicas = 3,
                .duplicate_window = absl::Seconds(1)};
  o.retry_for = absl::Seconds(30);
  auto first = Ship(*store_, "events", o);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->records, kRecords);
  absl::SleepFor(absl::Milliseconds(1500));
  ASSERT_THAT(cluster_->RestartAll(), IsOk());
  auto log = store_->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  for (int i = 0; i < 100; ++i) ASSERT_THAT(log->Append("after the restart"), IsOk());
  ASSERT_THAT(log->Sync(), IsOk());
  auto second = Ship(*store_, "events", o);
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->records, 100u);
  EXPECT_EQ(second->resyncs, 0u);
  testing::ExpectShippedExactlyOnce(cluster_->Urls(), "WINDOW", *store_, "events",
                                    dir_ + "-pulled");
}

}  // namespace
}  // namespace recstore
