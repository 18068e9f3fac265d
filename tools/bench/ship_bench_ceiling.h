// ship_bench's throughput runs (tools/bench/ship_bench.cc): the ceiling, a plain
// js_PublishMsgAsync loop of the messages Ship() builds, and one Ship() of the same records.
#ifndef RECSTORE_TOOLS_BENCH_SHIP_BENCH_CEILING_H_
#define RECSTORE_TOOLS_BENCH_SHIP_BENCH_CEILING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"
#include "tools/bench/ship_bench_common.h"

namespace ship_bench {

// What every message of a shipped collection carries besides its record and sequence number
// (docs/format.md section 11), as src/ship/shipper.cc sets it.
struct MessageShape {
  std::string subject;     // recstore.<collection>
  std::string store_id;    // Nats-Msg-Id: <store id>/<collection>/<seq>
  std::string collection;  //
  std::string kind;        // Recstore-Kind
  std::string schema;      // Recstore-Schema ("" for byte records: no such header)
};
absl::StatusOr<MessageShape> ShapeOf(recstore::Store& store, const Kind& k);

// Ships k's collection into a scratch stream, then checks that the stream's first two
// messages are the ones the ceiling builds: subject, payload, and every header, name and
// value. Returns the header bytes of message 2 as the wire carries them.
absl::StatusOr<size_t> WarmUpAndCheck(recstore::Store& store, const Kind& k,
                                      const MessageShape& shape, const std::string& urls,
                                      int replicas, Conn& admin);

struct RunResult {
  uint64_t records = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double setup_ms = 0;  // ceiling: connect + js_AddStream (not in `seconds`)
  double cpu_us = 0;    // this process's CPU time (every thread: libnats' too) per record
  double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
  double mbps() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
};

// The ceiling: k's records from memory as Ship()'s messages into a fresh `stream`, deleted
// afterwards (its message count checked first).
absl::StatusOr<RunResult> Ceiling(const Kind& k, const MessageShape& shape, const std::string& urls,
                                  int replicas, const std::string& stream, Conn& admin);

// Ship() of k's collection into a fresh `stream` (create_stream), deleted afterwards with the
// shipper's cursor.
absl::StatusOr<RunResult> ShipRun(recstore::Store& store, const Kind& k, const std::string& urls,
                                  int replicas, const std::string& stream, Conn& admin);

}  // namespace ship_bench

#endif  // RECSTORE_TOOLS_BENCH_SHIP_BENCH_CEILING_H_
