#include "src/log/syncer.h"

#include "absl/time/time.h"
#include "src/log/collection.h"

namespace recstore::log {

BackgroundSyncer::BackgroundSyncer(internal::Collection* collection, const SyncPolicy& policy)
    : collection_(collection), policy_(policy), thread_([this] { Run(); }) {}

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

void BackgroundSyncer::Run() {
  const absl::Duration interval =
      policy_.every.count() > 0 ? absl::Milliseconds(policy_.every.count()) : absl::Hours(24);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), interval);
      if (stop_) return;
      wake_ = false;
    }
    // A failure puts the collection in its failed state; appends then report it.
    if (collection_->pending() > 0 && !collection_->Sync().ok()) return;
  }
}

}  // namespace recstore::log
