// Throughput of recstore's append and scan paths beside memcpy baselines, in one run, followed
// by a summary of the ratios append/memcpy and scan/memcpy.
//
//   ./bazelw run --config=opt //tools/bench:recstore_bench -- [flags]
//
// Flags (besides Google Benchmark's --benchmark_*):
//   --dir=PATH         parent of the scratch folder (default $TMPDIR, else /tmp); the program
//                      works in PATH/recstore_bench.<pid> and removes it before exiting
//   --records64=N      64-byte records per append run and in the scan data (default 4Mi)
//   --records100=N     100-byte records per append run and in the scan data (default 2.5Mi)
//   --prewarm=0        do not touch and free anonymous memory of a run's size before each run
//                      that takes new pages (appends, fresh-page baselines); see PrewarmPages
//   --mutex_deadlock_detection=off
//                      switch off Abseil's Mutex deadlock detection for the whole run (it is on
//                      by default in Abseil builds without NDEBUG, such as Debian's), to show
//                      what it costs wherever recstore locks an absl::Mutex
//
// Throughput counts payload bytes only (64 or 100 per record); on disk a 64-byte record takes
// 72 bytes (payload + checksum) and a 100-byte record 124 (frame header, padding, slot).
// Every benchmark reports wall-clock time. Append and scan runs also report the process's
// minor page faults per 1000 records and its user and system CPU time per record. The summary
// gives each ratio twice: from wall-clock time and from the benchmark thread's CPU time (the
// latter is steadier when other processes share the machine).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "fmt/core.h"
#include "recstore/recstore.h"

namespace recstore_bench {

// A 64-byte typed record.
struct Rec64 {
  uint64_t seq;
  uint64_t ts_ns;
  uint32_t id;
  uint32_t flags;
  double px[5];
};
RECSTORE_RECORD(Rec64, seq, ts_ns, id, flags, px);
static_assert(sizeof(Rec64) == 64, "Rec64 must be exactly 64 bytes");

constexpr size_t kBytesRecord = 100;
constexpr size_t kBatch = 256;

struct Config {
  std::string root;  // scratch folder holding every store of this run
  uint64_t records64 = uint64_t{4} << 20;
  uint64_t records100 = uint64_t{5} << 19;
  bool prewarm = true;
};

Config& config() {
  static Config c;
  return c;
}

Rec64 MakeRec64(uint64_t i) {
  Rec64 r{};
  r.seq = i;
  r.ts_ns = 1'700'000'000'000'000'000 + i;
  r.id = static_cast<uint32_t>(i * 2654435761u);
  r.flags = static_cast<uint32_t>(i & 7);
  for (int k = 0; k < 5; ++k) r.px[k] = static_cast<double>(i) * 0.25 + k;
  return r;
}

// kBatch records of each kind, kept hot in cache as append sources.
struct Sources {
  std::vector<Rec64> rec64;
  std::vector<std::string> bytes;
  std::vector<std::string_view> views;
};

const Sources& sources() {
  static const Sources* s = [] {
    auto* out = new Sources;
    for (uint64_t i = 0; i < kBatch; ++i) {
      out->rec64.push_back(MakeRec64(i));
      std::string b(kBytesRecord, '\0');
      for (size_t k = 0; k < kBytesRecord; ++k) b[k] = static_cast<char>('a' + (i + k) % 26);
      out->bytes.push_back(std::move(b));
    }
    for (const std::string& b : out->bytes) out->views.emplace_back(b);
    return out;
  }();
  return *s;
}

// Process CPU time and page faults, read before and after a timed loop.
struct Usage {
  double user_s = 0;
  double sys_s = 0;
  long minflt = 0;
  long majflt = 0;

  static Usage Now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    Usage u;
    u.user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec * 1e-6;
    u.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec * 1e-6;
    u.minflt = ru.ru_minflt;
    u.majflt = ru.ru_majflt;
    return u;
  }
};

