// The store the compaction crash and fault tests start from, and the retention and compaction
// calls they interrupt.
//
// A store with 64 KiB segments holds two collections of several segments each: "fixed"
// (KeyedRecord: a key field, a tombstone field) and "bytes" (byte records whose first 8 bytes
// are a key; a record of exactly 8 bytes is a tombstone; a few records are shorter than the
// key). Every record is a function of its sequence number. The "compacted" template has
// already been truncated and compacted once, then grown by more segments. Everything is
// synced and the store closed cleanly, so the template is wholly durable.
//
// The Env clock is fixed (ClockEnv), so byte records' append times, and with them what a key
// compaction's tombstone grace drops, are the same on every run.
#ifndef RECSTORE_TESTS_CRASH_COMPACTION_CASE_H_
#define RECSTORE_TESTS_CRASH_COMPACTION_CASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/recstore.h"
#include "recstore/env.h"

namespace recstore::crash {

struct KeyedRecord {
  uint64_t seq;
  uint32_t key;
  uint32_t dead;  // tombstone when non-zero
  uint64_t a;
  uint64_t b;
};
RECSTORE_RECORD(KeyedRecord, seq, key, dead, a, b);

inline constexpr uint64_t kCaseSegmentSize = 64 << 10;
inline constexpr uint32_t kKeyPrefix = 8;
inline constexpr char kFixedName[] = "fixed";
inline constexpr char kBytesName[] = "bytes";
enum : int { kFixed = 0, kBytes = 1 };

// The bytes of record `seq` of each collection.
KeyedRecord FixedRecordAt(uint64_t seq);
std::string FixedBytesAt(uint64_t seq);
std::string ByteRecordAt(uint64_t seq);
inline std::string RecordAt(int c, uint64_t seq) {
  return c == kFixed ? FixedBytesAt(seq) : ByteRecordAt(seq);
}

// Times of the fixed clock: the first byte records are appended at kT0, the later ones three
// days on, and the operations run an hour after that.
inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kT0 = int64_t{1'800'000'000} * kSecond;
inline constexpr int64_t kT1 = kT0 + 72 * 3600 * kSecond;
inline constexpr int64_t kTOp = kT1 + 3600 * kSecond;

// `Base` (an Env) with a clock the test sets.
template <typename Base>
class ClockEnv : public Base {
 public:
  using Base::Base;
  void set_now(int64_t ns) { now_ = ns; }
  int64_t NowUnixNanos() override { return now_; }

 private:
  int64_t now_ = kTOp;
};

enum class CaseTemplate { kPlain, kCompacted };

// The operations, each on one collection of one template.
enum class CaseOp {
  kTruncateMid,        // fixed: TruncateBefore a sequence number inside a segment
  kTruncateBoundary,   // bytes: TruncateBefore the first sequence number of a segment
  kRetention,          // bytes: SetRetention(max_records)
  kCompactKeyFixed,    // fixed: Compact by key field with a tombstone field
  kCompactKeyBytes,    // bytes: Compact by key prefix (tombstones past their grace dropped)
  kCompactPredicate,   // bytes: Compact keeping what a predicate accepts
  kMerge,              // bytes, compacted template: Merge
  kCompactAgain,       // fixed, compacted template: Compact by key a second time
  kTruncateCompacted,  // fixed, compacted template: TruncateBefore inside the compacted range
};
inline constexpr int kNumCaseOps = 9;

struct CaseOpSpec {
  CaseOp op;
  const char* name;
  CaseTemplate base;
  int collection;  // kFixed or kBytes
};
const CaseOpSpec& OpSpec(int i);

// An open store with both collections (created when `create`).
struct CaseHandles {
  std::unique_ptr<Store> store;
  Log<KeyedRecord> fixed;
  ByteLog bytes;

  const LogBase& log(int c) const {
    if (c == kFixed) return fixed;
    return bytes;
  }
};
absl::StatusOr<CaseHandles> OpenCase(Env* env, const std::string& store_dir,
                                     bool create = false);

// Builds template `t` at `store_dir` (a path that does not exist yet) with the real Env.
absl::Status BuildTemplate(CaseTemplate t, const std::string& store_dir);

// The sequence number a truncation of `op` cuts at, found in the template at `store_dir`
// (0 for the other operations).
absl::StatusOr<uint64_t> OpArgument(CaseOp op, const std::string& store_dir);

// Runs `op` (with the argument OpArgument found) on `h`.
absl::Status RunOp(CaseOp op, uint64_t arg, const CaseHandles& h);

// The folder of collection `c` of the store at `store_dir`.
std::string CollectionFolder(const std::string& store_dir, const LogBase& log);

// The sorted first sequence numbers of the ordinary segments in `folder`.
std::vector<uint64_t> OrdinarySegments(const std::string& folder);

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_COMPACTION_CASE_H_
