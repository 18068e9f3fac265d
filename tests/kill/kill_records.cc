// Self-checking records of the kill harness: how payloads are derived and checked.
#include "tests/kill/kill_records.h"

#include <cstring>

namespace recstore::kill {
namespace {

constexpr size_t kByteHeader = 16;  // epoch u32, thread u32, counter u64

// Byte `j` of a byte record's body.
inline uint8_t BodyByte(const Identity& id, uint64_t word_index_base, size_t j,
                        uint64_t* cache_index, uint64_t* cache) {
  const uint64_t w = word_index_base + j / 8;
  if (w != *cache_index) {
    *cache = PayloadWord(id, w);
    *cache_index = w;
  }
  return static_cast<uint8_t>(*cache >> (8 * (j % 8)));
}

}  // namespace

KillRecord MakeFixedRecord(const Identity& id) {
  KillRecord r{id.epoch, id.thread, id.counter, {}};
  for (uint64_t i = 0; i < 4; ++i) r.words[i] = PayloadWord(id, i);
  return r;
}

bool CheckFixedRecord(const KillRecord& r, Identity* id) {
  *id = Identity{r.epoch, r.thread, r.counter};
  for (uint64_t i = 0; i < 4; ++i) {
    if (r.words[i] != PayloadWord(*id, i)) return false;
  }
  return true;
}

size_t ByteRecordSize(const Identity& id) {
  const uint64_t h = PayloadWord(id, 1000);
  const uint64_t pick = h % 4096;
  const uint64_t spread = h >> 20;
  if (pick == 0) return 68 * 1024 + spread % (30 * 1024);
  if (pick < 10) return 4 * 1024 + spread % (28 * 1024);
  return kByteHeader + spread % 400;
}

std::string MakeByteRecord(const Identity& id) {
  std::string s(ByteRecordSize(id), '\0');
  std::memcpy(s.data(), &id.epoch, 4);
  std::memcpy(s.data() + 4, &id.thread, 4);
  std::memcpy(s.data() + 8, &id.counter, 8);
  uint64_t cache_index = ~uint64_t{0}, cache = 0;
  for (size_t j = kByteHeader; j < s.size(); ++j) {
    s[j] = static_cast<char>(BodyByte(id, 8, j - kByteHeader, &cache_index, &cache));
  }
  return s;
}

bool CheckByteRecord(std::span<const std::byte> bytes, Identity* id) {
  if (bytes.size() < kByteHeader) return false;
  std::memcpy(&id->epoch, bytes.data(), 4);
  std::memcpy(&id->thread, bytes.data() + 4, 4);
  std::memcpy(&id->counter, bytes.data() + 8, 8);
  if (bytes.size() != ByteRecordSize(*id)) return false;
  uint64_t cache_index = ~uint64_t{0}, cache = 0;
  for (size_t j = kByteHeader; j < bytes.size(); ++j) {
    if (static_cast<uint8_t>(bytes[j]) != BodyByte(*id, 8, j - kByteHeader, &cache_index, &cache)) {
      return false;
    }
  }
  return true;
}

}  // namespace recstore::kill
