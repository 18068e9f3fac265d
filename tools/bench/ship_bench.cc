// Shipping into NATS JetStream (include/recstore/ship.h): what Ship() achieves beside the
// ceiling of the same messages published by a plain libnats loop, and the lag from an append
// to JetStream's acknowledgement in follow mode. Prints a markdown table; nothing is asserted.
//
//   ./bazelw build --config=opt //tools/bench:ship_bench && bazel-bin/tools/bench/ship_bench
//
// Targets: an R1 stream on a 1-node server and an R3 stream on a 3-node loopback cluster
// (tests/testing/nats_cluster.h: Debian's nats-server, file storage), each started in a fresh
// folder under --dir and stopped at the end. Record kinds: `64 B`, a fixed 64-byte record
// (Log<ShipRec64>: seq, time_ns, 48 chars), and `1 KiB`, 1024-byte records of a ByteLog.
//
// 1. Ceiling: js_PublishMsgAsync of the very messages Ship() sends (subject, payload, headers
//    Nats-Msg-Id, Nats-Expected-Last-Msg-Id chained (or Nats-Expected-Last-Sequence, as the
//    warm-up's second message shows), Nats-Expected-Last-Sequence: 0 first,
//    Recstore-Kind, Recstore-Schema; the kind and schema headers are copied from a message
//    a warm-up Ship() stored), with Ship()'s window (PublishAsync.MaxPending 4096, StallWait
//    100 ms), then js_PublishAsyncComplete. The payloads come from memory; building each
//    message is timed, connecting and creating the stream are not (printed apart). A fresh
//    stream per run (js_AddStream: file storage, the replicas of the target, a 2-minute
//    de-duplication window as Ship() creates), deleted afterwards.
// 2. Ship(): the same N records, appended and synced beforehand (untimed), shipped into a
//    fresh stream (create_stream); records/s and MB/s from the returned ShipReport (records,
//    bytes, elapsed: the whole call, connecting and creating the stream included).
//    Each run is repeated --reps times, ceiling and Ship() alternating; medians are printed.
// 3. Follow lag: a writer thread appends 64-byte records at --lag_rate for --lag_seconds to a
//    store with SyncPolicy::Background(0, 1 ms), each record's append time
//    (absl::GetCurrentTimeNanos, taken before the Append) kept in an array by sequence number;
//    Ship() with follow=true runs in another thread, and its `acked` callback maps every newly
//    acknowledged record to now - its append time. One priming record is shipped first (so
//    connecting and creating the stream are not in the figures) and left out.
//
// Flags (defaults):
//   --dir=PATH          scratch parent (/tmp/ship_bench): stores and servers, removed at the end
//   --records=N         records per run for both kinds (200000 for 64 B, 50000 for 1 KiB)
//   --reps=N            runs per row, median reported (3)
//   --lag_rate=R        appends/s of the follow-lag writer (20000)
//   --lag_seconds=S     how long it writes (5)
//   --targets=r1,r3     which servers
//   --kinds=64,1k       which record kinds
//   --sections=123      which of the three parts (lag needs nothing of 1 and 2)
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nats/nats.h"
#include "recstore/recstore.h"
#include "recstore/ship.h"
#include "tests/testing/nats_cluster.h"
#include "tools/bench/percentile.h"

namespace {

using recstore::testing::NatsCluster;
using recstore::testing::NatsClusterOptions;

// The 64-byte fixed record.
struct ShipRec64 {
  uint64_t seq;
  int64_t time_ns;
  char text[48];
};
RECSTORE_RECORD(ShipRec64, seq, time_ns, text);
static_assert(sizeof(ShipRec64) == 64, "ShipRec64 must be exactly 64 bytes");

constexpr size_t kBytesRecord = 1024;
constexpr int kMaxPending = 4096;  // ShipOptions::max_pending's default
constexpr int64_t kStallWaitMs = 100;
constexpr int64_t kDuplicateWindowNs = int64_t{120} * 1'000'000'000;  // ShipOptions's 2 min

struct Config {
  std::string dir = "/tmp/ship_bench";
  uint64_t records64 = 200000;
  uint64_t records1k = 50000;
  int reps = 3;
  uint64_t lag_rate = 20000;
  double lag_seconds = 5;
  bool r1 = true, r3 = true;
  bool kind64 = true, kind1k = true;
  std::string sections = "123";
};
Config g;

void Progress(const std::string& s) {
  std::fprintf(stderr, "[%s] %s\n",
               absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(), s.c_str());
}

// ---------------------------------------------------------------------------------------------
// Records.

ShipRec64 MakeRec64(uint64_t i) {
  ShipRec64 r{};
  r.seq = i;
  r.time_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i);
  for (size_t k = 0; k < sizeof(r.text); ++k) r.text[k] = static_cast<char>('a' + (i + k) % 26);
  return r;
}

