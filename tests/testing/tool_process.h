// Runs a program (the command-line tool) as a child process with its standard output and
// standard error on pipes, for tests that talk to it while it runs: read its output line by
// line with a deadline, signal it, close its output, and wait for it to end in bounded time.
#ifndef RECSTORE_TESTS_TESTING_TOOL_PROCESS_H_
#define RECSTORE_TESTS_TESTING_TOOL_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace recstore::testing {

class ToolProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `path` with arguments `args` (argv[0] is `path`), stdin on /dev/null.
  ToolProcess(const std::string& path, const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    // Built before the fork: the child calls only async-signal-safe functions.
    std::vector<std::string> strings = {path};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  // Kills the child if it still runs, and reaps it.
  ~ToolProcess() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      Reap();
    }
    CloseStdout();
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  bool started() const { return pid_ > 0 && out_fd_ >= 0; }
  pid_t pid() const { return pid_; }

  // The next line (without '\n') the child wrote on stdout; nullopt at end of output or when
  // `timeout` passes first.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (true) {
      if (const size_t nl = out_.find('\n'); nl != std::string::npos) {
        std::string line = out_.substr(0, nl);
        out_.erase(0, nl + 1);
        return line;
      }
      if (out_fd_ < 0) return std::nullopt;
      pollfd p = {.fd = out_fd_, .events = POLLIN};
      const int n = ::poll(&p, 1, MillisLeft(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      ReadOnce(&out_fd_, &out_);
    }
  }

  // Closes the read end of the child's stdout: its next write fails with EPIPE.
  void CloseStdout() {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }

  void Signal(int sig) const { ::kill(pid_, sig); }

  // Waits until the child stopped on SIGSTOP.
  bool WaitStopped() const {
    int status = 0;
    while (::waitpid(pid_, &status, WUNTRACED) < 0) {
      if (errno != EINTR) return false;
    }
    return WIFSTOPPED(status);
  }

  // Reads stdout and stderr until both end (the child exited, or closed them), or until
  // `timeout` passes; then reaps the child. Returns its exit code (128 + signal if killed),
  // or nullopt on timeout (the child is still running). What it read is in out() and err().
  std::optional<int> Finish(std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      pollfd p[2] = {{.fd = out_fd_, .events = POLLIN}, {.fd = err_fd_, .events = POLLIN}};
      const int n = ::poll(p, 2, MillisLeft(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      if (p[0].revents != 0) ReadOnce(&out_fd_, &out_);
      if (p[1].revents != 0) ReadOnce(&err_fd_, &err_);
    }
    return Reap();
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  static int MillisLeft(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(left, 0));
  }

  // Appends what `*fd` has to `into`; at end of file (or an error) closes it and sets -1.
  static void ReadOnce(int* fd, std::string* into) {
    char buf[8192];
    ssize_t got;
    do {
      got = ::read(*fd, buf, sizeof(buf));
    } while (got < 0 && errno == EINTR);
    if (got > 0) {
      into->append(buf, static_cast<size_t>(got));
      return;
    }
    ::close(*fd);
    *fd = -1;
  }

  int Reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int status_ = -1;
  std::string out_;
  std::string err_;
};

// The tool a test runs: argv[1] of a test whose BUILD rule passes it
// (`args = ["$(location //tools:recstore)"]`).
inline const char*& ToolUnderTest() {
  static const char* path = nullptr;
  return path;
}

// main() of such a test: takes the tool from argv[1], then runs the tests.
inline int ToolTestMain(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) ToolUnderTest() = argv[1];
  if (ToolUnderTest() == nullptr) {
    std::fprintf(stderr, "usage: %s PATH_TO_RECSTORE\n", argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_TOOL_PROCESS_H_