void SetRecordCounters(benchmark::State& state, const Usage& before, uint64_t records,
                       uint64_t payload_bytes) {
  const Usage after = Usage::Now();
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.SetBytesProcessed(static_cast<int64_t>(payload_bytes));
  if (records == 0) return;
  const double n = static_cast<double>(records);
  state.counters["flt/krec"] = static_cast<double>(after.minflt - before.minflt) * 1000.0 / n;
  state.counters["usr_ns/rec"] = (after.user_s - before.user_s) * 1e9 / n;
  state.counters["sys_ns/rec"] = (after.sys_s - before.sys_s) * 1e9 / n;
  if (after.majflt != before.majflt) {
    state.counters["majflt"] = static_cast<double>(after.majflt - before.majflt);
  }
}

// A fresh store folder under the scratch root; removed, with the store, on destruction.
class ScratchStore {
 public:
  ScratchStore(const std::string& name, recstore::StoreOptions options) {
    static int counter = 0;
    dir_ = fmt::format("{}/{}.{}", config().root, name, counter++);
    std::filesystem::remove_all(dir_);
    options.create_if_missing = true;
    absl::StatusOr<std::unique_ptr<recstore::Store>> s = recstore::Store::Open(dir_, options);
    if (s.ok()) {
      store_ = *std::move(s);
    } else {
      status_ = s.status();
    }
  }
  ~ScratchStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchStore(const ScratchStore&) = delete;
  ScratchStore& operator=(const ScratchStore&) = delete;

  const absl::Status& status() const { return status_; }
  recstore::Store& store() { return *store_; }

 private:
  std::string dir_;
  absl::Status status_;
  std::unique_ptr<recstore::Store> store_;
};

bool Check(benchmark::State& state, const absl::Status& s) {
  if (s.ok()) return true;
  state.SkipWithError(std::string(s.ToString()).c_str());
  return false;
}

// Touches, then frees, `bytes` of anonymous memory. On a virtual machine whose balloon device
// reports free pages to the host, a page freed a while ago costs a host fault on its next use;
// running this before a timed loop that takes new pages lets that loop reuse pages the host
// still backs, so runs measure the guest and recstore rather than the host's reclaim.
void PrewarmPages(size_t bytes) {
  if (!config().prewarm) return;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  auto* b = static_cast<volatile char*>(p);
  for (size_t i = 0; i < bytes; i += 4096) b[i] = 1;
  ::munmap(p, bytes);
}

// ---------------------------------------------------------------------------------------------
// memcpy baselines.

// Source and destination regions large enough for either record kind's data, pre-touched so
// that no page fault lands in a timed loop.
struct Buffers {
  size_t size = 0;
  std::unique_ptr<std::byte[]> src;
  std::unique_ptr<std::byte[]> dst;
};

Buffers& buffers() {
  static Buffers* b = [] {
    auto* out = new Buffers;
    out->size = std::max(config().records64 * sizeof(Rec64), config().records100 * kBytesRecord);
    out->src.reset(new std::byte[out->size]);
    out->dst.reset(new std::byte[out->size]);
    for (size_t i = 0; i < out->size; ++i) out->src[i] = static_cast<std::byte>(i * 131 + 7);
    std::memset(out->dst.get(), 0, out->size);
    return out;
  }();
  return *b;
}

// Copies `records` chunks of kChunk bytes from a small cache-resident source (as an append
// copies from the caller's record) into the large destination, one after another.
template <size_t kChunk>
void BM_MemcpyChunks(benchmark::State& state, uint64_t records) {
  Buffers& b = buffers();
  std::array<std::byte, kChunk * 16> hot;
  std::memcpy(hot.data(), b.src.get(), hot.size());
  for (auto _ : state) {
    std::byte* d = b.dst.get();
    for (uint64_t i = 0; i < records; ++i) {
      std::memcpy(d, hot.data() + (i % 16) * kChunk, kChunk);
      d += kChunk;
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * kChunk));
}

