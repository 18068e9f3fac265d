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

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_CHECKSUM_FIXUP_H_
