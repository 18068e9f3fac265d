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
constexpr uint32_t kSealedFlag = 1;
constexpr uint8_t kCompactedFlag = 1;

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& h, std::byte* dst) {
  using base::EncodeFixed32;
  using base::EncodeFixed64;
  std::memset(dst, 0, kEncodedSegmentHeaderSize);
  std::memcpy(dst, kSegmentMagic, 8);
  EncodeFixed32(dst + 8, kFormatVersion);
  dst[12] = static_cast<std::byte>(h.kind);
  dst[13] = static_cast<std::byte>(h.compacted ? kCompactedFlag : 0);
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
  uint32_t version = DecodeFixed32(src + 8);
  if (version > kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": segment format version ", version,
                                                      ", this build reads up to ", kFormatVersion));
  }
  SegmentHeader h;
  h.kind = static_cast<uint8_t>(src[12]);
  h.collection_id = DecodeFixed32(src + 16);
  h.record_size = DecodeFixed32(src + 20);
  h.stride = DecodeFixed32(src + 24);
  h.schema_hash = DecodeFixed64(src + 32);
  h.first_seq = DecodeFixed64(src + 40);
  h.capacity = DecodeFixed64(src + 48);
  h.compacted = (static_cast<uint8_t>(src[13]) & kCompactedFlag) != 0;
  h.generation = DecodeFixed64(src + 56);
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
  out->sealed = (base::DecodeFixed32(buf + 4) & kSealedFlag) != 0;
  out->records = base::DecodeFixed64(buf + 8);
  out->data_end = base::DecodeFixed64(buf + 16);
  return true;
}

}  // namespace recstore::format
