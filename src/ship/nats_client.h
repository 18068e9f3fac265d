// A thin C++ face on Debian's libnats (3.4.1): a connection with its JetStream context, the
// stream calls the shipper and puller make, and libnats errors as absl::Status. Nothing here
// knows about records.
#ifndef RECSTORE_SRC_SHIP_NATS_CLIENT_H_
#define RECSTORE_SRC_SHIP_NATS_CLIENT_H_

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/ship.h"
#include "src/base/mutex.h"

namespace recstore::ship {

// JetStream API error codes the shipper tells apart.
inline constexpr int kStreamNotFound = 10059;
inline constexpr int kWrongLastMsgId = 10070;
inline constexpr int kWrongLastSequence = 10071;
inline constexpr int kNoMessageFound = 10037;

// The status for a failed libnats call: the code mapped (connection trouble Unavailable,
// not found NotFound, permissions PermissionDenied, ...), the message "<what>: <libnats
// text>[ (JetStream error <code>)]".
absl::Status NatsStatus(natsStatus s, std::string_view what, int js_code = 0);

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// A header value of `m`, or "" when absent.
std::string Header(natsMsg* m, const char* key);

struct StreamInfo {
  uint64_t msgs = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int replicas = 0;
  std::vector<std::string> subjects;
};

// The async publish callbacks; libnats calls them from its own threads.
struct PublishHandlers {
  jsPubAckHandler on_ack = nullptr;
  void* closure = nullptr;
  int64_t max_pending = 4096;
};

class NatsClient {
 public:
  // Connects (reconnecting forever once connected) and makes the JetStream context.
  // Unavailable when no server answers.
  static absl::StatusOr<std::unique_ptr<NatsClient>> Connect(const NatsConnectOptions& options,
                                                             const PublishHandlers& handlers);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  jsCtx* js() const { return js_; }
  natsConnection* nc() const { return nc_; }
  // The largest message the server accepts (its max_payload).
  int64_t max_payload() const { return natsConnection_GetMaxPayload(nc_); }
  // The first asynchronous error the server reported on the connection (a permissions
  // violation, for example); OK if none.
  absl::Status async_error() const;

  // NotFound when the stream does not exist.
  absl::StatusOr<StreamInfo> GetStream(const std::string& name) const;
  absl::Status AddStream(const std::string& name, const std::string& subject, int replicas,
                         int64_t duplicates_ns) const;
  absl::Status DeleteStream(const std::string& name) const;
  // The message at stream sequence `seq` (NotFound when there is none).
  absl::StatusOr<MsgPtr> GetMsg(const std::string& stream, uint64_t seq) const;

 private:
  NatsClient() = default;
  static void OnError(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure);

  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  int64_t wait_ms_ = 5000;
  mutable base::Mutex mu_;
  absl::Status async_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recstore::ship

#endif  // RECSTORE_SRC_SHIP_NATS_CLIENT_H_