// One memcpy of `bytes` from the source region to the destination region.
void BM_MemcpyBulk(benchmark::State& state, uint64_t bytes) {
  Buffers& b = buffers();
  for (auto _ : state) {
    std::memcpy(b.dst.get(), b.src.get(), bytes);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Reads the first 8 bytes of every 64-byte record of the source region (one cache line per
// record): what a scan costs with no checksum and no iterator.
void BM_ReadSum64(benchmark::State& state, uint64_t records) {
  Buffers& b = buffers();
  for (auto _ : state) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < records; ++i) {
      uint64_t v;
      std::memcpy(&v, b.src.get() + i * sizeof(Rec64), sizeof(v));
      sum += v;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * sizeof(Rec64)));
}

// The same stores as an append of 64-byte records without recstore, into new pages: one
// 64-byte memcpy per 72-byte slot (the stride of a 64-byte record and its checksum). With
// `file`, into a fresh fallocated file mapped shared and pre-faulted 1 MiB ahead with
// MADV_POPULATE_WRITE, as a segment is; otherwise into fresh anonymous memory. Only the
// copies and the pre-faulting are timed (one pass per iteration); the file is created,
// mapped, unmapped and removed outside the timing. What it shows: the cost of new pages,
// which no append can avoid.
void BM_FreshPages64(benchmark::State& state, uint64_t records, bool file) {
  const size_t stride = 72;
  const size_t len = (records * stride + 4095) / 4096 * 4096;
  const std::string path = config().root + "/fresh_pages";
  std::array<std::byte, 64 * 16> hot;
  std::memcpy(hot.data(), buffers().src.get(), hot.size());
  for (auto _ : state) {
    PrewarmPages(len);
    int fd = -1;
    void* map = MAP_FAILED;
    if (file) {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::posix_fallocate(fd, 0, static_cast<off_t>(len)) != 0) {
        state.SkipWithError("cannot create the scratch file");
        break;
      }
      map = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    } else {
      map = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (map == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      break;
    }
    std::byte* base = static_cast<std::byte*>(map);
    const auto start = std::chrono::steady_clock::now();
    size_t populated = 0;
    for (uint64_t i = 0; i < records; ++i) {
      const size_t off = i * stride;
      if (file && off + (512 << 10) >= populated && populated < len) {
        const size_t from = std::max(populated, (off + 4095) / 4096 * 4096);
        const size_t n = std::min<size_t>(1 << 20, len - from);
        ::madvise(base + from, n, MADV_POPULATE_WRITE);
        populated = from + n;
      }
      std::memcpy(base + off, hot.data() + (i % 16) * 64, 64);
    }
    benchmark::ClobberMemory();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ::munmap(map, len);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(path.c_str());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * records * sizeof(Rec64)));
}

// ---------------------------------------------------------------------------------------------
// Appends. Each run opens a fresh store before the timed loop and appends `records` records;
// the loop's iteration count is fixed (one record or one batch per iteration), so the store
// stays a few hundred MB. Segment creation (every 64 MiB) and pre-faulting are inside the
// timed loop: they are part of the steady-state cost of appending.

void BM_Append64(benchmark::State& state, bool prefault) {
  ScratchStore ss("append64", {.prefault = prefault});
  if (!Check(state, ss.status())) return;
  absl::StatusOr<recstore::Log<Rec64>> log = ss.store().OpenLog<Rec64>("r64");
  if (!Check(state, log.status())) return;
  Rec64 r = MakeRec64(0);
  PrewarmPages(config().records64 * 72);
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> seq = log->Append(r);
    if (!seq.ok()) {
      Check(state, seq.status());
      break;
    }
    ++r.seq;
  }
  SetRecordCounters(state, before, state.iterations(), state.iterations() * sizeof(Rec64));
}

void BM_AppendBatch64(benchmark::State& state, bool prefault) {
  ScratchStore ss("batch64", {.prefault = prefault});
  if (!Check(state, ss.status())) return;
  absl::StatusOr<recstore::Log<recstore_bench::Rec64>> log = ss.store().OpenLog<Rec64>("r64");
  if (!Check(state, log.status())) return;
  const std::span<const Rec64> batch(sources().rec64);
  PrewarmPages(config().records64 * 72);
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> seq = log->AppendBatch(batch);
    if (!seq.ok()) {
      Check(state, seq.status());
      break;
    }
  }
  const uint64_t records = state.iterations() * kBatch;
  SetRecordCounters(state, before, records, records * sizeof(Rec64));
}

