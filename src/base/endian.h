// Little-endian fixed-width encoding. Every integer recstore writes to disk goes through
// these helpers, so the on-disk format is little-endian whatever the host is.
#ifndef RECSTORE_SRC_BASE_ENDIAN_H_
#define RECSTORE_SRC_BASE_ENDIAN_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace recstore::base {

template <typename T>
constexpr T ToLittleEndian(T v) {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    return v;
  } else {
    T out = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      out = static_cast<T>((out << 8) | ((v >> (8 * i)) & 0xff));
    return out;
  }
}

// Stores `v` at `dst` (no alignment needed) in little-endian order.
template <typename T>
inline void EncodeFixed(void* dst, T v) {
  v = ToLittleEndian(v);
  std::memcpy(dst, &v, sizeof(T));
}

// Loads a little-endian T from `src` (no alignment needed).
template <typename T>
inline T DecodeFixed(const void* src) {
  T v;
  std::memcpy(&v, src, sizeof(T));
  return ToLittleEndian(v);
}

inline void EncodeFixed16(void* dst, uint16_t v) { EncodeFixed(dst, v); }
inline void EncodeFixed32(void* dst, uint32_t v) { EncodeFixed(dst, v); }
inline void EncodeFixed64(void* dst, uint64_t v) { EncodeFixed(dst, v); }
inline uint16_t DecodeFixed16(const void* src) { return DecodeFixed<uint16_t>(src); }
inline uint32_t DecodeFixed32(const void* src) { return DecodeFixed<uint32_t>(src); }
inline uint64_t DecodeFixed64(const void* src) { return DecodeFixed<uint64_t>(src); }

// Appends the little-endian encoding of `v` to `dst`.
template <typename T>
inline void PutFixed(std::string* dst, T v) {
  char buf[sizeof(T)];
  EncodeFixed(buf, v);
  dst->append(buf, sizeof(T));
}

}  // namespace recstore::base

#endif  // RECSTORE_SRC_BASE_ENDIAN_H_
