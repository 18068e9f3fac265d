// One open collection: the parts of the engine wired together, behind the handles of
// include/recstore/log.h. Each part has one job (docs/design.md section 2):
//
//   Shape        what never changes (identity, geometry, names)
//   Published    the current SegmentSet and its end: the one source of the collection's state
//   reader.h     reads as functions of one snapshot of it
//   Appender     the write path (the one publisher of a writer)
//   GroupCommit  syncs and commit blocks
//   Maintenance  retention and compaction, and the manifest switch
//   Follower     a read-only handle's Refresh (its one publisher)
//   StatePage    the page shared with other processes: a writer keeps it in step with what
//                it publishes; waiters (WaitFor, follows) sleep on it
//   recovery.h   the open: a plan, then (writers) the cut
//
// Data flows one way: recovery builds the first set; the appender, maintenance or follower
// publish later ones; readers only take snapshots.
#ifndef RECSTORE_SRC_LOG_COLLECTION_H_
#define RECSTORE_SRC_LOG_COLLECTION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recstore/log.h"
#include "recstore/options.h"
#include "src/log/appender.h"
#include "src/log/fail_state.h"
#include "src/log/follower.h"
#include "src/log/group_commit.h"
#include "src/log/maintenance.h"
#include "src/log/manifest_hook.h"
#include "src/log/published.h"
#include "src/log/shape.h"
#include "src/log/state_page.h"
#include "src/log/syncer.h"

namespace recstore::internal {

struct CollectionConfig {
  Env* env = nullptr;
  std::string dir;      // the collection's folder
  CollectionInfo info;  // its manifest entry when the open began
  bool read_only = false;
  mode_t file_mode = 0644;
  SyncPolicy sync;
  RecoveryMode recovery = RecoveryMode::kTolerateTornTail;
  bool prefault = true;
  uint32_t recycle_segments = 0;          // a writer's recycle pool size (recycle.h)
  std::shared_ptr<void> keep_alive;       // what must outlive the collection (the store's lock)
  log::ManifestHook* manifest = nullptr;  // owned by what keep_alive keeps alive
};

class Collection {
 public:
  // Opens the collection: recovery (see RecoveryMode), and for a writer the first segment of
  // an empty collection. A read-only open reads a state the manifest names consistently
  // (follower.h). Errors: see Store::OpenLog.
  static absl::StatusOr<std::shared_ptr<Collection>> Open(CollectionConfig config);
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  // The handles' calls (include/recstore/log.h has the contracts).
  absl::StatusOr<uint64_t> AppendFixed(const void* records, size_t n);
  absl::StatusOr<uint64_t> AppendBytes(const std::string_view* records, size_t n);
  absl::StatusOr<uint64_t> Sync();
  absl::Status Refresh();
  // LogBase::WaitFor; also returns Cancelled once `*stop` is true (a follow's Stop).
  absl::StatusOr<uint64_t> WaitFor(uint64_t seq, absl::Time deadline, const WaitOptions& options,
                                   const std::atomic<bool>* stop = nullptr);
  // Wakes every waiter on the collection (of every process), which then re-check.
  void WakeWaiters();
  absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq) const;
  absl::StatusOr<int64_t> AppendTime(uint64_t seq) const;
  // log::LowerBound over one snapshot.
  absl::StatusOr<uint64_t> LowerBound(
      const std::function<bool(uint64_t, std::span<const std::byte>)>& pred) const;
  // The first record appended at or after Unix second `seconds` (byte logs).
  absl::StatusOr<uint64_t> SeekAppendTime(int64_t seconds) const;
  VerifyReport Verify() const;
  absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq);
  absl::StatusOr<CompactionStats> ApplyRetention();
  absl::Status SetRetention(const RetentionPolicy& policy);
  absl::StatusOr<CompactionStats> Compact(const CompactOptions& options);
  // A snapshot that keeps its set, and every later one, alive.
  log::Snapshot Pin() const { return published_.Pin(); }

  uint64_t begin() const;
  uint64_t end() const { return published_.end(); }
  uint64_t size() const;       // live records (LogBase::size)
  uint64_t seq_count() const;  // end() - begin() (LogBase::seq_count)
  uint64_t durable() const;
  CollectionInfo info() const;
  const log::Shape& shape() const { return shape_; }
  const RecoveryReport& recovery() const { return report_; }
  bool read_only() const { return read_only_; }
  // Whether scans skip invalid records (RecoveryMode::kSalvage).
  bool salvage() const { return recovery_mode_ == RecoveryMode::kSalvage; }

 private:
  Collection(const CollectionConfig& config, std::shared_ptr<log::SegmentSet> initial);
  absl::Status CheckWritable() const;
  // After an append that succeeded: retention after a rotation, and the sync policy.
  absl::Status AfterAppend();
  // Why a wait cannot succeed any more (the log failed), or OK.
  absl::Status WaitError() const;
  // The state page waiters sleep on: the writer's own, or the one a reader found.
  std::shared_ptr<log::StatePage> WaitPage() const;

  const log::Shape shape_;
  const bool read_only_;
  const RecoveryMode recovery_mode_;
  const SyncPolicy sync_;
  const std::shared_ptr<void> keep_alive_;
  RecoveryReport report_;
  bool open_ = false;  // recovery finished: a clean close syncs
  log::FailState fail_;
  std::shared_ptr<log::StatePage> page_;  // a writer's; outlives published_, which mirrors to it
  log::Published published_;
  log::GroupCommit commit_;
  log::RecyclePool pool_;
  log::Appender appender_;
  log::Maintenance maintenance_;
  log::Follower follower_;
  std::unique_ptr<log::BackgroundSyncer> syncer_;  // last: stops before the rest goes
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_LOG_COLLECTION_H_