std::string MakeBytes(uint64_t i) {
  std::string b(kBytesRecord, '\0');
  std::memcpy(b.data(), &i, sizeof(i));
  for (size_t k = sizeof(i); k < kBytesRecord; ++k)
    b[k] = static_cast<char>('A' + (i * 7 + k) % 26);
  return b;
}

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

absl::Status Fill(recstore::Store& store, Kind& k, bool fixed) {
  k.payloads.resize(k.n * k.record_size);
  if (fixed) {
    auto log = store.OpenLog<ShipRec64>(k.collection);
    if (!log.ok()) return log.status();
    std::vector<ShipRec64> batch;
    for (uint64_t i = 0; i < k.n; ++i) {
      batch.push_back(MakeRec64(i));
      std::memcpy(k.payloads.data() + i * k.record_size, &batch.back(), k.record_size);
      if (batch.size() == 4096 || i + 1 == k.n) {
        if (auto s = log->AppendBatch(batch); !s.ok()) return s.status();
        batch.clear();
      }
    }
    if (auto s = log->Sync(); !s.ok()) return s.status();
  } else {
    auto log = store.OpenByteLog(k.collection);
    if (!log.ok()) return log.status();
    for (uint64_t i = 0; i < k.n; ++i) {
      const std::string b = MakeBytes(i);
      std::memcpy(k.payloads.data() + i * k.record_size, b.data(), k.record_size);
      if (auto s = log->Append(std::string_view(b)); !s.ok()) return s.status();
    }
    if (auto s = log->Sync(); !s.ok()) return s.status();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// libnats helpers.

absl::Status Nats(natsStatus s, const std::string& what,
                  jsErrCode code = static_cast<jsErrCode>(0)) {
  if (s == NATS_OK) return absl::OkStatus();
  const char* last = nats_GetLastError(nullptr);
  return absl::UnavailableError(
      absl::StrCat(what, ": ", last && *last ? last : natsStatus_GetText(s),
                   code != 0 ? absl::StrCat(" (JetStream error ", code, ")") : std::string()));
}

std::string Header(natsMsg* m, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == nullptr) return "";
  return v;
}

// A connection and JetStream context; with an ack handler that counts, for the ceiling.
struct AckCount {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<int> first_error{0};
};

void OnCeilingAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* c = static_cast<AckCount*>(closure);
  if (pa != nullptr) {
    c->acked.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (c->failed.fetch_add(1) == 0 && pae != nullptr) c->first_error = pae->ErrCode;
  }
  natsMsg_Destroy(msg);
}

class Conn {
 public:
  static absl::StatusOr<std::unique_ptr<Conn>> Open(const std::string& urls, AckCount* acks) {
    std::unique_ptr<Conn> c(new Conn());
    std::vector<std::string> parts = absl::StrSplit(urls, ',');
    std::vector<const char*> ptrs;
    for (const std::string& u : parts) ptrs.push_back(u.c_str());
    natsStatus s = natsOptions_Create(&c->opts_);
    if (s == NATS_OK)
      s = natsOptions_SetServers(c->opts_, ptrs.data(), static_cast<int>(ptrs.size()));
    if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts_, 5000);
    if (s == NATS_OK) s = natsConnection_Connect(&c->nc_, c->opts_);
    if (s != NATS_OK) return Nats(s, absl::StrCat("connecting to ", urls));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    jo.PublishAsync.MaxPending = kMaxPending;
    jo.PublishAsync.StallWait = kStallWaitMs;
    if (acks != nullptr) {
      jo.PublishAsync.AckHandler = &OnCeilingAck;
      jo.PublishAsync.AckHandlerClosure = acks;
    }
    s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
    if (s != NATS_OK) return Nats(s, "JetStream context");
    return c;
  }
  ~Conn() {
    if (nc_ != nullptr) natsConnection_Close(nc_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) natsConnection_Destroy(nc_);
    if (opts_ != nullptr) natsOptions_Destroy(opts_);
  }
  jsCtx* js() const { return js_; }

  absl::Status AddStream(const std::string& name, const std::string& subject, int replicas) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    const char* subjects[] = {subject.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Replicas = replicas;
    cfg.Duplicates = kDuplicateWindowNs;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &code);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    return Nats(s, absl::StrCat("js_AddStream ", name), code);
  }
  absl::Status DeleteStream(const std::string& name) {
    jsErrCode code = static_cast<jsErrCode>(0);
    return Nats(js_DeleteStream(js_, name.c_str(), nullptr, &code),
                absl::StrCat("js_DeleteStream ", name), code);
  }
  absl::StatusOr<uint64_t> StreamMsgs(const std::string& name) {
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code);
    if (s != NATS_OK) return Nats(s, absl::StrCat("stream info ", name), code);
    const uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }

 private:
  Conn() = default;
  natsOptions* opts_ = nullptr;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// The shipper's messages, as a warm-up Ship() stored them.

