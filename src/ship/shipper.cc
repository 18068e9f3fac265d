// Ship(): follows a collection and publishes each durable record to JetStream, chained to
// its predecessor by Nats-Expected-Last-Sequence, through a bounded window of asynchronous
// publishes; commits the cursor behind the acknowledgements (docs/design.md section 13).
#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "recstore/ship.h"
#include "recstore/status_macros.h"
#include "src/base/mutex.h"
#include "src/ship/message.h"
#include "src/ship/nats_client.h"

namespace recstore {
namespace ship {
namespace {

// Records published per pass of the main loop, between its checks.
constexpr int kRecordsPerPass = 4096;
// Cursor commits (one fdatasync each) at most this often while shipping.
constexpr absl::Duration kCommitInterval = absl::Milliseconds(200);
// No acknowledgement for this long while messages are in flight counts as a failure.
constexpr absl::Duration kAckTimeout = absl::Seconds(5);

// What the acknowledgement callback (a libnats thread) shares with the shipper.
struct AckState {
  base::Mutex mu;
  uint64_t stored_end ABSL_GUARDED_BY(mu) = 0;  // every shipped record below it is stored
  uint64_t records ABSL_GUARDED_BY(mu) = 0;     // acknowledged, not duplicates
  uint64_t bytes ABSL_GUARDED_BY(mu) = 0;
  int64_t inflight ABSL_GUARDED_BY(mu) = 0;
  absl::Time last_ack ABSL_GUARDED_BY(mu);
  absl::Status failure ABSL_GUARDED_BY(mu);  // the first failed publish since the last resync
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* st = static_cast<AckState*>(closure);
  const std::optional<ParsedId> id = ParseMessageId(Header(msg, kMsgIdHeader));
  const int size = natsMsg_GetDataLength(msg);
  natsMsg_Destroy(msg);
  base::MutexLock l(&st->mu);
  --st->inflight;
  st->last_ack = absl::Now();
  if (pa != nullptr && id.has_value()) {
    // The chain stores a message only right after its predecessor: all below it are stored.
    st->stored_end = std::max(st->stored_end, id->seq + 1);
    if (!pa->Duplicate) {
      ++st->records;
      st->bytes += static_cast<uint64_t>(size);
    }
  } else if (st->failure.ok()) {
    st->failure = pae != nullptr
                      ? NatsStatus(pae->Err, absl::StrCat("publishing record ", id ? id->seq : 0),
                                   pae->ErrCode)
                      : absl::UnavailableError("publish acknowledged without a sequence");
  }
}

class Shipper {
 public:
  Shipper(Store& store, std::string_view collection, const ShipOptions& options)
      : store_(store), collection_(collection), o_(options) {}

  absl::StatusOr<ShipReport> Run();

 private:
  absl::Status Setup();
  // Publishes and recovers until done, stopped or failed.
  absl::Status Loop();
  absl::Status Resync();
  absl::Status Recover();
  absl::Status PublishUpTo(uint64_t limit);
  absl::Status Publish(uint64_t seq, std::span<const std::byte> record);
  // Waits up to `wait` for every publish in flight to be acknowledged; whether they were.
  bool WaitForAcks(absl::Duration wait);
  // The same, then takes back (drops) what is still unacknowledged: DeadlineExceeded then.
  absl::Status Drain(absl::Duration wait);
  absl::Status CommitAcked(bool force);
  // Where the run stands now.
  ShipReport Current();
  void Report(bool force);
  bool Stopping() const { return o_.stop != nullptr && o_.stop->load(); }
  uint64_t StoredEnd() {
    base::MutexLock l(&acks_.mu);
    return acks_.stored_end;
  }

