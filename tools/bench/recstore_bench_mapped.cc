// MappedVector and MappedStruct beside what they stand in for: push_back against
// std::vector::push_back (both reserved first) and against the log's Append of the same
// 24-byte record, into fresh pages (cold: the kernel's page faults dominate) and into pages
// already touched (warm: push_back's own instructions); the cost of Sync() by the number and
// spread of the dirty records (time, dirty pages, bytes written, fdatasync calls: the time is
// the disk's flush latency as much as recstore's); a read pass over every element against
// the same pass over a std::vector, and a new reader's read-only open and pass; MappedStruct's
// Atomic() fetch_add against a std::atomic, and its Sync(). The summary sets push_back beside
// the target (>= 50% of std::vector::push_back) and reads beside theirs (within 10%
// of std::vector). Only these rows: --benchmark_filter=mapped
#include <atomic>
#include <optional>
#include <set>
#include <type_traits>

#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {

// A 24-byte record, for the vector and the log alike.
struct Rec24 {
  uint64_t id;
  uint64_t ts_ns;
  double value;
};
RECSTORE_RECORD(Rec24, id, ts_ns, value);
static_assert(sizeof(Rec24) == 24, "Rec24 must be exactly 24 bytes");

// MappedStruct's record: three counters.
struct Stats24 {
  uint64_t requests;
  uint64_t errors;
  uint64_t bytes;
};
RECSTORE_RECORD(Stats24, requests, errors, bytes);

namespace {

using Clock = std::chrono::steady_clock;
using recstore::MappedVector;

// Where push_back goes: std::vector, MappedVector over a file (reserved first, or growing),
// a scratch MappedVector (anonymous memory, or an unlinked file in the scratch root), or a
// Log<Rec24> (Append).
enum class PushTarget { kStdVector, kFile, kFileNoReserve, kScratch, kScratchDir, kLog };
// What a read pass reads: a std::vector; a MappedVector filled by push_back in this process
// (a scratch one: anonymous pages, as a file-backed vector's new pages are); a file-backed
// one opened after the file was written (its pages mapped copy-on-write from the page cache);
// a read-only open (a private copy of the file).
enum class ReadTarget { kStdVector, kWritten, kReopened, kReadOnly };

inline Rec24 MakeRec24(uint64_t i) {
  return Rec24{i, 1'700'000'000'000'000'000 + i, static_cast<double>(i) * 0.5};
}

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Counts what the containers write and flush.
class CountingEnv : public recstore::EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(recstore::Env::Default()) {}
  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t off) override {
    bytes += data.size();
    return target()->PWrite(fd, path, data, off);
  }
  absl::Status SyncData(int fd, const std::string& path) override {
    ++flushes;
    return target()->SyncData(fd, path);
  }
  uint64_t bytes = 0;
  uint64_t flushes = 0;
};

