#include "src/log/syncer.h"

#include <chrono>

#include "src/log/collection.h"

namespace recstore::log {

BackgroundSyncer::BackgroundSyncer(internal::Collection* collection, const SyncPolicy& policy)
    : collection_(collection), policy_(policy), thread_([this] { Run(); }) {}

BackgroundSyncer::~BackgroundSyncer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void BackgroundSyncer::Appended(uint64_t pending) {
  if (policy_.every_records == 0 || pending < policy_.every_records) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void BackgroundSyncer::Run() {
  const auto interval = policy_.every.count() > 0
                            ? std::chrono::milliseconds(policy_.every)
                            : std::chrono::milliseconds(std::chrono::hours(24));
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, interval, [this] { return wake_ || stop_; });
      if (stop_) return;
      wake_ = false;
    }
    // A failure puts the collection in its failed state; appends then report it.
    if (collection_->pending() > 0 && !collection_->Sync().ok()) return;
  }
}

}  // namespace recstore::log
