// Fuzz target: the segment header and commit block decoders (format::DecodeSegmentHeader,
// format::DecodeCommitBlock), and the plausibility rules recovery applies to a commit block.
//
// Input: a control byte, a 72-byte segment header, a 32-byte commit block and an 8-byte
// first_seq seed (missing bytes read as zero). Control bit 0 fixes the header checksum, bit 1
// the commit block's, so mutations reach the field decoding.
//
// Invariants: errors are DataLoss or FailedPrecondition naming the file; whatever decodes has
// every field in the ranges of docs/format.md 3.1 and 3.2 ("checks on read") and re-encodes to
// bytes that decode to the same values; a block is never accepted under another segment's seed when
// its checksum was fixed for this one (unless the seeds are equal).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_inputs.h"

namespace recstore::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::byte in[72 + 32 + 8] = {};
  std::memcpy(in, data + 1, std::min(size - 1, sizeof(in)));
  std::byte* header = in;
  std::byte* block = in + 72;
  uint64_t seed = base::DecodeFixed64(in + 104);
  if (data[0] & 1) FixSegmentHeaderChecksum(header);
  const std::string path = "fuzz/00000000000000000000.seg";
  absl::StatusOr<format::SegmentHeader> h = format::DecodeSegmentHeader(header, path);
  if (h.ok()) {
    // What a decoded header promises (docs/format.md 3.1, "checks on read").
    FUZZ_CHECK(h->kind == 1 || h->kind == 2) << "kind " << int{h->kind};
    FUZZ_CHECK(h->collection_id >= 1 && h->first_seq <= format::kMaxSequence);
    FUZZ_CHECK(h->capacity > format::kDataStart && h->capacity <= format::kMaxSegmentFileSize &&
               h->capacity % format::kPageSize == 0)
        << "capacity " << h->capacity;
    if (h->kind == 1) {
      FUZZ_CHECK(h->record_size >= 1 && h->record_size <= format::kMaxFixedRecordSize &&
                 h->stride >= format::FixedStride(h->record_size, 1) &&
                 h->stride <= h->capacity - format::kDataStart)
          << "record size " << h->record_size << ", stride " << h->stride;
    } else {
      FUZZ_CHECK(h->record_size == 0 && h->stride == 0);
    }
    FUZZ_CHECK(h->compacted ? h->generation >= 1 && h->generation <= format::kMaxSequence
                            : h->generation == 0);
    seed = h->first_seq;
    std::byte again[format::kEncodedSegmentHeaderSize];
    format::EncodeSegmentHeader(*h, again);
    absl::StatusOr<format::SegmentHeader> h2 = format::DecodeSegmentHeader(again, path);
    FUZZ_CHECK(h2.ok() && *h2 == *h) << "header round trip";
  } else {
    FUZZ_CHECK(h.status().code() == absl::StatusCode::kDataLoss ||
               h.status().code() == absl::StatusCode::kFailedPrecondition)
        << h.status();
    FUZZ_CHECK(absl::StrContains(h.status().message(), path)) << h.status();
  }
  if (data[0] & 2) FixCommitChecksum(block, seed);
  format::CommitBlock c;
  if (format::DecodeCommitBlock(block, seed, &c)) {
    FUZZ_CHECK(c.records <= format::kMaxSegmentRecords && c.data_end >= format::kDataStart &&
               c.data_end <= format::kMaxSegmentFileSize && c.data_end % 8 == 0)
        << "commit block with " << c.records << " records, data end " << c.data_end;
    std::byte again[format::kEncodedCommitBlockSize];
    format::EncodeCommitBlock(c, seed, again);
    format::CommitBlock c2;
    FUZZ_CHECK(format::DecodeCommitBlock(again, seed, &c2) && c2 == c) << "commit round trip";
    format::CommitBlock other;
    FUZZ_CHECK(!format::DecodeCommitBlock(again, seed + 1, &other))
        << "a commit block decodes under another segment's seed";
  }
}

}  // namespace
}  // namespace recstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recstore::fuzz::Run(data, size);
  return 0;
}