// A path under the scratch root; the file and its journal are removed on destruction.
class ScratchPath {
 public:
  explicit ScratchPath(const std::string& name) {
    static int counter = 0;
    path_ = fmt::format("{}/{}.{}", config().root, name, counter++);
  }
  ~ScratchPath() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_ + "-journal", ec);
  }
  ScratchPath(const ScratchPath&) = delete;
  ScratchPath& operator=(const ScratchPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// push_back: one pass of `n` records into a new container per iteration; only the pass is
// timed (creating the container, reserving and destroying it are not). Cold: the pass takes
// fresh pages, so it pays the kernel's page faults as any first fill does. Warm: a first,
// untimed pass and clear() leave every page touched, so the pass measures push_back itself.

template <typename V>
absl::Status Fill(V& v, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<V, std::vector<Rec24>>) {
      v.push_back(MakeRec24(i));
    } else if (absl::Status s = v.push_back(MakeRec24(i)); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

template <typename V>
absl::Status PushAll(V& v, uint64_t n, bool warm, double* seconds) {
  if (warm) {
    RETURN_IF_ERROR(Fill(v, n));
    v.clear();
  }
  const Clock::time_point start = Clock::now();
  RETURN_IF_ERROR(Fill(v, n));
  *seconds = Since(start);
  benchmark::DoNotOptimize(v.data());
  benchmark::ClobberMemory();
  return absl::OkStatus();
}

absl::Status PushPass(PushTarget target, uint64_t n, bool warm, double* seconds) {
  switch (target) {
    case PushTarget::kStdVector: {
      std::vector<Rec24> v;
      v.reserve(n);
      return PushAll(v, n, warm, seconds);
    }
    case PushTarget::kFile:
    case PushTarget::kFileNoReserve: {
      ScratchPath p("push_back");
      ASSIGN_OR_RETURN(auto v, MappedVector<Rec24>::Open(p.path(), {.create_if_missing = true}));
      if (target == PushTarget::kFile) RETURN_IF_ERROR(v.reserve(n));
      return PushAll(v, n, warm, seconds);
    }
    case PushTarget::kScratch:
    case PushTarget::kScratchDir: {
      recstore::ScratchOptions options{.reserve = n};
      if (target == PushTarget::kScratchDir) options.dir = config().root;
      ASSIGN_OR_RETURN(auto v, MappedVector<Rec24>::Scratch(options));
      return PushAll(v, n, warm, seconds);
    }
    case PushTarget::kLog: {
      ScratchStore ss("log24", {});
      RETURN_IF_ERROR(ss.status());
      ASSIGN_OR_RETURN(auto log, ss.store().OpenLog<Rec24>("r24"));
      const Clock::time_point start = Clock::now();
      for (uint64_t i = 0; i < n; ++i) RETURN_IF_ERROR(log.Append(MakeRec24(i)).status());
      *seconds = Since(start);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown target");
}

// ---------------------------------------------------------------------------------------------
// Read pass: the sum of the `id` field of every element, from containers filled once.

struct ReadData {
  std::vector<Rec24> std_vector;
  std::unique_ptr<ScratchPath> path;
  std::optional<MappedVector<Rec24>> written;   // filled by push_back in this process
  std::optional<MappedVector<Rec24>> reopened;  // opened again: copy-on-write file pages
  std::optional<MappedVector<Rec24>> read_only;
};

ReadData*& read_data_slot() {
  static ReadData* d = nullptr;
  return d;
}

absl::StatusOr<ReadData*> GetReadData() {
  ReadData*& slot = read_data_slot();
  if (slot != nullptr) return slot;
  const uint64_t n = config().mapped_records;
  auto d = std::make_unique<ReadData>();
  d->std_vector.reserve(n);
  for (uint64_t i = 0; i < n; ++i) d->std_vector.push_back(MakeRec24(i));
  d->path = std::make_unique<ScratchPath>("read");
  {
    ASSIGN_OR_RETURN(auto v,
                     MappedVector<Rec24>::Open(d->path->path(), {.create_if_missing = true}));
    RETURN_IF_ERROR(v.append(d->std_vector));
    RETURN_IF_ERROR(v.Sync());
  }
  ASSIGN_OR_RETURN(d->reopened, MappedVector<Rec24>::Open(d->path->path()));
  ASSIGN_OR_RETURN(d->read_only, MappedVector<Rec24>::Open(d->path->path(), {.read_only = true}));
  ASSIGN_OR_RETURN(d->written, MappedVector<Rec24>::Scratch({.reserve = n}));
  for (uint64_t i = 0; i < n; ++i) RETURN_IF_ERROR(d->written->push_back(MakeRec24(i)));
  slot = d.release();
  return slot;
}

template <typename C>
uint64_t SumRange(const C& c) {
  uint64_t sum = 0;
  for (const Rec24& r : c) sum += r.id;
  return sum;
}

template <typename C>
uint64_t SumIndex(const C& c) {
  uint64_t sum = 0;
  for (size_t i = 0; i < c.size(); ++i) sum += c[i].id;
  return sum;
}

void BM_MappedPushBack(benchmark::State& state, PushTarget target, bool warm) {
  const uint64_t n = config().mapped_records;
  for (auto _ : state) {
    if (!warm) PrewarmPages(n * sizeof(Rec24));
    double seconds = 0;
    if (!Check(state, PushPass(target, n, warm, &seconds))) break;
    state.SetIterationTime(seconds);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(Rec24)));
}

uint64_t SumOnce(const ReadData& d, ReadTarget target, bool by_index) {
  switch (target) {
    case ReadTarget::kStdVector:
      return by_index ? SumIndex(d.std_vector) : SumRange(d.std_vector);
    case ReadTarget::kWritten:
      return by_index ? SumIndex(*d.written) : SumRange(*d.written);
    case ReadTarget::kReopened:
      return by_index ? SumIndex(*d.reopened) : SumRange(*d.reopened);
    case ReadTarget::kReadOnly:
      return by_index ? SumIndex(*d.read_only) : SumRange(*d.read_only);
  }
  return 0;
}

// Passes over memory already faulted in: one untimed pass first (the kernel may have
// reclaimed a mapping's clean file pages since the data was made, or since the last row).
void BM_MappedRead(benchmark::State& state, ReadTarget target, bool by_index) {
  absl::StatusOr<ReadData*> d = GetReadData();
  if (!Check(state, d.status())) return;
  benchmark::DoNotOptimize(SumOnce(**d, target, by_index));
  for (auto _ : state) benchmark::DoNotOptimize(SumOnce(**d, target, by_index));
  const uint64_t n = config().mapped_records;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(Rec24)));
}

// What a new reader pays: each pass opens the file read-only (which copies the last synced
// state into its own memory) and sums it.
void BM_MappedReadOpenEachPass(benchmark::State& state) {
  absl::StatusOr<ReadData*> d = GetReadData();
  if (!Check(state, d.status())) return;
  for (auto _ : state) {
    absl::StatusOr<MappedVector<Rec24>> v =
        MappedVector<Rec24>::Open((*d)->path->path(), {.read_only = true});
    if (!Check(state, v.status())) break;
    benchmark::DoNotOptimize(SumRange(*v));
  }
  const uint64_t n = config().mapped_records;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * sizeof(Rec24)));
}