struct MessageShape {
  std::string subject;
  std::string id_prefix;  // "<store id>/<collection>/"
  std::string kind;       // Recstore-Kind
  std::string schema;     // Recstore-Schema ("" for byte records)
  // How each message names its predecessor: Nats-Expected-Last-Msg-Id (its id), or
  // Nats-Expected-Last-Sequence (its stream sequence: record i - 1 is stream sequence i).
  bool chain_by_seq = false;
  size_t header_bytes = 0;  // of message 2 as the wire carries it (for the note)
};

std::string DefaultSubject(std::string_view collection) {
  std::string out = "recstore.";
  for (char c : collection) {
    const bool ok =
        static_cast<unsigned char>(c) > ' ' && c != 0x7f && c != '.' && c != '*' && c != '>';
    out.push_back(ok ? c : '_');
  }
  return out;
}

// Ships the collection into a scratch stream, reads messages 1 and 2 back and takes their
// headers; checks that the ceiling would build the same ids, chain and payloads.
absl::StatusOr<MessageShape> WarmUpAndLearn(recstore::Store& store, const Kind& k,
                                            const std::string& urls, int replicas, Conn& admin) {
  const std::string stream = absl::StrCat("SB_WARM_R", replicas);
  recstore::ShipOptions o{.nats = {.servers = urls}, .stream = stream};
  o.create_stream = true;
  o.replicas = replicas;
  absl::StatusOr<recstore::ShipReport> r = recstore::Ship(store, k.collection, o);
  if (!r.ok()) return r.status();
  if (r->records != k.n) {
    return absl::InternalError(absl::StrCat("warm-up shipped ", r->records, " of ", k.n));
  }
  MessageShape shape;
  shape.subject = DefaultSubject(k.collection);
  shape.id_prefix = absl::StrCat(store.id(), "/", k.collection, "/");
  absl::Status check;
  for (uint64_t seq = 1; seq <= 2 && check.ok(); ++seq) {
    natsMsg* m = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&m, admin.js(), stream.c_str(), seq, nullptr, &code);
    if (s != NATS_OK) return Nats(s, "js_GetMsg", code);
    const uint64_t rec = seq - 1;
    if (natsMsg_GetSubject(m) != shape.subject) check = absl::InternalError("subject differs");
    if (Header(m, "Nats-Msg-Id") != absl::StrCat(shape.id_prefix, rec)) {
      check = absl::InternalError(absl::StrCat("id differs: ", Header(m, "Nats-Msg-Id")));
    }
    if (rec == 0 && Header(m, "Nats-Expected-Last-Sequence") != "0") {
      check = absl::InternalError("first message without Nats-Expected-Last-Sequence: 0");
    }
    if (rec == 1) {
      shape.chain_by_seq = Header(m, "Nats-Expected-Last-Sequence") == "1";
      if (!shape.chain_by_seq &&
          Header(m, "Nats-Expected-Last-Msg-Id") != absl::StrCat(shape.id_prefix, 0)) {
        check = absl::InternalError("second message not chained to the first");
      }
    }
    const std::string_view data(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    if (data != k.payload(rec)) check = absl::InternalError("payload differs");
    shape.kind = Header(m, "Recstore-Kind");
    shape.schema = Header(m, "Recstore-Schema");
    if (rec == 1) {
      const char** keys = nullptr;
      int n = 0;
      if (natsMsgHeader_Keys(m, &keys, &n) == NATS_OK) {
        shape.header_bytes = 12;  // "NATS/1.0\r\n" ... "\r\n"
        for (int i = 0; i < n; ++i) {
          // The server adds none to a stored message's headers that Ship() did not send, but
          // count only the shipper's own.
          shape.header_bytes += std::strlen(keys[i]) + 4 + Header(m, keys[i]).size();
        }
        free(static_cast<void*>(keys));
      }
    }
    natsMsg_Destroy(m);
  }
  (void)admin.DeleteStream(stream);
  (void)store.DropCursor(k.collection, absl::StrCat("ship.", stream));
  if (!check.ok()) return check;
  if (shape.kind.empty()) return absl::InternalError("no Recstore-Kind header");
  return shape;
}

