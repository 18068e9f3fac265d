// Options for opening a store, and the reports recstore gives back.
#ifndef RECSTORE_OPTIONS_H_
#define RECSTORE_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/env.h"

namespace recstore {

// When appended records are made durable without an explicit Sync().
struct SyncPolicy {
  enum class Mode {
    kManual,  // only Sync() makes records durable (default)
    // Every Append/AppendBatch syncs before it returns. If that sync fails the call returns
    // its error, but the records were appended (they are visible, not durable) and the log
    // is in its failed state.
    kEveryAppend,
    kBackground,  // a background thread syncs after `every_records` appends or `every` time
  };
  Mode mode = Mode::kManual;
  // kBackground: sync once this many records are pending (0: no count trigger).
  uint64_t every_records = 0;
  // kBackground: sync pending records at least this often (0: no time trigger).
  std::chrono::milliseconds every{0};

  static SyncPolicy Manual() { return {}; }
  static SyncPolicy EveryAppend() { return {Mode::kEveryAppend, 0, {}}; }
  static SyncPolicy Background(uint64_t records, std::chrono::milliseconds interval) {
    return {Mode::kBackground, records, interval};
  }
};

// What opening a collection does with records after the last recorded durable point.
enum class RecoveryMode {
  // Default. Keep the longest prefix of complete, checksum-valid records after the durable
  // point; truncate the rest (a torn tail after a crash is normal) and report it.
  //
  // In every mode, damage that a crash cannot explain fails the open with DataLoss naming
  // the file, and no file changes: a segment that cannot be read, has an invalid or zeroed
  // header, or is shorter than its capacity; segments missing before or between others (a
  // gap in the sequence numbers); a compacted segment whose index is invalid; a segment
  // whose commit block says it is full when the segment after it is missing. A segment file
  // is only ever created under a temporary name and renamed once its header is durable, so
  // no crash leaves a named segment without a header. No mode removes a segment that holds
  // synced records (docs/durability.md 1.2).
  kTolerateTornTail,
  // Verify every record of every segment on open, compacted segments included; any invalid
  // record or non-zero byte after the last record, or fewer records than a commit block
  // recorded as durable, fails the open with DataLoss. Open time grows with the data.
  kAbsoluteConsistency,
  // Like kTolerateTornTail, but continue past invalid records in the tail, keep every valid
  // record found after them and report the invalid ones. Scans skip the invalid records;
  // Get() of one returns DataLoss. Compaction refuses to run over an invalid record (it
  // would turn damage into a gap): Compact and Merge return DataLoss naming it.
  kSalvage,
};

struct StoreOptions {
  // Create the store directory (one level) and its manifest if they do not exist.
  bool create_if_missing = false;
  // Open without the writer lock: many read-only openers may coexist with one writer.
  // Every write returns FailedPrecondition.
  bool read_only = false;
  // Capacity of each segment file of collections created through this handle (existing
  // collections keep theirs). At least 64 KiB, at most 1 GiB, a multiple of 4 KiB.
  uint64_t segment_size = uint64_t{64} << 20;
  // Permission bits for new files and directories (directories add the execute bits that
  // match each read bit).
  uint32_t file_mode = 0644;
  SyncPolicy sync_policy{};
  RecoveryMode recovery_mode = RecoveryMode::kTolerateTornTail;
  // Pre-fault the pages ahead of the writer in the active segment (MADV_POPULATE_WRITE), so
  // appends rarely take a page fault.
  bool prefault = true;
  // Recycled segments: a writer keeps up to this many of the segment files that retention,
  // TruncateBefore and compaction retire (per collection, as `<old first>.recycle` in its
  // folder), and makes its next segments out of them instead of new files. A reused file is
  // already allocated and its pages are usually still cached: appends and syncs into it skip
  // the kernel's zeroing of fresh pages and the allocation of new blocks (docs/design.md 8.10).
  // The kept files hold their disk space. A file is reused only once no handle of any process
  // still reads it. Segments a recycling writer makes have format version 4, which builds
  // before it refuse. 0 (the default): retired files are deleted, and a writer open deletes
  // any an earlier writer kept. Read-only handles ignore it.
  uint32_t recycle_segments = 0;
  // The operating-system seam every file, mapping, lock and clock call goes through
  // (include/recstore/env.h); null means Env::Default(). It must outlive the store and every
  // handle opened from it.
  Env* env = nullptr;
};

// A record that recovery or verification found invalid.
struct BadRecord {
  uint64_t seq = 0;     // sequence number it would have had
  std::string file;     // segment file
  uint64_t offset = 0;  // byte offset of the record in the file
  std::string reason;
};

// What opening a collection found after its last recorded durable point.
struct RecoveryReport {
  uint64_t durable_point = 0;      // records before this were recorded as durable
  uint64_t tail_records_kept = 0;  // valid records found after the durable point
  uint64_t records = 0;            // records in the collection after recovery (end seq)
  bool truncated = false;          // an invalid tail was cut off
  std::string truncated_file;      // where the cut was made
  uint64_t truncated_offset = 0;
  uint64_t bytes_dropped = 0;      // non-zero bytes discarded after the cut
  uint64_t segments_removed = 0;   // segment files past the cut that were deleted
  std::vector<BadRecord> skipped;  // kSalvage: invalid records kept as holes

  bool clean() const { return !truncated && skipped.empty() && segments_removed == 0; }
};

// Result of Verify(): every record's checksum and every segment header checked.
struct VerifyReport {
  uint64_t records_checked = 0;
  uint64_t segments_checked = 0;
  uint64_t bytes_checked = 0;
  bool ok = true;
  BadRecord first_bad;  // meaningful when !ok
};

}  // namespace recstore

#endif  // RECSTORE_OPTIONS_H_
