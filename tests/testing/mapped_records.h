// Record types for the MappedVector and MappedStruct tests, of sizes that meet the 4 KiB
// pages differently (4096 is a multiple of 4, not of 24 or 100), and byte-wise comparison.
#ifndef RECSTORE_TESTS_TESTING_MAPPED_RECORDS_H_
#define RECSTORE_TESTS_TESTING_MAPPED_RECORDS_H_

#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <type_traits>

#include "recstore/schema.h"

namespace recstore::testing {

// 24 bytes: records straddle page boundaries.
struct Point {
  double x, y, z;
};
RECSTORE_RECORD(Point, x, y, z);

// Same size and field names as Point, other field types: a schema mismatch.
struct PointI {
  int64_t x, y, z;
};
RECSTORE_RECORD(PointI, x, y, z);

// 4 bytes: 1024 to a page.
struct Tiny {
  uint32_t v;
};
RECSTORE_RECORD(Tiny, v);

// 100 bytes, 4-aligned: straddles pages at a different phase than Point.
struct Wide {
  uint32_t id;
  char text[96];
};
RECSTORE_RECORD(Wide, id, text);

// The struct of the MappedStruct tests.
struct Counters {
  uint64_t requests;
  uint64_t errors;
  char host[32];
};
RECSTORE_RECORD(Counters, requests, errors, host);

// Counters with a field renamed: another schema.
struct CountersRenamed {
  uint64_t requests;
  uint64_t failures;
  char host[32];
};
RECSTORE_RECORD(CountersRenamed, requests, failures, host);

// Byte-wise equality of records without padding.
template <typename T>
bool SameBytes(const T& a, const T& b) {
  static_assert(std::is_trivially_copyable_v<T>);
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}
template <typename T>
bool SameBytes(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

inline std::ostream& operator<<(std::ostream& os, const Point& p) {
  return os << "Point{" << p.x << ", " << p.y << ", " << p.z << "}";
}
inline std::ostream& operator<<(std::ostream& os, const Tiny& t) {
  return os << "Tiny{" << t.v << "}";
}
inline std::ostream& operator<<(std::ostream& os, const Wide& w) {
  return os << "Wide{" << w.id << ", " << static_cast<int>(w.text[0]) << "...}";
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_MAPPED_RECORDS_H_