// ---------------------------------------------------------------------------------------------
// One run of each.

// User + system CPU time of the whole process so far.
double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

struct RunResult {
  uint64_t records = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double setup_ms = 0;  // ceiling: connect + js_AddStream (not in `seconds`)
  double cpu_us = 0;    // this process's CPU time (every thread: libnats' too) per record
  double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
  double mbps() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
};

absl::StatusOr<RunResult> Ceiling(const Kind& k, const MessageShape& shape, const std::string& urls,
                                  int replicas, const std::string& stream, Conn& admin) {
  AckCount acks;
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::unique_ptr<Conn>> conn = Conn::Open(urls, &acks);
  if (!conn.ok()) return conn.status();
  Conn& c = **conn;
  if (absl::Status s = c.AddStream(stream, shape.subject, replicas); !s.ok()) return s;
  RunResult r;
  r.setup_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);

  const double cpu0 = ProcessCpuSeconds();
  const absl::Time start = absl::Now();
  std::string last_id;
  std::string id;
  absl::Status failed;
  for (uint64_t seq = 0; seq < k.n; ++seq) {
    const std::string_view p = k.payload(seq);
    id.assign(shape.id_prefix);
    absl::StrAppend(&id, seq);
    natsMsg* m = nullptr;
    natsStatus s =
        natsMsg_Create(&m, shape.subject.c_str(), nullptr, p.data(), static_cast<int>(p.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    if (s == NATS_OK) {
      if (shape.chain_by_seq || last_id.empty()) {
        const std::string prev = absl::StrCat(seq);  // record seq - 1 is stream sequence seq
        s = natsMsgHeader_Set(m, "Nats-Expected-Last-Sequence", prev.c_str());
      } else {
        s = natsMsgHeader_Set(m, "Nats-Expected-Last-Msg-Id", last_id.c_str());
      }
    }
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Recstore-Kind", shape.kind.c_str());
    if (s == NATS_OK && !shape.schema.empty()) {
      s = natsMsgHeader_Set(m, "Recstore-Schema", shape.schema.c_str());
    }
    while (s == NATS_OK) {
      s = js_PublishMsgAsync(c.js(), &m, nullptr);
      if (s != NATS_TIMEOUT) break;
      s = NATS_OK;  // window full (StallWait elapsed): try again, as Ship() does
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(m);
      failed = Nats(s, absl::StrCat("publishing ", seq));
      break;
    }
    std::swap(last_id, id);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  const natsStatus done = js_PublishAsyncComplete(c.js(), &po);
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.records = acks.acked.load();
  r.cpu_us = (ProcessCpuSeconds() - cpu0) * 1e6 / static_cast<double>(std::max<uint64_t>(1, k.n));
  r.bytes = r.records * k.record_size;
  if (failed.ok() && done != NATS_OK) failed = Nats(done, "js_PublishAsyncComplete");
  if (failed.ok() && acks.failed.load() != 0) {
    failed = absl::InternalError(absl::StrCat(
        acks.failed.load(), " publishes failed, first JetStream error ", acks.first_error.load()));
  }
  if (failed.ok()) {
    absl::StatusOr<uint64_t> msgs = admin.StreamMsgs(stream);
    if (!msgs.ok())
      failed = msgs.status();
    else if (*msgs != k.n || r.records != k.n)
      failed = absl::InternalError(
          absl::StrCat("stream holds ", *msgs, ", acked ", r.records, " of ", k.n));
  }
  conn->reset();
  (void)admin.DeleteStream(stream);
  if (!failed.ok()) return failed;
  return r;
}

absl::StatusOr<RunResult> ShipRun(recstore::Store& store, const Kind& k, const std::string& urls,
                                  int replicas, const std::string& stream, Conn& admin) {
  recstore::ShipOptions o{.nats = {.servers = urls}, .stream = stream};
  o.create_stream = true;
  o.replicas = replicas;
  const double cpu0 = ProcessCpuSeconds();
  absl::StatusOr<recstore::ShipReport> rep = recstore::Ship(store, k.collection, o);
  const double cpu = ProcessCpuSeconds() - cpu0;
  absl::Status failed = rep.status();
  if (failed.ok() && rep->records != k.n) {
    failed = absl::InternalError(absl::StrCat("shipped ", rep->records, " of ", k.n));
  }
  if (failed.ok()) {
    absl::StatusOr<uint64_t> msgs = admin.StreamMsgs(stream);
    if (!msgs.ok())
      failed = msgs.status();
    else if (*msgs != k.n)
      failed = absl::InternalError(absl::StrCat("stream holds ", *msgs));
  }
  (void)admin.DeleteStream(stream);
  (void)store.DropCursor(k.collection, absl::StrCat("ship.", stream));
  if (!failed.ok()) return failed;
  RunResult r;
  r.records = rep->records;
  r.bytes = rep->bytes;
  r.seconds = absl::ToDoubleSeconds(rep->elapsed);
  r.cpu_us = cpu * 1e6 / static_cast<double>(std::max<uint64_t>(1, k.n));
  return r;
}

// ---------------------------------------------------------------------------------------------
// Follow lag.

struct LagResult {
  uint64_t records = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
  double achieved_rate = 0;
  uint64_t acked_calls = 0;
};

void SleepUntilNs(int64_t realtime_ns) {
  timespec ts{static_cast<time_t>(realtime_ns / 1'000'000'000),
              static_cast<long>(realtime_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

absl::StatusOr<LagResult> FollowLag(const std::string& dir, const std::string& urls, int replicas) {
  std::filesystem::remove_all(dir);
  recstore::StoreOptions so;
  so.create_if_missing = true;
  so.sync_policy = recstore::SyncPolicy::Background(0, std::chrono::milliseconds(1));
  absl::StatusOr<std::unique_ptr<recstore::Store>> store = recstore::Store::Open(dir, so);
  if (!store.ok()) return store.status();
  auto log = (*store)->OpenLog<ShipRec64>("lag");
  if (!log.ok()) return log.status();

  const uint64_t n = static_cast<uint64_t>(static_cast<double>(g.lag_rate) * g.lag_seconds);
  const uint64_t total = n + 1;  // record 0 primes the shipper
  std::unique_ptr<std::atomic<int64_t>[]> append_ns(new std::atomic<int64_t>[total]);
  std::vector<int64_t> lag_ns(total, -1);
  std::atomic<uint64_t> acked_end{0};
  uint64_t acked_seen = 0, acked_calls = 0;
  std::atomic<bool> stop{false};

  append_ns[0].store(absl::GetCurrentTimeNanos());
  {
    ShipRec64 r = MakeRec64(0);
    auto s = log->Append(r);
    if (!s.ok()) return s.status();
  }
  const std::string stream = absl::StrCat("SB_LAG_R", replicas);
  recstore::ShipOptions o{.nats = {.servers = urls}, .stream = stream};
  o.create_stream = true;
  o.replicas = replicas;
  o.follow = true;
  o.stop = &stop;
  o.acked = [&](uint64_t end) {
    const int64_t now = absl::GetCurrentTimeNanos();
    end = std::min(end, total);
    for (uint64_t seq = acked_seen; seq < end; ++seq) lag_ns[seq] = now - append_ns[seq].load();
    if (end > acked_seen) acked_seen = end;
    ++acked_calls;
    acked_end.store(acked_seen);
  };
  absl::StatusOr<recstore::ShipReport> report = absl::UnknownError("not run");
  std::thread shipper([&] { report = recstore::Ship(**store, "lag", o); });

  // Wait for the priming record: the shipper is connected and its stream made.
  const absl::Time prime_deadline = absl::Now() + absl::Seconds(30);
  while (acked_end.load() < 1 && absl::Now() < prime_deadline)
    absl::SleepFor(absl::Milliseconds(1));
  absl::Status writer_status;
  double write_seconds = 0;
  if (acked_end.load() >= 1) {
    // The writer: records due by the schedule are appended, then it sleeps to the next one.
    std::thread writer([&] {
      const int64_t start = absl::GetCurrentTimeNanos();
      const double gap_ns = 1e9 / static_cast<double>(g.lag_rate);
      uint64_t seq = 1;
      while (seq < total) {
        const int64_t due = start + static_cast<int64_t>(static_cast<double>(seq - 1) * gap_ns);
        if (absl::GetCurrentTimeNanos() < due) SleepUntilNs(due);
        ShipRec64 r = MakeRec64(seq);
        const int64_t t = absl::GetCurrentTimeNanos();
        r.time_ns = t;
        append_ns[seq].store(t);
        absl::StatusOr<uint64_t> s = log->Append(r);
        if (!s.ok() || *s != seq) {
          writer_status = s.ok()
                              ? absl::InternalError(absl::StrCat("appended at ", *s, " not ", seq))
                              : s.status();
          break;
        }
        ++seq;
      }
      write_seconds = static_cast<double>(absl::GetCurrentTimeNanos() - start) / 1e9;
    });
    writer.join();
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (writer_status.ok() && acked_end.load() < total && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  stop.store(true);
  shipper.join();
  std::unique_ptr<Conn> admin;
  if (auto c = Conn::Open(urls, nullptr); c.ok()) {
    admin = *std::move(c);
    (void)admin->DeleteStream(stream);
  }
  store->reset();
  std::filesystem::remove_all(dir);
  if (!writer_status.ok()) return writer_status;
  if (!report.ok()) return report.status();
  if (acked_end.load() < total) {
    return absl::DeadlineExceededError(
        absl::StrCat("acknowledged ", acked_end.load(), " of ", total));
  }
  std::vector<double> us;
  us.reserve(n);
  for (uint64_t seq = 1; seq < total; ++seq) us.push_back(static_cast<double>(lag_ns[seq]) / 1e3);
  LagResult out;
  out.records = n;
  out.p50_us = recstore::bench::Percentile(&us, 50);
  out.p99_us = recstore::bench::Percentile(&us, 99);
  out.max_us = recstore::bench::Percentile(&us, 100);
  out.achieved_rate = write_seconds > 0 ? static_cast<double>(n) / write_seconds : 0;
  out.acked_calls = acked_calls;
  return out;
}

// ---------------------------------------------------------------------------------------------

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Rate(double r) {
  return r >= 1e6 ? absl::StrFormat("%.2fM", r / 1e6) : absl::StrFormat("%.1fk", r / 1e3);
}

std::string Run(const char* cmd) {
  std::string out;
  if (FILE* f = popen(cmd, "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof(buf), f) != nullptr) out += buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct Target {
  std::string name;  // "R1", "R3"
  int nodes = 1;
  int replicas = 1;
  std::string label;  // "R1, 1 node"
};

struct Row {
  std::string kind, target;
  uint64_t n = 0;
  std::vector<double> ceil_rate, ceil_mbps, ceil_setup, ceil_cpu, ship_rate, ship_mbps, ship_cpu;
  std::string error;
};

bool ParseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto flag = [&](const char* name, std::string* v) {
      const std::string p = absl::StrCat("--", name, "=");
      if (a.substr(0, p.size()) != p) return false;
      *v = std::string(a.substr(p.size()));
      return true;
    };
    std::string v;
    if (flag("dir", &v)) {
      g.dir = v;
    } else if (flag("records", &v)) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(v, &n) || n < 2) return false;
      g.records64 = g.records1k = n;
    } else if (flag("reps", &v)) {
      if (!absl::SimpleAtoi(v, &g.reps) || g.reps < 1) return false;
    } else if (flag("lag_rate", &v)) {
      if (!absl::SimpleAtoi(v, &g.lag_rate) || g.lag_rate < 1) return false;
    } else if (flag("lag_seconds", &v)) {
      if (!absl::SimpleAtod(v, &g.lag_seconds) || g.lag_seconds <= 0) return false;
    } else if (flag("targets", &v)) {
      g.r1 = absl::StrContains(v, "r1");
      g.r3 = absl::StrContains(v, "r3");
    } else if (flag("kinds", &v)) {
      g.kind64 = absl::StrContains(v, "64");
      g.kind1k = absl::StrContains(v, "1k");
    } else if (flag("sections", &v)) {
      g.sections = v;
    } else {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  if (!ParseArgs(argc, argv)) {
    std::fprintf(stderr,
                 "usage: ship_bench [--dir=PATH] [--records=N] [--reps=N] [--lag_rate=R] "
                 "[--lag_seconds=S] [--targets=r1,r3] [--kinds=64,1k] [--sections=123]\n");
    return 2;
  }
  std::vector<std::string> args(argv, argv + argc);
  const std::string root = absl::StrCat(g.dir, "/run.", getpid());
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", root.c_str(), ec.message().c_str());
    return 1;
  }
  const bool throughput = absl::StrContains(g.sections, '1') || absl::StrContains(g.sections, '2');
  const bool lag = absl::StrContains(g.sections, '3');

  // The store with both collections, filled and synced once.
  std::unique_ptr<recstore::Store> store;
  std::vector<Kind> kinds;
  if (throughput) {
    recstore::StoreOptions so;
    so.create_if_missing = true;
    absl::StatusOr<std::unique_ptr<recstore::Store>> s = recstore::Store::Open(root + "/store", so);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      return 1;
    }
    store = *std::move(s);
    if (g.kind64)
      kinds.push_back({.label = "64 B", .collection = "ev64", .n = g.records64, .record_size = 64});
    if (g.kind1k) {
      kinds.push_back(
          {.label = "1 KiB", .collection = "ev1k", .n = g.records1k, .record_size = kBytesRecord});
    }
    for (Kind& k : kinds) {
      Progress(absl::StrCat("filling ", k.collection, ": ", k.n, " records"));
      if (absl::Status s = Fill(*store, k, k.record_size == 64); !s.ok()) {
        std::fprintf(stderr, "filling %s: %s\n", k.collection.c_str(), s.ToString().c_str());
        return 1;
      }
    }
  }

  std::vector<Target> targets;
  if (g.r1) targets.push_back({"R1", 1, 1, "R1, 1 node"});
  if (g.r3) targets.push_back({"R3", 3, 3, "R3, 3 nodes"});
  std::vector<Row> rows;
  std::vector<std::pair<std::string, absl::StatusOr<LagResult>>> lags;
  size_t header_bytes64 = 0, header_bytes1k = 0;

  for (const Target& t : targets) {
    const std::string cdir = absl::StrCat(root, "/nats-", t.name);
    std::filesystem::create_directories(cdir, ec);
    NatsClusterOptions co;
    co.nodes = t.nodes;
    co.dir = cdir;
    Progress(absl::StrCat("starting ", t.label));
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(co);
    if (!cluster.ok()) {
      std::fprintf(stderr, "starting %s: %s\n", t.label.c_str(),
                   cluster.status().ToString().c_str());
      return 1;
    }
    const std::string urls = (*cluster)->Urls();
    absl::StatusOr<std::unique_ptr<Conn>> admin = Conn::Open(urls, nullptr);
    if (!admin.ok()) {
      std::fprintf(stderr, "%s\n", admin.status().ToString().c_str());
      return 1;
    }
    for (const Kind& k : kinds) {
      Row row{.kind = k.label, .target = t.label, .n = k.n};
      Progress(absl::StrCat(t.name, " ", k.label, ": warm-up Ship()"));
      absl::StatusOr<MessageShape> shape = WarmUpAndLearn(*store, k, urls, t.replicas, **admin);
      if (!shape.ok()) {
        row.error = shape.status().ToString();
        rows.push_back(row);
        continue;
      }
      (k.record_size == 64 ? header_bytes64 : header_bytes1k) = shape->header_bytes;
      for (int rep = 0; rep < g.reps && row.error.empty(); ++rep) {
        const std::string base = absl::StrCat("SB_", t.name, "_", k.collection, "_", rep);
        absl::StatusOr<RunResult> c = Ceiling(k, *shape, urls, t.replicas, base + "_C", **admin);
        if (!c.ok()) {
          row.error = absl::StrCat("ceiling: ", c.status().ToString());
          break;
        }
        Progress(absl::StrFormat("%s %s rep %d ceiling %s rec/s %.1f MB/s (setup %.0f ms)", t.name,
                                 k.label, rep, Rate(c->rate()), c->mbps(), c->setup_ms));
        absl::StatusOr<RunResult> s = ShipRun(*store, k, urls, t.replicas, base + "_S", **admin);
        if (!s.ok()) {
          row.error = absl::StrCat("Ship: ", s.status().ToString());
          break;
        }
        Progress(absl::StrFormat("%s %s rep %d Ship() %s rec/s %.1f MB/s, %.1f%% of the ceiling",
                                 t.name, k.label, rep, Rate(s->rate()), s->mbps(),
                                 s->rate() / c->rate() * 100));
        row.ceil_rate.push_back(c->rate());
        row.ceil_mbps.push_back(c->mbps());
        row.ceil_setup.push_back(c->setup_ms);
        row.ceil_cpu.push_back(c->cpu_us);
        row.ship_cpu.push_back(s->cpu_us);
        row.ship_rate.push_back(s->rate());
        row.ship_mbps.push_back(s->mbps());
      }
      rows.push_back(row);
    }
    if (lag) {
      Progress(absl::StrCat(t.name, ": follow lag, ", g.lag_rate, " appends/s for ", g.lag_seconds,
                            " s"));
      lags.emplace_back(t.label, FollowLag(absl::StrCat(root, "/lag-", t.name), urls, t.replicas));
    }
    admin->reset();
    cluster->reset();
  }
  store.reset();
  std::filesystem::remove_all(root, ec);

  // The report.
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "**ship_bench**: Ship() into NATS JetStream beside a plain js_PublishMsgAsync loop\n\n");
  std::printf(
      "%d CPUs (nproc), %s, load average %.2f %.2f %.2f; %s, libnats %s; servers on loopback, "
      "file storage under %s\n\n",
      static_cast<int>(std::thread::hardware_concurrency()),
      absl::FormatTime("%Y-%m-%d %H:%M %Z", absl::Now(), absl::UTCTimeZone()).c_str(), load[0],
      load[1], load[2], Run("/usr/sbin/nats-server --version 2>&1").c_str(), nats_GetVersion(),
      g.dir.c_str());
  std::printf("`%s`\n\n", absl::StrJoin(args, " ").c_str());
  if (!rows.empty()) {
    std::printf(
        "Medians of %d runs (ceiling and Ship() alternating). Ceiling: connect + js_AddStream "
        "not timed (setup, ms); Ship(): ShipReport::elapsed, the whole call.\n\n",
        g.reps);
    std::printf(
        "| records | stream | N | ceiling rec/s | ceiling MB/s | setup ms | Ship() rec/s | Ship() "
        "MB/s | Ship() / ceiling | ratio range | client CPU µs/rec, ceiling / Ship() |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
    for (const Row& r : rows) {
      if (!r.error.empty() && r.ship_rate.empty()) {
        std::printf("| %s | %s | %llu | error: %s ||||||||\n", r.kind.c_str(), r.target.c_str(),
                    static_cast<unsigned long long>(r.n), r.error.c_str());
        continue;
      }
      std::vector<double> ratios;
      for (size_t i = 0; i < r.ship_rate.size(); ++i)
        ratios.push_back(r.ship_rate[i] / r.ceil_rate[i]);
      const double ratio = Median(r.ship_rate) / Median(r.ceil_rate);
      std::printf(
          "| %s | %s | %llu | %s | %.1f | %.0f | %s | %.1f | %.1f%% | %.1f-%.1f%% | %.1f / %.1f "
          "|\n",
          r.kind.c_str(), r.target.c_str(), static_cast<unsigned long long>(r.n),
          Rate(Median(r.ceil_rate)).c_str(), Median(r.ceil_mbps), Median(r.ceil_setup),
          Rate(Median(r.ship_rate)).c_str(), Median(r.ship_mbps), ratio * 100,
          *std::min_element(ratios.begin(), ratios.end()) * 100,
          *std::max_element(ratios.begin(), ratios.end()) * 100, Median(r.ceil_cpu),
          Median(r.ship_cpu));
      if (!r.error.empty())
        std::printf("|  |  |  | error after some runs: %s ||||||||\n", r.error.c_str());
    }
    std::printf(
        "\nMB/s counts payload bytes only; the headers add %zu bytes to each 64 B message and %zu "
        "to each 1 KiB one. Target: Ship() >= 80%% of the ceiling.\n",
        header_bytes64, header_bytes1k);
  }
  if (!lags.empty()) {
    std::printf(
        "%sFollow lag, append to JetStream ack as the `acked` callback sees it: 64 B records, %llu "
        "appends/s for %g s, SyncPolicy::Background(0, 1 ms)\n\n",
        rows.empty() ? "" : "\n", static_cast<unsigned long long>(g.lag_rate), g.lag_seconds);
    std::printf(
        "| stream | records | appends/s reached | p50 µs | p99 µs | max µs | acked calls |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& [label, l] : lags) {
      if (!l.ok()) {
        std::printf("| %s | error: %s ||||||\n", label.c_str(), l.status().ToString().c_str());
        continue;
      }
      std::printf("| %s | %llu | %.0f | %.0f | %.0f | %.0f | %llu |\n", label.c_str(),
                  static_cast<unsigned long long>(l->records), l->achieved_rate, l->p50_us,
                  l->p99_us, l->max_us, static_cast<unsigned long long>(l->acked_calls));
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
