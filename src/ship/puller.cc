// Pull(): reads a stream of shipped records with an ordered consumer and appends them to a
// local collection, checking ids, kind, schema and that record numbers follow each other.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recstore/ship.h"
#include "recstore/status_macros.h"
#include "src/format/manifest.h"
#include "src/ship/message.h"
#include "src/ship/nats_client.h"

namespace recstore {
namespace ship {
namespace {

// Records appended per batch.
constexpr size_t kAppendBatch = 1024;
// Messages asked of the server per fetch.
constexpr uint64_t kFetchBatch = 1024;

struct SubDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};

// What every message of the stream must share with its first.
struct StreamShape {
  std::string store_id;
  std::string collection;
  std::string kind;
  std::string schema;  // the Recstore-Schema header, as sent
  std::string subject;
};

class Puller {
 public:
  Puller(Store& store, std::string_view collection, const PullOptions& options)
      : store_(store), collection_(collection), o_(options) {}
  absl::StatusOr<ShipReport> Run();

 private:
  absl::Status OpenCollection(natsMsg* first);
  // Checks one message against the stream's shape; returns its record seq.
  absl::StatusOr<uint64_t> Check(natsMsg* m, uint64_t stream_seq);
  // Checks one fetched message and appends (or compares) its record; sets *stream_seq.
  absl::Status Take(natsMsg* m, uint64_t* stream_seq);
  absl::Status Flush();
  void Report(bool force);

  Store& store_;
  const std::string collection_;
  const PullOptions& o_;
  const absl::Time start_ = absl::Now();
  std::unique_ptr<NatsClient> nats_;
  UntypedLog log_;
  StreamShape shape_;
  std::vector<std::string> batch_;
  std::vector<std::string_view> views_;
  uint64_t end_ = 0;  // the local collection's end, counting the batch
  ShipReport report_;
  absl::Time last_report_ = absl::Now();
};

absl::Status Puller::OpenCollection(natsMsg* first) {
  shape_.kind = Header(first, kKindHeader);
  shape_.schema = Header(first, kSchemaHeader);
  shape_.subject = natsMsg_GetSubject(first);
  CollectionKind kind;
  RecordSchema schema;
  const std::string what = absl::StrCat("stream ", o_.stream, "'s first message");
  if (shape_.kind == kKindFixed) {
    kind = CollectionKind::kFixed;
    RECSTORE_ASSIGN_OR_RETURN(schema, ParseSchemaHeader(shape_.schema, what));
  } else if (shape_.kind == kKindBytes) {
    kind = CollectionKind::kVariable;
  } else {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " has no valid ", kKindHeader, " header ('", shape_.kind, "')"));
  }
  RECSTORE_ASSIGN_OR_RETURN(log_, store_.OpenUntyped(collection_, kind, schema));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Puller::Check(natsMsg* m, uint64_t stream_seq) {
  const std::string id = Header(m, kMsgIdHeader);
  const std::optional<ParsedId> parsed = ParseMessageId(id);
  const std::string where = absl::StrCat("stream ", o_.stream, " message ", stream_seq);
  if (!parsed) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " is not a shipped record (Nats-Msg-Id '", id, "')"));
  }
  if (shape_.store_id.empty()) {
    shape_.store_id = parsed->store_id;
    shape_.collection = parsed->collection;
  }
  if (parsed->store_id != shape_.store_id || parsed->collection != shape_.collection) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " (", id, ") is from another collection or store than the stream's first (",
        shape_.store_id, "/", shape_.collection, ")"));
  }
  if (Header(m, kKindHeader) != shape_.kind || Header(m, kSchemaHeader) != shape_.schema) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, " (", id, ") carries another kind or schema than the first"));
  }
  return parsed->seq;
}

absl::Status Puller::Take(natsMsg* m, uint64_t* stream_seq) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
    return absl::DataLossError(absl::StrCat("stream ", o_.stream, ": a message without metadata"));
  }
  *stream_seq = meta->Sequence.Stream;
  jsMsgMetaData_Destroy(meta);
  RECSTORE_ASSIGN_OR_RETURN(const uint64_t seq, Check(m, *stream_seq));
  const std::string_view data(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  if (seq < end_) {
    // Already here: it must be the same record.
    RECSTORE_RETURN_IF_ERROR(Flush());
    RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> mine, log_.Get(seq));
    if (AsString(mine) != data) {
      return absl::DataLossError(absl::StrCat("record ", seq, " of collection '", collection_,
                                              "' differs from stream ", o_.stream, "'s message ",
                                              *stream_seq));
    }
    return absl::OkStatus();
  }
  if (seq > end_) {
    return absl::DataLossError(absl::StrCat(
        "stream ", o_.stream, " skips records [", end_, ", ", seq, ") at message ", *stream_seq,
        " (removed by compaction at the source, or lost): a pulled collection's sequence "
        "numbers are those of the source, so it cannot go on"));
  }
  batch_.emplace_back(data);
  ++end_;
  ++report_.records;
  report_.bytes += data.size();
  if (batch_.size() == kAppendBatch) return Flush();
  return absl::OkStatus();
}

absl::Status Puller::Flush() {
  if (batch_.empty()) return absl::OkStatus();
  views_.assign(batch_.begin(), batch_.end());
  RECSTORE_ASSIGN_OR_RETURN(uint64_t first, log_.AppendBatch(views_));
  (void)first;
  batch_.clear();
  return absl::OkStatus();
}