void BM_AppendBytes100(benchmark::State& state) {
  ScratchStore ss("bytes100", {});
  if (!Check(state, ss.status())) return;
  absl::StatusOr<recstore::ByteLog> log = ss.store().OpenByteLog("b100");
  if (!Check(state, log.status())) return;
  const std::vector<std::string_view>& views = sources().views;
  uint64_t i = 0;
  PrewarmPages(config().records100 * 124);
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> seq = log->Append(views[i++ % kBatch]);
    if (!seq.ok()) {
      Check(state, seq.status());
      break;
    }
  }
  SetRecordCounters(state, before, state.iterations(), state.iterations() * kBytesRecord);
}

void BM_AppendBatchBytes100(benchmark::State& state) {
  ScratchStore ss("batchbytes100", {});
  if (!Check(state, ss.status())) return;
  absl::StatusOr<recstore::ByteLog> log = ss.store().OpenByteLog("b100");
  if (!Check(state, log.status())) return;
  const std::span<const std::string_view> batch(sources().views);
  PrewarmPages(config().records100 * 124);
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> seq = log->AppendBatch(batch);
    if (!seq.ok()) {
      Check(state, seq.status());
      break;
    }
  }
  const uint64_t records = state.iterations() * kBatch;
  SetRecordCounters(state, before, records, records * kBytesRecord);
}

// Appends `every` records, then Sync(); one iteration per sync.
void BM_AppendSync64(benchmark::State& state, int every) {
  ScratchStore ss("sync64", {});
  if (!Check(state, ss.status())) return;
  absl::StatusOr<recstore::Log<Rec64>> log = ss.store().OpenLog<Rec64>("r64");
  if (!Check(state, log.status())) return;
  Rec64 r = MakeRec64(0);
  for (auto _ : state) {
    for (int k = 0; k < every; ++k, ++r.seq) {
      if (!Check(state, log->Append(r).status())) break;
    }
    if (!Check(state, log->Sync().status())) break;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * every));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * every * sizeof(Rec64)));
}

// ---------------------------------------------------------------------------------------------
// Scans over a store written once (first use) and reopened read-only: records64 64-byte
// records in "r64" and records100 100-byte records in "b100".

struct ScanData {
  std::string dir;
  std::unique_ptr<recstore::Store> store;  // read-only
  recstore::Log<Rec64> r64;
  recstore::ByteLog b100;
};

ScanData*& scan_data_slot() {
  static ScanData* d = nullptr;
  return d;
}

absl::Status WriteScanData(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto r64, store->OpenLog<Rec64>("r64"));
  ASSIGN_OR_RETURN(auto b100, store->OpenByteLog("b100"));
  std::vector<Rec64> batch(kBatch);
  for (uint64_t i = 0; i < config().records64; i += kBatch) {
    const uint64_t n = std::min<uint64_t>(kBatch, config().records64 - i);
    for (uint64_t k = 0; k < n; ++k) batch[k] = MakeRec64(i + k);
    RETURN_IF_ERROR(r64.AppendBatch(std::span<const Rec64>(batch.data(), n)).status());
  }
  const std::vector<std::string_view>& views = sources().views;
  for (uint64_t i = 0; i < config().records100; i += kBatch) {
    const uint64_t n = std::min<uint64_t>(kBatch, config().records100 - i);
    RETURN_IF_ERROR(b100.AppendBatch(std::span<const std::string_view>(views.data(), n)).status());
  }
  RETURN_IF_ERROR(r64.Sync().status());
  RETURN_IF_ERROR(b100.Sync().status());
  return absl::OkStatus();
}