  Store& store_;
  const std::string collection_;
  const ShipOptions& o_;
  const absl::Time start_ = absl::Now();
  UntypedLog log_;
  std::optional<Cursor> cursor_;
  AckState acks_;  // before nats_: its callbacks use acks_ until nats_ is gone
  std::unique_ptr<NatsClient> nats_;
  bool published_ = false;  // libnats keeps no pending list before the first publish
  std::string store_id_, subject_, schema_header_;
  const char* kind_ = kKindBytes;
  uint64_t position_ = 0;  // next record to publish
  // The stream sequence of the stream's last message as this shipper knows it: the next
  // message must be stored right after it (Nats-Expected-Last-Sequence).
  uint64_t last_stream_seq_ = 0;
  // Since when failures have repeated without the stream taking a record (InfiniteFuture:
  // not failing).
  absl::Time failing_since_ = absl::InfiniteFuture();
  uint64_t stored_at_failure_ = 0;
  uint64_t resyncs_ = 0;
  uint64_t acked_reported_ = 0;
  absl::Time last_commit_ = absl::InfinitePast();
  absl::Time last_report_ = absl::Now();
};

absl::Status Shipper::Setup() {
  if (o_.stream.empty()) return absl::InvalidArgumentError("no stream given");
  if (o_.replicas < 1 || o_.replicas > 5) {
    return absl::InvalidArgumentError(absl::StrCat("replicas must be 1 to 5, not ", o_.replicas));
  }
  if (o_.max_pending < 1) return absl::InvalidArgumentError("max_pending must be at least 1");
  RECSTORE_ASSIGN_OR_RETURN(log_, store_.OpenUntyped(collection_));
  store_id_ = store_.id();
  if (store_id_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", store_.path(),
                     " has no store id yet (made by an older version): open it once as a writer"));
  }
  const CollectionInfo info = log_.info();
  if (info.kind == CollectionKind::kFixed) {
    kind_ = kKindFixed;
    schema_header_ = SchemaHeader(info.schema);
  }
  subject_ = o_.subject.empty() ? DefaultSubject(collection_) : o_.subject;
  RECSTORE_RETURN_IF_ERROR(CheckSubject(subject_));
  RECSTORE_ASSIGN_OR_RETURN(
      nats_, NatsClient::Connect(
                 o_.nats, {.on_ack = &OnAck, .closure = &acks_, .max_pending = o_.max_pending}));
  absl::StatusOr<StreamInfo> stream = nats_->GetStream(o_.stream);
  if (!stream.ok() && stream.status().code() == absl::StatusCode::kNotFound && o_.create_stream) {
    RECSTORE_RETURN_IF_ERROR(nats_->AddStream(o_.stream, subject_, o_.replicas,
                                              absl::ToInt64Nanoseconds(o_.duplicate_window)));
    stream = nats_->GetStream(o_.stream);
  }
  if (!stream.ok()) {
    if (stream.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("stream ", o_.stream, " does not exist on ",
                                              o_.nats.servers,
                                              " (create it, or ship with create_stream)"));
    }
    return stream.status();
  }
  bool covered = false;
  for (const std::string& s : stream->subjects) covered = covered || SubjectMatches(s, subject_);
  if (!covered) {
    return absl::FailedPreconditionError(
        absl::StrCat("stream ", o_.stream, " does not capture subject ", subject_, " (it has ",
                     absl::StrJoin(stream->subjects, ", "), ")"));
  }
  const std::string cursor = o_.cursor.empty() ? absl::StrCat("ship.", o_.stream) : o_.cursor;
  RECSTORE_ASSIGN_OR_RETURN(Cursor c, store_.OpenCursor(collection_, cursor));
  cursor_.emplace(std::move(c));
  return Resync();
}

absl::Status Shipper::Resync() {
  RECSTORE_ASSIGN_OR_RETURN(StreamInfo info, nats_->GetStream(o_.stream));
  std::optional<uint64_t> next;  // the record after the stream's last one
  // A purged stream keeps its last sequence: the next message still comes right after it.
  last_stream_seq_ = info.last_seq;
  if (info.msgs > 0) {
    RECSTORE_ASSIGN_OR_RETURN(MsgPtr m, nats_->GetMsg(o_.stream, info.last_seq));
    const std::string id = Header(m.get(), kMsgIdHeader);
    const std::optional<ParsedId> parsed = ParseMessageId(id);
    if (!parsed || parsed->store_id != store_id_ || parsed->collection != collection_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "stream ", o_.stream, "'s last message (stream sequence ", info.last_seq, ", id '", id,
          "') is not a record of collection '", collection_, "' of store ", store_id_,
          ": a stream receives the records of one shipped collection"));
    }
    next = parsed->seq + 1;
  }
  RECSTORE_RETURN_IF_ERROR(log_.Refresh());
  const uint64_t committed = cursor_->position();
  // Records the stream holds past the cursor were acknowledged (or stored unacknowledged):
  // resume after them. A stream behind the cursor lost messages it had acknowledged: ship
  // them again while the store has them.
  uint64_t start = next.value_or(committed);
  if (start < log_.begin()) {
    return absl::DataLossError(
        absl::StrCat("records [", start, ", ", log_.begin(), ") of collection '", collection_,
                     "' are not in stream ", o_.stream,
                     " and the store no longer has them (retention or "
                     "TruncateBefore dropped them before they were shipped)"));
  }
  position_ = start;
  base::MutexLock l(&acks_.mu);
  acks_.stored_end = start;
  acks_.inflight = 0;
  acks_.failure = absl::OkStatus();
  acks_.last_ack = absl::Now();
  return absl::OkStatus();
}

