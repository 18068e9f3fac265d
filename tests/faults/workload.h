// A deterministic store workload over any Env, for fault tests: creates a store, appends
// typed and byte records across many segment rotations (one oversized record too), syncs,
// creates and drops a collection, reopens as writer and as reader and checks every record.
// It syncs before every close, so no error can hide in a destructor. Also: reading a whole
// directory tree, to compare two stores byte for byte.
#ifndef RECSTORE_TESTS_FAULTS_WORKLOAD_H_
#define RECSTORE_TESTS_FAULTS_WORKLOAD_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"

namespace recstore::faults {

inline constexpr uint64_t kWorkloadSegment = 64 << 10;

// The payload of byte record `i` (1 to 2000 bytes, content derived from i).
std::string ByteRecord(uint64_t i);

// Runs the workload in `dir` (which must not exist yet). Returns a summary of what it saw
// (record counts, recovery reports); the first error of any step otherwise, unchanged.
absl::StatusOr<std::string> RunWorkload(Env* env, const std::string& dir);

// Every regular file under `dir`: path relative to `dir` -> content (MANIFEST with its
// random store id zeroed, so that two runs of the workload compare equal).
std::map<std::string, std::string> ReadTree(const std::string& dir);

}  // namespace recstore::faults

#endif  // RECSTORE_TESTS_FAULTS_WORKLOAD_H_
