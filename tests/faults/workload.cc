#include "tests/faults/workload.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recstore/recstore.h"
#include "recstore/status_macros.h"
#include "src/format/manifest.h"
#include "tests/testing/open_store.h"
#include "tests/testing/records.h"

namespace recstore::faults {
namespace {

using testing::MakeTrade;
using testing::Trade;

constexpr uint64_t kTrades = 4000;   // 1536 per segment: three segments
constexpr uint64_t kEvents = 300;    // about 300 KB: six segments
constexpr uint64_t kBig = 80 << 10;  // more than a segment: a segment of its own
constexpr uint64_t kMore = 10;       // appended after the first reopen

absl::Status Differs(std::string_view what, uint64_t seq) {
  return absl::InternalError(absl::StrCat(std::string(what), " record ", seq, " differs"));
}

std::string EventRecord(uint64_t i) {
  return i == kEvents ? std::string(kBig, 'B') : ByteRecord(i);
}

absl::Status CheckTrades(const Log<Trade>& trades, uint64_t n) {
  if (trades.size() != n) {
    return absl::InternalError(absl::StrCat("trades holds ", trades.size(), ", expected ", n));
  }
  for (uint64_t i = 0; i < n; ++i) {
    RECSTORE_ASSIGN_OR_RETURN(const Trade* t, trades.Get(i));
    const Trade want = MakeTrade(i);
    if (std::memcmp(t, &want, sizeof(Trade)) != 0) return Differs("trades", i);
  }
  return absl::OkStatus();
}

absl::Status CheckEvents(const ByteLog& events, uint64_t n) {
  if (events.size() != n) {
    return absl::InternalError(absl::StrCat("events holds ", events.size(), ", expected ", n));
  }
  uint64_t seen = 0;
  auto scan = events.Scan();
  for (const auto& [seq, bytes] : scan) {
    const std::string want = EventRecord(seq);
    if (seq != seen ||
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()) != want) {
      return Differs("events", seq);
    }
    ++seen;
  }
  // A scan that stopped early says why.
  RECSTORE_RETURN_IF_ERROR(scan.status());
  if (seen != n) return absl::InternalError(absl::StrCat("events scan saw ", seen));
  return absl::OkStatus();
}

std::string Report(std::string_view name, const RecoveryReport& r) {
  return absl::StrCat(std::string(name), ": durable_point=", r.durable_point,
                      " records=", r.records, " tail_kept=", r.tail_records_kept,
                      " truncated=", r.truncated ? 1 : 0, " removed=", r.segments_removed, "\n");
}

absl::Status Write(Env* env, const std::string& dir, std::string* summary) {
  const StoreOptions options{.create_if_missing = true, .segment_size = kWorkloadSegment};
  RECSTORE_ASSIGN_OR_RETURN(auto store, ::recstore::testing::OpenStore(env, dir, options));
  RECSTORE_ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  RECSTORE_ASSIGN_OR_RETURN(auto events, store->OpenByteLog("events"));
  {
    RECSTORE_ASSIGN_OR_RETURN(auto scratch, store->OpenByteLog("scratch"));
    for (int i = 0; i < 10; ++i) RECSTORE_RETURN_IF_ERROR(scratch.Append("scratch").status());
    RECSTORE_RETURN_IF_ERROR(scratch.Sync().status());
  }
  std::vector<Trade> batch;
  for (uint64_t i = 0; i < kTrades; ++i) {
    batch.push_back(MakeTrade(i));
    if (batch.size() == 100) {
      RECSTORE_RETURN_IF_ERROR(trades.AppendBatch(batch).status());
      batch.clear();
    }
    if ((i + 1) % 500 == 0) RECSTORE_RETURN_IF_ERROR(trades.Sync().status());
  }
  for (uint64_t i = 0; i <= kEvents; ++i) {
    RECSTORE_RETURN_IF_ERROR(events.Append(EventRecord(i)).status());
    if ((i + 1) % 50 == 0) RECSTORE_RETURN_IF_ERROR(events.Sync().status());
  }
  RECSTORE_RETURN_IF_ERROR(trades.Sync().status());
  RECSTORE_RETURN_IF_ERROR(events.Sync().status());
  RECSTORE_RETURN_IF_ERROR(store->DropCollection("scratch"));
  RECSTORE_RETURN_IF_ERROR(CheckTrades(trades, kTrades));
  RECSTORE_RETURN_IF_ERROR(CheckEvents(events, kEvents + 1));
  absl::StrAppend(summary, "written: trades=", trades.size(), " events=", events.size(), "\n");
  return absl::OkStatus();
}

absl::Status Reopen(Env* env, const std::string& dir, std::string* summary) {
  RECSTORE_ASSIGN_OR_RETURN(auto store, ::recstore::testing::OpenStore(env, dir, {}));
  RECSTORE_ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  RECSTORE_ASSIGN_OR_RETURN(auto events, store->OpenByteLog("events"));
  absl::StrAppend(summary, Report("trades", trades.recovery()), Report("events", events.recovery()),
                  "collections=", store->ListCollections().size(), "\n");
  RECSTORE_RETURN_IF_ERROR(CheckTrades(trades, kTrades));
  RECSTORE_RETURN_IF_ERROR(CheckEvents(events, kEvents + 1));
  for (uint64_t i = kTrades; i < kTrades + kMore; ++i) {
    RECSTORE_RETURN_IF_ERROR(trades.Append(MakeTrade(i)).status());
  }
  for (uint64_t i = kEvents + 1; i < kEvents + 1 + kMore; ++i) {
    RECSTORE_RETURN_IF_ERROR(events.Append(EventRecord(i)).status());
  }
  RECSTORE_RETURN_IF_ERROR(trades.Sync().status());
  RECSTORE_RETURN_IF_ERROR(events.Sync().status());
  return absl::OkStatus();
}

absl::Status Read(Env* env, const std::string& dir, std::string* summary) {
  RECSTORE_ASSIGN_OR_RETURN(auto store,
                            ::recstore::testing::OpenStore(env, dir, {.read_only = true}));
  RECSTORE_ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  RECSTORE_ASSIGN_OR_RETURN(auto events, store->OpenByteLog("events"));
  absl::StrAppend(summary, Report("trades", trades.recovery()),
                  Report("events", events.recovery()));
  RECSTORE_RETURN_IF_ERROR(CheckTrades(trades, kTrades + kMore));
  RECSTORE_RETURN_IF_ERROR(CheckEvents(events, kEvents + 1 + kMore));
  RECSTORE_ASSIGN_OR_RETURN(VerifyReport v, trades.Verify());
  if (!v.ok) return absl::InternalError("trades fail Verify()");
  absl::StrAppend(summary, "verified trades=", v.records_checked, "\n");
  RECSTORE_RETURN_IF_ERROR(trades.Refresh());
  return absl::OkStatus();
}

}  // namespace

std::string ByteRecord(uint64_t i) {
  std::string s((i * 37) % 2000 + 1, '\0');
  for (size_t j = 0; j < s.size(); ++j) s[j] = static_cast<char>('a' + (i + j) % 26);
  return s;
}

absl::StatusOr<std::string> RunWorkload(Env* env, const std::string& dir) {
  std::string summary;
  RECSTORE_RETURN_IF_ERROR(Write(env, dir, &summary));
  RECSTORE_RETURN_IF_ERROR(Reopen(env, dir, &summary));
  RECSTORE_RETURN_IF_ERROR(Read(env, dir, &summary));
  return summary;
}

std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string content = bytes.str();
    const std::string name = std::filesystem::relative(e.path(), dir).string();
    if (name == "MANIFEST") {
      // The store id is random: two runs agree on everything else.
      absl::StatusOr<format::Manifest> m = format::DecodeManifest(content, name);
      if (m.ok()) {
        m->store_id = {};
        content = format::EncodeManifest(*m);
      }
    }
    files[name] = std::move(content);
  }
  return files;
}

}  // namespace recstore::faults
