#include "src/log/follow.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace recstore::internal {

FollowState::FollowState(std::shared_ptr<Collection> collection, uint64_t from,
                         const FollowOptions& options)
    : collection_(std::move(collection)), options_(options), next_(from) {
  if (collection_ == nullptr) {
    Finish(absl::FailedPreconditionError("follow of a log handle that is not open"));
  }
}

void FollowState::Finish(absl::Status status) {
  done_ = true;
  status_ = std::move(status);
  scanner_.reset();
}

void FollowState::Stop() {
  stop_.store(true, std::memory_order_release);
  if (collection_ != nullptr) collection_->WakeWaiters();
}

bool FollowState::StartScan() {
  const bool durable = options_.wait.until == WaitOptions::Until::kDurable;
  scanner_ =
      std::make_unique<Scanner>(collection_, next_, durable ? collection_->durable() : UINT64_MAX);
  const Gap lost = scanner_->lost();
  if (lost.empty()) return true;
  gaps_.push_back(lost);
  if (options_.on_gap == FollowOptions::OnGap::kStop) {
    Finish(absl::OutOfRangeError(absl::StrCat(
        "records [", lost.from, ", ", lost.to, ") of collection '", collection_->shape().name(),
        "' were dropped by retention before this follow read them; it can go on from ", lost.to)));
    return false;
  }
  next_ = lost.to;
  return true;
}

void FollowState::Next(ScanBase::Batch* batch, absl::Time deadline) {
  batch->count = 0;
  while (!done_) {
    if (stop_.load(std::memory_order_acquire)) {
      Finish(absl::CancelledError("the follow was stopped"));
      return;
    }
    if (scanner_ != nullptr) {
      scanner_->Next(batch);
      if (batch->count > 0) {
        next_ = batch->SeqAt(batch->count - 1) + 1;
        return;
      }
      if (!scanner_->status().ok()) {
        Finish(scanner_->status());
        return;
      }
      // Everything below the snapshot's end was yielded or is a compaction gap.
      next_ = std::max(next_, scanner_->end());
      scanner_.reset();
    }
    absl::StatusOr<uint64_t> end = collection_->WaitFor(next_, deadline, options_.wait, &stop_);
    if (!end.ok()) {
      if (end.status().code() == absl::StatusCode::kDeadlineExceeded) return;  // call again
      Finish(end.status().code() == absl::StatusCode::kCancelled
                 ? absl::CancelledError("the follow was stopped")
                 : end.status());
      return;
    }
    if (!StartScan()) return;
  }
}

}  // namespace recstore::internal
