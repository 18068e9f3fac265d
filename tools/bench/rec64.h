// The 64-byte typed record the engine benchmarks append and scan.
#ifndef RECSTORE_TOOLS_BENCH_REC64_H_
#define RECSTORE_TOOLS_BENCH_REC64_H_

#include <cstdint>

#include "recstore/recstore.h"

namespace recstore_bench {

struct Rec64 {
  uint64_t seq;
  uint64_t ts_ns;
  uint32_t id;
  uint32_t flags;
  double px[5];
};
RECSTORE_RECORD(Rec64, seq, ts_ns, id, flags, px);
static_assert(sizeof(Rec64) == 64, "Rec64 must be exactly 64 bytes");

}  // namespace recstore_bench

#endif  // RECSTORE_TOOLS_BENCH_REC64_H_
