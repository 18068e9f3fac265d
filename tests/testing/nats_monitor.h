// Reading a nats-server's monitoring endpoint (its `http:` port) for tests/testing/nats_cluster:
// an HTTP/1.0 GET over loopback with a deadline, and a small JSON reader that turns the whole
// answer into a tree to walk by key (not a validator; numbers are kept as they are spelled).
#ifndef RECSTORE_TESTS_TESTING_NATS_MONITOR_H_
#define RECSTORE_TESTS_TESTING_NATS_MONITOR_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recstore::testing::nats_monitor {

// What nats-server 2.9.10 answers (seen on a 3-node cluster on loopback; abridged):
//
// GET /jsz, once a meta leader is elected ("leader" is absent before; a standalone server
// has no "meta_cluster" at all; "replicas" lists the other nodes, seen from this one):
//   {"server_id": "NAHU...", "now": "...", "config": {"max_memory": ..., "store_dir": ...},
//    "memory": 0, "storage": 0, ..., "streams": 0, "consumers": 0, "messages": 0,
//    "meta_cluster": {"name": "C1", "leader": "n1", "peer": "fjFyEjc1",
//                     "replicas": [{"name": "n2", "current": true, "active": 1166555,
//                                   "peer": "44jzkV9D"}, {"name": "n3", ...}],
//                     "cluster_size": 3}}
//
// GET /jsz?accounts=true&streams=true adds, on every node hosting a replica of the stream
// (standalone: "cluster" is only {"leader": "n1"}):
//   "account_details": [{"name": "$G", "id": "$G", ...,
//     "stream_detail": [{"name": "S1", "created": "...",
//        "cluster": {"name": "C1", "leader": "n1",
//                    "replicas": [{"name": "n2", "current": true, "active": ..., "lag": 2,
//                                  "peer": "..."}, ...]},
//        "state": {"messages": 1, "bytes": 36, "first_seq": 1, "last_seq": 1, ...}}]}]
//
// GET /healthz: 200 {"status":"ok"}; 503 {"status":"unavailable","error":"JetStream has not
// established contact with a meta leader"} (or a stream or consumer that is not current).
// "current" is not "has everything": a replica back from a stop was seen reporting 1,099 of
// 1,100 messages for ~1 s after /healthz said ok (it applies the leader's last entry when the
// next append or heartbeat tells it the entry is committed).

// GET `path` from 127.0.0.1:`port` over HTTP/1.0 (the server closes after the answer). The
// body if the status is 200; Unavailable if there is no answer within `timeout` (refused,
// timed out); Internal with the status line and body for another status.
absl::StatusOr<std::string> LoopbackHttpGet(int port, const std::string& path,
                                            absl::Duration timeout);

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = kNull;
  std::string text;  // a string's value; a number's or a literal's spelling
  std::vector<std::pair<std::string, Json>> members;
  std::vector<Json> items;

  const Json* Get(std::string_view key) const {
    if (kind != kObject) return nullptr;
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  // The string at `key`; nullopt if there is none.
  std::optional<std::string> Str(std::string_view key) const {
    const Json* v = Get(key);
    if (v == nullptr || v->kind != kString) return std::nullopt;
    return v->text;
  }
  bool True(std::string_view key) const {
    const Json* v = Get(key);
    return v != nullptr && v->kind == kBool && v->text == "true";
  }
};

// Parses `text` (one JSON value, nesting at most 64 deep) into `out`; false if it is not JSON.
bool ParseJson(std::string_view text, Json* out);

}  // namespace recstore::testing::nats_monitor

#endif  // RECSTORE_TESTS_TESTING_NATS_MONITOR_H_
