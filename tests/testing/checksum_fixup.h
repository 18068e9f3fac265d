// Recomputes the checksums of format structures after a test (or a fuzz input) changed their
// fields, so that the damage is hostile rather than accidental: decoders must then refuse the
// values themselves, not their checksums.
#ifndef RECSTORE_TESTS_TESTING_CHECKSUM_FIXUP_H_
#define RECSTORE_TESTS_TESTING_CHECKSUM_FIXUP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/checksum.h"
#include "src/base/endian.h"

namespace recstore::testing {

// Sets body_length, body_checksum and header_checksum of a manifest (40-byte header, then the
// body) to match its bytes. Shorter inputs are left alone.
inline void FixManifestChecksums(std::string* m) {
  constexpr size_t kHeader = 40;
  if (m->size() < kHeader) return;
  char* h = m->data();
  const std::string_view body(m->data() + kHeader, m->size() - kHeader);
  base::EncodeFixed64(h + 16, body.size());
  base::EncodeFixed64(h + 24, base::StringChecksum64(body));
  base::EncodeFixed64(h + 32, base::Checksum64(h, 32));
}

// Sets the checksum of a cursor slot (56 bytes: XXH3 of bytes 0..47, stored at 48).
inline void FixCursorSlotChecksum(char* slot) {
  base::EncodeFixed64(slot + 48, base::Checksum64(slot, 48));
}

// Sets the header_checksum of a 72-byte segment header.
inline void FixSegmentHeaderChecksum(std::byte* header) {
  base::EncodeFixed64(header + 64, base::Checksum64(header, 64));
}

// Sets the checksum of a 32-byte commit block of the segment starting at `first_seq`.
inline void FixCommitChecksum(std::byte* block, uint64_t first_seq) {
  base::EncodeFixed64(block + 24, base::Checksum64(block, 24, first_seq));
}

// Sets the checksum of a 24-byte link block of the compacted segment starting at `first_seq`.
inline void FixLinkChecksum(std::byte* block, uint64_t first_seq) {
  base::EncodeFixed64(block + 16, base::Checksum64(block, 16, first_seq));
}

// Sets the checksum of the 4096-byte header page of a MappedVector or MappedStruct file
// (magic 0, version 8, kind 12, file id 16, seq 24, size 32, schema length 40, checksum 48,
// schema 56: XXH3 of bytes 0..47 and of the schema bytes, stored at 48). A schema length past
// the page is left alone.
inline void FixMappedHeaderChecksum(char* page) {
  constexpr size_t kPage = 4096, kChecksumAt = 48, kSchemaAt = 56;
  const uint32_t schema_len = base::DecodeFixed<uint32_t>(page + 40);
  if (schema_len > kPage - kSchemaAt) return;
  base::EncodeFixed64(
      page + kChecksumAt,
      base::ChecksumBuilder().Add(page, kChecksumAt).Add(page + kSchemaAt, schema_len).Finish());
}

// Sets the checksum of a MappedVector journal ("<path>-journal": a 56-byte header with seq at
// 24, page count n at 32, the checksum at 40 and the applied word at 48 (not covered); n page
// numbers of 8 bytes from 56; the n
// pages from the first 4096-byte boundary after them). The checksum is XXH3 seeded with the
// seq over the header's first 40 bytes, the numbers and the pages. A journal shorter than its
// page count says is left alone.
inline void FixJournalChecksum(std::string* journal) {
  constexpr size_t kPage = 4096, kHeader = 56;
  if (journal->size() < kHeader) return;
  char* h = journal->data();
  const uint64_t seq = base::DecodeFixed<uint64_t>(h + 24);
  const uint64_t n = base::DecodeFixed<uint64_t>(h + 32);
  if (n > journal->size() / kPage) return;
  const size_t pages_at = (kHeader + 8 * n + kPage - 1) / kPage * kPage;
  if (pages_at + n * kPage > journal->size()) return;
  base::EncodeFixed64(h + 40, base::ChecksumBuilder(seq)
                                  .Add(h, 40)
                                  .Add(h + kHeader, 8 * n)
                                  .Add(h + pages_at, n * kPage)
                                  .Finish());
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_CHECKSUM_FIXUP_H_