void Puller::Report(bool force) {
  if (!o_.progress) return;
  if (!force && absl::Now() - last_report_ < o_.progress_interval) return;
  last_report_ = absl::Now();
  report_.position = end_;
  report_.elapsed = absl::Now() - start_;
  o_.progress(report_);
}

absl::StatusOr<ShipReport> Puller::Run() {
  if (o_.stream.empty()) return absl::InvalidArgumentError("no stream given");
  if (store_.options().read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("pull needs the store open for writing: ", store_.path(), " is read-only"));
  }
  RECSTORE_ASSIGN_OR_RETURN(nats_, NatsClient::Connect(o_.nats, {}));
  RECSTORE_ASSIGN_OR_RETURN(StreamInfo info, nats_->GetStream(o_.stream));
  report_.end = info.msgs;
  if (info.msgs == 0) {
    report_.elapsed = absl::Now() - start_;
    return report_;
  }
  RECSTORE_ASSIGN_OR_RETURN(MsgPtr first, nats_->GetMsg(o_.stream, info.first_seq));
  RECSTORE_RETURN_IF_ERROR(OpenCollection(first.get()));
  RECSTORE_ASSIGN_OR_RETURN(const uint64_t first_record, Check(first.get(), info.first_seq));
  end_ = log_.end();
  report_.position = end_;
  if (first_record > end_) {
    return absl::DataLossError(
        absl::StrCat("stream ", o_.stream, " starts at record ", first_record, " of ",
                     shape_.store_id, "/", shape_.collection, "; collection '", collection_,
                     "' ends at ", end_, ": records in between are missing"));
  }
  // Shipped records are dense unless compaction removed some at the source: guess where
  // record end_ sits, and start from the beginning when the guess is wrong.
  uint64_t start = info.first_seq;
  if (end_ > first_record && info.first_seq + (end_ - first_record) - 1 <= info.last_seq) {
    // The message before the guess must be the collection's last record, byte for byte.
    const uint64_t guess = info.first_seq + (end_ - first_record);
    absl::StatusOr<MsgPtr> at = nats_->GetMsg(o_.stream, guess - 1);
    if (at.ok()) {
      absl::StatusOr<uint64_t> seq = Check(at->get(), guess - 1);
      if (seq.ok() && *seq + 1 == end_) {
        absl::StatusOr<std::span<const std::byte>> mine = log_.Get(*seq);
        const char* data = natsMsg_GetData(at->get());
        const int len = natsMsg_GetDataLength(at->get());
        if (mine.ok() && AsString(*mine) == std::string_view(data, static_cast<size_t>(len))) {
          start = guess;
        }
      }
    }
  }
  if (start > info.last_seq) {
    report_.elapsed = absl::Now() - start_;
    return report_;
  }
  // A pull consumer: the puller asks for each batch, so a slow local append never makes
  // the server outrun it (a push consumer drops messages then: "slow consumer").
  jsOptions jo;
  jsOptions_Init(&jo);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o_.stream.c_str();
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = start;
  so.Config.AckPolicy = js_AckAll;
  // More than a fetch asks for: the server never holds a batch back for acknowledgements.
  so.Config.MaxAckPending = 4 * static_cast<int64_t>(kFetchBatch);
  natsSubscription* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_PullSubscribe(&raw, nats_->js(), shape_.subject.c_str(), nullptr, &jo, &so, &code);
  if (s != NATS_OK) return NatsStatus(s, absl::StrCat("reading stream ", o_.stream), code);
  std::unique_ptr<natsSubscription, SubDeleter> sub(raw);
  const int64_t wait_ms = std::max<int64_t>(1000, absl::ToInt64Milliseconds(o_.nats.timeout));
  uint64_t stream_seq = start - 1;
  while (stream_seq < info.last_seq) {
    natsMsgList list{};
    const int want = static_cast<int>(std::min<uint64_t>(kFetchBatch, info.last_seq - stream_seq));
    s = natsSubscription_Fetch(&list, sub.get(), want, wait_ms, &code);
    if (s == NATS_TIMEOUT && list.Count == 0) {
      // Messages at the end of the stream were deleted: nothing more will come.
      break;
    }
    if (s != NATS_OK && s != NATS_TIMEOUT) {
      natsMsgList_Destroy(&list);
      return NatsStatus(
          s, absl::StrCat("reading stream ", o_.stream, " after message ", stream_seq), code);
    }
    absl::Status taken;
    for (int i = 0; i < list.Count && taken.ok(); ++i) taken = Take(list.Msgs[i], &stream_seq);
    if (taken.ok() && list.Count > 0) (void)natsMsg_Ack(list.Msgs[list.Count - 1], nullptr);
    natsMsgList_Destroy(&list);
    RECSTORE_RETURN_IF_ERROR(taken);
    Report(false);
  }
  RECSTORE_RETURN_IF_ERROR(Flush());
  RECSTORE_RETURN_IF_ERROR(log_.Sync().status());
  Report(true);
  report_.position = end_;
  report_.elapsed = absl::Now() - start_;
  return report_;
}

}  // namespace
}  // namespace ship

absl::StatusOr<ShipReport> Pull(Store& store, std::string_view collection,
                                const PullOptions& options) {
  ship::Puller puller(store, collection, options);
  return puller.Run();
}

}  // namespace recstore
