// Seed corpora for the fuzz targets, made by the engine itself (real stores written with the
// public API), and hand-made edge inputs, including every input that once broke a target.
#ifndef RECSTORE_TESTS_FUZZ_SEEDS_H_
#define RECSTORE_TESTS_FUZZ_SEEDS_H_

#include <string>
#include <vector>

namespace recstore::fuzz {

// The fuzz targets: "manifest", "segment_header", "record_reader", "mapped_file".
const std::vector<std::string>& TargetNames();

// Seeds for `target`, built in `scratch` (an empty directory).
std::vector<std::string> SeedsFor(const std::string& target, const std::string& scratch);

// Hand-made inputs for `target`: empty and truncated inputs, extreme lengths, and the
// regression inputs of bugs the fuzzers found.
std::vector<std::string> EdgeInputs(const std::string& target);

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_SEEDS_H_
