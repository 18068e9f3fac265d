// recstore ship DIR COLLECTION --server URL --stream NAME [--subject S] [--follow]
//                              [--create-stream [--replicas N]] [--cursor NAME]
//                              [--max-pending N] [--retry-for SECONDS]
// recstore pull --server URL --stream NAME DIR COLLECTION
//
// Ships a collection into a NATS JetStream stream exactly once (include/recstore/ship.h),
// printing progress on stderr; SIGINT or SIGTERM makes it commit its position and exit 0.
// Pull rebuilds or extends a collection from such a stream.
#include "recstore/ship.h"

#include <signal.h>

#include <atomic>

#include "tools/cli/cli.h"

namespace recstore::cli {

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnStopSignal(int) { stop_requested.store(true); }

void InstallStopHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = &OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

double MBps(const ShipReport& r) {
  const double s = absl::ToDoubleSeconds(r.elapsed);
  return s > 0 ? static_cast<double>(r.bytes) / 1e6 / s : 0;
}

double PerSecond(const ShipReport& r) {
  const double s = absl::ToDoubleSeconds(r.elapsed);
  return s > 0 ? static_cast<double>(r.records) / s : 0;
}

std::optional<NatsConnectOptions> ConnectFlags(const Args& args, std::string_view command) {
  NatsConnectOptions o;
  o.servers = args.Str("server", "");
  if (o.servers.empty()) {
    Fail(kExitError, "{}: --server nats://HOST:PORT is required", command);
    return std::nullopt;
  }
  return o;
}

}  // namespace

int ShipCommand(int argc, char** argv) {
  const std::optional<Args> args = Args::Parse("ship", argc, argv,
                                               {{"server", true},
                                                {"stream", true},
                                                {"subject", true},
                                                {"follow", false},
                                                {"create-stream", false},
                                                {"replicas", true},
                                                {"cursor", true},
                                                {"max-pending", true},
                                                {"retry-for", true}},
                                               2, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  ShipOptions o;
  const std::optional<NatsConnectOptions> nats = ConnectFlags(*args, "ship");
  if (!nats) return kExitError;
  o.nats = *nats;
  o.stream = args->Str("stream", "");
  if (o.stream.empty()) return Fail(kExitError, "ship: --stream NAME is required");
  o.subject = args->Str("subject", "");
  o.follow = args->Has("follow");
  o.create_stream = args->Has("create-stream");
  const std::optional<uint64_t> replicas = args->UInt("replicas", 1);
  const std::optional<uint64_t> pending = args->UInt("max-pending", 4096);
  const std::optional<uint64_t> retry = args->UInt("retry-for", 60);
  if (!replicas || !pending || !retry) return kExitError;
  if (*replicas < 1 || *replicas > 5) return Fail(kExitError, "ship: --replicas must be 1 to 5");
  if (*pending < 1 || *pending > 1000000) {
    return Fail(kExitError, "ship: --max-pending must be 1 to 1000000");
  }
  o.replicas = static_cast<int>(*replicas);
  o.max_pending = static_cast<int>(*pending);
  o.retry_for = absl::Seconds(static_cast<int64_t>(std::min<uint64_t>(*retry, 1u << 30)));
  o.cursor = args->Str("cursor", "");
  o.stop = &stop_requested;
  o.progress = [](const ShipReport& r) {
    fmt::print(stderr, "ship: {} records, {:.1f} MB/s, position {}, lag {}\n", r.records, MBps(r),
               r.position, r.lag());
  };
  InstallStopHandlers();
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return FailStatus(store.status(), "ship");
  absl::StatusOr<ShipReport> r = Ship(**store, name, o);
  if (!r.ok()) return FailStatus(r.status(), "ship");
  fmt::print(
      "shipped {} records ({} bytes) in {:.2f} s: {:.0f} records/s, {:.1f} MB/s; position {}, "
      "lag {}, resyncs {}\n",
      r->records, r->bytes, absl::ToDoubleSeconds(r->elapsed), PerSecond(*r), MBps(*r), r->position,
      r->lag(), r->resyncs);
  return kExitOk;
}

int PullCommand(int argc, char** argv) {
  const std::optional<Args> args =
      Args::Parse("pull", argc, argv, {{"server", true}, {"stream", true}}, 2, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  PullOptions o;
  const std::optional<NatsConnectOptions> nats = ConnectFlags(*args, "pull");
  if (!nats) return kExitError;
  o.nats = *nats;
  o.stream = args->Str("stream", "");
  if (o.stream.empty()) return Fail(kExitError, "pull: --stream NAME is required");
  o.progress = [](const ShipReport& r) {
    fmt::print(stderr, "pull: {} records, {:.1f} MB/s, collection end {}\n", r.records, MBps(r),
               r.position);
  };
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.create_if_missing = true});
  if (!store.ok()) return FailStatus(store.status(), "pull");
  absl::StatusOr<ShipReport> r = Pull(**store, name, o);
  if (!r.ok()) return FailStatus(r.status(), "pull");
  fmt::print("pulled {} records ({} bytes) in {:.2f} s: {:.0f} records/s; collection end {}\n",
             r->records, r->bytes, absl::ToDoubleSeconds(r->elapsed), PerSecond(*r), r->position);
  return kExitOk;
}

}  // namespace recstore::cli
