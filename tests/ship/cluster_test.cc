// A three-node JetStream cluster of real nats-server processes (tests/testing/nats_cluster.h)
// and the libnats calls shipping relies on: an R3 stream keeps every acknowledged message,
// exactly once per Nats-Msg-Id, through the loss of its leader and a restart of every node.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/nats_cluster.h"
#include "tests/testing/temp_dir.h"

namespace recstore::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kStream = "SHIP";

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What the asynchronous publishes' acknowledgments said (called on libnats' thread).
struct AckCounts {
  std::atomic<int> stored{0};
  std::atomic<int> duplicates{0};
  std::mutex mu;
  std::map<std::string, int> errors;  // "status/jetstream code: text" -> count

  static void Handler(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<AckCounts*>(closure);
    if (pa != nullptr) {
      (pa->Duplicate ? self->duplicates : self->stored)++;
    } else if (pae != nullptr) {
      std::lock_guard<std::mutex> lock(self->mu);
      self->errors[absl::StrCat(natsStatus_GetText(pae->Err), "/", pae->ErrCode, ": ",
                                pae->ErrText != nullptr ? pae->ErrText : "")]++;
    }
    natsMsg_Destroy(msg);
  }
  int ErrorCount() {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const auto& [text, count] : errors) n += count;
    return n;
  }
  std::string Errors() {
    std::lock_guard<std::mutex> lock(mu);
    std::string s;
    for (const auto& [text, count] : errors) absl::StrAppend(&s, count, " x ", text, "; ");
    return s;
  }
};

