// Self-checking records of the kill harness. Each record carries who wrote it (epoch,
// writer thread, per-thread counter) and a payload derived from those three numbers, so any
// record read back after a kill can be checked on its own, and its identity compared with
// what the writer reported.
#ifndef RECSTORE_TESTS_KILL_KILL_RECORDS_H_
#define RECSTORE_TESTS_KILL_KILL_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "recstore/schema.h"

namespace recstore::kill {

// Who appended a record: the epoch (one writer process), the thread inside it, and that
// thread's count of earlier records in the same collection.
struct Identity {
  uint32_t epoch = 0;
  uint32_t thread = 0;
  uint64_t counter = 0;
  friend bool operator==(const Identity&, const Identity&) = default;
};

// splitmix64's finalizer: a cheap, well-mixed 64-bit hash.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Word `i` of the payload of the record `id`.
inline uint64_t PayloadWord(const Identity& id, uint64_t i) {
  return Mix(Mix((uint64_t{id.epoch} << 32) | id.thread) ^ Mix(id.counter ^ (i << 48)) ^ i);
}

// The fixed-size record: 48 bytes.
struct KillRecord {
  uint32_t epoch;
  uint32_t thread;
  uint64_t counter;
  uint64_t words[4];
};
RECSTORE_RECORD(KillRecord, epoch, thread, counter, words);

KillRecord MakeFixedRecord(const Identity& id);
// True when `r` is consistent; sets *id from it either way.
bool CheckFixedRecord(const KillRecord& r, Identity* id);

// Size of the byte record `id`: mostly 16 to 415 bytes; about 1 in 450 is 4 to 32 KiB; about
// 1 in 4096 is 68 to 98 KiB, larger than a 64 KiB segment, so it gets a segment of its own.
size_t ByteRecordSize(const Identity& id);
std::string MakeByteRecord(const Identity& id);
// True when `bytes` is a complete, consistent byte record; sets *id when its header is there.
bool CheckByteRecord(std::span<const std::byte> bytes, Identity* id);

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_KILL_RECORDS_H_
