// Finding where a log ends: the valid records that follow a known position in one segment.
// Recovery runs it from the newest durable point at open; a read-only handle's Refresh runs it
// from where it stopped before.
#ifndef RECSTORE_SRC_LOG_TAIL_SCAN_H_
#define RECSTORE_SRC_LOG_TAIL_SCAN_H_

#include <cstdint>
#include <vector>

#include "recstore/options.h"
#include "src/log/segment.h"
#include "src/log/shape.h"

namespace recstore::log {

// A position in a segment: the next record's index and (variable-size records) the offset of
// its frame.
struct TailPosition {
  uint64_t index = 0;
  uint64_t offset = 0;
};

// A slot to write: a record whose frame reached the disk but whose slot (on another page) did
// not. Only a writer can repair it; reads find records through their slots.
struct SlotFix {
  uint64_t index = 0;
  uint32_t offset = 0;
};

struct TailScanOptions {
  bool salvage = false;       // skip invalid records that a valid one follows (listing them)
  bool repair_slots = false;  // a writer: take records with a missing slot (listing the fix)
};

// Advances `pos` over the valid records of `seg` from there, up to `max_records` records in
// all (the records the segment may hold). Invalid records skipped under salvage go to
// `skipped`; slots to repair to `fixes`.
void ScanSegment(const Shape& shape, const Segment& seg, const TailScanOptions& options,
                 uint64_t max_records, TailPosition* pos, std::vector<BadRecord>* skipped,
                 std::vector<SlotFix>* fixes);

// Whether a segment whose records end at `pos` can be followed by the next one: a fixed
// segment once full, a variable-size segment once it holds a record.
bool SegmentDone(const Shape& shape, const TailPosition& pos);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_TAIL_SCAN_H_