// The stream's message count, asked until it answers or `timeout` passes (the connection may
// be reconnecting); -1 with the last error printed if it never does.
int64_t StreamMsgs(jsCtx* js, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&si, js, kStream, nullptr, &jerr);
    if (s == NATS_OK) {
      const int64_t msgs = static_cast<int64_t>(si->State.Msgs);
      jsStreamInfo_Destroy(si);
      return msgs;
    }
    if (absl::Now() >= deadline) {
      ADD_FAILURE() << "js_GetStreamInfo: " << natsStatus_GetText(s) << " (" << jerr << ")";
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A synchronous publish with message id `id`, repeated until acknowledged or `timeout`
// passes; the ack's Duplicate flag, or nullopt. `failures` collects what the failures said.
std::optional<bool> PublishUntilAcked(jsCtx* js, const std::string& id, absl::Duration timeout,
                                      std::map<std::string, int>* failures) {
  const absl::Time deadline = absl::Now() + timeout;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  while (true) {
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const std::string data = "record " + id;
    const natsStatus s =
        js_Publish(&pa, js, "ship.records", data.data(), static_cast<int>(data.size()), &po, &jerr);
    if (s == NATS_OK) {
      const bool duplicate = pa->Duplicate;
      jsPubAck_Destroy(pa);
      return duplicate;
    }
    (*failures)[absl::StrCat(natsStatus_GetText(s), "/", jerr)]++;
    if (absl::Now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Polls until every node's replica of the stream holds `expected` messages (a replica applies
// the leader's last entries when it learns they are committed, with the next append or
// heartbeat: it can be one message behind for a second after /healthz calls it current).
// Empty if they all do within `timeout`; else what each node said last.
std::string ReplicasDiffer(NatsCluster& cluster, uint64_t expected, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string differ;
    for (int i = 0; i < cluster.Count(); ++i) {
      absl::StatusOr<uint64_t> n = cluster.StreamMessages(i, kStream);
      if (!n.ok() || *n != expected) {
        absl::StrAppend(&differ, cluster.Name(i), ": ",
                        n.ok() ? absl::StrCat(*n) : n.status().ToString(), "; ");
      }
    }
    if (differ.empty() || absl::Now() >= deadline) return differ;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string Describe(const std::map<std::string, int>& failures) {
  std::string s;
  for (const auto& [text, count] : failures) absl::StrAppend(&s, count, " x ", text, "; ");
  return s.empty() ? "none" : s;
}

TEST(NatsClusterTest, R3StreamKeepsEveryMessageOnceThroughLeaderLossAndRestart) {
  const Clock::time_point test_start = Clock::now();
  NatsClusterOptions options;
  options.dir = TestDir("nats");
  std::filesystem::create_directories(options.dir);
  absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  NatsCluster& cluster = **started;
  ASSERT_EQ(cluster.Count(), 3);
  std::printf("cluster started in %.2f s: %s\n", SecondsSince(test_start), cluster.Urls().c_str());

  // Reconnects quickly and for ever: every node restarts below.
  natsOptions* opts = nullptr;
  ASSERT_EQ(natsOptions_Create(&opts), NATS_OK);
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts_owner(opts, natsOptions_Destroy);
  std::vector<std::string> urls;
  std::vector<const char*> servers;
  for (int i = 0; i < cluster.Count(); ++i) urls.push_back(cluster.Url(i));
  for (const std::string& url : urls) servers.push_back(url.c_str());
  ASSERT_EQ(natsOptions_SetServers(opts, servers.data(), cluster.Count()), NATS_OK);
  ASSERT_EQ(natsOptions_SetMaxReconnect(opts, -1), NATS_OK);
  ASSERT_EQ(natsOptions_SetReconnectWait(opts, 100), NATS_OK);
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_Connect(&nc, opts), NATS_OK) << nats_GetLastError(nullptr);
  std::unique_ptr<natsConnection, void (*)(natsConnection*)> nc_owner(nc, natsConnection_Destroy);

  AckCounts acks;
  jsOptions jso;
  jsOptions_Init(&jso);
  jso.Wait = 2000;  // API requests and synchronous publishes
  jso.PublishAsync.AckHandler = &AckCounts::Handler;
  jso.PublishAsync.AckHandlerClosure = &acks;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, &jso), NATS_OK);
  std::unique_ptr<jsCtx, void (*)(jsCtx*)> js_owner(js, jsCtx_Destroy);

  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = kStream;
  const char* subjects[] = {"ship.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Replicas = 3;
  cfg.Duplicates = absl::ToInt64Nanoseconds(absl::Minutes(2));
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, &jerr), NATS_OK) << "code " << jerr;
  ASSERT_EQ(si->Config->Replicas, 3);
  jsStreamInfo_Destroy(si);
  ASSERT_TRUE(cluster.WaitForStreamLeader(kStream, absl::Seconds(10)).ok());

  // 1000 asynchronous publishes, each with its own message id.
  Clock::time_point phase = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    const std::string id = absl::StrCat("id-", i);
    const std::string data = "record " + id;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    ASSERT_EQ(js_PublishAsync(js, "ship.records", data.data(), static_cast<int>(data.size()), &po),
              NATS_OK);
  }
  jsPubOptions complete;
  jsPubOptions_Init(&complete);
  complete.MaxWait = 10000;
  ASSERT_EQ(js_PublishAsyncComplete(js, &complete), NATS_OK);
  EXPECT_EQ(acks.stored.load(), 1000) << acks.Errors();
  EXPECT_EQ(acks.duplicates.load(), 0);
  EXPECT_EQ(acks.ErrorCount(), 0) << acks.Errors();
  EXPECT_EQ(StreamMsgs(js), 1000);
  std::printf("1000 async publishes acknowledged in %.2f s\n", SecondsSince(phase));

  // The same id again: acknowledged as a duplicate, not stored.
  std::map<std::string, int> failures;
  EXPECT_EQ(PublishUntilAcked(js, "id-500", absl::Seconds(5), &failures), std::optional(true))
      << Describe(failures);
  EXPECT_EQ(StreamMsgs(js), 1000);

  // The stream leader goes away; the other two elect a new one and take 100 more.
  absl::StatusOr<std::string> old_leader = cluster.StreamLeader(kStream);
  ASSERT_TRUE(old_leader.ok()) << old_leader.status();
  absl::StatusOr<int> old_index = cluster.IndexOf(*old_leader);
  ASSERT_TRUE(old_index.ok());
  phase = Clock::now();
  ASSERT_TRUE(cluster.StopNode(*old_index).ok());
  std::printf("stopped stream leader %s in %.2f s\n", old_leader->c_str(), SecondsSince(phase));

  // What asynchronous publishes see while the stream has no leader (reported, not checked:
  // these ids are published again below, and the stream must hold each once).
  phase = Clock::now();
  for (int i = 1000; i < 1005; ++i) {
    const std::string id = absl::StrCat("id-", i);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = 2000;
    const natsStatus s =
        js_PublishAsync(js, "ship.records", id.data(), static_cast<int>(id.size()), &po);
    std::printf("js_PublishAsync during the election: %s\n", natsStatus_GetText(s));
  }
  const natsStatus complete_status = js_PublishAsyncComplete(js, &complete);
  std::printf("during the election, after %.2f s: complete %s, %d stored, errors: %s\n",
              SecondsSince(phase), natsStatus_GetText(complete_status), acks.stored.load() - 1000,
              acks.Errors().c_str());

  phase = Clock::now();
  ASSERT_TRUE(cluster.WaitForStreamLeader(kStream, absl::Seconds(15)).ok());
  absl::StatusOr<std::string> new_leader = cluster.StreamLeader(kStream);
  ASSERT_TRUE(new_leader.ok()) << new_leader.status();
  EXPECT_NE(*new_leader, *old_leader);
  std::printf("new stream leader %s after %.2f s\n", new_leader->c_str(), SecondsSince(phase));

  phase = Clock::now();
  failures.clear();
  for (int i = 1000; i < 1100; ++i) {
    const std::string id = absl::StrCat("id-", i);
    ASSERT_TRUE(PublishUntilAcked(js, id, absl::Seconds(10), &failures).has_value())
        << id << ": " << Describe(failures);
  }
  EXPECT_EQ(StreamMsgs(js), 1100);
  std::printf("100 publishes to the new leader in %.2f s; failures: %s\n", SecondsSince(phase),
              Describe(failures).c_str());

  // The old leader comes back and catches up from the new one.
  phase = Clock::now();
  ASSERT_TRUE(cluster.StartNode(*old_index).ok());
  const absl::Status healthy = cluster.WaitForHealthy(absl::Seconds(20));
  ASSERT_TRUE(healthy.ok()) << healthy;
  EXPECT_EQ(ReplicasDiffer(cluster, 1100, absl::Seconds(10)), "");
  std::printf("old leader back and caught up in %.2f s\n", SecondsSince(phase));

  // Every node restarts from its store: nothing is lost or doubled, on any replica.
  phase = Clock::now();
  const absl::Status restarted = cluster.RestartAll();
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_TRUE(cluster.WaitForStreamLeader(kStream, absl::Seconds(15)).ok());
  EXPECT_EQ(StreamMsgs(js), 1100);
  EXPECT_EQ(ReplicasDiffer(cluster, 1100, absl::Seconds(10)), "");
  std::printf("restarted all and checked in %.2f s; test took %.2f s\n", SecondsSince(phase),
              SecondsSince(test_start));
}

