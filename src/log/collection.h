// The engine of one collection: appends, group-commit syncs, crash recovery and reads over
// its segment files. Store hands out handles (LogCore) that share one Collection.
//
// Concurrency: appends and segment creation are serialized by mu_; syncs by sync_mu_ (one
// flush at a time, shared by every caller waiting for it); lazily mapping an old segment by
// map_mu_. Readers take no lock: a record becomes visible when published_ passes it (release
// store after the record is fully written), and segments never move or unmap while the
// collection lives.
#ifndef RECSTORE_SRC_LOG_COLLECTION_H_
#define RECSTORE_SRC_LOG_COLLECTION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"
#include "recstore/options.h"
#include "src/format/segment_header.h"
#include "src/log/record_check.h"
#include "src/log/segment_table.h"
#include "src/os/env.h"

namespace recstore::log {
class BackgroundSyncer;
}  // namespace recstore::log

namespace recstore::internal {

struct CollectionConfig {
  os::Env* env = nullptr;
  std::string dir;  // the collection's folder
  CollectionInfo info;
  bool read_only = false;
  mode_t file_mode = 0644;
  SyncPolicy sync;
  RecoveryMode recovery = RecoveryMode::kTolerateTornTail;
  bool prefault = true;
  std::shared_ptr<void> keep_alive;  // what must outlive the collection (the store's lock)
};

class Collection {
 public:
  // Opens the collection's segments and recovers its tail (see RecoveryMode). Creates the
  // first segment of an empty writable collection.
  static absl::StatusOr<std::shared_ptr<Collection>> Open(CollectionConfig config);
  ~Collection();

  absl::StatusOr<uint64_t> AppendFixed(const void* records, size_t n);
  absl::StatusOr<uint64_t> AppendBytes(const std::string_view* records, size_t n);
  absl::StatusOr<uint64_t> Sync();
  absl::Status Refresh();

  // The payload of record `seq` (either kind), checked. OutOfRange outside [begin, end);
  // DataLoss naming file and offset if it is invalid.
  absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq);
  absl::Status NextRun(uint64_t seq, uint64_t end, RecordRun* run, uint64_t* skipped, ReadPin* pin);
  absl::StatusOr<VerifyReport> Verify();

  // Retention and compaction (compaction.cc); see LogBase.
  absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq);
  absl::StatusOr<CompactionStats> ApplyRetention();
  absl::Status SetRetention(const RetentionPolicy& policy);
  absl::StatusOr<CompactionStats> Compact(const CompactOptions& options);
  absl::StatusOr<int64_t> AppendTime(uint64_t seq);
  ReadPin Pin();

  uint64_t begin() const { return config_.info.first_seq; }
  uint64_t end() const { return published_.load(std::memory_order_acquire); }
  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  CollectionInfo info() const { return config_.info; }
  const CollectionInfo& shape() const { return config_.info; }
  const RecoveryReport& recovery() const { return report_; }
  bool read_only() const { return config_.read_only; }
  // Sync policy kBackground: records appended but not yet synced.
  uint64_t pending() const { return end() - durable(); }

 private:
  explicit Collection(CollectionConfig config);

  bool fixed() const { return config_.info.kind == CollectionKind::kFixed; }
  std::string SegmentPath(uint64_t first_seq) const;
  format::SegmentHeader HeaderFor(uint64_t first_seq, uint64_t capacity) const;
  // The mapped segment of table entry `i`, mapping it on first use.
  absl::StatusOr<log::Segment*> SegmentAt(size_t i);
  absl::StatusOr<std::unique_ptr<log::Segment>> OpenSegment(uint64_t first_seq, uint64_t capacity);
  const char* BadRecordReason() const {
    return fixed() ? "checksum mismatch" : "invalid frame or checksum mismatch";
  }
  // Table entry holding record `seq` (which must exist).
  size_t SegmentIndexFor(uint64_t seq) const;
  // Whether slot `index` of `s` holds record `seq` intact; sets where it starts (the slot or
  // the frame) and its payload length either way the check goes, as far as known.
  bool RecordAt(const log::Segment& s, uint64_t index, uint64_t seq, uint64_t* offset,
                uint32_t* len) const;
  // Sequence number just past the records of table entry `i`.
  uint64_t SegmentEnd(size_t i) const;
  absl::Status DataLossAt(const log::Segment& seg, uint64_t offset, uint64_t seq,
                          std::string_view what) const;

  // Writing (append.cc).
  absl::Status CheckWritableLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CreateSegmentLocked(uint64_t first_seq, uint64_t capacity)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Undoes the last `n` segment creations of an append that failed before writing a record.
  void RemoveNewSegmentsLocked(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PrefaultLocked(uint64_t write_offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<uint64_t> AfterAppend(uint64_t first_seq);
  // Writes the commit block of table entry `i` for records durable up to `durable_end`.
  void WriteCommitFor(size_t i, uint64_t durable_end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  void Fail(const absl::Status& cause);

  // Recovery (recovery.cc).
  absl::Status Recover();
  absl::Status ListSegments();
  // Extends the log over the valid records from (segment `start`, record `start_index`,
  // byte `start_offset`). At open it then reports (and, for a writer, cuts) what follows.
  absl::Status ScanTail(size_t start, uint64_t start_index, uint64_t start_offset, bool at_open)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CutTail(size_t seg_index, uint64_t keep_records, uint64_t cut_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CollectionConfig config_;
  const log::FixedGeometry geometry_;
  const uint64_t schema_hash_;

  log::SegmentTable table_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> durable_{0};
  RecoveryReport report_;

  std::mutex mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t active_ ABSL_GUARDED_BY(mu_) = 0;          // table index being written
  uint64_t active_count_ ABSL_GUARDED_BY(mu_) = 0;  // records in the active segment
  uint64_t active_end_ ABSL_GUARDED_BY(mu_) = 0;    // variable: offset past the last frame
  uint64_t populated_to_ ABSL_GUARDED_BY(mu_) = 0;  // prefaulted up to this offset
  bool dir_dirty_ ABSL_GUARDED_BY(mu_) = false;     // segments created since the last sync
  absl::Status failed_ ABSL_GUARDED_BY(mu_);

  std::mutex sync_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  size_t sync_from_ ABSL_GUARDED_BY(sync_mu_) = 0;   // first segment with unsynced records
  bool flushing_ ABSL_GUARDED_BY(sync_mu_) = false;  // a leader is flushing (sync_mu_ released)
  std::condition_variable sync_cv_;                  // signalled when a flush ends

  std::mutex map_mu_;

  std::unique_ptr<log::BackgroundSyncer> syncer_;  // last: stops before the rest goes
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_LOG_COLLECTION_H_
