// The manifest: the store's header and every collection's description, in one checksummed
// file that tools can read without any C++ record type.
#ifndef RECSTORE_SRC_FORMAT_MANIFEST_H_
#define RECSTORE_SRC_FORMAT_MANIFEST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"
#include "recstore/schema.h"

namespace recstore::format {

// The store's identity: 16 random bytes chosen when the store is created (manifest format
// version 5; all zero in a manifest of an older version until a writer assigns one).
using StoreId = std::array<uint8_t, 16>;

// A new random store id (never all zero).
StoreId NewStoreId();
// 32 lowercase hex digits; "" for the all-zero id.
std::string StoreIdString(const StoreId& id);

struct Manifest {
  uint64_t generation = 0;  // bumped by every rewrite
  uint32_t next_collection_id = 1;
  StoreId store_id{};  // all zero: not assigned yet (a manifest of version 4 or older)
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

// OK when data stored with `stored` may be opened as `requested`; otherwise
// FailedPrecondition naming `subject` ("collection 'trades'", "vector file /x/p.rsv") and the
// first difference (the type name is informational only).
absl::Status CompareSchemas(const RecordSchema& stored, const RecordSchema& requested,
                            std::string_view subject);

// A schema on its own (type name, then the manifest's field encoding; docs/format.md 10.1),
// for files that carry their schema in their header.
inline constexpr uint32_t kMaxSchemaRecordSize = 1u << 20;
std::string EncodeSchema(const RecordSchema& schema);
// DataLoss (naming `path` and the file offset, `base` being the offset of bytes[0]) for a
// malformed schema, a field outside the record, a record size outside 1..kMaxSchemaRecordSize
// or an alignment that is not a power of two up to 4096 dividing the size.
absl::StatusOr<RecordSchema> DecodeSchema(std::string_view bytes, const std::string& path,
                                          size_t base);

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_MANIFEST_H_
