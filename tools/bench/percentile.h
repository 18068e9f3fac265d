// Percentiles of measured samples, shared by the benchmarks.
#ifndef RECSTORE_TOOLS_BENCH_PERCENTILE_H_
#define RECSTORE_TOOLS_BENCH_PERCENTILE_H_

#include <algorithm>
#include <cstddef>
#include <vector>

namespace recstore::bench {

// Percentile `p` (0..100) of `v` (reordered): the sample of nearest rank; 100 is the largest.
inline double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(v->size() - 1) + 0.5);
  k = std::min(k, v->size() - 1);
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(k), v->end());
  return (*v)[k];
}

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PERCENTILE_H_
