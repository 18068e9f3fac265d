// A real NATS JetStream cluster on loopback for tests and benchmarks: N nats-server processes
// (Debian's nats-server 2.9.10, /usr/sbin/nats-server), each with its own config file, store
// directory and log under one directory, on free 127.0.0.1 ports. Nodes can be stopped and
// started again (same config, same store) to test failover and recovery.
//
//   NatsClusterOptions options;
//   options.dir = TestDir("nats");  // tests/testing/temp_dir.h; then create it
//   absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(options);
//   natsConnection_ConnectTo(&nc, (*cluster)->Urls().c_str());
//   ...
//   (*cluster)->StopNode(*(*cluster)->IndexOf(*(*cluster)->StreamLeader("S")));
//
// Nodes are numbered 0..Count()-1; node i is the server named "n<i+1>". The servers are the
// cluster's children: they get SIGTERM when the thread that started them ends (PDEATHSIG; so
// start and restart nodes from a thread that outlives the cluster, e.g. the main thread), and
// the destructor stops every one still running. Not thread-safe: one thread drives a cluster.
//
// Timings seen with nats-server 2.9.10 on a 2-core VM: Start 0.3-0.6 s (a fresh cluster elects
// its meta leader within a second). StopNode of a stream leader: a new leader in ~50 ms (a
// server stopped with SIGTERM hands its leaderships over). KillNode of a stream leader: 5-6 s
// without a leader, publishes fail at once with "no responders". RestartAll: 5-13 s when every
// replica was current (a restarted Raft group waits its election timeout, 4-9 s, before
// electing); 15-21 s in 3 of 8 runs when one stream replica was behind at the restart.
#ifndef RECSTORE_TESTS_TESTING_NATS_CLUSTER_H_
#define RECSTORE_TESTS_TESTING_NATS_CLUSTER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recstore::testing {

struct NatsClusterOptions {
  // 1: a plain JetStream server (no cluster block); more: a cluster where every node routes to
  // every other.
  int nodes = 3;
  // Where the configs (nK.conf), stores (js-nK) and logs (nK.log) go; must exist.
  std::string dir;
  // The servers' max_payload, e.g. "8MB" (64MB at most); empty: the server default (1MB).
  std::string max_payload = "";
  // Lines added to every node's config as they are (an `authorization { ... }` block, say).
  std::string extra_config = "";
};

class NatsCluster {
 public:
  // The path of the server binary.
  static constexpr const char* kServer = "/usr/sbin/nats-server";

  // Writes the configs, starts every node and waits (up to 30 s) until every node answers on
  // its monitoring port, a meta leader is elected (clusters) and every node reports healthy
  // (GET /healthz). Ports are chosen again and the start retried if a node dies at start.
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(const NatsClusterOptions& options);

  // Stops every running node (SIGTERM; SIGKILL after 10 s).
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int Count() const { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:PORT", node i's client URL.
  std::string Url(int i) const;
  // Every node's client URL, comma separated, as natsConnection_ConnectTo takes them.
  // (natsOptions_SetURL takes one URL only; give natsOptions_SetServers the Url(i).)
  std::string Urls() const;
  // "n<i+1>", node i's server_name.
  std::string Name(int i) const;
  // The node whose server name is `name`; NotFound if none.
  absl::StatusOr<int> IndexOf(const std::string& name) const;
  // Whether node i's server process runs (started, not stopped, not exited on its own).
  bool Running(int i);
  // Node i's ports.
  int ClientPort(int i) const { return nodes_[i].client_port; }
  int MonitorPort(int i) const { return nodes_[i].http_port; }
  const std::string& Dir() const { return options_.dir; }

  // SIGTERM, then SIGKILL if it has not exited after 10 s. OK if the node was not running.
  absl::Status StopNode(int i);
  // Starts node i again with the same config and store, and waits (up to 30 s) until its
  // monitoring port answers. OK if the node already runs.
  absl::Status StartNode(int i);
  // SIGKILL: the node dies as in a crash (what it had not written to disk is lost).
  absl::Status KillNode(int i);
  absl::Status StopAll();
  // Stops every node, starts every node, and waits as Start does.
  absl::Status RestartAll();

  // The server name of the meta leader, as the running nodes report it (a node that names
  // itself leader is believed first; a named leader must be a running node). Standalone
  // (nodes = 1): the one server's name once its JetStream answers. Unavailable if none.
  absl::StatusOr<std::string> MetaLeader();
  // The server name of `stream`'s leader, from GET /jsz?accounts=true&streams=true on the
  // running nodes, believed as MetaLeader's answer is. NotFound if no running node hosts the
  // stream, Unavailable if it has no leader on a running node.
  absl::StatusOr<std::string> StreamLeader(const std::string& stream);
  // The number of messages node i's replica of `stream` holds ("state"."messages" in its
  // GET /jsz?accounts=true&streams=true). NotFound if the node hosts no such stream.
  absl::StatusOr<uint64_t> StreamMessages(int i, const std::string& stream);
  // Polls StreamLeader (every 50 ms) until it answers; DeadlineExceeded with its last error.
  absl::Status WaitForStreamLeader(const std::string& stream, absl::Duration timeout);
  // Polls (every 200 ms) until there is a meta leader whose own /jsz lists every other running
  // node as a current replica, and every running node's GET /healthz answers {"status":"ok"}
  // (which a node says only once each stream replica it hosts is current; a replica may still
  // lack the last committed entry for about a second: poll StreamMessages for exact counts).
  absl::Status WaitForHealthy(absl::Duration timeout);

  // GET `path` (e.g. "/jsz") from node i's monitoring port over HTTP/1.0; the body if the
  // status is 200, Unavailable if the node does not answer within `timeout`, Internal with
  // the status line and body otherwise.
  absl::StatusOr<std::string> HttpGet(int i, const std::string& path,
                                      absl::Duration timeout = absl::Seconds(2)) const;

 private:
  struct Node {
    int client_port = 0;
    int cluster_port = 0;
    int http_port = 0;
    std::string config;  // the config file's path
    std::string log;     // where its stdout and stderr go (appended)
    pid_t pid = -1;      // the running server, or -1
  };

  explicit NatsCluster(const NatsClusterOptions& options) : options_(options) {}
  absl::Status PickPortsAndWriteConfigs();
  absl::Status Spawn(int i);
  // Spawns every node that does not run and waits as Start describes.
  absl::Status StartAllAndWait(absl::Time deadline);
  // Sends `signal` to the running nodes in `which`, waits for them (SIGKILL after 10 s).
  absl::Status Signal(const std::vector<int>& which, int signal);
  // Waits until node i answers on its monitoring port; FailedPrecondition (with the log's
  // tail) if its process exits first.
  absl::Status WaitForMonitor(int i, absl::Time deadline);
  std::string LogTail(int i) const;

  NatsClusterOptions options_;
  std::vector<Node> nodes_;
};

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_NATS_CLUSTER_H_
