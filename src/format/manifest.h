// The manifest: the store's header and every collection's description, in one checksummed
// file that tools can read without any C++ record type.
#ifndef RECSTORE_SRC_FORMAT_MANIFEST_H_
#define RECSTORE_SRC_FORMAT_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"
#include "recstore/schema.h"

namespace recstore::format {

struct Manifest {
  uint64_t generation = 0;  // bumped by every rewrite
  uint32_t next_collection_id = 1;
  std::vector<CollectionInfo> collections;

  const CollectionInfo* Find(std::string_view name) const;
};

inline constexpr size_t kManifestHeaderSize = 40;

std::string EncodeManifest(const Manifest& m);
// Errors (each naming `path` and the byte offset): FailedPrecondition for a file that is not a
// manifest, a newer format version or the other byte order; DataLoss for a checksum mismatch,
// a truncated or malformed body, or any field out of its range (docs/format.md 2.2, "checks on
// read"). A manifest that decodes has only values later arithmetic cannot overflow on.
absl::StatusOr<Manifest> DecodeManifest(std::string_view bytes, const std::string& path);

// Schema fingerprint stored in segment headers: covers size, alignment and every field.
uint64_t SchemaHash(const RecordSchema& schema);

// OK when a collection stored with `stored` may be opened as `requested`; otherwise
// FailedPrecondition naming the first difference (the type name is informational only).
absl::Status CompareSchemas(const RecordSchema& stored, const RecordSchema& requested,
                            std::string_view collection);

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_MANIFEST_H_
