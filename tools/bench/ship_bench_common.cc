#include "tools/bench/ship_bench_common.h"

#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ship_bench {

void Progress(const std::string& s) {
  std::fprintf(stderr, "[%s] %s\n",
               absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(), s.c_str());
}

ShipRec64 MakeRec64(uint64_t i) {
  ShipRec64 r{};
  r.seq = i;
  r.time_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(i);
  for (size_t k = 0; k < sizeof(r.text); ++k) r.text[k] = static_cast<char>('a' + (i + k) % 26);
  return r;
}

namespace {

std::string MakeBytes(uint64_t i) {
  std::string b(kBytesRecord, '\0');
  std::memcpy(b.data(), &i, sizeof(i));
  for (size_t k = sizeof(i); k < kBytesRecord; ++k)
    b[k] = static_cast<char>('A' + (i * 7 + k) % 26);
  return b;
}

}  // namespace

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

absl::Status Nats(natsStatus s, const std::string& what, jsErrCode code) {
  if (s == NATS_OK) return absl::OkStatus();
  const char* last = nats_GetLastError(nullptr);
  return absl::UnavailableError(
      absl::StrCat(what, ": ", last && *last ? last : natsStatus_GetText(s),
                   code != 0 ? absl::StrCat(" (JetStream error ", code, ")") : std::string()));
}

absl::StatusOr<std::unique_ptr<Conn>> Conn::Open(const std::string& urls, jsPubAckHandler on_ack,
                                                 void* closure) {
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
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = closure;
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) return Nats(s, "JetStream context");
  return c;
}

Conn::~Conn() {
  if (nc_ != nullptr) natsConnection_Close(nc_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
  if (opts_ != nullptr) natsOptions_Destroy(opts_);
}

absl::Status Conn::AddStream(const std::string& name, const std::string& subject, int replicas) {
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

absl::Status Conn::DeleteStream(const std::string& name) {
  jsErrCode code = static_cast<jsErrCode>(0);
  return Nats(js_DeleteStream(js_, name.c_str(), nullptr, &code),
              absl::StrCat("js_DeleteStream ", name), code);
}

absl::StatusOr<uint64_t> Conn::StreamMsgs(const std::string& name) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) return Nats(s, absl::StrCat("stream info ", name), code);
  const uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

}  // namespace ship_bench
