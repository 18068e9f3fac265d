// Group commit: makes appended records durable, one flush at a time, shared by every caller
// that waits for it, and records each durable point in the segments' commit blocks.
//
// It tracks each segment that may hold unsynced records, keyed by the segment itself (not by
// a position in a list that retention or compaction could shift): a segment joins when it is
// created (or, at open, when recovery leaves it the newest) and leaves once it is full and
// every record in it is durable. Only the newest keeps its descriptor open; a flush reopens
// the others by name (the writer owns the folder; Segment::Reopen checks the file is the one
// mapped). So a writer holds one descriptor however many segments it fills between syncs.
#ifndef RECSTORE_SRC_LOG_GROUP_COMMIT_H_
#define RECSTORE_SRC_LOG_GROUP_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/log/fail_state.h"
#include "src/log/published.h"
#include "src/log/segment.h"
#include "src/log/shape.h"
#include "src/os/file.h"

namespace recstore::log {

class GroupCommit {
 public:
  // `shape`, `published` and `fail` must outlive this object.
  GroupCommit(const Shape& shape, const Published* published, FailState* fail);

  // At open, once recovery made everything kept durable: records below `durable` are durable,
  // `flushed` are the segments recovery flushed (in record order; the last one the newest,
  // flushed through `file`). Records the durable point in their commit blocks (sealing the
  // full ones) and keeps the newest.
  void Start(uint64_t durable, std::vector<std::shared_ptr<const Segment>> flushed, os::File file)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Adds `segment`, whose records are flushed through `file`. `created`: its name is new, so
  // the next flush syncs the folder too. Called before any record of it is published.
  void Track(std::shared_ptr<const Segment> segment, os::File file, bool created)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes a segment that never held a record (its creation was undone).
  void Untrack(const Segment* segment) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes every record published before the call durable; returns the durable end. See
  // LogBase::Sync for the errors. A failed fdatasync or folder fsync puts the log in its
  // failed state; a folder that cannot be opened (EMFILE, ...) is an error to return, and the
  // next Sync tries again.
  absl::StatusOr<uint64_t> Sync() ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  // Whether a flush failed, for good (FailState).
  bool failed() const { return fail_->failed(); }

 private:
  struct Tracked {
    std::shared_ptr<const Segment> segment;
    std::shared_ptr<os::File> file;  // the newest segment's descriptor; null for the others
  };
  // Writes the commit blocks of `files` (in record order) for records durable up to `end`.
  void WriteCommits(const std::vector<std::shared_ptr<Tracked>>& files, uint64_t end) const;
  // Drops the segments of `files` that are full and durable up to `end`.
  void DropSealedLocked(const std::vector<std::shared_ptr<Tracked>>& files, uint64_t end)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Shape& shape_;
  const Published* const published_;
  FailState* const fail_;
  std::atomic<uint64_t> durable_{0};

  base::Mutex mu_;
  base::CondVar flushed_;                        // a flush ended
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;   // a leader is flushing (mu_ released)
  bool dir_dirty_ ABSL_GUARDED_BY(mu_) = false;  // names created since the last flush
  std::vector<std::shared_ptr<Tracked>> pending_ ABSL_GUARDED_BY(mu_);  // in record order
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_GROUP_COMMIT_H_
