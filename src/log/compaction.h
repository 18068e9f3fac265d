// Compaction: rewrites the records of a snapshot below a boundary that the options keep (by
// key, by predicate, or all of them) into compacted segments of the next generation, and
// returns the state that names them. It changes no existing file; the writer then switches to
// the result (maintenance.h) or, if anything failed, removes what it wrote.
#ifndef RECSTORE_SRC_LOG_COMPACTION_H_
#define RECSTORE_SRC_LOG_COMPACTION_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/compaction.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"

namespace recstore::log {

// What a rewrite produced: the next state and its compacted segments, synced (files and
// folder), and its figures so far.
struct Rewrite {
  CollectionState next;
  std::vector<std::shared_ptr<const CompactedPart>> parts;
  CompactionStats stats;
  CompactionProgress progress;  // at the end
};

// Errors of options that cannot apply to the collection: InvalidArgument for a key or
// tombstone field the schema lacks or a key spec of the wrong kind.
absl::Status CheckCompactOptions(const Shape& shape, const CompactOptions& options);

// Rewrites the records of `snap` in [first live record, boundary): newest-per-key looks at
// the whole snapshot. `now_ns` dates tombstones. An invalid record fails the rewrite with
// DataLoss naming it (damage is never turned into a gap). On any error the files written are
// removed again.
absl::StatusOr<Rewrite> RewriteBelow(const Shape& shape, const Snapshot& snap, uint64_t boundary,
                                     const CompactOptions& options, int64_t now_ns);

// Removes the files of a rewrite that was not installed.
void DiscardRewrite(const Shape& shape, const Rewrite& rewrite);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_COMPACTION_H_
