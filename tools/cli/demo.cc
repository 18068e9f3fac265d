// recstore demo [DIR] [--records N]
//
// A tour of the library that doubles as a quick benchmark: appends N typed 64-byte records
// (default 1,000,000) and N/10 byte records of about 100 bytes, syncs, closes, reopens,
// verifies, scans and reads at random, checking every value it reads back, then prints the
// counts, the on-disk size and the throughput of each step, labelled with the build mode
// (optimized or not, NDEBUG, sanitizers) the tool was compiled with.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "tools/cli/cli.h"

// The record type, in a namespace of its own: the schema stores its qualified name,
// "demo::Trade", which `recstore info` shows.
namespace demo {

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

// 64 bytes, no padding, so a record compares equal byte for byte.
struct Trade {
  uint64_t ts_ns;
  uint64_t order_id;
  double price;
  int64_t qty;
  uint32_t symbol_id;
  int32_t trader_id;
  char venue[8];
  float fee;
  uint16_t flags;
  Side side;
  bool maker;
  int16_t levels[4];
};
RECSTORE_RECORD(Trade, ts_ns, order_id, price, qty, symbol_id, trader_id, venue, fee, flags, side,
                maker, levels);
static_assert(sizeof(Trade) == 64);

}  // namespace demo

namespace recstore::cli {

namespace {

using ::demo::Side;
using ::demo::Trade;

constexpr size_t kBatch = 4096;
constexpr uint64_t kDefaultRecords = 1'000'000;

Trade MakeTrade(uint64_t i) {
  static constexpr const char* kVenues[] = {"XNAS", "XNYS", "BATS", "IEXG"};
  Trade t{};
  t.ts_ns = 1'700'000'000'000'000'000 + i * 1'000;
  t.order_id = i * 7 + 1;
  t.price = 100.0 + static_cast<double>(i % 1000) * 0.01;
  t.qty = static_cast<int64_t>(i % 97) + 1;
  t.symbol_id = static_cast<uint32_t>(i % 500);
  t.trader_id = static_cast<int32_t>(i % 13) - 6;
  // Each name is shorter than the field, which Trade{} zeroed: the rest stays NUL.
  const std::string_view venue = kVenues[i % 4];
  std::memcpy(t.venue, venue.data(), std::min(venue.size(), sizeof(t.venue)));
  t.fee = 0.5f + static_cast<float>(i % 10) * 0.25f;
  t.flags = static_cast<uint16_t>(i);
  t.side = i % 2 == 0 ? Side::kBuy : Side::kSell;
  t.maker = i % 3 == 0;
  for (int k = 0; k < 4; ++k) t.levels[k] = static_cast<int16_t>((i + k) % 100 - 50);
  return t;
}

// A log line of about 100 bytes, appended to `out`.
void MakeEvent(uint64_t i, std::string* out) {
  static constexpr const char* kLevels[] = {"INFO ", "INFO ", "INFO ", "WARN ", "DEBUG"};
  fmt::format_to(std::back_inserter(*out),
                 "2024-05-01T12:{:02}:{:02}.{:06}Z {} orders req={:08} user={} latency_us={} "
                 "path=/api/v1/orders/{}",
                 i / 60'000 % 60, i / 1'000 % 60, i % 1'000 * 997, kLevels[i % 5], i, i % 9'973,
                 i * 37 % 5'000, i * 13 % 100'000);
}

struct Step {
  std::string name;
  uint64_t records;
  uint64_t bytes;
  double seconds;
};

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

void Progress(std::string_view what) { fmt::print(stderr, "demo: {}\n", what); }

// How this binary was compiled, from the predefined macros: the throughput it measures is
// only representative of an optimized build without sanitizers (the default: the
// repository's .bazelrc builds with -c opt, that is -O2 and NDEBUG).
struct BuildMode {
  bool optimized = false;  // __OPTIMIZE__: any -O level above 0
  bool assertions = true;  // NDEBUG undefined
  std::string sanitizers;  // "AddressSanitizer", ... ("" for none)
  std::string compiler;

