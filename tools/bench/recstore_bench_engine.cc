// recstore's append, sync and scan paths.
#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {
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

// Get: the cost of one checked read by sequence number, on a warm mapping, from one thread
// and from several at once. Each thread reads a window of records over and over, small enough
// to stay in cache, so the figure is the read path, not memory latency.
constexpr uint64_t kWindow = 4096;

void BM_Get64(benchmark::State& state) {
  absl::StatusOr<ScanData*> d = GetScanData();
  if (!Check(state, d.status())) return;
  const recstore::Log<Rec64>& log = (*d)->r64;
  const uint64_t base = static_cast<uint64_t>(state.thread_index()) * kWindow;
  uint64_t i = 0, sum = 0;
  for (auto _ : state) {
    absl::StatusOr<const Rec64*> r = log.Get(base + (i++ & (kWindow - 1)));
    if (!r.ok()) {
      Check(state, r.status());
      break;
    }
    sum += (*r)->seq;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

void BM_GetBytes100(benchmark::State& state) {
  absl::StatusOr<ScanData*> d = GetScanData();
  if (!Check(state, d.status())) return;
  const recstore::ByteLog& log = (*d)->b100;
  const uint64_t base = static_cast<uint64_t>(state.thread_index()) * kWindow;
  uint64_t i = 0, sum = 0;
  for (auto _ : state) {
    absl::StatusOr<std::span<const std::byte>> r = log.Get(base + (i++ & (kWindow - 1)));
    if (!r.ok()) {
      Check(state, r.status());
      break;
    }
    sum += r->size();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace recstore_bench
