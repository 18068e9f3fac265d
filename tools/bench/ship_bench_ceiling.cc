#include "tools/bench/ship_bench_ceiling.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "recstore/ship.h"
#include "src/ship/message.h"

namespace ship_bench {
namespace {

namespace ship = recstore::ship;

// User + system CPU time of the whole process so far.
double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// Record `seq`'s message as Ship() builds it into a stream that was empty when it began:
// record seq - 1 is stream sequence seq, so Nats-Expected-Last-Sequence is `seq` (0 first).
// `id` is scratch space.
natsStatus BuildMessage(const MessageShape& shape, std::string_view payload, uint64_t seq,
                        std::string* id, natsMsg** out) {
  id->assign(shape.store_id).append("/").append(shape.collection).append("/");
  absl::StrAppend(id, seq);
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, shape.subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(m, ship::kMsgIdHeader, id->c_str());
  if (s == NATS_OK)
    s = natsMsgHeader_Set(m, ship::kExpectedLastSeqHeader, absl::StrCat(seq).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(m, ship::kKindHeader, shape.kind.c_str());
  if (s == NATS_OK && !shape.schema.empty()) {
    s = natsMsgHeader_Set(m, ship::kSchemaHeader, shape.schema.c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    return s;
  }
  *out = m;
  return NATS_OK;
}

// A message's headers, name to (first) value.
std::map<std::string, std::string> Headers(natsMsg* m) {
  std::map<std::string, std::string> out;
  const char** keys = nullptr;
  int n = 0;
  if (natsMsgHeader_Keys(m, &keys, &n) != NATS_OK) return out;
  for (int i = 0; i < n; ++i) {
    const char* v = nullptr;
    if (natsMsgHeader_Get(m, keys[i], &v) == NATS_OK && v != nullptr) out[keys[i]] = v;
  }
  free(static_cast<void*>(keys));
  return out;
}

// Counts the ceiling's acknowledgements (called on a libnats thread).
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

}  // namespace

absl::StatusOr<MessageShape> ShapeOf(recstore::Store& store, const Kind& k) {
  absl::StatusOr<recstore::UntypedLog> log = store.OpenUntyped(k.collection);
  if (!log.ok()) return log.status();
  const recstore::CollectionInfo info = log->info();
  MessageShape shape;
  shape.subject = ship::DefaultSubject(k.collection);
  shape.store_id = store.id();
  shape.collection = k.collection;
  shape.kind = ship::KindName(info.kind);
  if (info.kind == recstore::CollectionKind::kFixed) shape.schema = ship::SchemaHeader(info.schema);
  return shape;
}

absl::StatusOr<size_t> WarmUpAndCheck(recstore::Store& store, const Kind& k,
                                      const MessageShape& shape, const std::string& urls,
                                      int replicas, Conn& admin) {
  const std::string stream = absl::StrCat("SB_WARM_R", replicas);
  recstore::ShipOptions o{.nats = {.servers = urls}, .stream = stream};
  o.create_stream = true;
  o.replicas = replicas;
  absl::StatusOr<recstore::ShipReport> r = recstore::Ship(store, k.collection, o);
  if (!r.ok()) return r.status();
  if (r->records != k.n) {
    return absl::InternalError(absl::StrCat("warm-up shipped ", r->records, " of ", k.n));
  }
  absl::Status check;
  size_t header_bytes = 0;
  std::string id;
  for (uint64_t seq = 1; seq <= 2 && check.ok(); ++seq) {
    const uint64_t rec = seq - 1;
    natsMsg* stored = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&stored, admin.js(), stream.c_str(), seq, nullptr, &code);
    if (s != NATS_OK) {
      check = NatsStatus(s, "js_GetMsg", code);
      break;
    }
    natsMsg* built = nullptr;
    s = BuildMessage(shape, k.payload(rec), rec, &id, &built);
    if (s != NATS_OK) {
      natsMsg_Destroy(stored);
      check = NatsStatus(s, "building a message");
      break;
    }
    const std::string_view data(natsMsg_GetData(stored),
                                static_cast<size_t>(natsMsg_GetDataLength(stored)));
    const std::map<std::string, std::string> got = Headers(stored), want = Headers(built);
    if (std::string_view(natsMsg_GetSubject(stored)) != natsMsg_GetSubject(built)) {
      check = absl::InternalError(absl::StrCat("message ", seq, ": subject differs"));
    } else if (data != k.payload(rec)) {
      check = absl::InternalError(absl::StrCat("message ", seq, ": payload differs"));
    } else if (got != want) {
      std::string diff;
      for (const auto& [key, v] : got) absl::StrAppend(&diff, " Ship() ", key, ": ", v, ";");
      for (const auto& [key, v] : want) absl::StrAppend(&diff, " ceiling ", key, ": ", v, ";");
      check = absl::InternalError(absl::StrCat("message ", seq, ": headers differ:", diff));
    }
    if (seq == 2) {
      header_bytes = 12;  // "NATS/1.0\r\n" ... "\r\n", and "key: value\r\n" each
      for (const auto& [key, v] : want) header_bytes += key.size() + 4 + v.size();
    }
    natsMsg_Destroy(built);
    natsMsg_Destroy(stored);
  }
  (void)admin.DeleteStream(stream);
  (void)store.DropCursor(k.collection, absl::StrCat("ship.", stream));
  if (!check.ok()) return check;
  return header_bytes;
}

absl::StatusOr<RunResult> Ceiling(const Kind& k, const MessageShape& shape, const std::string& urls,
                                  int replicas, const std::string& stream, Conn& admin) {
  AckCount acks;
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::unique_ptr<Conn>> conn = OpenConn(urls, &OnCeilingAck, &acks);
  if (!conn.ok()) return conn.status();
  Conn& c = **conn;
  if (absl::Status s = c.AddStream(stream, shape.subject, replicas, kDuplicateWindowNs); !s.ok())
    return s;
  RunResult r;
  r.setup_ms = absl::ToDoubleMilliseconds(absl::Now() - t0);

  const double cpu0 = ProcessCpuSeconds();
  const absl::Time start = absl::Now();
  std::string id;
  absl::Status failed;
  for (uint64_t seq = 0; seq < k.n; ++seq) {
    natsMsg* m = nullptr;
    natsStatus s = BuildMessage(shape, k.payload(seq), seq, &id, &m);
    while (s == NATS_OK) {
      s = js_PublishMsgAsync(c.js(), &m, nullptr);
      if (s != NATS_TIMEOUT) break;
      s = NATS_OK;  // window full (StallWait elapsed): try again, as Ship() does
    }
    if (s != NATS_OK) {
      natsMsg_Destroy(m);
      failed = NatsStatus(s, absl::StrCat("publishing ", seq));
      break;
    }
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  const natsStatus done = js_PublishAsyncComplete(c.js(), &po);
  r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  r.records = acks.acked.load();
  r.cpu_us = (ProcessCpuSeconds() - cpu0) * 1e6 / static_cast<double>(std::max<uint64_t>(1, k.n));
  r.bytes = r.records * k.record_size;
  if (failed.ok() && done != NATS_OK) failed = NatsStatus(done, "js_PublishAsyncComplete");
  if (failed.ok() && acks.failed.load() != 0) {
    failed = absl::InternalError(absl::StrCat(
        acks.failed.load(), " publishes failed, first JetStream error ", acks.first_error.load()));
  }
  if (failed.ok()) {
    absl::StatusOr<uint64_t> msgs = StreamMsgs(admin, stream);
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
    absl::StatusOr<uint64_t> msgs = StreamMsgs(admin, stream);
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

}  // namespace ship_bench