absl::StatusOr<ScanData*> GetScanData() {
  ScanData*& slot = scan_data_slot();
  if (slot != nullptr) return slot;
  auto d = std::make_unique<ScanData>();
  d->dir = config().root + "/scan";
  std::filesystem::remove_all(d->dir);
  RETURN_IF_ERROR(WriteScanData(d->dir));
  ASSIGN_OR_RETURN(d->store, recstore::Store::Open(d->dir, {.read_only = true}));
  ASSIGN_OR_RETURN(d->r64, d->store->OpenLog<Rec64>("r64"));
  ASSIGN_OR_RETURN(d->b100, d->store->OpenByteLog("b100"));
  if (d->r64.size() != config().records64 || d->b100.size() != config().records100) {
    return absl::InternalError("scan data has the wrong record count");
  }
  slot = d.release();
  return slot;
}

void DropScanData() {
  ScanData*& slot = scan_data_slot();
  if (slot == nullptr) return;
  const std::string dir = slot->dir;
  delete slot;
  slot = nullptr;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Sums the `seq` field of every record; each record's checksum is verified by the scan.
absl::StatusOr<uint64_t> SumScan64(const recstore::Log<Rec64>& log) {
  uint64_t sum = 0;
  auto scan = log.Scan();
  for (const auto& [seq, rec] : scan) sum += rec.seq;
  RETURN_IF_ERROR(scan.status());
  return sum;
}

absl::StatusOr<uint64_t> SumScanBytes(const recstore::ByteLog& log) {
  uint64_t sum = 0;
  auto scan = log.Scan();
  for (const auto& [seq, rec] : scan) sum += rec.size() + static_cast<uint8_t>(rec[0]);
  RETURN_IF_ERROR(scan.status());
  return sum;
}

// The read-only handle stays open across iterations: after the first pass the mapping is
// populated (warm mapping, warm page cache).
void BM_Scan64(benchmark::State& state) {
  absl::StatusOr<ScanData*> d = GetScanData();
  if (!Check(state, d.status())) return;
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> sum = SumScan64((*d)->r64);
    if (!Check(state, sum.status())) break;
    benchmark::DoNotOptimize(*sum);
  }
  const uint64_t records = state.iterations() * config().records64;
  SetRecordCounters(state, before, records, records * sizeof(Rec64));
}

void BM_ScanBytes100(benchmark::State& state) {
  absl::StatusOr<ScanData*> d = GetScanData();
  if (!Check(state, d.status())) return;
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<uint64_t> sum = SumScanBytes((*d)->b100);
    if (!Check(state, sum.status())) break;
    benchmark::DoNotOptimize(*sum);
  }
  const uint64_t records = state.iterations() * config().records100;
  SetRecordCounters(state, before, records, records * kBytesRecord);
}

// Each iteration opens the store read-only, scans and closes it: new mappings whose pages
// fault in on first read (warm page cache, as a fresh reader process sees it).
void BM_Scan64Reopen(benchmark::State& state) {
  absl::StatusOr<ScanData*> d = GetScanData();
  if (!Check(state, d.status())) return;
  const std::string dir = (*d)->dir;
  const Usage before = Usage::Now();
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<recstore::Store>> store =
        recstore::Store::Open(dir, {.read_only = true});
    if (!Check(state, store.status())) break;
    absl::StatusOr<recstore::Log<Rec64>> log = (*store)->OpenLog<Rec64>("r64");
    if (!Check(state, log.status())) break;
    absl::StatusOr<uint64_t> sum = SumScan64(*log);
    if (!Check(state, sum.status())) break;
    benchmark::DoNotOptimize(*sum);
  }
  const uint64_t records = state.iterations() * config().records64;
  SetRecordCounters(state, before, records, records * sizeof(Rec64));
}

// ---------------------------------------------------------------------------------------------
// Summary: the console output as usual, plus the rates kept per benchmark for the ratios.

