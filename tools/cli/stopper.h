// Ending a follow from outside the thread that iterates it: on SIGINT or SIGTERM, and when
// the reader of standard output goes away (a pipe whose read end closed, a terminal hung
// up), so that `recstore tail --follow | head -3` ends at once even while no record arrives.
#ifndef RECSTORE_TOOLS_CLI_STOPPER_H_
#define RECSTORE_TOOLS_CLI_STOPPER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"

namespace recstore::cli {

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later), so that
// they reach only a FollowStopper. Call before anything starts a thread.
[[nodiscard]] absl::Status BlockStopSignals();

// A thread that waits for SIGINT or SIGTERM (blocked beforehand by BlockStopSignals) and for
// an error or hang-up on standard output, and then calls `follow.Stop()`. The follow must
// outlive the stopper.
class FollowStopper {
 public:
  // Errors: the error of creating the signalfd or eventfd.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FollowStopper>> Start(
      const FollowBase& follow);
  // Ends the thread (if it still waits) and joins it.
  ~FollowStopper();
  FollowStopper(const FollowStopper&) = delete;
  FollowStopper& operator=(const FollowStopper&) = delete;

 private:
  FollowStopper(int signal_fd, int wake_fd) : signal_fd_(signal_fd), wake_fd_(wake_fd) {}
  void Run(const FollowBase& follow) const;

  int signal_fd_;
  int wake_fd_;
  std::thread thread_;
};

}  // namespace recstore::cli

#endif  // RECSTORE_TOOLS_CLI_STOPPER_H_
