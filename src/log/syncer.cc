#include "src/log/syncer.h"

#include <chrono>

namespace recstore::log {

BackgroundSyncer::BackgroundSyncer(const Published* published, GroupCommit* commit,
                                   const SyncPolicy& policy)
    : published_(published), commit_(commit), policy_(policy), thread_([this] { Run(); }) {}

BackgroundSyncer::~BackgroundSyncer() {
  {
    base::MutexLock lock(&mu_);
    stop_ = true;
  }
  woken_.SignalAll();
  thread_.join();
}

void BackgroundSyncer::Appended(uint64_t pending) {
  if (policy_.every_records == 0 || pending < policy_.every_records) return;
  {
    base::MutexLock lock(&mu_);
    wake_ = true;
  }
  woken_.SignalAll();
}

bool BackgroundSyncer::WokenLocked() const { return wake_ || stop_; }

void BackgroundSyncer::Run() {
  const std::chrono::milliseconds interval =
      policy_.every.count() > 0 ? policy_.every : std::chrono::hours(24);
  while (true) {
    {
      base::MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + interval;
      while (!WokenLocked()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        woken_.WaitFor(&mu_, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - now + std::chrono::milliseconds(1)));
      }
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
