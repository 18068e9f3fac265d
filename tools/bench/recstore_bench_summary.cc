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

// The mapped rows: push_back and read rates beside std::vector (with the targets:
// push_back >= 50% of std::vector::push_back, reads within 10% of std::vector), Sync() costs,
// and MappedStruct's fetch_add beside std::atomic.
void PrintMappedSummary(const SummaryReporter& rep) {
  auto pct = [](double a, double b) { return b > 0 ? a / b * 100 : 0.0; };
  auto beside = [&](const char* label, const std::string& name, const Rates* base,
                    double target_pct) {
    const Rates* r = rep.Find(name);
    if (r == nullptr) return;
    std::string text = fmt::format("  {:<36} {:7.1f} M rec/s {:7.3f} GB/s", label,
                                   r->items_per_s / 1e6, r->bytes_per_s / 1e9);
    if (base != nullptr && base != r) {
      const double p = pct(r->items_per_s, base->items_per_s);
      text += fmt::format("  {:5.1f}% of std::vector", p);
      if (target_pct > 0) {
        text += fmt::format(" (target >= {:.0f}%: {})", target_pct,
                            p >= target_pct ? "met" : "NOT met");
      }
    }
    std::printf("%s\n", text.c_str());
  };
  const Rates* push = rep.Find("mapped/push_back24/std::vector");
  beside("push_back 24B std::vector, reserved", "mapped/push_back24/std::vector", push, 0);
  beside("push_back 24B MappedVector, reserved", "mapped/push_back24/file", push, 50);
  beside("push_back 24B MappedVector, growing", "mapped/push_back24/file-no-reserve", push, 50);
  beside("push_back 24B Scratch, reserved", "mapped/push_back24/scratch", push, 50);
  beside("push_back 24B Scratch(dir), reserved", "mapped/push_back24/scratch-dir", push, 50);
  beside("Log<Rec24>::Append", "mapped/push_back24/log-append", push, 0);
  const Rates* warm = rep.Find("mapped/push_back24-warm/std::vector");
  beside("push_back 24B std::vector, warm", "mapped/push_back24-warm/std::vector", warm, 0);
  beside("push_back 24B MappedVector, warm", "mapped/push_back24-warm/file", warm, 50);
  beside("push_back 24B Scratch, warm", "mapped/push_back24-warm/scratch", warm, 50);
  beside("push_back 24B Scratch(dir), warm", "mapped/push_back24-warm/scratch-dir", warm, 50);
  for (const char* loop : {"range", "index"}) {
    const Rates* base = rep.Find(fmt::format("mapped/readsum24/{}/std::vector", loop));
    for (const char* target : {"std::vector", "written", "reopened", "read-only"}) {
      const std::string label = fmt::format("read sum 24B {} ({})", target, loop);
      beside(label.c_str(), fmt::format("mapped/readsum24/{}/{}", loop, target), base, 90);
    }
  }
  beside("read sum 24B, read-only open per pass", "mapped/readsum24/range/open-read-only-each-pass",
         rep.Find("mapped/readsum24/range/std::vector"), 0);
  for (const char* dirty :
       {"1/consecutive", "100/consecutive", "100/spread", "10000/consecutive", "10000/spread"}) {
    const Rates* r = rep.Find(fmt::format("mapped/vector-sync/dirty:{}", dirty));
    if (r == nullptr) continue;
    std::string label = fmt::format("MappedVector Sync, {}", dirty);
    std::replace(label.begin(), label.end(), '/', ' ');
    std::printf("  %-36s %8.1f us per Sync, %5.0f dirty pages, %8.1f KB written, %.0f fdatasync\n",
                label.c_str(), r->seconds_per_iteration * 1e6, CounterOf(*r, "dirty_pages"),
                CounterOf(*r, "KB_written/sync"), CounterOf(*r, "fdatasync/sync"));
  }
  const Rates* atomic = rep.Find("mapped/struct-fetch_add/std::atomic");
  const Rates* add = rep.Find("mapped/struct-fetch_add/MappedStruct");
  if (atomic != nullptr && add != nullptr) {
    std::printf("  %-36s %7.1f M ops/s, std::atomic %7.1f M ops/s: %5.1f%%\n",
                "MappedStruct Atomic().fetch_add", add->items_per_s / 1e6,
                atomic->items_per_s / 1e6, pct(add->items_per_s, atomic->items_per_s));
  }
  if (const Rates* r = rep.Find("mapped/struct-sync"); r != nullptr) {
    std::printf("  %-36s %8.1f us per Sync, %5.0f bytes written, %.0f fdatasync\n",
                "MappedStruct Sync", r->seconds_per_iteration * 1e6,
                CounterOf(*r, "B_written/sync"), CounterOf(*r, "fdatasync/sync"));
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
  PrintMappedSummary(rep);
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
