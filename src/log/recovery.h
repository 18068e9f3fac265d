// Opening a collection after a crash, in two steps: PlanRecovery reads the folder and the
// segments and decides what the log holds (changing nothing), then a writer's ApplyRecovery
// makes the files say exactly that (the cut).
//
// Recovery starts at the newest durable point recorded in a segment's commit block (or at the
// first segment if none is recorded, and always there under kAbsoluteConsistency), scans
// forward keeping every complete, checksum-valid record, and, for a writer, zeroes everything
// after the last kept record and deletes any later segment, so no stale record can ever join
// the log after a later crash. Damage a crash cannot explain fails the plan, naming the file
// (see RecoveryMode in include/recstore/options.h).
#ifndef RECSTORE_SRC_LOG_RECOVERY_H_
#define RECSTORE_SRC_LOG_RECOVERY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/options.h"
#include "src/log/group_commit.h"
#include "src/log/recycle.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"
#include "src/log/tail_scan.h"

namespace recstore::log {

struct RecoveryPlan {
  // What the log holds: its segments (for a writer, none past the tail) and its end.
  std::shared_ptr<SegmentSet> set;
  // Where the log ends: a dense segment's index in `set` and the position in it.
  size_t tail = 0;
  TailPosition position;
  // The first dense segment whose records were not known durable (a writer flushes from it).
  size_t start = 0;
  RecoveryReport report;

  // What a writer changes (ApplyRecovery).
  std::vector<std::pair<size_t, SlotFix>> fixes;        // slots to repair, by dense index
  std::vector<std::shared_ptr<const Segment>> removed;  // segments past the tail, to delete
  uint64_t cut_offset = 0;  // zero [cut_offset, cut_end) of the tail segment
  uint64_t cut_end = 0;
  std::vector<std::string> stale;  // names of files no state of the collection uses
  std::vector<uint64_t> retired;   // retired files waiting for reuse (recycle.h)
};

// Decides what the collection of `state` holds, reading its folder and segments (mapped
// writable for a writer). Changes no file. Errors: DataLoss naming the file for damage (see
// RecoveryMode); NotFound for a reader when a file of the state is missing (the writer moved
// on: read the manifest again); the I/O error. A reader passes its `pins` (recycle.h).
absl::StatusOr<RecoveryPlan> PlanRecovery(const Shape& shape, const CollectionState& state,
                                          RecoveryMode mode, bool writer,
                                          ReaderPins* pins = nullptr);

// A writer's second step: repairs slots, zeroes the cut, deletes segments past the tail and
// stale files, creates the first segment of an empty collection, makes everything kept
// durable (segments and folder), records the durable point in the tail's commit block, and
// hands the tail segment to `commit`. Errors: the I/O error, with the log as a crash at that
// point would leave it.
absl::Status ApplyRecovery(const Shape& shape, RecoveryPlan* plan, GroupCommit* commit);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_RECOVERY_H_
