// Helpers the fuzz targets share: fixing up checksums so mutated bytes reach the parsers
// behind them, and reading a manifest through the store layer.
#ifndef RECSTORE_TESTS_FUZZ_FUZZ_INPUTS_H_
#define RECSTORE_TESTS_FUZZ_FUZZ_INPUTS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "src/format/manifest.h"

namespace recstore::fuzz {

// Sets body_length, body_checksum and header_checksum of a manifest (40-byte header, then the
// body) to match its bytes. Shorter inputs are left alone.
void FixManifestChecksums(std::string* manifest);
// Sets the header_checksum of a 72-byte segment header.
void FixSegmentHeaderChecksum(std::byte* header);
// Sets the checksum of a 32-byte commit block of the segment starting at `first_seq`.
void FixCommitChecksum(std::byte* block, uint64_t first_seq);

// Writes `bytes` as the MANIFEST of a scratch directory and reads it with store::ReadManifest.
absl::StatusOr<format::Manifest> ReadManifestBytes(const std::string& bytes);

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_FUZZ_INPUTS_H_