bool Shipper::WaitForAcks(absl::Duration wait) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = std::max<int64_t>(1, absl::ToInt64Milliseconds(wait));
  if (!published_) return true;
  return js_PublishAsyncComplete(nats_->js(), &po) == NATS_OK;
}

absl::Status Shipper::Drain(absl::Duration wait) {
  if (WaitForAcks(wait)) return absl::OkStatus();
  // Take back what is still unacknowledged: its acknowledgements, if they come, are ignored,
  // and the resync reads from the stream what was stored.
  natsMsgList pending;
  if (published_ && js_PublishAsyncGetPendingList(&pending, nats_->js()) == NATS_OK) {
    natsMsgList_Destroy(&pending);
  }
  base::MutexLock l(&acks_.mu);
  acks_.inflight = 0;
  return absl::DeadlineExceededError("acknowledgements did not arrive");
}

absl::Status Shipper::Recover() {
  // Failures that repeat while the stream takes nothing end the run after retry_for, even
  // when every resync succeeds (a server that refuses every publish).
  const uint64_t stored = StoredEnd();
  if (failing_since_ == absl::InfiniteFuture() || stored > stored_at_failure_) {
    failing_since_ = absl::Now();
    stored_at_failure_ = stored;
  }
  absl::Status cause;
  {
    base::MutexLock l(&acks_.mu);
    cause = acks_.failure;
  }
  if (absl::Now() - failing_since_ > o_.retry_for) {
    return absl::UnavailableError(absl::StrCat("JetStream took no record for ",
                                               absl::FormatDuration(o_.retry_for), ": ",
                                               cause.message()));
  }
  const absl::Time deadline = absl::Now() + o_.retry_for;
  absl::Status last;
  for (;;) {
    (void)Drain(absl::Seconds(2));
    if (absl::Status e = nats_->async_error(); e.code() == absl::StatusCode::kPermissionDenied) {
      return e;
    }
    last = Resync();
    if (last.ok()) {
      ++resyncs_;
      return absl::OkStatus();
    }
    switch (last.code()) {
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kDataLoss:
      case absl::StatusCode::kPermissionDenied:
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kInvalidArgument:
        return last;
      default:
        break;
    }
    if (absl::Now() > deadline || Stopping()) {
      return absl::UnavailableError(absl::StrCat("JetStream did not recover within ",
                                                 absl::FormatDuration(o_.retry_for), ": ",
                                                 last.message()));
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
}

absl::Status Shipper::Publish(uint64_t seq, std::span<const std::byte> record) {
  const std::string id = MessageId(store_id_, collection_, seq);
  // Headers as the wire carries them: "NATS/1.0\r\n", "key: value\r\n" each, "\r\n".
  const size_t headers = 12 + (sizeof(kMsgIdHeader) + 3 + id.size()) +
                         (sizeof(kExpectedLastSeqHeader) + 3 + 20) + (sizeof(kKindHeader) + 3 + 5) +
                         (sizeof(kSchemaHeader) + 3 + schema_header_.size());
  if (static_cast<int64_t>(record.size() + headers) > nats_->max_payload()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "record ", seq, " of collection '", collection_, "' is ", record.size(),
        " bytes; with its headers (", headers, " bytes) it exceeds the server's max_payload of ",
        nats_->max_payload(), " bytes: raise max_payload on the servers (at most 64 MB)"));
  }
  natsMsg* m = nullptr;
  natsStatus s =
      natsMsg_Create(&m, subject_.c_str(), nullptr, reinterpret_cast<const char*>(record.data()),
                     static_cast<int>(record.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(m, kMsgIdHeader, id.c_str());
  if (s == NATS_OK) {
    s = natsMsgHeader_Set(m, kExpectedLastSeqHeader, absl::StrCat(last_stream_seq_).c_str());
  }
  if (s == NATS_OK) s = natsMsgHeader_Set(m, kKindHeader, kind_);
  if (s == NATS_OK && !schema_header_.empty()) {
    s = natsMsgHeader_Set(m, kSchemaHeader, schema_header_.c_str());
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    return NatsStatus(s, "building a message");
  }
  {
    base::MutexLock l(&acks_.mu);
    ++acks_.inflight;
  }
  published_ = true;
  for (;;) {
    s = js_PublishMsgAsync(nats_->js(), &m, nullptr);
    if (s != NATS_TIMEOUT) break;
    // The window is full: wait for acknowledgements unless something failed meanwhile.
    base::MutexLock l(&acks_.mu);
    if (!acks_.failure.ok() || absl::Now() - acks_.last_ack > kAckTimeout) {
      s = NATS_TIMEOUT;
      break;
    }
  }
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    base::MutexLock l(&acks_.mu);
    --acks_.inflight;
    if (s == NATS_MAX_PAYLOAD) return NatsStatus(s, absl::StrCat("publishing record ", seq));
    // Connection trouble or a stalled window: the main loop recovers.
    if (acks_.failure.ok()) acks_.failure = NatsStatus(s, absl::StrCat("publishing record ", seq));
    return absl::OkStatus();
  }
  ++last_stream_seq_;
  position_ = seq + 1;
  return absl::OkStatus();
}

absl::Status Shipper::PublishUpTo(uint64_t limit) {
  auto scan = log_.Scan(position_);
  if (!scan.lost().empty()) {
    return absl::DataLossError(absl::StrCat("records [", scan.lost().from, ", ", scan.lost().to,
                                            ") of collection '", collection_,
                                            "' were dropped before they were shipped"));
  }
  int n = 0;
  for (const auto& [seq, record] : scan) {
    if (seq >= limit) break;
    RECSTORE_RETURN_IF_ERROR(Publish(seq, record));
    if (position_ != seq + 1 || ++n == kRecordsPerPass) break;  // failed, or time to check
  }
  return scan.status();
}

absl::Status Shipper::CommitAcked(bool force) {
  const uint64_t stored = StoredEnd();
  if (o_.acked && stored > acked_reported_) {
    acked_reported_ = stored;
    o_.acked(stored);
  }
  if (stored <= cursor_->position()) return absl::OkStatus();
  if (!force && absl::Now() - last_commit_ < kCommitInterval) return absl::OkStatus();
  last_commit_ = absl::Now();
  return cursor_->Commit(stored);
}

ShipReport Shipper::Current() {
  ShipReport r;
  {
    base::MutexLock l(&acks_.mu);
    r.records = acks_.records;
    r.bytes = acks_.bytes;
    r.position = acks_.stored_end;
  }
  r.end = log_.durable();
  r.resyncs = resyncs_;
  r.elapsed = absl::Now() - start_;
  return r;
}

void Shipper::Report(bool force) {
  if (!o_.progress) return;
  if (!force && absl::Now() - last_report_ < o_.progress_interval) return;
  last_report_ = absl::Now();
  o_.progress(Current());
}

absl::Status Shipper::Loop() {
  const uint64_t target = log_.durable();  // without follow: ship what is durable now
  while (!Stopping()) {
    bool failed;
    {
      base::MutexLock l(&acks_.mu);
      failed =
          !acks_.failure.ok() || (acks_.inflight > 0 && absl::Now() - acks_.last_ack > kAckTimeout);
    }
    if (failed) {
      RECSTORE_RETURN_IF_ERROR(Recover());
      continue;
    }
    if (absl::Status e = nats_->async_error(); e.code() == absl::StatusCode::kPermissionDenied) {
      return e;
    }
    RECSTORE_RETURN_IF_ERROR(log_.Refresh());
    const uint64_t limit = o_.follow ? log_.durable() : std::min(target, log_.durable());
    if (position_ < limit) {
      RECSTORE_RETURN_IF_ERROR(PublishUpTo(limit));
    } else if (!o_.follow) {
      if (StoredEnd() >= position_) break;  // everything published is acknowledged
      WaitForAcks(absl::Milliseconds(50));  // a stall is caught above (kAckTimeout)
    } else {
      absl::StatusOr<uint64_t> w = log_.WaitFor(position_, absl::Now() + absl::Milliseconds(50),
                                                {.until = WaitOptions::Until::kDurable});
      if (!w.ok() && w.status().code() != absl::StatusCode::kDeadlineExceeded) return w.status();
    }
    RECSTORE_RETURN_IF_ERROR(CommitAcked(false));
    Report(false);
  }
  return absl::OkStatus();
}

absl::StatusOr<ShipReport> Shipper::Run() {
  RECSTORE_RETURN_IF_ERROR(Setup());
  const absl::Status loop = Loop();
  // Done, stopping or failed: wait for what is in flight, then commit what JetStream
  // acknowledged (acknowledgements are facts whatever ended the loop).
  (void)Drain(absl::Seconds(10));
  const absl::Status commit = CommitAcked(true);
  Report(true);
  RECSTORE_RETURN_IF_ERROR(loop);
  RECSTORE_RETURN_IF_ERROR(commit);
  return Current();
}

}  // namespace
}  // namespace ship

absl::StatusOr<ShipReport> Ship(Store& store, std::string_view collection,
                                const ShipOptions& options) {
  ship::Shipper shipper(store, collection, options);
  return shipper.Run();
}

}  // namespace recstore
