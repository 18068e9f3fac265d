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

absl::StatusOr<std::unique_ptr<Conn>> OpenConn(const std::string& urls, jsPubAckHandler on_ack,
                                               void* closure) {
  return Conn::Connect({.servers = urls, .timeout = absl::Seconds(10)},
                       {.on_ack = on_ack, .closure = closure, .max_pending = kMaxPending});
}

absl::StatusOr<uint64_t> StreamMsgs(const Conn& c, const std::string& name) {
  absl::StatusOr<recstore::ship::StreamInfo> info = c.GetStream(name);
  if (!info.ok()) return info.status();
  return info->msgs;
}

}  // namespace ship_bench
