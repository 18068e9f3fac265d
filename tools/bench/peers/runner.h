// The workload runner: configuration, result rows and the workloads W1-W7.
#ifndef RECSTORE_TOOLS_BENCH_PEERS_RUNNER_H_
#define RECSTORE_TOOLS_BENCH_PEERS_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tools/bench/peers/engine.h"
#include "tools/bench/percentile.h"

namespace recstore::bench {

struct Config {
  std::string dir;                   // parent of every engine's fresh directory
  std::vector<std::string> engines;  // in run order
  std::vector<std::string> workloads;
  std::vector<Kind> kinds;
  uint64_t records = 0;          // W1, W4, W5: records per engine
  uint64_t reads = 0;            // W5: random reads per pass
  double sync_seconds = 0;       // W2, W3: length of each measurement
  int threads = 4;               // W3
  int reps = 1;                  // W1, W4: runs per engine (median reported)
  uint64_t w6_bytes = 0;         // W6: bytes of the big store
  uint64_t w6_peer_bytes = 0;    // W6: bytes of the peers' stores (0: no peers)
  uint64_t w6_segment = 0;       // W6: recstore segment size
  uint64_t w7_bytes = 0;         // W7: bytes appended before the kill
  bool can_drop_caches = false;  // W6: root may write /proc/sys/vm/drop_caches
};

struct Metric {
  std::string key;
  double value = 0;
};

// One engine's figures for one workload variant.
struct Row {
  std::string workload;  // "W1"
  std::string variant;   // "fixed64", "bytes100 k=16", ...
  std::string engine;
  std::vector<Metric> metrics;
  std::string note;  // errors, recovery reports, caveats

  const Metric* Find(const std::string& key) const {
    for (const Metric& m : metrics) {
      if (m.key == key) return &m;
    }
    return nullptr;
  }
};

// Runs one workload for every configured engine and kind, appending to `rows`. Engines run
// one after another inside each variant, in an order that rotates from variant to variant.
void RunW1(const Config& c, std::vector<Row>* rows);
void RunW2(const Config& c, std::vector<Row>* rows);
void RunW3(const Config& c, std::vector<Row>* rows);
void RunW4(const Config& c, std::vector<Row>* rows);
void RunW5(const Config& c, std::vector<Row>* rows);
void RunW6(const Config& c, std::vector<Row>* rows);
void RunW7(const Config& c, std::vector<Row>* rows);

// The crash child of W7 (run through fork + exec of this program): appends `bytes` of
// records without syncing, reports the count on `fd` and waits to be killed.
int RunW7Child(const std::string& engine, const std::string& dir, Kind kind, uint64_t bytes,
               int fd);

// Helpers shared by the workload files.
namespace runner_internal {

using Clock = std::chrono::steady_clock;
inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A fresh, empty directory for `engine` in `workload`; removed by the destructor.
class FreshDir {
 public:
  FreshDir(const Config& c, const std::string& workload, const std::string& engine, Kind kind);
  ~FreshDir();
  FreshDir(const FreshDir&) = delete;
  FreshDir& operator=(const FreshDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `engines` rotated left by `shift`.
std::vector<std::string> Rotated(const std::vector<std::string>& engines, size_t shift);
// Engines of `c` that take part in a workload, minus those named in `skip`.
std::vector<std::string> EnginesExcept(const Config& c, const std::vector<std::string>& skip);
// Percentile (tools/bench/percentile.h) and the median of `v`.
double Median(std::vector<double> v);
// Loads records 0..n-1 with AppendBatch and syncs.
absl::Status Load(Engine* e, Kind kind, uint64_t n);
// A row carrying an error instead of figures.
Row ErrorRow(const std::string& w, const std::string& variant, const std::string& engine,
             const absl::Status& s);
// Progress on stderr.
void Progress(const std::string& w, const std::string& variant, const std::string& engine);

}  // namespace runner_internal

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PEERS_RUNNER_H_
