// A collection's folder as one manifest state names it: which files hold its segments, which
// are left over, and the SegmentSet they make, every segment mapped and checked. Recovery
// (writers and read-only opens) and a read-only Refresh that follows the writer's retention
// or compaction both build their sets here.
#ifndef RECSTORE_SRC_LOG_FOLDER_H_
#define RECSTORE_SRC_LOG_FOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "src/log/recycle.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"

namespace recstore::log {

struct FolderFiles {
  std::vector<uint64_t> ordinary;   // first records of the ordinary segments `state` names
  std::vector<uint64_t> compacted;  // first records of its generation's compacted segments
  std::vector<std::string> stale;   // every other segment file (names; a writer removes them)
  std::vector<uint64_t> retired;    // old first records of retired files (recycle.h)
};

// Lists the folder: ordinary segments from the one holding `state`'s first live record on,
// compacted segments of `state`'s generation below its compacted_end, and as stale every
// other segment file (another generation, below the live range, an interrupted creation).
absl::StatusOr<FolderFiles> ListFolder(const Shape& shape, const CollectionState& state);

// Maps and checks the compacted segment of `generation` starting at `first_seq`: its header,
// its index block (record count, data end, and sequence numbers that start at `first_seq`,
// increase, and stay below `compacted_end`) and, when `linked` (format version 3), its link
// block (the next segment's first record, past this one's last and at most `compacted_end`).
// Errors: DataLoss naming the file.
absl::StatusOr<std::shared_ptr<const CompactedPart>> OpenCompacted(const Shape& shape,
                                                                   uint64_t generation,
                                                                   uint64_t first_seq,
                                                                   uint64_t compacted_end,
                                                                   bool linked);

// Maps and checks the ordinary segment starting at `first` (writable for a writer): its header
// must match the collection, and a variable-size one may be larger than the segment size
// (sized for one oversized record) but never smaller. Errors: as Segment::Open; DataLoss
// for a capacity below the collection's segment size. With `pins` (a reader), the file is
// pinned (recycle.h) before it is mapped, for as long as the segment lives.
absl::StatusOr<std::shared_ptr<const Segment>> OpenOrdinary(const Shape& shape, uint64_t first,
                                                            bool writable,
                                                            ReaderPins* pins = nullptr);

// The set of `state` over `files`: every compacted and ordinary segment opened (mapped
// writable for a writer) and checked, none missing: the compacted segments follow the chain
// from state.compacted_first through each one's link to compacted_end (format version 3), the
// ordinary ones start at or before the live range and fixed-size ones lie exactly one
// segment's records apart. Compacted segments before the chain's start (version 2: wholly
// below the first live record) are added to files->stale. Segments of `reuse` (an older set of this
// process) are taken instead of being mapped again when their file is the same. A reader
// passes its `pins` (OpenOrdinary). The set's end is
// left 0. Errors: DataLoss naming the file for a missing or invalid segment (NotFound
// instead for a reader when a segment of the state is missing: the writer may have moved on
// and removed it; read the manifest again), or the I/O error.
absl::StatusOr<std::shared_ptr<SegmentSet>> OpenSet(const Shape& shape,
                                                    const CollectionState& state,
                                                    FolderFiles* files, bool writer,
                                                    const SegmentSet* reuse = nullptr,
                                                    ReaderPins* pins = nullptr);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_FOLDER_H_
