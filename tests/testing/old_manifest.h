// Manifests as older builds wrote them, for the tests that check they still open.
#ifndef RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_
#define RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_

#include <string>

#include "src/format/manifest.h"
#include "tests/testing/checksum_fixup.h"

namespace recstore::testing {

// `m` encoded as format version 3 wrote it: each collection entry without the version-4
// fields (retention_flags, hard_max_bytes, hard_max_age_ns: the last 24 bytes of an entry).
inline std::string EncodeManifestV3(const format::Manifest& m) {
  constexpr size_t kHeader = format::kManifestHeaderSize;
  constexpr size_t kBodyHeader = 16;
  constexpr size_t kV4Fields = 24;
  std::string out = format::EncodeManifest(format::Manifest{
      .generation = m.generation, .next_collection_id = m.next_collection_id, .collections = {}});
  out.resize(kHeader + kBodyHeader);
  base::EncodeFixed32(out.data() + kHeader + 12, static_cast<uint32_t>(m.collections.size()));
  for (const CollectionInfo& c : m.collections) {
    const std::string one =
        format::EncodeManifest(format::Manifest{.generation = m.generation,
                                                .next_collection_id = m.next_collection_id,
                                                .collections = {c}});
    out += one.substr(kHeader + kBodyHeader, one.size() - kHeader - kBodyHeader - kV4Fields);
  }
  base::EncodeFixed32(out.data() + 8, 3);
  FixManifestChecksums(&out);
  return out;
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_OLD_MANIFEST_H_
