// The store every hostile case starts from, built once per test process with the real engine:
//
//   ticks   fixed-size records (32 bytes, 5 fields), segments of 64 KiB: records merged into
//           compacted segments by Merge(), then three more ordinary segments
//   events  byte records of 10 to 159 bytes, the same shape
//   single  fixed-size records (16 bytes, 2 fields) in one ordinary segment
//   ckpt    a checkpoint set (the byte log "checkpoint.ckpt") whose old versions were dropped,
//           so its first_seq is above 0
//
// and what was written: every record of every collection, read back through the API before
// any damage, and every checkpoint payload saved.
#ifndef RECSTORE_TESTS_HOSTILE_TEMPLATE_STORE_H_
#define RECSTORE_TESTS_HOSTILE_TEMPLATE_STORE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "recstore/recstore.h"

namespace recstore::hostile {

struct HostileTick {
  uint64_t ts;
  int64_t qty;
  double px;
  uint32_t sym;
  char tag[4];
};
RECSTORE_RECORD(HostileTick, ts, qty, px, sym, tag);

// The record of a one-segment fixed collection: with a single segment, a record size the
// manifest and the segment headers agree on is not caught by the segment names' sequence.
struct SmallRecord {
  uint64_t id;
  uint32_t value;
};
RECSTORE_RECORD(SmallRecord, id, value);

inline constexpr uint64_t kSegmentSize = 64 << 10;
inline constexpr char kSingle[] = "single";
inline constexpr char kTicks[] = "ticks";
inline constexpr char kEvents[] = "events";
inline constexpr char kCheckpoints[] = "ckpt";

// What was written to one collection.
struct Written {
  std::string name;    // collection name
  std::string folder;  // "<id>-<name>"
  CollectionKind kind = CollectionKind::kFixed;
  uint64_t begin = 0, end = 0;
  std::map<uint64_t, std::string> records;  // seq -> bytes
};

struct TemplateStore {
  std::string dir;
  std::vector<Written> collections;  // ticks, events, single, checkpoint.ckpt
  std::set<std::string> checkpoint_payloads;

  const Written* Find(const std::string& name) const;
};

// Builds the store in `dir` (which must not exist) and reads back what it holds.
// Aborts the process on any failure: nothing can be tested without it.
TemplateStore BuildTemplateStore(const std::string& dir);

// Copies the store directory `from` to `to` (replacing `to`).
void CopyStore(const std::string& from, const std::string& to);

}  // namespace recstore::hostile

#endif  // RECSTORE_TESTS_HOSTILE_TEMPLATE_STORE_H_
