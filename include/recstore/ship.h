// Shipping a collection into a NATS JetStream stream, exactly once and in order, and pulling
// it back into a store. Link //src/ship:nats (it links Debian's libnats; the core library
// //src:recstore does not).
//
//   ASSIGN_OR_RETURN(auto store, recstore::Store::Open("data", {.read_only = true}));
//   ASSIGN_OR_RETURN(recstore::ShipReport r,
//                    recstore::Ship(*store, "events", {.servers = "nats://10.0.0.5:4222",
//                                                      .stream = "EVENTS"}));
//
// Messages (docs/format.md section 11): one per record, on `subject`, the record's bytes as
// the payload, with the headers
//   Nats-Msg-Id: <store id>/<collection>/<seq>   (Store::id(); JetStream de-duplicates)
//   Nats-Expected-Last-Sequence: <the stream sequence of the message before this one>
//   Recstore-Kind: fixed | bytes
//   Recstore-Schema: the schema in the manifest's encoding, base64 (fixed records only)
// so a consumer in any language decodes any message on its own.
//
// Exactly once, in order (docs/design.md section 13): every message names the stream
// sequence it must follow, so JetStream stores a message only right after its predecessor:
// a lost or failed publish can never leave a gap with later records stored behind it, and
// a second publisher writing into the same stream is refused (JetStream error 10071). (The
// chain uses the stream's sequence, not Nats-Expected-Last-Msg-Id: a 2.9 server restarted
// after the duplicate window has passed no longer knows its last message id and would
// refuse every publish.) After any failure (the shipper killed,
// the store's machine restarted, a NATS node or the whole cluster down) the shipper reads
// the stream's last message, resumes right after the record it names, and commits its
// cursor there. Its cursor ("ship.<stream>" unless named) is committed only after JetStream
// acknowledged every record below it, so it is also what retention may drop
// (RetentionPolicy::keep_unconsumed). A stream receives one shipped collection: any other
// message in it stops the shipper with FailedPrecondition.
//
// Durability: only records that are durable in the store (LogBase::durable()) are shipped,
// so the stream never holds a record a crash of the store's machine could take back.
// Whether an acknowledged message survives the NATS side's failures is JetStream's matter:
// an acknowledged message is replicated to a majority of an R3 stream's nodes, and 2.9
// servers write it to disk on their own schedule.
#ifndef RECSTORE_SHIP_H_
#define RECSTORE_SHIP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/store.h"

namespace recstore {

// Where a shipper or puller stands; passed to the progress callbacks and returned at the end.
struct ShipReport {
  uint64_t records = 0;    // records acknowledged by JetStream in this run (Pull: appended)
  uint64_t bytes = 0;      // their payload bytes
  uint64_t position = 0;   // next record to ship (Pull: the local collection's end)
  uint64_t end = 0;        // the collection's durable end as last seen (Pull: the stream's)
  uint64_t resyncs = 0;    // times the shipper re-read the stream after a failure
  absl::Duration elapsed;  // since the call began
  uint64_t lag() const { return end > position ? end - position : 0; }
};

struct NatsConnectOptions {
  // Comma-separated server URLs, "nats://127.0.0.1:4222,nats://127.0.0.1:4223".
  std::string servers;
  // How long a connection attempt and a JetStream API request may take.
  absl::Duration timeout = absl::Seconds(5);
};

struct ShipOptions {
  NatsConnectOptions nats{};
  std::string stream;
  // The subject to publish on; "" means "recstore.<collection>" with every character that
  // a subject token may not hold ('.', '*', '>', space, control) replaced by '_'.
  std::string subject{};
  // Create the stream (capturing `subject`) when it does not exist, with this many replicas
  // (1 to 5) and a de-duplication window of `duplicate_window`. Otherwise a missing stream
  // is NotFound.
  bool create_stream = false;
  int replicas = 1;
  absl::Duration duplicate_window = absl::Minutes(2);
  // The consumer cursor recording what was shipped; "" means "ship.<stream>".
  std::string cursor{};
  // Keep shipping records as they become durable until `stop` is set. Otherwise return once
  // every record durable when the call began is acknowledged.
  bool follow = false;
  // Set (from any thread or a signal handler) to end the call: the shipper waits for the
  // acknowledgements in flight, commits its cursor and returns OK.
  const std::atomic<bool>* stop = nullptr;
  // Most unacknowledged messages in flight.
  int max_pending = 4096;
  // After a failure, how long to keep trying (reconnecting, waiting for a stream leader)
  // before giving up with Unavailable. The shipper never acknowledges locally what the
  // server did not.
  absl::Duration retry_for = absl::Seconds(60);
  // Called on the calling thread about every `progress_interval`, and once at the end.
  std::function<void(const ShipReport&)> progress{};
  absl::Duration progress_interval = absl::Seconds(1);
  // Called on the calling thread when JetStream has acknowledged every record below `end`
  // (for measuring the lag from append to acknowledgement).
  std::function<void(uint64_t end)> acked{};
};

// Ships collection `collection` of `store` (read-only or writer) into `options.stream`,
// from its cursor's position (the stream's last message decides where exactly, see above).
// Returns the report of the run. Errors, each one line naming what failed:
//   InvalidArgument: bad options (empty stream or servers, replicas out of 1..5, a subject
//     that is not a valid NATS subject);
//   NotFound: no such collection, or no such stream without create_stream;
//   FailedPrecondition: the store has no id yet (an older format opened only read-only
//     since), the stream holds a message of another collection or store, or another
//     shipper; a record larger than the server's max_payload (the message says so: raise
//     max_payload on the servers, at most 64 MB); the stream's subjects do not cover
//     `subject`;
//   DataLoss: the stream lacks records the store no longer has (it lost acknowledged
//     messages, or retention dropped records not shipped), or a damaged record;
//   Unavailable: the servers could not be reached, or JetStream did not answer, for
//     `retry_for`; PermissionDenied: the server refused the publish or the API call;
//   the error of the cursor (Unavailable: another shipper holds it).
[[nodiscard]] absl::StatusOr<ShipReport> Ship(Store& store, std::string_view collection,
                                              const ShipOptions& options);

struct PullOptions {
  NatsConnectOptions nats{};
  std::string stream;
  // Called on the calling thread about every `progress_interval`, and once at the end.
  std::function<void(const ShipReport&)> progress{};
  absl::Duration progress_interval = absl::Seconds(1);
};

// Rebuilds or extends collection `collection` of the writable `store` from `options.stream`,
// which holds the records of one shipped collection (as Ship writes them). A missing
// collection is created with the kind and schema the messages carry (and the store's
// segment size). Records the collection already has are compared byte for byte and
// skipped, so a re-run appends only what is new; the appended records are synced before it
// returns. It reads the stream up to its last message as of the call. Errors:
//   InvalidArgument (bad options); NotFound (no such stream);
//   FailedPrecondition: the store is read-only; the messages' kind or schema differ from the
//     collection's; a message is not a shipped record (no or a foreign Nats-Msg-Id), or of
//     another collection or store than the stream's first message;
//   DataLoss: a gap (the stream starts after the collection's end, or skips a record), or a
//     record that differs from the one the collection has under the same sequence number;
//   Unavailable (servers unreachable), or the error of an append or sync.
[[nodiscard]] absl::StatusOr<ShipReport> Pull(Store& store, std::string_view collection,
                                              const PullOptions& options);

}  // namespace recstore

#endif  // RECSTORE_SHIP_H_
