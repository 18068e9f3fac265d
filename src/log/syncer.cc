#include "src/log/syncer.h"

namespace recstore::log {

BackgroundSyncer::BackgroundSyncer(const Published* published, GroupCommit* commit,
                                   const SyncPolicy& policy)
    : published_(published), commit_(commit), policy_(policy), thread_([this] { Run(); }) {}

BackgroundSyncer::~BackgroundSyncer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void BackgroundSyncer::Appended(uint64_t pending) {
  if (policy_.every_records == 0 || pending < policy_.every_records) return;
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

bool BackgroundSyncer::WokenLocked() const { return wake_ || stop_; }

void BackgroundSyncer::Run() {
  const absl::Duration interval = policy_.every.count() > 0
                                     ? absl::Milliseconds(policy_.every.count())
                                     : absl::Hours(24);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &BackgroundSyncer::WokenLocked), interval);
      if (stop_) return;
      wake_ = false;
    }
    // A failed flush puts the collection in its failed state (appends then report it) and
    // ends the thread; any other error (a folder that cannot be opened for lack of
    // descriptors) is tried again at the next trigger.
    if (published_->end() > commit_->durable() && !commit_->Sync().ok() && commit_->failed()) {
      return;
    }
  }
}

}  // namespace recstore::log
