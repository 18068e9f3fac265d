// The engine of one collection: appends, group-commit syncs, crash recovery and reads over
// its segment files. Store hands out handles (LogCore) that share one Collection.
//
// Concurrency: appends and segment creation are serialized by mu_; syncs by sync_mu_ (one
// flush at a time, shared by every caller waiting for it); lazily mapping an old segment by
// map_mu_; retention and compaction by compact_mu_. Readers take no collection lock: a record
// becomes visible when published_ passes it (release store after the record is fully
// written), and a reader reads through a pinned view of the segment table, which keeps every
// segment it names mapped (see segment_table.h).
#ifndef RECSTORE_SRC_LOG_COLLECTION_H_
#define RECSTORE_SRC_LOG_COLLECTION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
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

// What a collection asks of the store: switching its manifest entry.
class ManifestHook {
 public:
  virtual ~ManifestHook() = default;
  // Rewrites the manifest with `info` as the collection's entry. Sets *replaced once the new
  // manifest is in place (even if a later step, the folder sync, failed).
  virtual absl::Status Commit(const CollectionInfo& info, bool* replaced) = 0;
  // The collection's entry as the manifest on disk has it now (read-only processes).
  virtual absl::StatusOr<CollectionInfo> Reload(const std::string& name) = 0;
};

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
  ManifestHook* manifest = nullptr;  // owned by what keep_alive keeps alive
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
  // Get through `view`, which the caller holds.
  absl::StatusOr<std::span<const std::byte>> GetIn(const log::SegmentView& view, uint64_t seq);
  absl::Status NextRun(uint64_t seq, uint64_t end, RecordRun* run, uint64_t* skipped, ReadPin* pin);
  absl::StatusOr<VerifyReport> Verify();

  // Retention and compaction (compaction.cc); see LogBase.
  absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq);
  absl::StatusOr<CompactionStats> ApplyRetention();
  absl::Status SetRetention(const RetentionPolicy& policy);
  absl::StatusOr<CompactionStats> Compact(const CompactOptions& options);
  absl::StatusOr<int64_t> AppendTime(uint64_t seq);
  ReadPin Pin();

  uint64_t begin() const { return begin_.load(std::memory_order_acquire); }
  uint64_t end() const { return published_.load(std::memory_order_acquire); }
  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  CollectionInfo info() const;
  const CollectionInfo& shape() const { return config_.info; }
  const RecoveryReport& recovery() const { return report_; }
  bool read_only() const { return config_.read_only; }
  // Sync policy kBackground: records appended but not yet synced.
  uint64_t pending() const { return end() - durable(); }

 private:
  explicit Collection(CollectionConfig config);

  bool fixed() const { return config_.info.kind == CollectionKind::kFixed; }
  std::string SegmentPath(uint64_t first_seq) const;
  std::string CompactedPath(uint64_t generation, uint64_t first_seq) const;
  format::SegmentHeader HeaderFor(uint64_t first_seq, uint64_t capacity) const;
  // The mapped segment of dense slot `i` of `view`, mapping it on first use.
  absl::StatusOr<log::Segment*> SegmentAt(const log::SegmentView& view, size_t i);
  // Writer side: of the current view.
  absl::StatusOr<log::Segment*> SegmentAt(size_t i);
  absl::StatusOr<std::unique_ptr<log::Segment>> OpenSegment(uint64_t first_seq, uint64_t capacity);
  const char* BadRecordReason() const {
    return fixed() ? "checksum mismatch" : "invalid frame or checksum mismatch";
  }
  // Dense slot of `view` holding record `seq` (which must exist and be >= compacted_end).
  size_t SegmentIndexFor(const log::SegmentView& view, uint64_t seq) const;
  // Whether slot `index` of `s` holds record `seq` intact; sets where it starts (the slot or
  // the frame) and its payload length either way the check goes, as far as known. `limit`:
  // where frames must end (0: at the slot index).
  bool RecordAt(const log::Segment& s, uint64_t index, uint64_t seq, uint64_t* offset,
                uint32_t* len, uint64_t limit = 0) const;
  void FillRun(const log::Segment& s, uint64_t index, uint64_t seq, uint64_t count,
               RecordRun* run) const;
  // Sequence number just past the records of dense slot `i` of `view`.
  uint64_t SegmentEnd(const log::SegmentView& view, size_t i) const;
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
  // A byte record's append time as stored in its frame: seconds after the time base.
  uint32_t AppendStamp() const;
  // Writes the commit block of table entry `i` for records durable up to `durable_end`.
  void WriteCommitFor(const log::SegmentView& view, size_t i, uint64_t durable_end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  void Fail(const absl::Status& cause);

  // Recovery (recovery.cc).
  absl::Status Recover();
  // Builds the table from the folder: the compacted segments of the manifest's generation
  // and the ordinary ones it still names; a writer removes every other segment file.
  absl::Status ListSegments();
  // Maps and checks the compacted segment of `generation` starting at `first_seq`.
  absl::StatusOr<std::shared_ptr<const log::CompactedPart>> OpenCompacted(uint64_t generation,
                                                                          uint64_t first_seq,
                                                                          uint64_t compacted_end);
  // Read-only processes: follows a new compaction generation or first_seq in the manifest.
  absl::Status FollowManifestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The view of the folder's files for manifest entry `info`, reusing this process's
  // mappings, with every segment mapped.
  absl::StatusOr<std::shared_ptr<log::SegmentView>> ViewOfFolder(const CollectionInfo& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Extends the log over the valid records from (segment `start`, record `start_index`,
  // byte `start_offset`). At open it then reports (and, for a writer, cuts) what follows.
  absl::Status ScanTail(size_t start, uint64_t start_index, uint64_t start_offset, bool at_open)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CutTail(size_t seg_index, uint64_t keep_records, uint64_t cut_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Retention and compaction (compaction.cc, compaction_rewrite.cc); compact_mu_ held.
  absl::Status CheckCompactable();
  // Drops the records below `seq`; with `policy`, stores it in the same manifest rewrite.
  absl::StatusOr<CompactionStats> Truncate(uint64_t seq, const RetentionPolicy* policy = nullptr);
  absl::StatusOr<CompactionStats> ApplyRetentionLocked();
  absl::StatusOr<uint64_t> RetentionPoint(const RetentionPolicy& policy);
  // The first record to keep so that at most `max_bytes` payload bytes remain before `end`.
  absl::StatusOr<uint64_t> KeepLastBytes(const log::SegmentView& view, uint64_t end,
                                         uint64_t max_bytes);
  // The first record at or after the view's first whose time is >= cutoff (`end` if none).
  absl::StatusOr<uint64_t> FirstYoungRecord(std::shared_ptr<const log::SegmentView> view,
                                            uint64_t end, int64_t cutoff_ns,
                                            const std::string& time_field);
  // The schema field `name` (an 8-byte integer field when `time`); InvalidArgument if none.
  absl::StatusOr<const FieldInfo*> FieldOf(const std::string& name, std::string_view what,
                                           bool time) const;
  // Calls fn(seq, payload) for the valid records of `view` in [from, end), in order.
  absl::Status ForEachRecord(std::shared_ptr<const log::SegmentView> view, uint64_t from,
                             uint64_t end,
                             const std::function<bool(uint64_t, std::span<const std::byte>)>& fn);
  // Switches the manifest to `next` and publishes a view with `parts` as the compacted
  // segments, then removes the files no longer named. Takes sync_mu_ (waiting out a flush)
  // and mu_.
  absl::Status Install(const CollectionInfo& next,
                       std::vector<std::shared_ptr<const log::CompactedPart>> parts,
                       CompactionStats* stats, bool* installed = nullptr);
  // After an append that started a segment.
  void MaybeApplyRetention();

  const CollectionConfig config_;
  std::atomic<uint64_t> begin_{0};
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
  std::atomic<bool> rotated_{false};  // an append created a segment: retention may apply
  absl::Status failed_ ABSL_GUARDED_BY(mu_);

  std::mutex sync_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  size_t sync_from_ ABSL_GUARDED_BY(sync_mu_) = 0;   // first segment with unsynced records
  bool flushing_ ABSL_GUARDED_BY(sync_mu_) = false;  // a leader is flushing (sync_mu_ released)
  std::condition_variable sync_cv_;                  // signalled when a flush ends

  std::mutex map_mu_;

  std::mutex compact_mu_ ABSL_ACQUIRED_BEFORE(sync_mu_);
  mutable std::mutex info_mu_;
  CollectionInfo info_ ABSL_GUARDED_BY(info_mu_);  // the manifest entry as of now

  std::unique_ptr<log::BackgroundSyncer> syncer_;  // last: stops before the rest goes
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_LOG_COLLECTION_H_
