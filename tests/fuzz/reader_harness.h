// The record reader fuzz target's harness: fuzz bytes become a segment file of a fixed-size or
// a byte collection that the engine made, and the engine then recovers, reads and verifies it.
//
// A template store is built once per process with the real engine (Store::Open, appends): a
// fixed collection of `FuzzRecord`s and a byte collection, each with one full segment. Each
// input then describes the collection's segment files:
//
//   byte 0   bit 0: byte collection (else fixed)     bits 1-2: recovery mode (0 default,
//            1 absolute, 2 salvage, 3 default)      bit 3: reseal (below)
//            bit 4: the template's full segment comes first, the input segment follows it
//            bit 5: ... with its commit block zeroed bit 6: append a record after recovery
//            bit 7: the input segment gets the commit block below
//   byte 1   bit 0: open read-only first             bit 1: cut the file short after `head`
//            bit 2: the first 72 bytes of `rest` are the segment header
//            bit 3: ... with its checksum fixed      bit 4: reseal rewrites the slot index too
//            bit 5: keep the commit block's checksum as given
//   2..33    commit block (32 bytes; checksum fixed unless byte 1 bit 5)
//   34..35   u16 T: how many of the last bytes of `rest` are the segment's tail
//   rest     head (written at offset 4096) and tail (written at the end of the file)
//
// Reseal rewrites every record checksum the head's structure implies (fixed slots; frames
// walked by their lengths), so that mutations of lengths, payloads and slots reach the code
// behind the checksum. Missing bytes read as zero.
//
// Invariants (abort on failure): nothing reads out of bounds (segments are mapped as heap
// buffers, see tests/corruption/heap_map_env.h); errors are DataLoss (or FailedPrecondition)
// naming a file; a writer's records from the durable point on read back valid (salvage: but
// the holes it reports); after kAbsoluteConsistency every record verifies; a second open
// after a clean close finds the same records and nothing to cut; an appended record reads
// back as written and survives a reopen.
#ifndef RECSTORE_TESTS_FUZZ_READER_HARNESS_H_
#define RECSTORE_TESTS_FUZZ_READER_HARNESS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "recstore/recstore.h"

namespace recstore::fuzz {

// 60 bytes, align 2: 4 padding bytes before each slot's checksum, 853 slots per segment.
struct FuzzRecord {
  uint16_t a;
  uint8_t b;
  uint8_t c;
  char text[56];
};
RECSTORE_RECORD(FuzzRecord, a, b, c, text);

// Runs one input (never throws; aborts on a broken invariant).
void RunReaderInput(const uint8_t* data, size_t size);

// The template store (built on first use): collections "f" (FuzzRecord, id 1) and "v" (bytes,
// id 2), each one full segment of 64 KiB; and the records written to it.
const std::string& TemplateStoreDir();
FuzzRecord FixedRecord(uint64_t seq);
std::string BytesRecord(uint64_t seq);

// Inputs made by the engine: stores written with real appends and syncs, turned into the
// input format above, in several modes. `scratch` is an empty directory to build them in.
std::vector<std::string> ReaderSeeds(const std::string& scratch);

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_READER_HARNESS_H_
