// Throughput of recstore's append and scan paths beside memcpy baselines, in one run, followed
// by a summary of the ratios append/memcpy and scan/memcpy, and the compaction row: Merge()
// and key Compact() rates and append throughput while a merge runs. Only the compaction row
// (about 20 s): --benchmark_filter=compact. Then the mapped rows: MappedVector's push_back,
// Sync() and read pass beside std::vector and the log, MappedStruct's fetch_add and Sync();
// only those: --benchmark_filter=mapped
//
//   ./bazelw run --config=opt //tools/bench:recstore_bench -- [flags]
//
// Flags (besides Google Benchmark's --benchmark_*):
//   --dir=PATH         parent of the scratch folder (default $TMPDIR, else /tmp); the program
//                      works in PATH/recstore_bench.<pid> and removes it before exiting
//   --records64=N      64-byte records per append run and in the scan data (default 4Mi)
//   --records100=N     100-byte records per append run and in the scan data (default 2.5Mi)
//   --compact_records=N
//                      64-byte records in the collection each compaction benchmark fills
//                      (default 4.5M: 324 MB on disk in 64 MiB segments; about half of them
//                      superseded by a newer record of their key)
//   --compact_append_cap=N
//                      most records appended while a merge runs (default 30M)
//   --mapped_records=N 24-byte records per push_back pass of the mapped rows and in their read
//                      data (default 8Mi)
//   --mapped_sync_records=N
//                      24-byte records in the vector whose Sync() the mapped rows time
//                      (default 1Mi)
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
#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {
// ---------------------------------------------------------------------------------------------

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
  // The scan data is made by the first of them, before any threaded run.
  for (const int threads : {1, 2, 4}) {
    benchmark::RegisterBenchmark("get64/warm", BM_Get64)->Threads(threads)->UseRealTime();
    benchmark::RegisterBenchmark("get100/warm", BM_GetBytes100)->Threads(threads)->UseRealTime();
  }

  reg("sync64/every:1", [](benchmark::State& s) {
    BM_AppendSync64(s, 1);
  })->Unit(benchmark::kMicrosecond);
  reg("sync64/every:16", [](benchmark::State& s) {
    BM_AppendSync64(s, 16);
  })->Unit(benchmark::kMicrosecond);

  for (const bool by_key : {false, true}) {
    benchmark::RegisterBenchmark(by_key ? "compact64/key" : "compact64/merge",
                                 [by_key](benchmark::State& s) { BM_Compact64(s, by_key); })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("compact64/append-during-merge", BM_AppendDuringMerge64)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);

  RegisterMapped();
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
    } else if (ParseFlag(argv[i], "compact_records", &v)) {
      config().compact_records = std::stoull(v);
    } else if (ParseFlag(argv[i], "compact_append_cap", &v)) {
      config().compact_append_cap = std::stoull(v);
    } else if (ParseFlag(argv[i], "mapped_records", &v)) {
      config().mapped_records = std::stoull(v);
    } else if (ParseFlag(argv[i], "mapped_sync_records", &v)) {
      config().mapped_sync_records = std::stoull(v);
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
  DropMappedData();
  std::filesystem::remove_all(config().root, ec);
  benchmark::Shutdown();
  return 0;
}

}  // namespace recstore_bench

int main(int argc, char** argv) { return recstore_bench::Main(argc, argv); }
