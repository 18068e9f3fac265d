// Validity checks for records in a mapped segment. Everything read from disk is untrusted:
// offsets and lengths are bounds-checked before any byte they point at is touched.
#ifndef RECSTORE_SRC_LOG_RECORD_CHECK_H_
#define RECSTORE_SRC_LOG_RECORD_CHECK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/segment.h"
#include "src/log/shape.h"

namespace recstore::log {

// Loads a record's checksum with acquire ordering, pairing with format::PublishChecksum: once
// a valid checksum is seen, the bytes it covers (and a variable record's slot) are too.
inline uint64_t LoadChecksum(const std::byte* p) {
  return base::ToLittleEndian(
      std::atomic_ref<uint64_t>(*const_cast<uint64_t*>(reinterpret_cast<const uint64_t*>(p)))
          .load(std::memory_order_acquire));
}

// True when slot `index` of `seg` holds record `seq` intact.
inline bool FixedRecordValid(const Segment& seg, const FixedGeometry& g, uint64_t index,
                             uint64_t seq) {
  const std::byte* p = seg.data() + g.Offset(index);
  return LoadChecksum(p + g.checksum_offset) == format::FixedRecordChecksum(p, g.size, seq);
}

// Checks the frame of record `seq` at `offset`, which must end at or before `limit` (the start
// of the slot area in use). On success sets *len and returns true.
inline bool FrameValid(const Segment& seg, uint64_t offset, uint64_t limit, uint64_t seq,
                       uint32_t* len) {
  if (offset % 8 != 0 || offset < format::kDataStart || limit > seg.capacity() ||
      offset + format::kFrameHeaderSize > limit) {
    return false;
  }
  const std::byte* frame = seg.data() + offset;
  const uint64_t checksum = LoadChecksum(frame + 8);
  uint32_t n = base::DecodeFixed32(frame);
  if (n > limit - offset - format::kFrameHeaderSize) return false;
  if (checksum != format::FrameChecksum(frame, n, seq)) return false;
  *len = n;
  return true;
}

// Slots a segment has room for: the most records it can hold.
inline uint64_t MaxSlots(const Segment& seg) {
  return (seg.capacity() - format::kDataStart) / format::kSlotSize;
}

// Offset stored in the slot of record `index` (0-based within the segment), which must be
// below MaxSlots(seg).
inline uint64_t SlotOffset(const Segment& seg, uint64_t index) {
  return base::DecodeFixed32(seg.data() + seg.capacity() - format::kSlotSize * (index + 1));
}

// Whether record `index` of `seg` (a segment of `shape`'s collection) is record `seq` and
// intact. Sets where it starts (its slot or frame) and its payload length, as far as known
// either way. `limit`: where frames must end (0: at the record's slot). Out-of-range indexes
// (from a hostile file) are invalid records, never reads outside the mapping.
inline bool RecordAt(const Shape& shape, const Segment& seg, uint64_t index, uint64_t seq,
                     uint64_t* offset, uint32_t* len, uint64_t limit = 0) {
  if (shape.fixed()) {
    const FixedGeometry& g = shape.geometry();
    *offset = g.Offset(index);
    *len = g.size;
    return index < g.per_segment && FixedRecordValid(seg, g, index, seq);
  }
  *offset = 0;
  if (index >= MaxSlots(seg)) return false;
  *offset = SlotOffset(seg, index);
  if (limit == 0) limit = seg.capacity() - format::kSlotSize * (index + 1);
  return FrameValid(seg, *offset, limit, seq, len);
}

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_RECORD_CHECK_H_
