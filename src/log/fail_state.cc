#include "src/log/fail_state.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace recstore::log {

absl::Status FailState::FailedStatus() const {
  base::MutexLock lock(&mu_);
  return status_;
}

void FailState::Fail(const absl::Status& cause) {
  base::MutexLock lock(&mu_);
  if (failed()) return;
  status_ = absl::FailedPreconditionError(
      absl::StrCat("collection '", collection_, "' refuses writes after a failed sync (",
                   absl::StatusCodeToString(cause.code()), ": ", cause.message(),
                   "); reopen the store to recover what was durable"));
  status_.SetPayload(kCausePayload, absl::Cord(absl::StrCat(static_cast<int>(cause.code()))));
  failed_.store(true, std::memory_order_release);
}

}  // namespace recstore::log
