#include "src/ship/nats_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace recstore::ship {

absl::Status NatsStatus(natsStatus s, std::string_view what, int js_code) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = last != nullptr && *last != '\0' ? last : natsStatus_GetText(s);
  std::string msg = absl::StrCat(std::string(what), ": ", text);
  if (js_code != 0) absl::StrAppend(&msg, " (JetStream error ", js_code, ")");
  if (js_code == kStreamNotFound || js_code == kNoMessageFound || s == NATS_NOT_FOUND) {
    return absl::NotFoundError(msg);
  }
  if (text.find("ermission") != std::string::npos || s == NATS_NOT_PERMITTED) {
    return absl::PermissionDeniedError(msg);
  }
  switch (s) {
    case NATS_MAX_PAYLOAD:
      return absl::FailedPreconditionError(msg);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

std::string Header(natsMsg* m, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(m, key, &value) != NATS_OK || value == nullptr) return "";
  return value;
}

void NatsClient::OnError(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
  auto* self = static_cast<NatsClient*>(closure);
  const char* text = nullptr;
  natsConnection_GetLastError(nc, &text);
  const std::string said = text != nullptr && *text != '\0' ? text : natsStatus_GetText(err);
  absl::Status s = err == NATS_NOT_PERMITTED
                       ? absl::PermissionDeniedError(absl::StrCat("the server refused: ", said))
                       : NatsStatus(err, absl::StrCat("the server reported an error: ", said));
  base::MutexLock l(&self->mu_);
  if (self->async_error_.ok()) self->async_error_ = s;
}

absl::Status NatsClient::async_error() const {
  base::MutexLock l(&mu_);
  return async_error_;
}

absl::StatusOr<std::unique_ptr<NatsClient>> NatsClient::Connect(const NatsConnectOptions& options,
                                                                const PublishHandlers& handlers) {
  if (options.servers.empty()) return absl::InvalidArgumentError("no NATS server given");
  std::unique_ptr<NatsClient> c(new NatsClient());
  c->wait_ms_ = std::max<int64_t>(1, absl::ToInt64Milliseconds(options.timeout));
  std::vector<std::string> urls = absl::StrSplit(options.servers, ',', absl::SkipWhitespace());
  std::vector<const char*> ptrs;
  for (const std::string& u : urls) ptrs.push_back(u.c_str());
  natsStatus s = natsOptions_Create(&c->opts_);
  if (s == NATS_OK)
    s = natsOptions_SetServers(c->opts_, ptrs.data(), static_cast<int>(ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts_, c->wait_ms_);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->opts_, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(c->opts_, 250);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(c->opts_, &NatsClient::OnError, c.get());
  if (s != NATS_OK) return NatsStatus(s, "setting up the NATS connection");
  s = natsConnection_Connect(&c->nc_, c->opts_);
  if (s != NATS_OK) return NatsStatus(s, absl::StrCat("cannot connect to ", options.servers));
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = c->wait_ms_;
  jo.PublishAsync.MaxPending = handlers.max_pending;
  jo.PublishAsync.AckHandler = handlers.on_ack;
  jo.PublishAsync.AckHandlerClosure = handlers.closure;
  jo.PublishAsync.StallWait = 100;
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) return NatsStatus(s, "cannot make a JetStream context");
  return c;
}

NatsClient::~NatsClient() {
  // Closing first stops the callbacks; messages still pending are dropped with the context
  // (nothing was acknowledged locally for them).
  if (nc_ != nullptr) natsConnection_Close(nc_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

absl::StatusOr<StreamInfo> NatsClient::GetStream(const std::string& name) const {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) return NatsStatus(s, absl::StrCat("stream ", name), code);
  StreamInfo out;
  out.msgs = si->State.Msgs;
  out.first_seq = si->State.FirstSeq;
  out.last_seq = si->State.LastSeq;
  if (si->Config != nullptr) {
    out.replicas = static_cast<int>(si->Config->Replicas);
    for (int i = 0; i < si->Config->SubjectsLen; ++i)
      out.subjects.push_back(si->Config->Subjects[i]);
  }
  jsStreamInfo_Destroy(si);
  return out;
}

absl::Status NatsClient::AddStream(const std::string& name, const std::string& subject,
                                   int replicas, int64_t duplicates_ns) const {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  const char* subjects[] = {subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Replicas = replicas;
  cfg.Duplicates = duplicates_ns;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &code);
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) return NatsStatus(s, absl::StrCat("cannot create stream ", name), code);
  return absl::OkStatus();
}

absl::Status NatsClient::DeleteStream(const std::string& name) const {
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) return NatsStatus(s, absl::StrCat("cannot delete stream ", name), code);
  return absl::OkStatus();
}

absl::StatusOr<MsgPtr> NatsClient::GetMsg(const std::string& stream, uint64_t seq) const {
  natsMsg* m = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&m, js_, stream.c_str(), seq, nullptr, &code);
  if (s != NATS_OK) {
    return NatsStatus(s, absl::StrCat("reading message ", seq, " of stream ", stream), code);
  }
  return MsgPtr(m);
}

}  // namespace recstore::ship
