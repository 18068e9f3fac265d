// The one interface every engine of the comparison implements, the two record kinds and the
// record generator.
#ifndef RECSTORE_TOOLS_BENCH_PEERS_ENGINE_H_
#define RECSTORE_TOOLS_BENCH_PEERS_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/schema.h"
#include "recstore/status_macros.h"

namespace recstore::bench {

// The 64-byte fixed record; the first field is the record's sequence number.
struct Rec64 {
  uint64_t seq;
  uint64_t ts_ns;
  uint32_t id;
  uint32_t flags;
  double v[5];
};
RECSTORE_RECORD(Rec64, seq, ts_ns, id, flags, v);
static_assert(sizeof(Rec64) == 64);

enum class Kind {
  kFixed64,   // Rec64; recstore stores it in a Log<Rec64>
  kBytes100,  // 100 opaque bytes; recstore stores it in a ByteLog
};

inline size_t RecordSize(Kind k) { return k == Kind::kFixed64 ? 64 : 100; }
inline std::string_view KindName(Kind k) { return k == Kind::kFixed64 ? "fixed64" : "bytes100"; }

// Every record starts with its sequence number (little-endian, 8 bytes).
inline uint64_t FirstWord(const void* rec) {
  uint64_t v;
  std::memcpy(&v, rec, 8);
  return v;
}

struct OpenOptions {
  std::string dir;  // the engine's own directory; it exists
  Kind kind = Kind::kFixed64;
  // Records the run expects to write (a sizing hint: preallocation, map size).
  uint64_t expected_records = 0;
  // False: Commit and Sync do not wait for the disk (the crash workload's child).
  bool durable = true;
  // recstore only: segment capacity in bytes (0: the default, 64 MiB).
  uint64_t segment_size = 0;
};

struct ScanResult {
  uint64_t records = 0;
  uint64_t bytes = 0;  // payload bytes visited
  uint64_t sum = 0;    // sum of every record's first word
};

// An engine stores records of one kind under dense keys 0, 1, 2, ... in append order.
// Open, Append, AppendBatch, Sync, Scan, Get and Close are called from one thread; Commit may
// be called from several threads at once.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  // False for engines whose data does not survive Close (memcpy).
  virtual bool persistent() const { return true; }

  // Creates the store in an empty directory, or opens the one there, and finds its end.
  [[nodiscard]] virtual absl::Status Open(const OpenOptions& options) = 0;
  // Appends one record of RecordSize(kind) bytes; durable after the next Sync.
  [[nodiscard]] virtual absl::Status Append(const std::byte* record) = 0;
  // Appends `n` contiguous records with the engine's bulk path; durable after the next Sync.
  [[nodiscard]] virtual absl::Status AppendBatch(const std::byte* records, size_t n) = 0;
  // Makes everything appended so far durable.
  [[nodiscard]] virtual absl::Status Sync() = 0;
  // Appends `n` contiguous records as one commit and (when durable) makes them durable before
  // returning. Thread-safe.
  [[nodiscard]] virtual absl::Status Commit(const std::byte* records, size_t n) = 0;
  // Visits every record in order, verifying checksums where the engine keeps them.
  [[nodiscard]] virtual absl::Status Scan(ScanResult* out) = 0;
  // The first word of record `seq`.
  [[nodiscard]] virtual absl::StatusOr<uint64_t> Get(uint64_t seq) = 0;
  // One past the last record (what Open found plus what was appended since).
  virtual uint64_t End() const = 0;
  // What the engine's own recovery reported at the last Open, if it reports anything.
  virtual std::string RecoveryNote() const { return ""; }
  [[nodiscard]] virtual absl::Status Close() = 0;
};

std::unique_ptr<Engine> NewRecstoreEngine();
std::unique_ptr<Engine> NewFwriteEngine();
std::unique_ptr<Engine> NewPwriteEngine();
std::unique_ptr<Engine> NewMemcpyEngine();
std::unique_ptr<Engine> NewLmdbEngine();
std::unique_ptr<Engine> NewRocksdbEngine();
std::unique_ptr<Engine> NewLeveldbEngine();
std::unique_ptr<Engine> NewSqliteEngine();

// Every engine name, in the order the comparison runs them.
const std::vector<std::string>& AllEngineNames();
// The engine called `name`, or nullptr.
std::unique_ptr<Engine> NewEngine(std::string_view name);

// Makes records: a ring of pseudo-random records, each stamped with its sequence number
// when handed out. One generator per thread.
class RecordGen {
 public:
  static constexpr size_t kMaxBatch = 4096;
  explicit RecordGen(Kind kind, uint64_t seed = 1);
  size_t record_size() const { return size_; }
  // `n` (at most kMaxBatch) contiguous records numbered first, first+1, ...
  const std::byte* Make(uint64_t first, size_t n);

 private:
  size_t size_;
  std::vector<std::byte> buf_;
  size_t next_slot_ = 0;
};

// Big-endian 8-byte key: sorts like the number, for the LSM engines.
inline void EncodeKeyBE(uint64_t v, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline uint64_t DecodeKeyBE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace recstore::bench

#endif  // RECSTORE_TOOLS_BENCH_PEERS_ENGINE_H_