struct Rates {
  double items_per_s = 0;  // from wall-clock time
  double bytes_per_s = 0;
  double cpu_items_per_s = 0;  // from the benchmark thread's CPU time
  double cpu_bytes_per_s = 0;
  double seconds_per_iteration = 0;  // wall-clock
  bool from_median = false;
};

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : benchmark::ConsoleReporter(OO_None) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate;
      if (median && run.aggregate_name != "median") continue;
      Rates& r = rates_[run.run_name.function_name];
      if (r.from_median && !median) continue;
      r.from_median = median;
      auto get = [&](const char* name) {
        auto it = run.counters.find(name);
        return it == run.counters.end() ? 0.0 : it->second.value;
      };
      r.items_per_s = get("items_per_second");
      r.bytes_per_s = get("bytes_per_second");
      // Manual-time runs time only part of each iteration; their CPU time covers all of it.
      const bool manual = run.benchmark_name().find("manual_time") != std::string::npos;
      const double wall_over_cpu = run.cpu_accumulated_time > 0 && !manual
                                       ? run.real_accumulated_time / run.cpu_accumulated_time
                                       : 0;
      r.cpu_items_per_s = r.items_per_s * wall_over_cpu;
      r.cpu_bytes_per_s = r.bytes_per_s * wall_over_cpu;
      r.seconds_per_iteration =
          run.iterations > 0 ? run.real_accumulated_time / static_cast<double>(run.iterations) : 0;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  const Rates* Find(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Rates> rates_;
};

void PrintSummary(const SummaryReporter& rep) {
  std::printf(
      "\nSummary (MB = 1e6 bytes, GB = 1e9 bytes, payload bytes only; percentages from wall "
      "time, [from thread CPU time])\n");
  const Rates* bulk64 = rep.Find("memcpy/bulk/64B-region");
  const Rates* bulk100 = rep.Find("memcpy/bulk/100B-region");
  const Rates* chunks64 = rep.Find("memcpy/chunks:64B");
  const Rates* chunks100 = rep.Find("memcpy/chunks:100B");
  for (const auto& [label, r] :
       {std::pair{"memcpy bulk, 64B-record region", bulk64},
        std::pair{"memcpy bulk, 100B-record region", bulk100},
        std::pair{"memcpy 64B chunks", chunks64}, std::pair{"memcpy 100B chunks", chunks100}}) {
    if (r != nullptr) {
      std::printf("  %-36s %8.3f GB/s [%.3f]\n", label, r->bytes_per_s / 1e9,
                  r->cpu_bytes_per_s / 1e9);
    }
  }
  auto pct = [](double a, double b) { return b > 0 ? a / b * 100 : 0.0; };
  // One line per benchmark: rate, then the ratio to bulk memcpy (with the target) and to the
  // chunked memcpy of the same record size.
  auto line = [&](const char* label, const char* name, const Rates* bulk, const Rates* chunks,
                  double target_pct, bool gb) {
    const Rates* r = rep.Find(name);
    if (r == nullptr) return;
    std::string text = fmt::format("  {:<36} {:7.2f} M rec/s", label, r->items_per_s / 1e6);
    text += gb ? fmt::format(" {:7.3f} GB/s", r->bytes_per_s / 1e9)
               : fmt::format(" {:7.0f} MB/s", r->bytes_per_s / 1e6);
    if (bulk != nullptr) {
      const double wall = pct(r->bytes_per_s, bulk->bytes_per_s);
      const double cpu = pct(r->cpu_bytes_per_s, bulk->cpu_bytes_per_s);
      text += r->cpu_bytes_per_s > 0
                  ? fmt::format("  {:5.1f}% [{:5.1f}%] of bulk memcpy", wall, cpu)
                  : fmt::format("  {:5.1f}% [  n/a ] of bulk memcpy", wall);
      if (target_pct > 0) {
        text += fmt::format(" (target >= {:.0f}%: {})", target_pct,
                            wall >= target_pct ? "met" : "NOT met");
      }
    }
    if (chunks != nullptr) {
      text += fmt::format(", {:4.1f}% of chunked", pct(r->bytes_per_s, chunks->bytes_per_s));
    }
    std::printf("%s\n", text.c_str());
  };
  line("append 64B, prefault on", "append64/single/prefault:on", bulk64, chunks64, 10, false);
  line("append 64B, prefault off", "append64/single/prefault:off", bulk64, chunks64, 10, false);
  line("append 64B batch 256, prefault on", "append64/batch256/prefault:on", bulk64, chunks64, 10,
       false);
  line("append 64B batch 256, prefault off", "append64/batch256/prefault:off", bulk64, chunks64, 10,
       false);
  line("append 100B bytes", "append100/single", bulk100, chunks100, 0, false);
  line("append 100B bytes batch 256", "append100/batch256", bulk100, chunks100, 0, false);
  line("scan 64B (warm mapping)", "scan64/warm", bulk64, nullptr, 40, true);
  line("scan 64B (reopen per pass)", "scan64/reopen", bulk64, nullptr, 0, true);
  line("scan 100B bytes (warm mapping)", "scan100/warm", bulk100, nullptr, 40, true);
  line("read pass, 64B stride, no checks", "baseline/readsum64", bulk64, nullptr, 0, true);
  line("64B copies into fresh anon pages", "baseline/fresh-anon-pages64", bulk64, chunks64, 0,
       false);
  line("64B copies into fresh file pages", "baseline/fresh-file-pages64", bulk64, chunks64, 0,
       false);
  if (const Rates* pages = rep.Find("baseline/fresh-file-pages64"); pages != nullptr) {
    for (const char* name : {"append64/single/prefault:on", "append64/batch256/prefault:on"}) {
      if (const Rates* r = rep.Find(name); r != nullptr && pages->bytes_per_s > 0) {
        std::printf("  %-36s %5.1f%% of the fresh-file-pages copy rate\n", name,
                    pct(r->bytes_per_s, pages->bytes_per_s));
      }
    }
  }
  for (const char* every : {"1", "16"}) {
    const Rates* r = rep.Find(fmt::format("sync64/every:{}", every));
    if (r == nullptr) continue;
    std::printf("  %-36s %9.0f rec/s, %7.1f us per Sync\n",
                fmt::format("append 64B + Sync every {}", every).c_str(), r->items_per_s,
                r->seconds_per_iteration * 1e6);
  }
  for (const char* kind : {"single", "batch256"}) {
    const Rates* on = rep.Find(fmt::format("append64/{}/prefault:on", kind));
    const Rates* off = rep.Find(fmt::format("append64/{}/prefault:off", kind));
    if (on == nullptr || off == nullptr || off->bytes_per_s <= 0 || off->cpu_bytes_per_s <= 0) {
      continue;
    }
    std::printf("  %-36s %.2fx [%.2fx]\n",
                fmt::format("prefault on/off, append 64B {}", kind).c_str(),
                on->bytes_per_s / off->bytes_per_s, on->cpu_bytes_per_s / off->cpu_bytes_per_s);
  }
}

