// Fuzz target: the manifest decoder (format::DecodeManifest) and the store's manifest reader
// (store::ReadManifest, which adds the store-level checks).
//
// Input: one control byte, then the manifest. Control bit 0 makes the target set the header's
// body_length and both checksums to match the bytes first, so mutations reach the body parser
// instead of stopping at a checksum (libFuzzer cannot forge XXH3). Bit 1 then also opens a
// store with this manifest (store_harness.h: the template store of the record reader target,
// read-only and as the writer, and reads it), so hostile values reach recovery and the
// readers; bit 2 rewrites its segment headers to follow the manifest's schemas first.
//
// Invariants: a decode error is DataLoss or FailedPrecondition naming the file; whatever
// decodes has every field in the ranges of docs/format.md 2.2 ("checks on read"), re-encodes
// to a manifest that decodes to the same thing; whatever ReadManifest accepts has collection
// names that Store::ValidateName accepts (they name folders), no two alike; the store stage's
// invariants (store_harness.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "recstore/store.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_inputs.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/fuzz/store_harness.h"

namespace recstore::fuzz {
namespace {

void CheckSame(const format::Manifest& a, const format::Manifest& b) {
  FUZZ_CHECK(a.generation == b.generation && a.next_collection_id == b.next_collection_id &&
             a.collections.size() == b.collections.size())
      << "round trip changed the manifest header";
  for (size_t i = 0; i < a.collections.size(); ++i) {
    const CollectionInfo& x = a.collections[i];
    const CollectionInfo& y = b.collections[i];
    FUZZ_CHECK(x.name == y.name && x.id == y.id && x.kind == y.kind &&
               x.segment_size == y.segment_size && x.first_seq == y.first_seq &&
               x.record_size == y.record_size && x.record_align == y.record_align &&
               x.schema == y.schema && x.retention == y.retention)
        << "round trip changed collection " << i;
  }
}

// What a decoded manifest promises: values later arithmetic cannot overflow on.
void CheckRanges(const format::Manifest& m) {
  FUZZ_CHECK(m.generation <= format::kMaxSequence && m.next_collection_id >= 1);
  for (const CollectionInfo& c : m.collections) {
    FUZZ_CHECK(c.id >= 1 && c.id < m.next_collection_id) << "collection id " << c.id;
    FUZZ_CHECK(c.first_seq <= format::kMaxSequence && c.generation <= format::kMaxSequence &&
               c.compacted_end <= format::kMaxSequence)
        << "a sequence number past the bound in '" << c.name << "'";
    FUZZ_CHECK(c.time_base >= -format::kMaxTimeBase && c.time_base <= format::kMaxTimeBase);
    FUZZ_CHECK(c.retention.max_age.count() >= 0 && c.retention.hard_max_age.count() >= 0);
    if (c.kind == CollectionKind::kFixed) {
      FUZZ_CHECK(format::FixedLayoutValid(c.record_size, c.record_align, c.segment_size))
          << "record size " << c.record_size << ", align " << c.record_align;
      const uint64_t stride = format::FixedStride(c.record_size, c.record_align);
      FUZZ_CHECK(stride <= UINT32_MAX && format::kDataStart + stride <= c.segment_size);
      for (const FieldInfo& f : c.schema.fields) {
        FUZZ_CHECK(uint64_t{f.offset} + f.size <= c.record_size) << "field '" << f.name << "'";
      }
    } else {
      FUZZ_CHECK(c.kind == CollectionKind::kVariable && c.record_size == 0 &&
                 c.schema.fields.empty());
    }
  }
}

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) FixManifestChecksums(&bytes);
  const std::string path = "fuzz/MANIFEST";
  if (data[0] & 2) RunStoreWithManifest(bytes, (data[0] & 4) != 0);
  absl::StatusOr<format::Manifest> m = format::DecodeManifest(bytes, path);
  if (!m.ok()) {
    FUZZ_CHECK(m.status().code() == absl::StatusCode::kDataLoss ||
               m.status().code() == absl::StatusCode::kFailedPrecondition)
        << m.status();
    FUZZ_CHECK(absl::StrContains(m.status().message(), path)) << m.status();
    return;
  }
  CheckRanges(*m);
  const std::string again = format::EncodeManifest(*m);
  absl::StatusOr<format::Manifest> m2 = format::DecodeManifest(again, path);
  FUZZ_CHECK(m2.ok()) << "re-encoded manifest does not decode: " << m2.status();
  CheckSame(*m, *m2);
  for (const CollectionInfo& c : m->collections) {
    (void)format::SchemaHash(c.schema);
    FUZZ_CHECK(format::CompareSchemas(c.schema, c.schema, c.name).ok());
  }
  // The store's reader: what it accepts can be used to name folders.
  absl::StatusOr<format::Manifest> read = ReadManifestBytes(bytes);
  if (!read.ok()) {
    FUZZ_CHECK(read.status().code() == absl::StatusCode::kDataLoss) << read.status();
    return;
  }
  absl::flat_hash_set<std::string> names;
  for (const CollectionInfo& c : read->collections) {
    FUZZ_CHECK(Store::ValidateName(c.name).ok())
        << "ReadManifest accepted collection name '" << c.name << "'";
    FUZZ_CHECK(names.insert(c.name).second) << "two collections named '" << c.name << "'";
  }
}

}  // namespace
}  // namespace recstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recstore::fuzz::Run(data, size);
  return 0;
}
