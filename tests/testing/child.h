// Runs code in a forked child process, the way a crash test needs: the child ends with
// _exit (or is killed), so no destructor, close or sync runs in it.
#ifndef RECSTORE_TESTS_TESTING_CHILD_H_
#define RECSTORE_TESTS_TESTING_CHILD_H_

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

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

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_CHILD_H_
