// A read-only handle following the collection another process writes: its consistent open
// and Refresh.
//
// The writer removes the files of a state (a retention's dropped segments, a compaction's
// old generation) only after the manifest names the next state. So a reader that lists and
// maps the files of the state the manifest names, and then finds the manifest still naming
// that state, has all of them; if the manifest moved on meanwhile, it tries again. The same
// holds for a segment a Refresh looks for past its view: the file is missing either because
// the writer has not created it yet, or because it was created and then retired after the
// manifest was read; only a manifest still naming the same state afterwards tells the first
// case, and otherwise the Refresh follows the new state.
//
// The writer's state page (state_page.h) makes the common Refresh cheap: the page's epoch and
// generation are read before the manifest, and while both stay the same no file of the
// collection and no manifest state changed, so a Refresh only scans the mapped tail segment
// for new records. The page is only trusted to say "nothing changed in the files": whatever
// it says, the records come from the segments, checked as always.
#ifndef RECSTORE_SRC_LOG_FOLLOWER_H_
#define RECSTORE_SRC_LOG_FOLLOWER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "recstore/options.h"
#include "src/base/mutex.h"
#include "src/log/manifest_hook.h"
#include "src/log/published.h"
#include "src/log/recovery.h"
#include "src/log/recycle.h"
#include "src/log/shape.h"
#include "src/log/state_page.h"
#include "src/log/tail_scan.h"

namespace recstore::log {

// How many times a reader reads the manifest before it gives up on a writer that changes the
// collection each time (Unavailable).
inline constexpr int kFollowAttempts = 50;

// Plans a read-only open of the collection in the state the manifest names (`state` is the
// one the caller read; `hook` re-reads it), as described above. Errors: those of
// PlanRecovery; NotFound when the collection was dropped; Unavailable after kFollowAttempts
// states that changed under the plan.
// Every segment it maps is pinned through `pins` (may be null; recycle.h).
absl::StatusOr<RecoveryPlan> PlanReadOnly(const Shape& shape, ManifestHook* hook,
                                          CollectionState state, RecoveryMode mode,
                                          ReaderPins* pins);

class Follower {
 public:
  // Everything passed in must outlive the follower.
  Follower(const Shape& shape, Published* published, ManifestHook* hook, bool salvage);

  // Where the open's plan left the log; `pins` (may be null) pin every segment mapped from
  // now on, as they pinned the plan's.
  void Start(const RecoveryPlan& plan, std::shared_ptr<ReaderPins> pins) ABSL_LOCKS_EXCLUDED(mu_);
  // Picks up the writer's new state (if the manifest changed), new segments and new records,
  // and publishes them. See LogBase::Refresh.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_);
  // The writer's state page, once one was found (null before).
  std::shared_ptr<StatePage> page() const ABSL_LOCKS_EXCLUDED(mu_);
  // The durable end the writer reported in the page (capped at the published end), and
  // whether it reported a failed flush; as of the last Refresh.
  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  bool writer_failed() const { return writer_failed_.load(std::memory_order_acquire); }

 private:
  absl::Status FollowManifestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Scans from the tail on and publishes what it finds. Returns true when it stopped because
  // the file of the next segment was not there.
  // `files_changed` false: the page's generation says no segment file was created or
  // replaced since the last full refresh, so the scan stays in the view's segments (it does
  // not look for the next file, nor for a newest segment replaced under its name).
  absl::StatusOr<bool> ScanLocked(bool files_changed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The full refresh: the manifest, then the scan.
  absl::Status FollowAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Notes what the page says once the view is up to date.
  void NoteWords(const StatePage::Words& words) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The segment starting at `first`, if the writer has created it: appended to the set.
  absl::StatusOr<bool> AddNewSegmentLocked(uint64_t first) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The newest segment replaced under its name (an empty segment swapped for a larger one).
  absl::Status FollowReplacedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Shape& shape_;
  Published* const published_;
  ManifestHook* const hook_;
  const bool salvage_;

  mutable base::Mutex mu_;
  std::shared_ptr<const Segment> tail_ ABSL_GUARDED_BY(mu_);  // null: no segment yet
  TailPosition pos_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<StatePage> page_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ReaderPins> pins_ ABSL_GUARDED_BY(mu_);
  // The page's epoch and generation read before the last full refresh that succeeded.
  bool seen_valid_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t seen_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seen_generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> durable_{0};
  std::atomic<bool> writer_failed_{false};
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_FOLLOWER_H_
