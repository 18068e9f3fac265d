#include "src/log/published.h"

#include <mutex>
#include <thread>

namespace recstore::log {

Published::Published(std::shared_ptr<SegmentSet> initial)
    : current_(initial.get()), owner_(initial) {
  initial->chain_mu_ = std::make_shared<std::mutex>();
}

Snapshot Published::Pin() const {
  base::MutexLock lock(&mu_);
  Snapshot snap;
  snap.set = owner_;
  snap.end = owner_->end();
  return snap;
}

void Published::Publish(std::shared_ptr<SegmentSet> next) {
  base::MutexLock lock(&mu_);
  next->set_end(owner_->end());
  next->chain_mu_ = owner_->chain_mu_;
  {
    std::lock_guard<std::mutex> chain(*owner_->chain_mu_);
    owner_->successor_ = next;
  }
  current_.store(next.get(), std::memory_order_seq_cst);
  replaced_.push_back(std::exchange(owner_, std::move(next)));
  ReclaimLocked();
  if (mirror_ != nullptr) mirror_->BumpGeneration();
}

void Published::ReclaimLocked() {
  std::erase_if(replaced_,
                [](const std::shared_ptr<const SegmentSet>& s) { return !AnyGuardHolds(s.get()); });
}

void Published::ReleaseReplaced() {
  // Reads under a guard are short (one record); a few yields cover them.
  for (int i = 0; i < 1000; ++i) {
    {
      base::MutexLock lock(&mu_);
      ReclaimLocked();
      if (replaced_.empty()) return;
    }
    std::this_thread::yield();
  }
}

}  // namespace recstore::log
