// What the report says about the machine and the libraries it ran with.
#ifndef RECSTORE_TOOLS_BENCH_PEERS_MACHINE_H_
#define RECSTORE_TOOLS_BENCH_PEERS_MACHINE_H_

#include <string>
#include <utility>
#include <vector>

namespace recstore::bench {

// Ordered (name, value) facts: cores, CPU, memory, kernel, file system of `bench_dir`,
// whether caches can be dropped, compiler and peer library versions, clock overhead.
std::vector<std::pair<std::string, std::string>> DescribeMachine(const std::string& bench_dir);

// True when this process may write /proc/sys/vm/drop_caches.
bool CanDropCaches();

// "1-min / 5-min / 15-min" load averages: other work on the machine skews every figure.
std::string LoadAverage();

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PEERS_MACHINE_H_
