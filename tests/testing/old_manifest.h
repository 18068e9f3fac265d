// Manifests as older builds wrote them, for the tests that check they still open.
#ifndef RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_
#define RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_

#include <cstdint>
#include <string>

#include "src/format/manifest.h"
#include "tests/testing/checksum_fixup.h"

namespace recstore::testing {

// `m` encoded as format version 3 or 4 wrote it: the body header without the version-5 store
// id (16 bytes after collection_count) and, for version 3, each collection entry without the
// version-4 fields (retention_flags, hard_max_bytes, hard_max_age_ns: the last 24 bytes of an
// entry).
inline std::string EncodeOldManifest(const format::Manifest& m, uint32_t version) {
  constexpr size_t kHeader = format::kManifestHeaderSize;
  constexpr size_t kBodyHeader = 32;     // as this build writes it
  constexpr size_t kOldBodyHeader = 16;  // without the store id
  const size_t drop_per_entry = version <= 3 ? 24 : 0;
  std::string out = format::EncodeManifest(format::Manifest{
      .generation = m.generation, .next_collection_id = m.next_collection_id, .collections = {}});
  out.resize(kHeader + kOldBodyHeader);
  base::EncodeFixed32(out.data() + kHeader + 12, static_cast<uint32_t>(m.collections.size()));
  for (const CollectionInfo& c : m.collections) {
    const std::string one =
        format::EncodeManifest(format::Manifest{.generation = m.generation,
                                                .next_collection_id = m.next_collection_id,
                                                .collections = {c}});
    out += one.substr(kHeader + kBodyHeader, one.size() - kHeader - kBodyHeader - drop_per_entry);
  }
  base::EncodeFixed32(out.data() + 8, version);
  FixManifestChecksums(&out);
  return out;
}

inline std::string EncodeManifestV3(const format::Manifest& m) { return EncodeOldManifest(m, 3); }

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_
