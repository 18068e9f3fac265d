// The engine registry and the record generator.
#include <algorithm>

#include "tools/bench/peers/engine.h"

namespace recstore::bench {

const std::vector<std::string>& AllEngineNames() {
  static const std::vector<std::string> names = {
      "recstore", "fwrite", "pwrite", "memcpy", "lmdb", "rocksdb", "leveldb", "sqlite",
  };
  return names;
}

std::unique_ptr<Engine> NewEngine(std::string_view name) {
  if (name == "recstore") return NewRecstoreEngine();
  if (name == "fwrite") return NewFwriteEngine();
  if (name == "pwrite") return NewPwriteEngine();
  if (name == "memcpy") return NewMemcpyEngine();
  if (name == "lmdb") return NewLmdbEngine();
  if (name == "rocksdb") return NewRocksdbEngine();
  if (name == "leveldb") return NewLeveldbEngine();
  if (name == "sqlite") return NewSqliteEngine();
  return nullptr;
}

RecordGen::RecordGen(Kind kind, uint64_t seed)
    : size_(RecordSize(kind)), buf_(kMaxBatch * RecordSize(kind)) {
  // splitmix64: incompressible payload bytes.
  uint64_t x = seed;
  for (size_t i = 0; i + 8 <= buf_.size(); i += 8) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(buf_.data() + i, &z, 8);
  }
}

const std::byte* RecordGen::Make(uint64_t first, size_t n) {
  n = std::min(n, kMaxBatch);
  // Rotate through the ring so consecutive records do not share bytes.
  if (next_slot_ + n > kMaxBatch) next_slot_ = 0;
  std::byte* out = buf_.data() + next_slot_ * size_;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t seq = first + i;
    std::memcpy(out + i * size_, &seq, 8);
  }
  next_slot_ += n;
  return out;
}

}  // namespace recstore::bench
