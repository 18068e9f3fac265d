// Helpers shared by the workloads.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "fmt/core.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench::runner_internal {

FreshDir::FreshDir(const Config& c, const std::string& workload, const std::string& engine,
                   Kind kind)
    : path_(fmt::format("{}/{}-{}-{}", c.dir, workload, engine, KindName(kind))) {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  std::filesystem::create_directories(path_, ec);
}

FreshDir::~FreshDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> Rotated(const std::vector<std::string>& engines, size_t shift) {
  std::vector<std::string> out = engines;
  if (!out.empty()) std::rotate(out.begin(), out.begin() + (shift % out.size()), out.end());
  return out;
}

std::vector<std::string> EnginesExcept(const Config& c, const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  for (const std::string& e : c.engines) {
    if (std::find(skip.begin(), skip.end(), e) == skip.end()) out.push_back(e);
  }
  return out;
}

double Median(std::vector<double> v) { return Percentile(&v, 50); }

absl::Status Load(Engine* e, Kind kind, uint64_t n) {
  RecordGen gen(kind);
  for (uint64_t seq = 0; seq < n;) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(RecordGen::kMaxBatch, n - seq));
    RECSTORE_RETURN_IF_ERROR(e->AppendBatch(gen.Make(seq, k), k));
    seq += k;
  }
  return e->Sync();
}

Row ErrorRow(const std::string& w, const std::string& variant, const std::string& engine,
             const absl::Status& s) {
  fmt::print(stderr, "  {} {} {}: {}\n", w, variant, engine, s.ToString());
  return Row{w, variant, engine, {}, fmt::format("error: {}", s.ToString())};
}

void Progress(const std::string& w, const std::string& variant, const std::string& engine) {
  static const Clock::time_point start = Clock::now();
  fmt::print(stderr, "  [{:6.1f} s] {} {} {}\n", Seconds(Clock::now() - start), w, variant, engine);
}

}  // namespace recstore::bench::runner_internal