// nodes = 1: a plain JetStream server (no cluster block), with the max_payload asked for.
TEST(NatsClusterTest, StandaloneServer) {
  NatsClusterOptions options;
  options.nodes = 1;
  options.dir = TestDir("nats");
  options.max_payload = "2MB";
  std::filesystem::create_directories(options.dir);
  absl::StatusOr<std::unique_ptr<NatsCluster>> started = NatsCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  NatsCluster& server = **started;
  ASSERT_EQ(server.Count(), 1);
  EXPECT_EQ(server.Urls(), server.Url(0));
  EXPECT_EQ(server.MetaLeader().value_or("none"), "n1");
  absl::StatusOr<std::string> varz = server.HttpGet(0, "/varz");
  ASSERT_TRUE(varz.ok()) << varz.status();
  EXPECT_NE(varz->find("\"max_payload\": 2097152"), std::string::npos) << *varz;
  EXPECT_NE(varz->find("\"cluster\": {}"), std::string::npos) << *varz;  // no cluster
  EXPECT_TRUE(absl::IsNotFound(server.StreamLeader("NONE").status()));
  EXPECT_FALSE(server.HttpGet(0, "/no-such-page").ok());

  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server.Urls().c_str()), NATS_OK);
  std::unique_ptr<natsConnection, void (*)(natsConnection*)> nc_owner(nc, natsConnection_Destroy);
  EXPECT_EQ(natsConnection_GetMaxPayload(nc), 2 * 1024 * 1024);

  ASSERT_TRUE(server.StopNode(0).ok());
  EXPECT_FALSE(server.Running(0));
  EXPECT_FALSE(server.MetaLeader().ok());
  ASSERT_TRUE(server.StartNode(0).ok());
  EXPECT_TRUE(server.Running(0));
  EXPECT_TRUE(server.WaitForHealthy(absl::Seconds(10)).ok());
}

}  // namespace
}  // namespace recstore::testing
