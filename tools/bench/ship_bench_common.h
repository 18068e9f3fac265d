// ship_bench's shared parts (tools/bench/ship_bench.cc): the records, the store's collections
// and their in-memory copy, and a libnats connection with a JetStream context.
#ifndef RECSTORE_TOOLS_BENCH_SHIP_BENCH_COMMON_H_
#define RECSTORE_TOOLS_BENCH_SHIP_BENCH_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nats/nats.h"
#include "recstore/recstore.h"

namespace ship_bench {

// The 64-byte fixed record.
struct ShipRec64 {
  uint64_t seq;
  int64_t time_ns;
  char text[48];
};
RECSTORE_RECORD(ShipRec64, seq, time_ns, text);
static_assert(sizeof(ShipRec64) == 64, "ShipRec64 must be exactly 64 bytes");

inline constexpr size_t kBytesRecord = 1024;
inline constexpr int kMaxPending = 4096;  // ShipOptions::max_pending's default
inline constexpr int64_t kStallWaitMs = 100;
inline constexpr int64_t kDuplicateWindowNs = int64_t{120} * 1'000'000'000;  // ShipOptions's 2 min

// A line on stderr with the time of day.
void Progress(const std::string& s);

// Record i of the fixed collection (and of the lag's writer).
ShipRec64 MakeRec64(uint64_t i);

// One kind's records, in memory (the ceiling's payloads) and in the store's collection.
struct Kind {
  std::string label;       // "64 B", "1 KiB"
  std::string collection;  // in the store
  uint64_t n = 0;
  size_t record_size = 0;
  std::string payloads;  // n * record_size bytes
  std::string_view payload(uint64_t i) const {
    return std::string_view(payloads).substr(i * record_size, record_size);
  }
};

// Appends k.n records to k.collection (Log<ShipRec64> when `fixed`, else a ByteLog of
// kBytesRecord-byte records), syncs, and keeps their bytes in k.payloads.
absl::Status Fill(recstore::Store& store, Kind& k, bool fixed);

// OK for NATS_OK, else Unavailable naming `what`, libnats' last error and the JetStream code.
absl::Status Nats(natsStatus s, const std::string& what,
                  jsErrCode code = static_cast<jsErrCode>(0));

// A connection and its JetStream context with Ship()'s publish window; `on_ack` (may be null)
// gets every asynchronous publish's acknowledgement.
class Conn {
 public:
  static absl::StatusOr<std::unique_ptr<Conn>> Open(const std::string& urls,
                                                    jsPubAckHandler on_ack = nullptr,
                                                    void* closure = nullptr);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  jsCtx* js() const { return js_; }

  // File storage, `replicas`, the 2-minute de-duplication window Ship() creates streams with.
  absl::Status AddStream(const std::string& name, const std::string& subject, int replicas);
  absl::Status DeleteStream(const std::string& name);
  // The stream's message count.
  absl::StatusOr<uint64_t> StreamMsgs(const std::string& name);

 private:
  Conn() = default;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace ship_bench

#endif  // RECSTORE_TOOLS_BENCH_SHIP_BENCH_COMMON_H_