// ---------------------------------------------------------------------------------------------

bool ParseFlag(std::string_view arg, std::string_view name, std::string* value) {
  if (arg.size() <= name.size() + 3 || arg.substr(0, 2) != "--" ||
      arg.substr(2, name.size()) != name || arg[2 + name.size()] != '=') {
    return false;
  }
  *value = std::string(arg.substr(name.size() + 3));
  return true;
}

void RegisterAll() {
  const uint64_t n64 = config().records64;
  const uint64_t n100 = config().records100;
  auto reg = [](const std::string& name, auto fn) {
    return benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime();
  };
  reg("memcpy/bulk/64B-region", [n64](benchmark::State& s) {
    BM_MemcpyBulk(s, n64 * 64);
  })->Unit(benchmark::kMillisecond);
  reg("memcpy/bulk/100B-region", [n100](benchmark::State& s) {
    BM_MemcpyBulk(s, n100 * 100);
  })->Unit(benchmark::kMillisecond);
  reg("memcpy/chunks:64B", [n64](benchmark::State& s) {
    BM_MemcpyChunks<64>(s, n64);
  })->Unit(benchmark::kMillisecond);
  reg("memcpy/chunks:100B", [n100](benchmark::State& s) {
    BM_MemcpyChunks<100>(s, n100);
  })->Unit(benchmark::kMillisecond);
  reg("baseline/readsum64", [n64](benchmark::State& s) {
    BM_ReadSum64(s, n64);
  })->Unit(benchmark::kMillisecond);

  benchmark::RegisterBenchmark("baseline/fresh-anon-pages64",
                               [n64](benchmark::State& s) { BM_FreshPages64(s, n64, false); })
      ->UseManualTime()
      ->Iterations(3)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("baseline/fresh-file-pages64",
                               [n64](benchmark::State& s) { BM_FreshPages64(s, n64, true); })
      ->UseManualTime()
      ->Iterations(3)
      ->Unit(benchmark::kMillisecond);

  reg("append64/single/prefault:on", [](benchmark::State& s) {
    BM_Append64(s, true);
  })->Iterations(static_cast<benchmark::IterationCount>(n64));
  reg("append64/single/prefault:off", [](benchmark::State& s) {
    BM_Append64(s, false);
  })->Iterations(static_cast<benchmark::IterationCount>(n64));
  reg("append64/batch256/prefault:on", [](benchmark::State& s) { BM_AppendBatch64(s, true); })
      ->Iterations(static_cast<benchmark::IterationCount>(n64 / kBatch))
      ->Unit(benchmark::kMicrosecond);
  reg("append64/batch256/prefault:off", [](benchmark::State& s) { BM_AppendBatch64(s, false); })
      ->Iterations(static_cast<benchmark::IterationCount>(n64 / kBatch))
      ->Unit(benchmark::kMicrosecond);
  reg("append100/single", [](benchmark::State& s) {
    BM_AppendBytes100(s);
  })->Iterations(static_cast<benchmark::IterationCount>(n100));
  reg("append100/batch256", [](benchmark::State& s) { BM_AppendBatchBytes100(s); })
      ->Iterations(static_cast<benchmark::IterationCount>(n100 / kBatch))
      ->Unit(benchmark::kMicrosecond);

  reg("scan64/warm", BM_Scan64)->Unit(benchmark::kMillisecond);
  reg("scan64/reopen", BM_Scan64Reopen)->Unit(benchmark::kMillisecond);
  reg("scan100/warm", BM_ScanBytes100)->Unit(benchmark::kMillisecond);

  reg("sync64/every:1", [](benchmark::State& s) {
    BM_AppendSync64(s, 1);
  })->Unit(benchmark::kMicrosecond);
  reg("sync64/every:16", [](benchmark::State& s) {
    BM_AppendSync64(s, 16);
  })->Unit(benchmark::kMicrosecond);
}

