#include "src/format/segment_header.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/layout.h"

namespace recstore::format {
namespace {

constexpr char kSegmentMagic[8] = {'R', 'S', 'S', 'E', 'G', 'M', 'N', 'T'};
constexpr uint32_t kCommitMagic = 0x54494D43;  // "CMIT"
constexpr uint32_t kLinkMagic = 0x4B4E4C43;    // "CLNK"
constexpr uint32_t kSealedFlag = 1;
constexpr uint8_t kCompactedFlag = 1;
constexpr uint8_t kRecycledFlag = 2;  // format version 4
// CollectionKind values (include/recstore/log.h).
constexpr uint8_t kKindFixed = 1;
constexpr uint8_t kKindVariable = 2;

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& h, std::byte* dst) {
  using base::EncodeFixed32;
  using base::EncodeFixed64;
  std::memset(dst, 0, kEncodedSegmentHeaderSize);
  std::memcpy(dst, kSegmentMagic, 8);
  EncodeFixed32(dst + 8, h.recycled ? kFormatVersion : kPlainSegmentVersion);
  dst[12] = static_cast<std::byte>(h.kind);
  dst[13] =
      static_cast<std::byte>((h.compacted ? kCompactedFlag : 0) | (h.recycled ? kRecycledFlag : 0));
  EncodeFixed32(dst + 16, h.collection_id);
  EncodeFixed32(dst + 20, h.record_size);
  EncodeFixed32(dst + 24, h.stride);
  EncodeFixed64(dst + 32, h.schema_hash);
  EncodeFixed64(dst + 40, h.first_seq);
  EncodeFixed64(dst + 48, h.capacity);
  EncodeFixed64(dst + 56, h.generation);
  EncodeFixed64(dst + 64, base::Checksum64(dst, 64));
}

absl::StatusOr<SegmentHeader> DecodeSegmentHeader(const std::byte* src, const std::string& path) {
  using base::DecodeFixed32;
  using base::DecodeFixed64;
  if (std::memcmp(src, kSegmentMagic, 8) != 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset 0: not a recstore segment (bad magic)"));
  }
  if (DecodeFixed64(src + 64) != base::Checksum64(src, 64)) {
    return absl::DataLossError(absl::StrCat(path, ": offset 64: segment header checksum mismatch"));
  }
  const uint32_t version = DecodeFixed32(src + 8);
  if (absl::Status s = CheckFormatVersion(version, path, "segment"); !s.ok()) return s;
  SegmentHeader h;
  h.kind = static_cast<uint8_t>(src[12]);
  h.collection_id = DecodeFixed32(src + 16);
  h.record_size = DecodeFixed32(src + 20);
  h.stride = DecodeFixed32(src + 24);
  h.schema_hash = DecodeFixed64(src + 32);
  h.first_seq = DecodeFixed64(src + 40);
  h.capacity = DecodeFixed64(src + 48);
  h.compacted = (static_cast<uint8_t>(src[13]) & kCompactedFlag) != 0;
  // Bit 1 means recycled from version 4 on; earlier versions ignored the other bits.
  h.recycled = version >= 4 && (static_cast<uint8_t>(src[13]) & kRecycledFlag) != 0;
  h.generation = DecodeFixed64(src + 56);
  // Every field is range-checked, although the checksum matched: a checksum tells damage,
  // not hostility (docs/format.md 3.1, "checks on read").
  auto bad = [&](int offset, const char* what, uint64_t value) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset ", offset, ": segment header ", what, " ", value));
  };
  if (h.kind != kKindFixed && h.kind != kKindVariable) return bad(12, "has unknown kind", h.kind);
  if (h.collection_id == 0) return bad(16, "has collection id", 0);
  if (h.capacity <= kDataStart || h.capacity > kMaxSegmentFileSize || h.capacity % kPageSize != 0) {
    return bad(48, "has invalid capacity", h.capacity);
  }
  if (h.kind == kKindFixed) {
    if (h.record_size == 0 || h.record_size > kMaxFixedRecordSize) {
      return bad(20, "has invalid record size", h.record_size);
    }
    if (h.stride < FixedStride(h.record_size, 1) || h.stride % 8 != 0 ||
        h.stride > h.capacity - kDataStart) {
      return bad(24, "has invalid stride", h.stride);
    }
  } else {
    if (h.record_size != 0)
      return bad(20, "of a variable collection has record size", h.record_size);
    if (h.stride != 0) return bad(24, "of a variable collection has stride", h.stride);
  }
  if (h.first_seq > kMaxSequence) return bad(40, "has first sequence number", h.first_seq);
  if (h.compacted && h.recycled) return bad(13, "is both compacted and recycled: flags", 3);
  if (h.compacted ? h.generation == 0 || h.generation > kMaxSequence : h.generation != 0) {
    return bad(56,
               h.compacted ? "of a compacted segment has generation"
                           : "of an ordinary segment has generation",
               h.generation);
  }
  return h;
}

void EncodeCommitBlock(const CommitBlock& c, uint64_t first_seq, std::byte* dst) {
  std::byte buf[kEncodedCommitBlockSize];
  base::EncodeFixed32(buf, kCommitMagic);
  base::EncodeFixed32(buf + 4, c.sealed ? kSealedFlag : 0);
  base::EncodeFixed64(buf + 8, c.records);
  base::EncodeFixed64(buf + 16, c.data_end);
  base::EncodeFixed64(buf + 24, base::Checksum64(buf, 24, first_seq));
  std::memcpy(dst, buf, sizeof(buf));  // one store sequence within one sector
}

bool DecodeCommitBlock(const std::byte* src, uint64_t first_seq, CommitBlock* out) {
  std::byte buf[kEncodedCommitBlockSize];
  std::memcpy(buf, src, sizeof(buf));
  if (base::DecodeFixed32(buf) != kCommitMagic) return false;
  if (base::DecodeFixed64(buf + 24) != base::Checksum64(buf, 24, first_seq)) return false;
  const uint64_t records = base::DecodeFixed64(buf + 8);
  const uint64_t data_end = base::DecodeFixed64(buf + 16);
  // Bounds that hold for every segment of every collection; the caller checks the tighter
  // ones that need the segment's capacity and geometry.
  if (records > kMaxSegmentRecords || data_end < kDataStart || data_end > kMaxSegmentFileSize ||
      data_end % 8 != 0) {
    return false;
  }
  out->sealed = (base::DecodeFixed32(buf + 4) & kSealedFlag) != 0;
  out->records = records;
  out->data_end = data_end;
  return true;
}

void EncodeLinkBlock(uint64_t next_first, uint64_t first_seq, std::byte* dst) {
  std::byte buf[kEncodedLinkBlockSize];
  base::EncodeFixed32(buf, kLinkMagic);
  base::EncodeFixed32(buf + 4, 0);
  base::EncodeFixed64(buf + 8, next_first);
  base::EncodeFixed64(buf + 16, base::Checksum64(buf, 16, first_seq));
  std::memcpy(dst, buf, sizeof(buf));
}

bool DecodeLinkBlock(const std::byte* src, uint64_t first_seq, uint64_t* next_first) {
  std::byte buf[kEncodedLinkBlockSize];
  std::memcpy(buf, src, sizeof(buf));
  if (base::DecodeFixed32(buf) != kLinkMagic || base::DecodeFixed32(buf + 4) != 0) return false;
  if (base::DecodeFixed64(buf + 16) != base::Checksum64(buf, 16, first_seq)) return false;
  const uint64_t next = base::DecodeFixed64(buf + 8);
  if (next > kMaxSequence) return false;
  *next_first = next;
  return true;
}

}  // namespace recstore::format
