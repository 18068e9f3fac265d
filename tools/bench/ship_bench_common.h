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
#include "src/ship/nats_client.h"

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
// The window stall wait is the shipper client's (100 ms, src/ship/nats_client.cc).
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

// The bench talks to NATS through the shipper's own client (src/ship/nats_client.h).
using Conn = recstore::ship::NatsClient;
using recstore::ship::NatsStatus;

// A connection with Ship()'s publish window; `on_ack` (may be null) gets every asynchronous
// publish's acknowledgement.
absl::StatusOr<std::unique_ptr<Conn>> OpenConn(const std::string& urls,
                                               jsPubAckHandler on_ack = nullptr,
                                               void* closure = nullptr);

// The stream's message count.
absl::StatusOr<uint64_t> StreamMsgs(const Conn& c, const std::string& name);

}  // namespace ship_bench

#endif  // RECSTORE_TOOLS_BENCH_SHIP_BENCH_COMMON_H_
