// The records the crash workload appends. Each record's content (and, for byte records, its
// size) is a function of (collection, sequence number), so any record read back after a crash
// can be checked on its own.
#ifndef RECSTORE_TESTS_CRASH_CRASH_RECORDS_H_
#define RECSTORE_TESTS_CRASH_CRASH_RECORDS_H_

#include <cstdint>
#include <string>

#include "recstore/schema.h"

namespace recstore::crash {

// 32 bytes; 40-byte slots with the checksum, 1536 per 64 KiB segment.
struct CrashRecord {
  uint64_t seq;
  uint32_t collection;
  uint32_t check;
  uint64_t a;
  double b;
};
RECSTORE_RECORD(CrashRecord, seq, collection, check, a, b);

inline uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline CrashRecord ExpectedRecord(uint32_t collection, uint64_t seq) {
  const uint64_t h = Mix(Mix(collection) ^ seq);
  return CrashRecord{.seq = seq,
                     .collection = collection,
                     .check = static_cast<uint32_t>(h >> 32),
                     .a = h,
                     .b = static_cast<double>(h % 1000003) / 7.0};
}

inline bool operator==(const CrashRecord& x, const CrashRecord& y) {
  return x.seq == y.seq && x.collection == y.collection && x.check == y.check && x.a == y.a &&
         x.b == y.b;
}

// Byte records: 1 byte to 3 KiB mostly, one in 16 between 4 and 10 KiB (more than a page).
// With `oversized_every` > 0, records 0, k, 2k, ... are 70,000 bytes: larger than a 64 KiB
// segment, each gets a segment of its own.
inline constexpr size_t kOversizedRecord = 70000;
inline size_t ExpectedSize(uint32_t collection, uint64_t seq, uint64_t oversized_every) {
  if (oversized_every > 0 && seq % oversized_every == 0) return kOversizedRecord;
  const uint64_t h = Mix(Mix(collection + 1000) ^ seq);
  if (h % 16 == 0) return 4097 + (h >> 8) % 6000;
  return 1 + (h >> 8) % 3072;
}

inline std::string ExpectedBytes(uint32_t collection, uint64_t seq, uint64_t oversized_every) {
  std::string s(ExpectedSize(collection, seq, oversized_every), '\0');
  uint64_t x = Mix(Mix(collection + 2000) ^ seq);
  for (size_t i = 0; i < s.size(); i += 8) {
    x = Mix(x);
    for (size_t j = 0; j < 8 && i + j < s.size(); ++j) s[i + j] = static_cast<char>(x >> (8 * j));
  }
  return s;
}

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_CRASH_RECORDS_H_
