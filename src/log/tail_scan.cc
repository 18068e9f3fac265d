#include "src/log/tail_scan.h"

#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/record_check.h"

namespace recstore::log {

void ScanSegment(const Shape& shape, const Segment& s, const TailScanOptions& options,
                 uint64_t max_records, TailPosition* pos, std::vector<BadRecord>* skipped,
                 std::vector<SlotFix>* fixes) {
  uint64_t index = pos->index, offset = pos->offset;
  const uint64_t seq0 = s.first_seq();
  if (shape.fixed()) {
    const FixedGeometry& g = shape.geometry();
    const uint64_t limit = std::min(max_records, g.per_segment);
    while (index < limit) {
      if (FixedRecordValid(s, g, index, seq0 + index)) {
        ++index;
        continue;
      }
      if (!options.salvage) break;
      uint64_t j = index + 1;
      while (j < limit && !FixedRecordValid(s, g, j, seq0 + j)) ++j;
      if (j == limit) break;
      for (; index < j; ++index) {
        skipped->push_back({seq0 + index, s.path(), g.Offset(index), "checksum mismatch"});
      }
    }
    pos->index = index;
    pos->offset = g.Offset(index);
    return;
  }
  const uint64_t slots = std::min(max_records, MaxSlots(s));
  while (index < slots) {
    uint32_t len = 0;
    const uint64_t limit = s.capacity() - format::kSlotSize * (index + 1);
    if (!FrameValid(s, offset, limit, seq0 + index, &len)) {
      if (!options.salvage || index + 2 > slots) break;
      // The slot of the next record tells where it starts, if it reached the disk.
      const uint64_t next = SlotOffset(s, index + 1);
      if (next <= offset ||
          !FrameValid(s, next, limit - format::kSlotSize, seq0 + index + 1, &len)) {
        break;
      }
      skipped->push_back({seq0 + index, s.path(), offset, "invalid frame or checksum"});
      len = static_cast<uint32_t>(next - offset - format::kFrameHeaderSize);
    }
    if (SlotOffset(s, index) != offset) {
      // The frame reached the disk but its slot did not (another page). A writer repairs
      // the slot; for a reader the log ends before this record.
      if (!options.repair_slots) break;
      fixes->push_back({index, static_cast<uint32_t>(offset)});
    }
    offset += format::FrameSpace(len) - format::kSlotSize;
    ++index;
  }
  pos->index = index;
  pos->offset = offset;
}

bool SegmentDone(const Shape& shape, const TailPosition& pos) {
  return shape.fixed() ? pos.index == shape.geometry().per_segment : pos.index > 0;
}

}  // namespace recstore::log
