// Runs code in a forked child process, the way a crash test needs: the child ends with
// _exit (or is killed), so no destructor, close or sync runs in it. ChildProcess adds pipes
// to report to the parent and take its orders.
#ifndef RECSTORE_TESTS_TESTING_CHILD_H_
#define RECSTORE_TESTS_TESTING_CHILD_H_

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace recstore::testing {

// Runs `body` in a child and waits for it; returns the child's exit code (128 + signal if it
// was killed). `body` receives an `exit` function to call as its last act: it ends the child
// at once, before any local of `body` is destroyed, the way a crash would. If `body` returns
// instead, its locals are destroyed first (a clean close).
inline int RunInChild(const std::function<int(void (*exit)(int))>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body(&_exit));
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A child process that talks with the parent: it reports in lines and waits for one-byte
// orders, so a test can stop it at a chosen point, run something else, and let it go on.
//
//   ChildProcess child([](ChildProcess::Side& parent) {
//     parent.Report("paused");
//     if (parent.Await() != 'g') return 1;
//     ...
//     return 0;
//   });
//   EXPECT_EQ(child.ReadLine(), "paused");
//   child.Send('g');
//   EXPECT_EQ(child.Wait(), 0);
class ChildProcess {
 public:
  // The child's end of the pipes.
  class Side {
   public:
    // Sends one line (without its '\n') to the parent.
    void Report(std::string_view line) {
      std::string s(line);
      s.push_back('\n');
      const char* p = s.data();
      size_t left = s.size();
      while (left > 0) {
        const ssize_t n = ::write(report_fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
      }
    }
    // The next order from the parent; 0 if the parent is gone or gave up.
    char Await() {
      char c = 0;
      while (true) {
        const ssize_t n = ::read(order_fd_, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        return n == 1 ? c : 0;
      }
    }

   private:
    friend class ChildProcess;
    int report_fd_ = -1;
    int order_fd_ = -1;
  };

  // Forks a child that runs `body` and _exits with its result (no destructor or atexit
  // handler of the parent's objects runs in the child).
  explicit ChildProcess(const std::function<int(Side&)>& body) {
    int report[2], order[2];
    if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(order, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(report[0]);
      ::close(order[1]);
      Side side;
      side.report_fd_ = report[1];
      side.order_fd_ = order[0];
      ::_exit(body(side));
    }
    ::close(report[1]);
    ::close(order[0]);
    report_fd_ = report[0];
    order_fd_ = order[1];
  }
  // Sends order 0 (a child waiting for an order gives up) and waits for the child.
  ~ChildProcess() {
    if (order_fd_ >= 0) {
      if (status_ < 0) Send(0);
      ::close(order_fd_);
    }
    Wait();
    if (report_fd_ >= 0) ::close(report_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // The next line the child reported; nullopt once the child closed its end (it exited).
  std::optional<std::string> ReadLine() {
    std::string line;
    while (true) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[256];
      const ssize_t n = ::read(report_fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  void Send(char order) {
    while (::write(order_fd_, &order, 1) < 0 && errno == EINTR) {
    }
  }
  // Waits for the child; its exit code, or 128 + the signal that killed it. Once only; later
  // calls return the same.
  int Wait() {
    if (pid_ > 0 && status_ < 0) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int order_fd_ = -1;
  int status_ = -1;
  std::string buffer_;
};

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_CHILD_H_
