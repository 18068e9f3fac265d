#include "tools/cli/stopper.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "fmt/core.h"

namespace recstore::cli {

namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

absl::Status ErrnoError(std::string_view what, int err) {
  return absl::InternalError(fmt::format("{}: {}", what, std::strerror(err)));
}

}  // namespace

absl::Status BlockStopSignals() {
  const sigset_t set = StopSignals();
  if (const int err = pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0) {
    return ErrnoError("cannot block SIGINT and SIGTERM", err);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FollowStopper>> FollowStopper::Start(const FollowBase& follow) {
  const sigset_t set = StopSignals();
  const int signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (signal_fd < 0) return ErrnoError("signalfd", errno);
  const int wake_fd = eventfd(0, EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int err = errno;
    close(signal_fd);
    return ErrnoError("eventfd", err);
  }
  std::unique_ptr<FollowStopper> stopper(new FollowStopper(signal_fd, wake_fd));
  stopper->thread_ = std::thread([s = stopper.get(), &follow] { s->Run(follow); });
  return stopper;
}

FollowStopper::~FollowStopper() {
  const uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(wake_fd_);
  close(signal_fd_);
}

void FollowStopper::Run(const FollowBase& follow) const {
  // Standard output is watched for POLLERR and POLLHUP only (poll reports them unasked): a
  // pipe's write end shows POLLERR once no reader is left, a terminal POLLHUP on hang-up;
  // regular files and /dev/null show neither.
  pollfd fds[3] = {{.fd = signal_fd_, .events = POLLIN},
                   {.fd = wake_fd_, .events = POLLIN},
                   {.fd = STDOUT_FILENO, .events = 0}};
  while (true) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;  // nothing could stop the follow any more: end it now
    }
    if (fds[1].revents != 0) return;  // the follow ended by itself
    if (fds[0].revents != 0 || (fds[2].revents & (POLLERR | POLLHUP)) != 0) break;
    if ((fds[2].revents & POLLNVAL) != 0) fds[2].fd = -1;  // not a descriptor poll can watch
  }
  follow.Stop();
}

}  // namespace recstore::cli