// Sync() of `dirty` changed records of a vector of mapped_sync_records: consecutive ones, or
// spread evenly over the vector (one record every size/dirty). Only Sync() is timed.
void BM_MappedVectorSync(benchmark::State& state, uint64_t dirty, bool spread) {
  const uint64_t n = config().mapped_sync_records;
  if (dirty > n) {
    state.SkipWithError("--mapped_sync_records is below the dirty record count");
    return;
  }
  CountingEnv env;
  ScratchPath p("sync");
  absl::StatusOr<MappedVector<Rec24>> v =
      MappedVector<Rec24>::Open(p.path(), {.create_if_missing = true, .env = &env});
  if (!Check(state, v.status())) return;
  for (uint64_t i = 0; i < n; ++i) {
    if (!Check(state, v->push_back(MakeRec24(i)))) return;
  }
  if (!Check(state, v->Sync())) return;
  const uint64_t stride = spread ? n / dirty : 1;
  std::set<uint64_t> pages;
  for (uint64_t k = 0; k < dirty; ++k) pages.insert(k * stride * sizeof(Rec24) / 4096);
  env.bytes = 0;
  env.flushes = 0;
  uint64_t round = 0;
  for (auto _ : state) {
    ++round;
    for (uint64_t k = 0; k < dirty; ++k) {
      Rec24 r = MakeRec24(k * stride);
      r.value = static_cast<double>(round);
      if (!Check(state, v->Set(k * stride, r))) return;
    }
    const Clock::time_point start = Clock::now();
    if (!Check(state, v->Sync())) return;
    state.SetIterationTime(Since(start));
  }
  const double syncs = static_cast<double>(state.iterations());
  state.counters["dirty_pages"] = static_cast<double>(pages.size());
  state.counters["KB_written/sync"] = syncs > 0 ? static_cast<double>(env.bytes) / 1e3 / syncs : 0;
  state.counters["fdatasync/sync"] = syncs > 0 ? static_cast<double>(env.flushes) / syncs : 0;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// fetch_add(1, relaxed) on a field of a MappedStruct (shared file mapping), or on a
// std::atomic in this process's memory.
void BM_MappedStructFetchAdd(benchmark::State& state, bool mapped) {
  if (!mapped) {
    std::atomic<uint64_t> counter{0};
    for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
    benchmark::DoNotOptimize(counter.load());
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    return;
  }
  ScratchPath p("struct_add");
  absl::StatusOr<recstore::MappedStruct<Stats24>> s =
      recstore::MappedStruct<Stats24>::Open(p.path(), {.create_if_missing = true});
  if (!Check(state, s.status())) return;
  std::atomic_ref<uint64_t> requests = s->Atomic(&Stats24::requests);
  for (auto _ : state) requests.fetch_add(1, std::memory_order_relaxed);
  benchmark::DoNotOptimize(requests.load());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// One fetch_add, then Sync(): a snapshot made durable.
void BM_MappedStructSync(benchmark::State& state) {
  CountingEnv env;
  ScratchPath p("struct_sync");
  absl::StatusOr<recstore::MappedStruct<Stats24>> s =
      recstore::MappedStruct<Stats24>::Open(p.path(), {.create_if_missing = true, .env = &env});
  if (!Check(state, s.status())) return;
  env.bytes = 0;
  env.flushes = 0;
  for (auto _ : state) {
    s->Atomic(&Stats24::requests).fetch_add(1, std::memory_order_relaxed);
    if (!Check(state, s->Sync())) return;
  }
  const double syncs = static_cast<double>(state.iterations());
  state.counters["B_written/sync"] = syncs > 0 ? static_cast<double>(env.bytes) / syncs : 0;
  state.counters["fdatasync/sync"] = syncs > 0 ? static_cast<double>(env.flushes) / syncs : 0;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

void DropMappedData() {
  ReadData*& slot = read_data_slot();
  delete slot;
  slot = nullptr;
}

void RegisterMapped() {
  const int passes = 5;
  for (const auto& [name, target] : {
           std::pair{"std::vector", PushTarget::kStdVector},
           std::pair{"file", PushTarget::kFile},
           std::pair{"file-no-reserve", PushTarget::kFileNoReserve},
           std::pair{"scratch", PushTarget::kScratch},
           std::pair{"scratch-dir", PushTarget::kScratchDir},
           std::pair{"log-append", PushTarget::kLog},
       }) {
    for (const bool warm : {false, true}) {
      // Warm rows only for what can be cleared and refilled in place.
      if (warm && (target == PushTarget::kLog || target == PushTarget::kFileNoReserve)) continue;
      benchmark::RegisterBenchmark(
          fmt::format("mapped/push_back24{}/{}", warm ? "-warm" : "", name).c_str(),
          [target = target, warm](benchmark::State& s) { BM_MappedPushBack(s, target, warm); })
          ->UseManualTime()
          ->Iterations(passes)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const bool by_index : {false, true}) {
    for (const auto& [name, target] : {
             std::pair{"std::vector", ReadTarget::kStdVector},
             std::pair{"written", ReadTarget::kWritten},
             std::pair{"reopened", ReadTarget::kReopened},
             std::pair{"read-only", ReadTarget::kReadOnly},
         }) {
      benchmark::RegisterBenchmark(
          fmt::format("mapped/readsum24/{}/{}", by_index ? "index" : "range", name).c_str(),
          [target = target, by_index](benchmark::State& s) { BM_MappedRead(s, target, by_index); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("mapped/readsum24/range/open-read-only-each-pass",
                               BM_MappedReadOpenEachPass)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  for (const auto& [dirty, spread] :
       {std::pair{uint64_t{1}, false}, std::pair{uint64_t{100}, false},
        std::pair{uint64_t{100}, true}, std::pair{uint64_t{10000}, false},
        std::pair{uint64_t{10000}, true}}) {
    benchmark::RegisterBenchmark(
        fmt::format("mapped/vector-sync/dirty:{}/{}", dirty, spread ? "spread" : "consecutive")
            .c_str(),
        [dirty = dirty, spread = spread](benchmark::State& s) {
          BM_MappedVectorSync(s, dirty, spread);
        })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("mapped/struct-fetch_add/std::atomic", [](benchmark::State& s) {
    BM_MappedStructFetchAdd(s, false);
  })->UseRealTime();
  benchmark::RegisterBenchmark("mapped/struct-fetch_add/MappedStruct", [](benchmark::State& s) {
    BM_MappedStructFetchAdd(s, true);
  })->UseRealTime();
  benchmark::RegisterBenchmark("mapped/struct-sync", BM_MappedStructSync)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace recstore_bench