  bool representative() const { return optimized && sanitizers.empty(); }
  // "optimized, assertions off (NDEBUG), GCC 12.2.0"
  std::string Describe() const {
    std::string s = optimized ? "optimized" : "NOT optimized (compiled without -O)";
    s += assertions ? ", assertions on (no NDEBUG)" : ", assertions off (NDEBUG)";
    if (!sanitizers.empty()) s += ", " + sanitizers;
    return s + ", " + compiler;
  }
  // The label of the throughput table.
  std::string Label() const {
    if (representative()) return "optimized build";
    return optimized ? "sanitizer build: slower than an optimized release build"
                     : "UNOPTIMIZED build: not representative; build with -c opt";
  }
};

#if defined(__has_feature)
#define RECSTORE_DEMO_HAS_FEATURE_(x) __has_feature(x)
#else
#define RECSTORE_DEMO_HAS_FEATURE_(x) 0
#endif

BuildMode ThisBuild() {
  BuildMode b;
#if defined(__OPTIMIZE__)
  b.optimized = true;
#endif
#if defined(NDEBUG)
  b.assertions = false;
#endif
  std::vector<std::string_view> sanitizers;
#if defined(__SANITIZE_ADDRESS__) || RECSTORE_DEMO_HAS_FEATURE_(address_sanitizer)
  sanitizers.push_back("AddressSanitizer");
#endif
#if defined(__SANITIZE_THREAD__) || RECSTORE_DEMO_HAS_FEATURE_(thread_sanitizer)
  sanitizers.push_back("ThreadSanitizer");
#endif
  for (std::string_view n : sanitizers) {
    b.sanitizers += b.sanitizers.empty() ? "" : " and ";
    b.sanitizers += n;
  }
#if defined(__clang__)
  b.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  b.compiler = "GCC " __VERSION__;
#else
  b.compiler = "unknown compiler";
#endif
  return b;
}

// A deterministic pseudo-random sequence (splitmix64) for the random reads.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

struct Expected {
  uint64_t trades = 0;
  uint64_t events = 0;
  int64_t qty_sum = 0;
  uint64_t event_bytes = 0;
};

// The records the demo writes, generated before any timing starts, and what reading them
// back must give.
struct Workload {
  std::vector<Trade> trades;
  std::string arena;  // the event lines, back to back
  std::vector<std::string_view> events;
  int64_t qty_sum = 0;
  uint64_t event_bytes = 0;
};

Workload Generate(uint64_t records) {
  Workload w;
  w.trades.resize(records);
  for (uint64_t i = 0; i < records; ++i) {
    w.trades[i] = MakeTrade(i);
    w.qty_sum += w.trades[i].qty;
  }
  std::vector<size_t> ends(records / 10);
  for (uint64_t i = 0; i < ends.size(); ++i) {
    MakeEvent(i, &w.arena);
    ends[i] = w.arena.size();
  }
  for (size_t i = 0, begin = 0; i < ends.size(); begin = ends[i++]) {
    w.events.emplace_back(w.arena.data() + begin, ends[i] - begin);
  }
  w.event_bytes = w.arena.size();
  return w;
}

absl::Status AppendAll(Store& store, const Workload& w, const Expected& want,
                       std::vector<Step>* steps) {
  ASSIGN_OR_RETURN(Log<Trade> trades, store.OpenLog<Trade>("trades"));
  ASSIGN_OR_RETURN(ByteLog events, store.OpenByteLog("events"));

  Progress(fmt::format("appending {} Trade records ({} bytes each) in batches of {}",
                       w.trades.size(), sizeof(Trade), kBatch));
  const std::span<const Trade> all_trades(w.trades);
  const size_t report_every = std::max<size_t>(all_trades.size() / 4, 1);
  Timer t;
  for (size_t i = 0; i < all_trades.size();) {
    const size_t n = std::min(kBatch, all_trades.size() - i);
    RETURN_IF_ERROR(trades.AppendBatch(all_trades.subspan(i, n)));
    if ((i + n) / report_every != i / report_every && i + n < all_trades.size()) {
      Progress(fmt::format("  {} trades appended", i + n));
    }
    i += n;
  }
  steps->push_back({"append trades", all_trades.size(), all_trades.size_bytes(), t.Seconds()});

  Progress(fmt::format("appending {} byte records (log lines) in batches of {}", w.events.size(),
                       kBatch));
  const std::span<const std::string_view> all_events(w.events);
  t = Timer();
  for (size_t i = 0; i < all_events.size();) {
    const size_t n = std::min(kBatch, all_events.size() - i);
    RETURN_IF_ERROR(events.AppendBatch(all_events.subspan(i, n)));
    i += n;
  }
  steps->push_back({"append events", all_events.size(), w.event_bytes, t.Seconds()});

  Progress("syncing");
  t = Timer();
  ASSIGN_OR_RETURN(const uint64_t trades_durable, trades.Sync());
  ASSIGN_OR_RETURN(const uint64_t events_durable, events.Sync());
  steps->push_back({"sync", want.trades + want.events,
                    want.trades * sizeof(Trade) + want.event_bytes, t.Seconds()});
  if (trades_durable != want.trades || events_durable != want.events) {
    return absl::DataLossError(
        fmt::format("sync returned durable ends {} and {}, expected {} and {}", trades_durable,
                    events_durable, want.trades, want.events));
  }
  return absl::OkStatus();
}

// `reopen` started just before the store was opened again.
absl::Status CheckAfterReopen(Store& store, const Expected& want, const Timer& reopen,
                              std::vector<Step>* steps) {
  const uint64_t total_bytes = want.trades * sizeof(Trade) + want.event_bytes;
  ASSIGN_OR_RETURN(Log<Trade> trades, store.OpenLog<Trade>("trades"));
  ASSIGN_OR_RETURN(ByteLog events, store.OpenByteLog("events"));
  steps->push_back({"reopen", want.trades + want.events, total_bytes, reopen.Seconds()});
  if (trades.size() != want.trades || events.size() != want.events) {
    return absl::DataLossError(
        fmt::format("reopened with {} trades and {} events, expected {} and {}", trades.size(),
                    events.size(), want.trades, want.events));
  }
  if (!trades.recovery().clean() || !events.recovery().clean()) {
    return absl::DataLossError("recovery after a clean close was not clean");
  }

  Progress("verifying");
  Timer t;
  ASSIGN_OR_RETURN(const VerifyReport vt, trades.Verify());
  ASSIGN_OR_RETURN(const VerifyReport ve, events.Verify());
  steps->push_back({"verify", vt.records_checked + ve.records_checked, total_bytes, t.Seconds()});
  for (const VerifyReport* r : {&vt, &ve}) {
    if (!r->ok) {
      return absl::DataLossError(fmt::format("verify: {} at offset {}, seq {}: {}",
                                             r->first_bad.file, r->first_bad.offset,
                                             r->first_bad.seq, r->first_bad.reason));
    }
  }

  Progress("scanning");
  t = Timer();
  uint64_t count = 0;
  int64_t qty_sum = 0;
  auto trade_scan = trades.Scan();
  for (const auto& [seq, trade] : trade_scan) {
    qty_sum += trade.qty;
    ++count;
  }
  RETURN_IF_ERROR(trade_scan.status());
  steps->push_back({"scan trades", count, count * sizeof(Trade), t.Seconds()});
  if (count != want.trades || qty_sum != want.qty_sum) {
    return absl::DataLossError(fmt::format("scan saw {} trades with qty sum {}, expected {} and {}",
                                           count, qty_sum, want.trades, want.qty_sum));
  }
  t = Timer();
  count = 0;
  uint64_t bytes = 0;
  auto event_scan = events.Scan();
  for (const auto& [seq, event] : event_scan) {
    bytes += event.size();
    ++count;
  }
  RETURN_IF_ERROR(event_scan.status());
  steps->push_back({"scan events", count, bytes, t.Seconds()});
  if (count != want.events || bytes != want.event_bytes) {
    return absl::DataLossError(fmt::format("scan saw {} events of {} bytes, expected {} and {}",
                                           count, bytes, want.events, want.event_bytes));
  }

  Progress("random reads");
  uint64_t rng = 42;
  const uint64_t trade_gets = want.trades == 0 ? 0 : std::min<uint64_t>(want.trades, 100'000);
  t = Timer();
  for (uint64_t k = 0; k < trade_gets; ++k) {
    const uint64_t seq = NextRandom(&rng) % want.trades;
    ASSIGN_OR_RETURN(const Trade* got, trades.Get(seq));
    const Trade expected = MakeTrade(seq);
    if (std::memcmp(got, &expected, sizeof(Trade)) != 0) {
      return absl::DataLossError(fmt::format("trade {} reads back different", seq));
    }
  }
  steps->push_back({"get trades", trade_gets, trade_gets * sizeof(Trade), t.Seconds()});
  const uint64_t event_gets = want.events == 0 ? 0 : std::min<uint64_t>(want.events, 10'000);
  std::string line;
  bytes = 0;
  t = Timer();
  for (uint64_t k = 0; k < event_gets; ++k) {
    const uint64_t seq = NextRandom(&rng) % want.events;
    ASSIGN_OR_RETURN(const std::span<const std::byte> got, events.Get(seq));
    line.clear();
    MakeEvent(seq, &line);
    if (AsString(got) != line) {
      return absl::DataLossError(fmt::format("event {} reads back different", seq));
    }
    bytes += got.size();
  }
  steps->push_back({"get events", event_gets, bytes, t.Seconds()});
  return absl::OkStatus();
}

void PrintUsage(std::string_view label, const std::string& path) {
  absl::StatusOr<DiskUsage> u = DirUsage(path);
  if (!u.ok()) {
    fmt::print("  {}: {}\n", label, std::string(u.status().message()));
    return;
  }
  fmt::print("  {:<7} {:>12} bytes ({:>9}) in {} files, {} allocated\n", fmt::format("{}:", label),
             u->bytes, Bytes(u->bytes), u->files, Bytes(u->allocated));
}

void PrintReport(const Store& store, const Expected& want, const std::vector<Step>& steps) {
  fmt::print("counts\n");
  fmt::print("  trades: {} records of {} bytes (Trade, {} fields), qty sum {}\n", want.trades,
             sizeof(Trade), SchemaOf<Trade>().fields.size(), want.qty_sum);
  fmt::print("  events: {} records, {} payload bytes (avg {:.1f})\n", want.events, want.event_bytes,
             want.events == 0 ? 0.0 : static_cast<double>(want.event_bytes) / want.events);
  fmt::print("on disk (sum of file sizes, and space allocated)\n");
  PrintUsage("store", store.path());
  for (const CollectionInfo& c : store.ListCollections()) {
    PrintUsage(c.name, CollectionDir(store.path(), c));
  }
  fmt::print("throughput ({})\n", ThisBuild().Label());
  fmt::print("  {:<14} {:>10} {:>10} {:>9} {:>11} {:>9}\n", "step", "records", "MB", "seconds",
             "records/s", "MB/s");
  for (const Step& s : steps) {
    const double secs = std::max(s.seconds, 1e-9);
    fmt::print("  {:<14} {:>10} {:>10.1f} {:>9.3f} {:>11} {:>9.1f}\n", s.name, s.records,
               s.bytes / 1e6, s.seconds, Count(s.records / secs), s.bytes / 1e6 / secs);
  }
}

absl::Status RunDemo(const std::string& dir, uint64_t records) {
  Expected want;
  std::vector<Step> steps;
  {
    Progress(fmt::format("generating {} trades and {} log lines", records, records / 10));
    const Workload workload = Generate(records);
    want.trades = workload.trades.size();
    want.events = workload.events.size();
    want.qty_sum = workload.qty_sum;
    want.event_bytes = workload.event_bytes;
    ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir, {.create_if_missing = true}));
    if (!store->ListCollections().empty()) {
      return absl::FailedPreconditionError(
          fmt::format("{} already holds a store with collections; give a new directory", dir));
    }
    RETURN_IF_ERROR(AppendAll(*store, workload, want, &steps));
    Progress("closing");
  }
  Progress("reopening");
  const Timer reopen;
  ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir));
  RETURN_IF_ERROR(CheckAfterReopen(*store, want, reopen, &steps));
  PrintReport(*store, want, steps);
  return absl::OkStatus();
}

}  // namespace

int DemoCommand(int argc, char** argv) {
  std::optional<Args> args = Args::Parse("demo", argc, argv, {{"records", true}}, 0, 1);
  if (!args) return kExitError;
  const std::optional<uint64_t> records = args->UInt("records", kDefaultRecords);
  if (!records) return kExitError;
  std::string dir;
  const bool temporary = args->positional().empty();
  if (temporary) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        fmt::format("{}/recstore-demo-XXXXXX", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(pattern.data()) == nullptr) {
      return Fail(kExitError, "demo: cannot create a directory from {}: {}", pattern,
                  std::strerror(errno));
    }
    dir = pattern;
  } else {
    dir = args->positional()[0];
  }
  fmt::print("recstore demo: store in {}{}\n", dir, temporary ? " (removed at exit)" : "");
  fmt::print("build: {}\n", ThisBuild().Describe());
  std::fflush(stdout);
  const absl::Status s = RunDemo(dir, *records);
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) fmt::print(stderr, "recstore: demo: cannot remove {}: {}\n", dir, ec.message());
  }
  if (!s.ok()) return FailStatus(s, "demo");
  return kExitOk;
}

}  // namespace recstore::cli
