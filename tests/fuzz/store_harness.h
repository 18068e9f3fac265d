// The manifest fuzz target's second stage: a manifest that gets past its checksums becomes the
// MANIFEST of a copy of the reader harness's template store (reader_harness.h), which is then
// opened read-only and as the writer, and read: every collection's first, middle and last
// records, a scan and Verify. So hostile manifest values reach recovery and the readers, not
// only the decoder.
//
// With `follow_schema`, the segment headers of each fixed collection the manifest decodes to
// are first rewritten to match its schema (record size, stride, schema hash), as a hostile
// writer would, so the damage is not stopped by the header comparison.
//
// Invariants (abort on failure): nothing reads out of bounds (heap mappings, see
// tests/corruption/heap_map_env.h) and no signal; an error other than NotFound or OutOfRange
// names a file of the store; every record returned is the one written under its sequence
// number.
#ifndef RECSTORE_TESTS_FUZZ_STORE_HARNESS_H_
#define RECSTORE_TESTS_FUZZ_STORE_HARNESS_H_

#include <string>

namespace recstore::fuzz {

void RunStoreWithManifest(const std::string& manifest, bool follow_schema);

// The template store's manifest (a seed for this stage).
std::string TemplateManifest();

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_STORE_HARNESS_H_
