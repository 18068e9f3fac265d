// W1: append N records one by one, then one sync.
#include <algorithm>
#include <map>

#include "fmt/core.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

using namespace runner_internal;

namespace {

// Seconds for the appends alone and for the appends plus the final sync.
struct AppendTimes {
  double appends = 0;
  double total = 0;
};

absl::StatusOr<AppendTimes> TimeAppends(const Config& c, Kind kind, const std::string& name) {
  FreshDir dir(c, "W1", name, kind);
  std::unique_ptr<Engine> e = NewEngine(name);
  RECSTORE_RETURN_IF_ERROR(
      e->Open({.dir = dir.path(), .kind = kind, .expected_records = c.records}));
  RecordGen gen(kind);
  const Clock::time_point t0 = Clock::now();
  for (uint64_t i = 0; i < c.records; ++i) RECSTORE_RETURN_IF_ERROR(e->Append(gen.Make(i, 1)));
  const Clock::time_point t1 = Clock::now();
  RECSTORE_RETURN_IF_ERROR(e->Sync());
  const AppendTimes t{Seconds(t1 - t0), Seconds(Clock::now() - t0)};
  if (e->End() != c.records) {
    return absl::InternalError(fmt::format("{} records at the end, not {}", e->End(), c.records));
  }
  RECSTORE_RETURN_IF_ERROR(e->Close());
  return t;
}

}  // namespace

void RunW1(const Config& c, std::vector<Row>* rows) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    const std::string variant(KindName(kind));
    std::map<std::string, std::vector<double>> secs, append_secs;
    std::map<std::string, absl::Status> errors;
    for (int rep = 0; rep < c.reps; ++rep) {
      for (const std::string& name : Rotated(c.engines, shift++)) {
        if (!errors[name].ok()) continue;
        Progress("W1", variant, name);
        absl::StatusOr<AppendTimes> t = TimeAppends(c, kind, name);
        if (t.ok()) {
          secs[name].push_back(t->total);
          append_secs[name].push_back(t->appends);
        } else {
          errors[name] = t.status();
        }
      }
    }
    const double n = static_cast<double>(c.records);
    for (const std::string& name : c.engines) {
      if (!errors[name].ok()) {
        rows->push_back(ErrorRow("W1", variant, name, errors[name]));
        continue;
      }
      const double t = Median(secs[name]);
      std::vector<double> sync_secs;
      for (size_t i = 0; i < secs[name].size(); ++i) {
        sync_secs.push_back(secs[name][i] - append_secs[name][i]);
      }
      rows->push_back({"W1",
                       variant,
                       name,
                       {{"records_per_s", n / t},
                        {"mb_per_s", n * static_cast<double>(RecordSize(kind)) / t / 1e6},
                        {"append_records_per_s", n / Median(append_secs[name])},
                        {"sync_ms", Median(sync_secs) * 1e3}},
                       ""});
    }
  }
}

}  // namespace recstore::bench
