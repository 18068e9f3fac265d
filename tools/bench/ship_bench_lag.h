// ship_bench's follow lag (tools/bench/ship_bench.cc): from an append to JetStream's
// acknowledgement, as Ship() with follow=true reports it through its `acked` callback.
#ifndef RECSTORE_TOOLS_BENCH_SHIP_BENCH_LAG_H_
#define RECSTORE_TOOLS_BENCH_SHIP_BENCH_LAG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ship_bench {

struct LagResult {
  uint64_t records = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
  double achieved_rate = 0;  // appends/s the writer reached
  uint64_t acked_calls = 0;
};

// A store in `dir` (made fresh, removed at the end) with SyncPolicy::Background(0, 1 ms); a
// writer thread appends 64-byte records at `rate` per second for `seconds` while Ship()
// follows them into a fresh stream of `replicas` (deleted at the end). One priming record is
// shipped first and left out of the figures.
absl::StatusOr<LagResult> FollowLag(const std::string& dir, const std::string& urls, int replicas,
                                    uint64_t rate, double seconds);

}  // namespace ship_bench

#endif  // RECSTORE_TOOLS_BENCH_SHIP_BENCH_LAG_H_
