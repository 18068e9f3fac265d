// The header page of a segment file: an immutable header at offset 0 and a commit block at
// kCommitBlockOffset, each with its own checksum.
#ifndef RECSTORE_SRC_FORMAT_SEGMENT_HEADER_H_
#define RECSTORE_SRC_FORMAT_SEGMENT_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace recstore::format {

struct SegmentHeader {
  uint8_t kind = 0;  // CollectionKind value
  uint32_t collection_id = 0;
  uint32_t record_size = 0;  // fixed records; 0 for variable
  uint32_t stride = 0;       // fixed records; 0 for variable
  uint64_t schema_hash = 0;
  uint64_t first_seq = 0;
  uint64_t capacity = 0;  // file size in bytes
  // Compacted segments (format version 2): written once by a compaction of generation
  // `generation`, records packed from kDataStart, then their u64 sequence numbers.
  bool compacted = false;
  uint64_t generation = 0;
  // Format version 4: the file held an earlier segment of the collection (retired by retention
  // or compaction) and was reused, so bytes past its records may be that segment's records.
  // Ordinary segments only.
  bool recycled = false;

  friend bool operator==(const SegmentHeader&, const SegmentHeader&) = default;
};

inline constexpr size_t kEncodedSegmentHeaderSize = 72;

// Writes the header into the first kEncodedSegmentHeaderSize bytes of `dst`: format version 4
// when it is recycled, kPlainSegmentVersion otherwise.
void EncodeSegmentHeader(const SegmentHeader& h, std::byte* dst);
// Reads and checks a header. DataLoss (naming `path` and the offset) on a bad magic or
// checksum, format version 0, or a field out of range (docs/format.md 3.1: kind, collection id,
// record size, stride, first_seq, capacity, generation); FailedPrecondition on a newer format
// version. What it returns satisfies those ranges, so arithmetic on it cannot overflow.
absl::StatusOr<SegmentHeader> DecodeSegmentHeader(const std::byte* src, const std::string& path);

// The durable point of one segment, written after a sync has made it true.
struct CommitBlock {
  uint64_t records = 0;   // records of this segment known durable
  uint64_t data_end = 0;  // variable records: offset just past the last of them
  bool sealed = false;    // the segment is full and all its records are durable

  friend bool operator==(const CommitBlock&, const CommitBlock&) = default;
};

inline constexpr size_t kEncodedCommitBlockSize = 32;

// Writes the block to `dst` (kEncodedCommitBlockSize bytes at kCommitBlockOffset of the
// segment); the checksum is seeded with the segment's first sequence number.
void EncodeCommitBlock(const CommitBlock& c, uint64_t first_seq, std::byte* dst);
// Reads a block; false when it was never written, fails its checksum or holds values no
// segment can have (records > kMaxSegmentRecords; data_end outside [4096, kMaxSegmentFileSize]
// or not a multiple of 8). Then recovery scans the segment from its start.
bool DecodeCommitBlock(const std::byte* src, uint64_t first_seq, CommitBlock* out);

// The link block of a compacted segment (format version 3): the first record of the next
// compacted segment of its generation, or the generation's compacted end for the last one.
inline constexpr size_t kEncodedLinkBlockSize = 24;

// Writes the block to `dst` (kEncodedLinkBlockSize bytes at kLinkBlockOffset); its checksum is
// seeded with the segment's first sequence number.
void EncodeLinkBlock(uint64_t next_first, uint64_t first_seq, std::byte* dst);
// Reads a link block; false when it was never written or fails its checksum.
bool DecodeLinkBlock(const std::byte* src, uint64_t first_seq, uint64_t* next_first);

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_SEGMENT_HEADER_H_
