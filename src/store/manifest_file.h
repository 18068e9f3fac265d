// Reading and atomically replacing a store's MANIFEST file.
#ifndef RECSTORE_SRC_STORE_MANIFEST_FILE_H_
#define RECSTORE_SRC_STORE_MANIFEST_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/format/manifest.h"
#include "recstore/env.h"

namespace recstore::store {

inline constexpr char kManifestName[] = "MANIFEST";
inline constexpr char kLockName[] = "LOCK";

// Reads and decodes DIR/MANIFEST. NotFound if it does not exist; decode errors as
// format::DecodeManifest; DataLoss for a collection name Store::ValidateName refuses or used
// twice.
absl::StatusOr<format::Manifest> ReadManifest(Env* env, const std::string& dir);

// Replaces DIR/MANIFEST atomically: writes DIR/MANIFEST.tmp, fsyncs it, renames it over
// MANIFEST and fsyncs DIR. After a crash the old or the new manifest is there, whole.
// `*replaced` (if given) tells whether the rename happened, even when the flush of DIR then
// failed: without a crash, the new manifest is what every later open reads.
absl::Status WriteManifest(Env* env, const std::string& dir, const format::Manifest& m,
                           mode_t mode, bool* replaced = nullptr);

}  // namespace recstore::store

#endif  // RECSTORE_SRC_STORE_MANIFEST_FILE_H_
