// Checksums for everything recstore writes: XXH3-64 from xxHash. The functions are inline
// (xxHash in header-only mode) because record checksums sit on the append and scan paths.
#ifndef RECSTORE_SRC_BASE_CHECKSUM_H_
#define RECSTORE_SRC_BASE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

namespace recstore::base {

// XXH3-64 of `n` bytes at `data`, seeded with `seed`. Seeding with the record's sequence
// number (or another position) makes a record copied to the wrong place fail its check.
inline uint64_t Checksum64(const void* data, size_t n, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(data, n, seed);
}

// Checksum64 over a string's bytes. (A separate name, so that a string literal plus a seed can
// never bind to the pointer-and-length overload above.)
inline uint64_t StringChecksum64(std::string_view bytes, uint64_t seed = 0) {
  return Checksum64(bytes.data(), bytes.size(), seed);
}

// Incremental XXH3-64 over several pieces; equal to Checksum64 over their concatenation.
class ChecksumBuilder {
 public:
  explicit ChecksumBuilder(uint64_t seed = 0) {
    XXH3_INITSTATE(&state_);  // reset reads fields of the state before writing them
    XXH3_64bits_reset_withSeed(&state_, seed);
  }
  ChecksumBuilder& Add(const void* data, size_t n) {
    XXH3_64bits_update(&state_, data, n);
    return *this;
  }
  ChecksumBuilder& Add(std::string_view bytes) { return Add(bytes.data(), bytes.size()); }
  uint64_t Finish() const { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_{};
};

}  // namespace recstore::base

#endif  // RECSTORE_SRC_BASE_CHECKSUM_H_
