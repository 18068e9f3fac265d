// Shared pieces of recstore_bench: the record type, run configuration, scratch stores, the
// benchmark functions each file defines, and the reporter that collects results.
#ifndef RECSTORE_TOOLS_BENCH_RECSTORE_BENCH_COMMON_H_
#define RECSTORE_TOOLS_BENCH_RECSTORE_BENCH_COMMON_H_

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
#include "tools/bench/rec64.h"

namespace recstore_bench {

constexpr size_t kBytesRecord = 100;
constexpr size_t kBatch = 256;

struct Config {
  std::string root;  // scratch folder holding every store of this run
  uint64_t records64 = uint64_t{4} << 20;
  uint64_t records100 = uint64_t{5} << 19;
  bool prewarm = true;
  // The compaction row (recstore_bench_compact.cc): records in the filled collection (4.5M
  // 64-byte records: 324 MB on disk, four full 64 MiB segments and the active one) and the
  // most records the appending thread writes while a merge runs.
  uint64_t compact_records = 4'500'000;
  uint64_t compact_append_cap = 30'000'000;
  // The mapped rows (recstore_bench_mapped.cc): 24-byte records per push_back pass and in the
  // read data (8Mi: 192 MiB), and in the vector whose Sync() is measured (1Mi: 24 MiB).
  uint64_t mapped_records = uint64_t{8} << 20;
  uint64_t mapped_sync_records = uint64_t{1} << 20;
};

inline Config& config() {
  static Config c;
  return c;
}

inline Rec64 MakeRec64(uint64_t i) {
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

inline const Sources& sources() {
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

// CPU time, page faults and context switches of the process (or, with RUSAGE_THREAD, of the
// calling thread), read before and after a timed loop.
struct Usage {
  double user_s = 0;
  double sys_s = 0;
  long minflt = 0;
  long majflt = 0;
  long nvcsw = 0;   // voluntary context switches: the times it blocked (slept, waited)
  long nivcsw = 0;  // involuntary ones: the times the scheduler preempted it

  static Usage Now(int who = RUSAGE_SELF) {
    rusage ru{};
    getrusage(who, &ru);
    Usage u;
    u.user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec * 1e-6;
    u.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec * 1e-6;
    u.minflt = ru.ru_minflt;
    u.majflt = ru.ru_majflt;
    u.nvcsw = ru.ru_nvcsw;
    u.nivcsw = ru.ru_nivcsw;
    return u;
  }
};

// Parses `--name=value`; false when `arg` is not that flag.
inline bool ParseFlag(std::string_view arg, std::string_view name, std::string* value) {
  if (arg.size() <= name.size() + 3 || arg.substr(0, 2) != "--" ||
      arg.substr(2, name.size()) != name || arg[2 + name.size()] != '=') {
    return false;
  }
  *value = std::string(arg.substr(name.size() + 3));
  return true;
}

inline void SetRecordCounters(benchmark::State& state, const Usage& before, uint64_t records,
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

inline bool Check(benchmark::State& state, const absl::Status& s) {
  if (s.ok()) return true;
  state.SkipWithError(std::string(s.ToString()).c_str());
  return false;
}

// Touches, then frees, `bytes` of anonymous memory. On a virtual machine whose balloon device
// reports free pages to the host, a page freed a while ago costs a host fault on its next use;
// running this before a timed loop that takes new pages lets that loop reuse pages the host
// still backs, so runs measure the guest and recstore rather than the host's reclaim.
inline void PrewarmPages(size_t bytes) {
  if (!config().prewarm) return;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  auto* b = static_cast<volatile char*>(p);
  for (size_t i = 0; i < bytes; i += 4096) b[i] = 1;
  ::munmap(p, bytes);
}

// Baselines (recstore_bench_baselines.cc).
template <size_t kChunk>
void BM_MemcpyChunks(benchmark::State& state, uint64_t records);
void BM_MemcpyBulk(benchmark::State& state, uint64_t bytes);
void BM_ReadSum64(benchmark::State& state, uint64_t records);
void BM_FreshPages64(benchmark::State& state, uint64_t records, bool file);

// recstore appends, syncs and scans (recstore_bench_engine.cc).
void BM_Append64(benchmark::State& state, bool prefault);
void BM_AppendBatch64(benchmark::State& state, bool prefault);
void BM_AppendBytes100(benchmark::State& state);
void BM_AppendBatchBytes100(benchmark::State& state);
void BM_AppendSync64(benchmark::State& state, int every);
void BM_Scan64(benchmark::State& state);
void BM_ScanBytes100(benchmark::State& state);
void BM_Scan64Reopen(benchmark::State& state);
void BM_Get64(benchmark::State& state);
void BM_GetBytes100(benchmark::State& state);
// Closes and removes the scan data written by the first scan benchmark.
void DropScanData();

// Compaction (recstore_bench_compact.cc).
void BM_Compact64(benchmark::State& state, bool by_key);
void BM_AppendDuringMerge64(benchmark::State& state);

// MappedVector and MappedStruct (recstore_bench_mapped.cc): registers their rows; frees the
// read pass's data.
void RegisterMapped();
void DropMappedData();

struct Rates {
  double items_per_s = 0;  // from wall-clock time
  double bytes_per_s = 0;
  double cpu_items_per_s = 0;  // from the benchmark thread's CPU time
  double cpu_bytes_per_s = 0;
  double seconds_per_iteration = 0;  // wall-clock
  bool from_median = false;
  std::map<std::string, double> counters;  // the run's user counters
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
      for (const auto& [name, counter] : run.counters) r.counters[name] = counter.value;
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

// Prints the ratios of the collected results (recstore_bench_summary.cc).
void PrintSummary(const SummaryReporter& rep);

}  // namespace recstore_bench

#endif  // RECSTORE_TOOLS_BENCH_RECSTORE_BENCH_COMMON_H_
