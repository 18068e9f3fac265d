// The one failed state of a writable collection. Only a failed flush (fdatasync or fsync) puts
// a log in it: after a failed write-back the kernel may have dropped the dirty pages, so no
// later flush can be trusted to make the records durable. From then on every write answers
// FailedPrecondition carrying the original cause; reads keep working.
#ifndef RECSTORE_SRC_LOG_FAIL_STATE_H_
#define RECSTORE_SRC_LOG_FAIL_STATE_H_

#include <atomic>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "src/base/mutex.h"

namespace recstore::log {

class FailState {
 public:
  explicit FailState(std::string collection) : collection_(std::move(collection)) {}

  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // OK, or FailedPrecondition naming the collection and carrying the cause: its code and
  // message in the message, and the cause's code as the payload kCausePayload.
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (!failed()) [[likely]]
      return absl::OkStatus();
    return FailedStatus();
  }
  // The first cause sticks.
  void Fail(const absl::Status& cause) ABSL_LOCKS_EXCLUDED(mu_);

  // Payload key of the failed state's status: the cause's absl::StatusCode, as decimal text.
  static constexpr char kCausePayload[] = "recstore/cause-code";

 private:
  absl::Status FailedStatus() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string collection_;
  std::atomic<bool> failed_{false};
  mutable base::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_FAIL_STATE_H_
