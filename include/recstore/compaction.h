// Retention and compaction: the types behind LogBase::TruncateBefore, ApplyRetention,
// SetRetention, Compact and Merge (include/recstore/log.h).
//
// Sequence numbers never change. Retention moves a collection's first live sequence number
// up; compaction removes records below the active segment and leaves gaps. Both are applied
// by the one writer and switch the collection in one atomic manifest rewrite (see
// docs/design.md, "Compaction and retention").
#ifndef RECSTORE_COMPACTION_H_
#define RECSTORE_COMPACTION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "recstore/config.h"  // first: fails clearly below C++20

namespace recstore {

// Per-collection retention, stored in the manifest and applied by the writer: at open, after
// an append that started a new segment, and on ApplyRetention(). Every limit set is applied;
// the strictest wins (but see keep_unconsumed). Records are dropped from the front only.
struct RetentionPolicy {
  uint64_t max_records = 0;  // keep at most the last N records (0: no limit)
  uint64_t max_bytes = 0;    // keep at most the last N payload bytes (0: no limit)
  // Drop records older than this (0: no limit). Byte logs use the append time the store
  // records with each record (second resolution); fixed-size logs need `time_field`.
  std::chrono::nanoseconds max_age{0};
  // Fixed-size logs: the schema field (int64 or uint64) holding the record's time in
  // nanoseconds since the Unix epoch. Age retention drops records up to the first one that
  // is young enough.
  std::string time_field{};

  // Reader-aware retention (include/recstore/cursor.h). With keep_unconsumed, the limits
  // above never drop a record that a consumer cursor of this collection has not consumed
  // (at or above the lowest cursor position), except past the hard caps below, which apply
  // whether or not keep_unconsumed is set. The first record kept is
  //   max(H, min(C, lowest cursor position))
  // where C is the point the limits above give and H the point the hard caps alone give (a
  // collection without cursors: max(H, C)). keep_unconsumed without a hard cap is allowed:
  // then nothing a cursor has not consumed is ever dropped by the policy. A cursor whose
  // position falls below begin() has lost the records [position, begin()).
  bool keep_unconsumed = false;
  uint64_t hard_max_bytes = 0;               // keep at most the last N payload bytes (0: no cap)
  std::chrono::nanoseconds hard_max_age{0};  // drop records older than this (0: no cap)

  // Whether the policy drops nothing (keep_unconsumed alone drops nothing).
  bool empty() const {
    return max_records == 0 && max_bytes == 0 && max_age.count() == 0 && hard_max_bytes == 0 &&
           hard_max_age.count() == 0;
  }
  friend bool operator==(const RetentionPolicy&, const RetentionPolicy&) = default;
};

// Where a record's compaction key is.
struct KeySpec {
  // Fixed-size logs: the schema field whose bytes are the key.
  std::string field{};
  // Byte logs: the first `prefix` bytes of the record are the key; a record of exactly
  // `prefix` bytes (a key with an empty value) is a tombstone. A shorter record has no key
  // and is always kept.
  uint32_t prefix = 0;

  bool empty() const { return field.empty() && prefix == 0; }
};

// How far a compaction has got; passed to CompactOptions::progress.
struct CompactionProgress {
  uint64_t records_done = 0;
  uint64_t records_total = 0;
  uint64_t bytes_done = 0;  // payload bytes read
  uint64_t bytes_total = 0;
};

struct CompactOptions {
  // Key compaction: keep only the newest record of each key (looking at the whole log, so a
  // record is dropped when a newer record of its key exists anywhere after it).
  KeySpec key{};
  // Fixed-size logs with a key: a record whose field `tombstone_field` (any integer or bool
  // field) is non-zero is a tombstone: it deletes its key. Empty: no tombstones.
  std::string tombstone_field{};
  // A tombstone that is the newest record of its key is itself dropped once it is older than
  // this: for byte logs by its append time, for fixed-size logs when at least
  // `tombstone_grace_records` records follow it. Tombstones below that stay, so a reader that
  // is behind still sees the deletion.
  std::chrono::nanoseconds tombstone_grace = std::chrono::hours(24);
  uint64_t tombstone_grace_records = 0;
  // Predicate compaction: keep a record only if this returns true (called after the key
  // rules, in sequence order, from the compacting thread). Empty: keep.
  std::function<bool(uint64_t seq, std::span<const std::byte> record)> keep{};
  // Called every few thousand records and once at the end.
  std::function<void(const CompactionProgress&)> progress{};
};

// What a retention or compaction call did.
struct CompactionStats {
  uint64_t records_in = 0;     // live records in the rewritten range
  uint64_t records_kept = 0;   // of those, written to the new segments
  uint64_t bytes_in = 0;       // payload bytes in the rewritten range
  uint64_t bytes_written = 0;  // bytes of the new segment files
  uint64_t segments_in = 0;    // segment files retired
  uint64_t segments_out = 0;   // segment files written
  uint64_t first_seq = 0;      // the collection's first live sequence number afterwards
  uint64_t generation = 0;     // the collection's compaction generation afterwards
  double seconds = 0;
};

}  // namespace recstore

#endif  // RECSTORE_COMPACTION_H_