int Main(int argc, char** argv) {
  std::string parent;
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') parent = t;
  if (parent.empty()) parent = "/tmp";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (ParseFlag(argv[i], "dir", &v)) {
      parent = v;
    } else if (ParseFlag(argv[i], "records64", &v)) {
      config().records64 = std::stoull(v);
    } else if (ParseFlag(argv[i], "records100", &v)) {
      config().records100 = std::stoull(v);
    } else if (ParseFlag(argv[i], "prewarm", &v)) {
      config().prewarm = v != "0" && v != "false";
    } else if (ParseFlag(argv[i], "mutex_deadlock_detection", &v)) {
      if (v != "off") {
        std::fprintf(stderr, "--mutex_deadlock_detection takes only the value off\n");
        return 2;
      }
      absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
      std::printf("Abseil Mutex deadlock detection switched off\n");
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (config().records64 < kBatch || config().records100 < kBatch) {
    std::fprintf(stderr, "--records64 and --records100 must be at least %zu\n", kBatch);
    return 2;
  }
  config().root = fmt::format("{}/recstore_bench.{}", parent, getpid());
  std::error_code ec;
  std::filesystem::create_directories(config().root, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", config().root.c_str(), ec.message().c_str());
    return 1;
  }
  int rest_argc = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  std::printf("scratch folder %s; records64=%llu records100=%llu prewarm=%d\n",
              config().root.c_str(), static_cast<unsigned long long>(config().records64),
              static_cast<unsigned long long>(config().records100), config().prewarm ? 1 : 0);
  RegisterAll();
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary(reporter);
  DropScanData();
  std::filesystem::remove_all(config().root, ec);
  benchmark::Shutdown();
  return 0;
}

}  // namespace recstore_bench

int main(int argc, char** argv) { return recstore_bench::Main(argc, argv); }
