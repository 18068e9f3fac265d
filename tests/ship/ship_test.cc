// Shipping against a real three-node JetStream cluster on loopback: a million records and
// back, re-runs that ship and pull nothing, follow mode beside a writer, and the errors.
#include "recstore/ship.h"

#include <atomic>
#include <cstring>
#include <thread>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/stream_checks.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::NatsCluster;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::HasSubstr;

struct Rec64 {
  uint64_t seq;
  int64_t time_ns;
  char text[48];
};
RECSTORE_RECORD(Rec64, seq, time_ns, text);
static_assert(sizeof(Rec64) == 64);

Rec64 Make(uint64_t i) {
  Rec64 r{};
  r.seq = i;
  r.time_ns = static_cast<int64_t>(i * 7919);
  std::snprintf(r.text, sizeof(r.text), "record %llu", static_cast<unsigned long long>(i));
  return r;
}

class ShipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/nats";
    std::filesystem::create_directories(dir);
    auto c = NatsCluster::Start({.nodes = 3, .dir = dir});
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }

  static std::string Servers() { return cluster_->Urls(); }
  ShipOptions Options(const std::string& stream) {
    return {.nats = {.servers = Servers()}, .stream = stream, .create_stream = true, .replicas = 3};
  }

  static NatsCluster* cluster_;
};
NatsCluster* ShipTest::cluster_ = nullptr;

void AppendFixed(const Log<Rec64>& log, uint64_t from, uint64_t n) {
  std::vector<Rec64> batch;
  for (uint64_t i = from; i < from + n; i += batch.size()) {
    batch.clear();
    for (uint64_t j = i; j < std::min(from + n, i + 10000); ++j) batch.push_back(Make(j));
    ASSERT_THAT(log.AppendBatch(batch), IsOk());
  }
  ASSERT_THAT(log.Sync(), IsOk());
}

TEST_F(ShipTest, AMillionRecordsGoOutAndComeBackByteForByte) {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenLog<Rec64>("trades");
  ASSERT_THAT(log, IsOk());
  constexpr uint64_t kRecords = 1'000'000;
  AppendFixed(*log, 0, kRecords);
  auto shipped = Ship(**store, "trades", Options("TRADES"));
  ASSERT_THAT(shipped, IsOk());
  EXPECT_EQ(shipped->records, kRecords);
  EXPECT_EQ(shipped->bytes, kRecords * sizeof(Rec64));
  EXPECT_EQ(shipped->position, kRecords);
  auto cursor = (*store)->ListCursors("trades");
  ASSERT_THAT(cursor, IsOk());
  ASSERT_EQ(cursor->size(), 1u);
  EXPECT_EQ((*cursor)[0].name, "ship.TRADES");
  EXPECT_EQ((*cursor)[0].position, kRecords);
  testing::ExpectShippedExactlyOnce(Servers(), "TRADES", **store, "trades", dir + "-pulled");

  // Re-runs: shipping again sends nothing; pulling again appends nothing.
  auto again = Ship(**store, "trades", Options("TRADES"));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->records, 0u);
  {
    auto copy = Store::Open(dir + "-pulled");
    ASSERT_THAT(copy, IsOk());
    auto pulled = Pull(**copy, "trades", {.nats = {.servers = Servers()}, .stream = "TRADES"});
    ASSERT_THAT(pulled, IsOk());
    EXPECT_EQ(pulled->records, 0u);
  }
  // More records: only they are shipped, and a re-run pull appends only them.
  AppendFixed(*log, kRecords, 1000);
  again = Ship(**store, "trades", Options("TRADES"));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->records, 1000u);
  auto copy = Store::Open(dir + "-pulled");
  ASSERT_THAT(copy, IsOk());
  auto pulled = Pull(**copy, "trades", {.nats = {.servers = Servers()}, .stream = "TRADES"});
  ASSERT_THAT(pulled, IsOk());
  EXPECT_EQ(pulled->records, 1000u);
  testing::ExpectSameRecords(**store, **copy, "trades");
  EXPECT_EQ(testing::StreamMessages(Servers(), "TRADES"), kRecords + 1000);
}

