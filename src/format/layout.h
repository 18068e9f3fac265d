// On-disk layout constants and record framing shared by writers and readers.
// docs/format.md documents every byte; keep the two in step.
#ifndef RECSTORE_SRC_FORMAT_LAYOUT_H_
#define RECSTORE_SRC_FORMAT_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"

namespace recstore::format {

// Format version written by this code. Readers refuse files with a higher version.
// Version 2 added compaction (compacted segments, manifest fields per collection) and the
// append time in variable-size record frames; version 3 the chain of compacted segments (the
// manifest's compacted_first and each compacted segment's link block) and signed append
// times; version 4 recycled segments (a file reused for a new first record: header flag bit 1,
// written only in recycled segments' headers, so stores that recycle nothing stay readable by
// version-3 builds). Files of versions 1 to 3 read as before.
inline constexpr uint32_t kFormatVersion = 4;
// The version of every segment header but a recycled one's.
inline constexpr uint32_t kPlainSegmentVersion = 3;
// The manifest's own version, which has moved on from the segment files': version 4 added
// reader-aware retention (each collection's retention flags, hard_max_bytes and
// hard_max_age_ns), version 5 the store id. Manifests of versions 1 to 4 read as before,
// with those fields unset (a writer assigns a store id when it opens one).
inline constexpr uint32_t kManifestFormatVersion = 5;

// OK for a version this build reads (1 to `newest`); FailedPrecondition for a newer one and
// DataLoss for 0, each naming `path` and what the version belongs to (`what`: "manifest",
// "segment").
absl::Status CheckFormatVersion(uint32_t version, const std::string& path, std::string_view what,
                                uint32_t newest = kFormatVersion);

inline constexpr uint64_t kPageSize = 4096;
// Segment files: header page, then records from kDataStart.
inline constexpr uint64_t kSegmentHeaderSize = 4096;
inline constexpr uint64_t kDataStart = kSegmentHeaderSize;
inline constexpr uint64_t kCommitBlockOffset = 2048;
// Compacted segments (version 3): the link block naming the next compacted segment.
inline constexpr uint64_t kLinkBlockOffset = 2080;

inline constexpr uint64_t kMinSegmentSize = 64 << 10;
inline constexpr uint64_t kMaxSegmentSize = uint64_t{1} << 30;

// Variable-size record frame: u32 length, u32 append time (seconds after the collection's
// time base, saturating; 0 in version 1 files), u64 checksum, payload, padding to 8.
inline constexpr uint64_t kFrameHeaderSize = 16;
inline constexpr uint64_t kSlotSize = 4;  // slot index entry: u32 frame offset

inline constexpr uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// Bytes a variable-size record of `len` bytes takes in a segment, slot included.
inline constexpr uint64_t FrameSpace(uint64_t len) {
  return RoundUp(kFrameHeaderSize + len, 8) + kSlotSize;
}

// Largest values the format admits. Decoders refuse anything above them (docs/format.md,
// "checks on read"), so arithmetic on decoded values stays far from overflow: a sequence
// number, a compaction generation or a store generation plus any count of records a process
// can append still fits in a u64.
inline constexpr uint64_t kMaxSequence = uint64_t{1} << 62;
// Largest segment file: ordinary segments are at most kMaxSegmentSize; an oversized variable
// segment or a compacted segment holding one big record may pass it by a few pages. Slot
// entries are u32 file offsets, so every segment must stay below 4 GiB.
inline constexpr uint64_t kMaxSegmentFileSize = uint64_t{1} << 31;
// Most records one segment file can hold: every record takes at least 16 bytes (a fixed slot
// of the smallest stride; a variable frame header).
inline constexpr uint64_t kMaxSegmentRecords = kMaxSegmentFileSize / 16;
// Largest record alignment: a page.
inline constexpr uint64_t kMaxRecordAlign = kPageSize;
// Largest fixed record: one slot (payload, checksum) after the header page of the largest
// segment.
inline constexpr uint64_t kMaxFixedRecordSize = kMaxSegmentSize - kDataStart - 8;
// Append times are seconds after time_base in a u32: |time_base| up to 2^32 keeps
// (time_base + time) * 10^9 nanoseconds inside an i64.
inline constexpr int64_t kMaxTimeBase = int64_t{1} << 32;

// Fixed-size records: payload at slot start, u64 checksum at ChecksumOffset, slots `Stride`
// bytes apart; Stride is a multiple of the alignment, so every payload stays aligned. Both are
// computed in 64 bits from 32-bit inputs, so they never wrap; FixedLayoutValid tells whether
// the result is a layout the format admits (then both fit in a u32, below 2^30).
inline constexpr uint64_t FixedChecksumOffset(uint32_t record_size) {
  return RoundUp(record_size, 8);
}
inline constexpr uint64_t FixedStride(uint32_t record_size, uint32_t align) {
  return RoundUp(FixedChecksumOffset(record_size) + 8, align > 8 ? uint64_t{align} : 8);
}
// True when fixed records of `record_size` bytes aligned to `align` fit a segment of
// `segment_size` bytes: size >= 1, align a power of two <= 4096, segment_size a valid segment
// size, and 4096 + stride <= segment_size.
inline constexpr bool FixedLayoutValid(uint32_t record_size, uint32_t align,
                                       uint64_t segment_size) {
  return record_size >= 1 && align >= 1 && (align & (align - 1)) == 0 && align <= kMaxRecordAlign &&
         segment_size >= kMinSegmentSize && segment_size <= kMaxSegmentSize &&
         segment_size % kPageSize == 0 &&
         kDataStart + FixedStride(record_size, align) <= segment_size;
}

// Checksum of a fixed record; seeded with its sequence number so a record in the wrong slot,
// or a slot of zeros, fails.
inline uint64_t FixedRecordChecksum(const std::byte* payload, uint32_t size, uint64_t seq) {
  return base::Checksum64(payload, size, seq);
}

// Checksum of a variable record: covers the frame's length and flags words (its first 8
// bytes) and the payload.
inline uint64_t FrameChecksum(const std::byte* frame, uint32_t len, uint64_t seq) {
  // The covered bytes are not contiguous (the checksum sits between them). Short records are
  // gathered into one buffer and hashed in one call, which is several times cheaper than the
  // incremental state; the value is the same either way.
  constexpr uint32_t kGather = 248;
  if (len <= kGather - 8) {
    std::byte buf[kGather];
    std::memcpy(buf, frame, 8);
    std::memcpy(buf + 8, frame + kFrameHeaderSize, len);
    return base::Checksum64(buf, 8 + len, seq);
  }
  return base::ChecksumBuilder(seq).Add(frame, 8).Add(frame + kFrameHeaderSize, len).Finish();
}

// Stores a record's checksum as its last write, with release ordering: a reader in another
// process that sees a valid checksum also sees the bytes it covers (and, for variable
// records, the slot written before it). `dst` is 8-byte aligned.
inline void PublishChecksum(std::byte* dst, uint64_t checksum) {
  std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(dst))
      .store(base::ToLittleEndian(checksum), std::memory_order_release);
}

// Name of the segment file whose first record is `first_seq`: 20 decimal digits, so names
// sort in record order.
std::string SegmentFileName(uint64_t first_seq);
// Parses a segment file name; false if `name` is not one.
bool ParseSegmentFileName(const std::string& name, uint64_t* first_seq);
// Name of a compacted segment of compaction generation `generation`:
// "c" + 20 digits + "-" + 20 digits + ".seg".
std::string CompactedFileName(uint64_t generation, uint64_t first_seq);
bool ParseCompactedFileName(const std::string& name, uint64_t* generation, uint64_t* first_seq);

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_LAYOUT_H_
