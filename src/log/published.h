// The one place a collection's current SegmentSet lives, and how readers reach it.
//
// Readers call Read (no reference count: a hazard pointer keeps the set alive for the call)
// or Pin (a counted Snapshot that keeps the set alive until released). Either way they get a
// set and an end taken at one moment, which is all a read may use. The publisher (the
// collection's writer, or the follower of a read-only handle, under its own lock) moves the
// end with PublishEnd and replaces the set with Publish.
#ifndef RECSTORE_SRC_LOG_PUBLISHED_H_
#define RECSTORE_SRC_LOG_PUBLISHED_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "src/base/mutex.h"
#include "src/log/hazard.h"
#include "src/log/segment_set.h"
#include "src/log/state_page.h"

namespace recstore::log {

class Published {
 public:
  explicit Published(std::shared_ptr<SegmentSet> initial);
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // Readers (any thread). Calls fn(set, end) with the current set and its end, read at one
  // moment, and returns what fn returns. The set stays valid during the call only; fn must
  // not call back into the collection.
  template <typename Fn>
  auto Read(Fn&& fn) const {
    HazardGuard guard;
    if (guard.ok()) {
      const SegmentSet* set = guard.Protect(current_);
      return fn(*set, set->end());
    }
    Snapshot snap = Pin();
    return fn(*snap.set, snap.end);
  }
  // The current set and its end, kept alive (with every later set) while held.
  Snapshot Pin() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t end() const {
    return Read([](const SegmentSet&, uint64_t end) { return end; });
  }

  // The publisher only (one at a time, under its own lock).
  // The current set, which only the publisher replaces.
  const SegmentSet& current() const { return *current_.load(std::memory_order_relaxed); }
  void PublishEnd(uint64_t end) const {
    current().set_end(end);
    if (mirror_ != nullptr) mirror_->PublishEnd(end);
  }
  // Makes `next` current. Its end is set to the current end, which freezes in the set it
  // replaces: `next` must hold every record the current set holds from next->state's first
  // live record on. Sets that no reader announces any more are released.
  void Publish(std::shared_ptr<SegmentSet> next) ABSL_LOCKS_EXCLUDED(mu_);
  // After a Publish that retired segments: waits a little for readers still inside a Read of
  // a replaced set, so that its segments are unmapped promptly (pins may keep them longer).
  void ReleaseReplaced() ABSL_LOCKS_EXCLUDED(mu_);

  // A writer's state page, kept in step with what is published here: PublishEnd stores the
  // end in it and Publish moves its generation (after the manifest named the new state, as
  // every caller of Publish ensures). Set once by the opener, before anything is published;
  // null (readers, or a writer whose page could not be made) keeps nothing in step.
  void set_mirror(StatePage* page) { mirror_ = page; }
  StatePage* mirror() const { return mirror_; }

 private:
  void ReclaimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::atomic<const SegmentSet*> current_;
  StatePage* mirror_ = nullptr;
  mutable base::Mutex mu_;
  std::shared_ptr<const SegmentSet> owner_ ABSL_GUARDED_BY(mu_);  // owns current_
  // Replaced sets that a reader may still announce.
  std::vector<std::shared_ptr<const SegmentSet>> replaced_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_PUBLISHED_H_
