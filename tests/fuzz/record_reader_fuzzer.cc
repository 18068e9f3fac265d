// Fuzz target: the record reader. Bytes become a segment file of a fixed-size or a byte
// collection that the engine made; the engine recovers it in the chosen mode, then Get, scans
// and Verify() read it (input format and invariants: reader_harness.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/reader_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recstore::fuzz::RunReaderInput(data, size);
  return 0;
}