TEST_F(ShipTest, FollowShipsWhatAWriterAppendsMeanwhile) {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("events");
  ASSERT_THAT(log, IsOk());
  constexpr uint64_t kRecords = 30000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked{0};
  ShipOptions o = Options("EVENTS");
  o.follow = true;
  o.stop = &stop;
  o.acked = [&](uint64_t end) { acked.store(end); };
  absl::StatusOr<ShipReport> shipped;
  std::thread shipper([&] {
    // A read-only store of its own, as a shipper process beside the writer would have.
    auto reader = Store::Open(dir, {.read_only = true});
    ASSERT_THAT(reader, IsOk());
    shipped = Ship(**reader, "events", o);
  });
  for (uint64_t i = 0; i < kRecords; ++i) {
    std::string rec(1 + i % 300, static_cast<char>('a' + i % 26));
    rec += std::to_string(i);
    ASSERT_THAT(log->Append(rec), IsOk());
    if (i % 100 == 99) {
      ASSERT_THAT(log->Sync(), IsOk());
    }
  }
  ASSERT_THAT(log->Sync(), IsOk());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (acked.load() < kRecords && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  stop.store(true);
  shipper.join();
  ASSERT_THAT(shipped, IsOk());
  EXPECT_EQ(acked.load(), kRecords);
  EXPECT_EQ(shipped->records, kRecords);
  testing::ExpectShippedExactlyOnce(Servers(), "EVENTS", **store, "events", dir + "-pulled");
}

TEST_F(ShipTest, ErrorsAreOneClearLineAndAcknowledgeNothing) {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenByteLog("big");
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT(log->Append("small"), IsOk());
  ASSERT_THAT(log->Append(std::string(2 << 20, 'x')), IsOk());  // over the 1 MB max_payload
  ASSERT_THAT(log->Sync(), IsOk());

  ShipOptions missing = Options("NOPE");
  missing.create_stream = false;
  EXPECT_THAT(Ship(**store, "big", missing),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("stream NOPE does not exist")));

  EXPECT_THAT(Ship(**store, "big", Options("BIG")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("max_payload")));
  EXPECT_EQ(testing::StreamMessages(Servers(), "BIG"), 1u);
  auto cursors = (*store)->ListCursors("big");
  ASSERT_THAT(cursors, IsOk());
  ASSERT_EQ(cursors->size(), 1u);
  EXPECT_LE((*cursors)[0].position, 1u);  // never past what the stream holds

  // Another collection into the same stream is refused, naming the stream's last message.
  auto other = (*store)->OpenByteLog("other");
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT(other->Append("x"), IsOk());
  ASSERT_THAT(other->Sync(), IsOk());
  ShipOptions same_stream = Options("BIG");
  same_stream.subject = "recstore.big";
  EXPECT_THAT(Ship(**store, "other", same_stream),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("receives the records of one shipped collection")));
  EXPECT_EQ(testing::StreamMessages(Servers(), "BIG"), 1u);

  // A foreign message in the stream (another publisher) stops the next run before it
  // publishes anything.
  {
    auto c = ship::NatsClient::Connect({.servers = Servers()}, {});
    ASSERT_THAT(c, IsOk());
    jsPubAck* pa = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_Publish(&pa, (*c)->js(), "recstore.big", "intruder", 8, nullptr, &code), NATS_OK);
    jsPubAck_Destroy(pa);
  }
  EXPECT_THAT(Ship(**store, "big", Options("BIG")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not a record of collection 'big'")));
  EXPECT_EQ(testing::StreamMessages(Servers(), "BIG"), 2u);

  // No server there.
  ShipOptions down = Options("X");
  down.nats.servers = "nats://127.0.0.1:1";
  EXPECT_THAT(Ship(**store, "other", down),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot connect")));

  // Bad options and a missing collection.
  ShipOptions bad = Options("X");
  bad.replicas = 7;
  EXPECT_THAT(Ship(**store, "other", bad), StatusIs(absl::StatusCode::kInvalidArgument));
  bad = Options("X");
  bad.subject = "a..b";
  EXPECT_THAT(Ship(**store, "other", bad), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Ship(**store, "nope", Options("X")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ShipTest, PullRefusesAnotherSchemaAndAGap) {
  const std::string dir = TestDir();
  auto store = Store::Open(dir, {.create_if_missing = true});
  ASSERT_THAT(store, IsOk());
  auto log = (*store)->OpenLog<Rec64>("ticks");
  ASSERT_THAT(log, IsOk());
  AppendFixed(*log, 0, 100);
  ASSERT_THAT(Ship(**store, "ticks", Options("TICKS")), IsOk());
  // A byte log of the same name cannot take fixed records.
  auto other = Store::Open(dir + "-other", {.create_if_missing = true});
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->OpenByteLog("ticks"), IsOk());
  EXPECT_THAT(Pull(**other, "ticks", {.nats = {.servers = Servers()}, .stream = "TICKS"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A collection that already holds different records under the same numbers.
  auto diverged = Store::Open(dir + "-diverged", {.create_if_missing = true});
  ASSERT_THAT(diverged, IsOk());
  auto d = (*diverged)->OpenLog<Rec64>("ticks");
  ASSERT_THAT(d, IsOk());
  Rec64 wrong = Make(0);
  wrong.time_ns = -1;
  ASSERT_THAT(d->Append(wrong), IsOk());
  EXPECT_THAT(Pull(**diverged, "ticks", {.nats = {.servers = Servers()}, .stream = "TICKS"}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("differs")));
  // A read-only store cannot be pulled into.
  auto ro = Store::Open(dir, {.read_only = true});
  ASSERT_THAT(ro, IsOk());
  EXPECT_THAT(Pull(**ro, "ticks", {.nats = {.servers = Servers()}, .stream = "TICKS"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace recstore
