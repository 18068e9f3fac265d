// The summary printed after the benchmarks: each figure beside memcpy and the targets.
#include "tools/bench/recstore_bench_common.h"

namespace recstore_bench {
// ---------------------------------------------------------------------------------------------
// Summary: the console output as usual, plus the rates kept per benchmark for the ratios.

namespace {

double CounterOf(const Rates& r, const std::string& name) {
  auto it = r.counters.find(name);
  return it == r.counters.end() ? 0.0 : it->second;
}

// The compaction row: MB/s of payload read and of segment bytes written by Merge() and key
// Compact(), and single appends per second while a merge runs beside the same appends alone.
void PrintCompactionSummary(const SummaryReporter& rep) {
  for (const auto& [label, name] : {std::pair{"compact 64B merge", "compact64/merge"},
                                    std::pair{"compact 64B by key", "compact64/key"}}) {
    const Rates* r = rep.Find(name);
    if (r == nullptr) continue;
    std::printf("  %-36s %7.0f MB/s in, %7.0f MB/s written, %.1f%% of records kept, %.2f s\n",
                label, r->bytes_per_s / 1e6, CounterOf(*r, "written_MB/s"), CounterOf(*r, "kept%"),
                r->seconds_per_iteration);
  }
  if (const Rates* r = rep.Find("compact64/append-during-merge"); r != nullptr) {
    std::printf(
        "  %-36s %9.0f rec/s during a merge, %9.0f rec/s alone: %.1f%%%s\n",
        "append 64B single, during merge", r->items_per_s, CounterOf(*r, "alone_rec/s"),
        CounterOf(*r, "during/alone%"),
        CounterOf(*r, "hit_cap") != 0 ? " (append cap reached before the merge ended)" : "");
  }
}

}  // namespace

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
  PrintCompactionSummary(rep);
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

}  // namespace recstore_bench
