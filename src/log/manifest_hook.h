// What a collection asks of its store: switching its own manifest entry (the writer's
// retention and compaction), re-reading it (read-only handles following the writer), and the
// lowest committed position of its consumer cursors (reader-aware retention).
#ifndef RECSTORE_SRC_LOG_MANIFEST_HOOK_H_
#define RECSTORE_SRC_LOG_MANIFEST_HOOK_H_

#include <cstdint>
#include <optional>
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
  // The lowest committed position among the consumer cursors of collection `id` named
  // `name` (include/recstore/cursor.h), read from their files now; nullopt when it has none.
  // A cursor file that cannot be read counts as position 0. Errors: the I/O error of
  // listing the collection's cursor folder. The default: no cursors.
  virtual absl::StatusOr<std::optional<uint64_t>> LowestCursorPosition(uint32_t id,
                                                                       const std::string& name) {
    (void)id;
    (void)name;
    return std::nullopt;
  }
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_MANIFEST_HOOK_H_
