// What a collection asks of its store's manifest: switching its own entry (the writer's
// retention and compaction) and re-reading it (read-only handles following the writer).
#ifndef RECSTORE_SRC_LOG_MANIFEST_HOOK_H_
#define RECSTORE_SRC_LOG_MANIFEST_HOOK_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"

namespace recstore::log {

class ManifestHook {
 public:
  virtual ~ManifestHook() = default;
  // Rewrites the manifest with `info` as the collection's entry. Sets *replaced once the new
  // manifest is in place (even if a later step, the folder sync, failed).
  virtual absl::Status Commit(const CollectionInfo& info, bool* replaced) = 0;
  // The collection's entry as the manifest on disk has it now.
  virtual absl::StatusOr<CollectionInfo> Reload(const std::string& name) = 0;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_MANIFEST_HOOK_H_
