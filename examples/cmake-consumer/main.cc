// A program that uses an installed recstore: a log of typed trade records in a store.
// Usage: app [DIR]   (default: a fresh directory under $TMPDIR or /tmp)
// Appends records, syncs, reopens the store read-only and reads them back; exits 1 on any
// mismatch or error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "recstore/recstore.h"

namespace app {

struct Trade {
  uint64_t ts_ns;
  uint32_t symbol;
  char venue[8];
  double price;
};
RECSTORE_RECORD(Trade, ts_ns, symbol, venue, price);

constexpr uint32_t kTrades = 8;

Trade Expected(uint32_t i) {
  static constexpr const char* kVenues[] = {"XNAS", "XNYS", "BATS"};
  Trade t{};
  t.ts_ns = 1'700'000'000'000'000'000u + 1'000u * i;
  t.symbol = 100 + i % 3;
  std::strncpy(t.venue, kVenues[i % 3], sizeof(t.venue) - 1);
  t.price = 100.25 + i;
  return t;
}

bool Same(const Trade& a, const Trade& b) {
  return a.ts_ns == b.ts_ns && a.symbol == b.symbol &&
         std::memcmp(a.venue, b.venue, sizeof(a.venue)) == 0 && a.price == b.price;
}

absl::Status Write(const std::string& path) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(path, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  for (uint32_t i = 0; i < kTrades; ++i) {
    ASSIGN_OR_RETURN(uint64_t seq, trades.Append(Expected(i)));
    if (seq != i) return absl::InternalError("Append returned an unexpected sequence number");
  }
  ASSIGN_OR_RETURN(uint64_t durable, trades.Sync());
  if (durable != kTrades) return absl::InternalError("Sync did not make every record durable");
  return absl::OkStatus();
}

absl::Status Read(const std::string& path) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(path, {.read_only = true}));
  ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
  if (trades.begin() != 0 || trades.end() != kTrades) {
    return absl::InternalError("the reopened log has the wrong number of records");
  }
  for (uint32_t i = 0; i < kTrades; ++i) {
    ASSIGN_OR_RETURN(const Trade* t, trades.Get(i));
    if (!Same(*t, Expected(i))) return absl::InternalError("Get returned a different record");
  }
  uint32_t scanned = 0;
  auto scan = trades.Scan();
  for (auto [seq, t] : scan) {
    if (seq != scanned || !Same(t, Expected(scanned))) {
      return absl::InternalError("Scan returned a different record");
    }
    ++scanned;
  }
  RETURN_IF_ERROR(scan.status());
  if (scanned != kTrades) return absl::InternalError("Scan missed records");
  return absl::OkStatus();
}

}  // namespace app

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/recstore-app.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("app: mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  const std::string path = dir + "/store";
  absl::Status s = app::Write(path);
  if (s.ok()) s = app::Read(path);
  if (!s.ok()) {
    std::fprintf(stderr, "app: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("app: %u trades appended, synced and read back from %s\n", app::kTrades,
              path.c_str());
  return 0;
}
