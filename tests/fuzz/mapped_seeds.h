// The mapped_file fuzz target's input encoding and its seeds: vector and struct files made by
// the API (see mapped_file_fuzzer.cc).
#ifndef RECSTORE_TESTS_FUZZ_MAPPED_SEEDS_H_
#define RECSTORE_TESTS_FUZZ_MAPPED_SEEDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recstore/schema.h"

namespace recstore::fuzz {

struct FuzzPoint {
  double x, y, z;
};
RECSTORE_RECORD(FuzzPoint, x, y, z);

struct MappedInput {
  uint8_t control = 0;
  std::string file;
  std::string journal;
};

// control, u32 file length, file bytes, journal bytes.
std::string EncodeMappedInput(const MappedInput& in);
// False when `bytes` is too short for the fixed parts (the length is clamped to what follows).
bool DecodeMappedInput(std::string_view bytes, MappedInput* in);

// Files written through MappedVector<FuzzPoint> and MappedStruct<FuzzPoint> in `scratch`.
std::vector<std::string> MappedSeeds(const std::string& scratch);
// Hand-made edge inputs.
std::vector<std::string> MappedEdgeInputs();

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_MAPPED_SEEDS_H_
