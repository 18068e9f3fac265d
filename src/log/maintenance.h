// The writer's retention and compaction calls, one at a time, and the switch that installs
// what they decide: the manifest first (one atomic rewrite), then the published set, then
// removal of the files no longer named, once the switch is durable.
#ifndef RECSTORE_SRC_LOG_MAINTENANCE_H_
#define RECSTORE_SRC_LOG_MAINTENANCE_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "recstore/compaction.h"
#include "src/base/mutex.h"
#include "src/log/appender.h"
#include "src/log/fail_state.h"
#include "src/log/group_commit.h"
#include "src/log/manifest_hook.h"
#include "src/log/published.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"

namespace recstore::log {

class Maintenance {
 public:
  // Everything passed in must outlive this object.
  // Retired segments of the collection's segment size go to `pool` while it has room.
  Maintenance(const Shape& shape, Published* published, Appender* appender, GroupCommit* commit,
              const FailState* fail, ManifestHook* manifest, RecyclePool* pool);

  // See LogBase for the contracts.
  absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<CompactionStats> ApplyRetention() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetRetention(const RetentionPolicy& policy) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<CompactionStats> Compact(const CompactOptions& options) ABSL_LOCKS_EXCLUDED(mu_);
  // After an append that started a segment: applies the retention policy unless another
  // call is running (never waits for it).
  void AfterRotation() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Drops the records below `seq`; with `policy`, stores it in the same manifest rewrite.
  absl::StatusOr<CompactionStats> TruncateLocked(uint64_t seq, const RetentionPolicy* policy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<CompactionStats> ApplyRetentionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The first record `policy` keeps in `snap`, asking the store for the collection's lowest
  // cursor position when the policy keeps what cursors have not consumed.
  absl::StatusOr<uint64_t> PointOf(const Snapshot& snap, const RetentionPolicy& policy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The switch to `next` with `parts` as its compacted segments. Sets *installed once the
  // manifest names `next` (even if the folder sync then failed).
  absl::Status Install(const CollectionState& next,
                       std::vector<std::shared_ptr<const CompactedPart>> parts,
                       CompactionStats* stats, bool* installed = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Shape& shape_;
  Published* const published_;
  Appender* const appender_;
  GroupCommit* const commit_;
  const FailState* const fail_;
  ManifestHook* const manifest_;
  RecyclePool* const pool_;
  base::Mutex mu_;  // one retention or compaction call at a time
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_MAINTENANCE_H_
