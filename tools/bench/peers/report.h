// The report: markdown tables on stdout (one per workload, each row with the ratio recstore /
// that engine, then the targets checked) and the same figures as JSON.
#ifndef RECSTORE_TOOLS_BENCH_PEERS_REPORT_H_
#define RECSTORE_TOOLS_BENCH_PEERS_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

struct Report {
  std::vector<std::pair<std::string, std::string>> machine;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> engine_order;
  std::vector<Row> rows;
  double total_seconds = 0;
};

std::string Markdown(const Report& r);
[[nodiscard]] absl::Status WriteJson(const Report& r, const std::string& path);

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PEERS_REPORT_H_
