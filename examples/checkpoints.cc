// Crash-safe checkpoints: a worker saves its state after each step and is killed (SIGKILL)
// at a random moment; the restarted worker resumes from the newest durable checkpoint, never
// from a torn or lost one. Usage: checkpoints [DIR] (default: a fresh directory under /tmp).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "recstore/recstore.h"

namespace example {

struct State {
  uint64_t step;
  uint64_t total;  // the sum of 1..step: checked on every resume
};

// Runs steps until `last`, saving the state after each one.
absl::Status Work(const std::string& dir, uint64_t last) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto ckpt, store->OpenCheckpoints("worker", {.keep = 3}));
  State s{0, 0};
  if (absl::StatusOr<State> saved = ckpt.Load<State>(); saved.ok()) {
    s = *saved;
  } else if (!absl::IsNotFound(saved.status())) {
    return saved.status();
  }
  if (s.total != s.step * (s.step + 1) / 2) return absl::DataLossError("inconsistent state");
  while (s.step < last) {
    ++s.step;
    s.total += s.step;
    RETURN_IF_ERROR(ckpt.Save(s).status());  // durable when it returns
  }
  return absl::OkStatus();
}

// The step of the newest durable checkpoint; 0 when the worker was killed before its first.
absl::StatusOr<uint64_t> Reached(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<recstore::Store>> store =
      recstore::Store::Open(dir, {.read_only = true});
  if (absl::IsNotFound(store.status())) return 0;  // killed before the store existed
  if (!store.ok()) return store.status();
  absl::StatusOr<recstore::Checkpoints> ckpt =
      (*store)->OpenCheckpoints("worker", {.create_if_missing = false});
  if (absl::IsNotFound(ckpt.status())) return 0;
  if (!ckpt.ok()) return ckpt.status();
  absl::StatusOr<State> s = ckpt->Load<State>();
  if (absl::IsNotFound(s.status())) return 0;
  if (!s.ok()) return s.status();
  if (s->total != s->step * (s->step + 1) / 2) return absl::DataLossError("inconsistent state");
  return s->step;
}

absl::Status Run(const std::string& dir) {
  constexpr uint64_t kLast = 2000;
  srand(static_cast<unsigned>(getpid()));
  for (int kill_round = 0; kill_round < 5; ++kill_round) {
    pid_t child = fork();
    if (child == 0) _exit(Work(dir, kLast).ok() ? 0 : 1);
    usleep(static_cast<useconds_t>(2000 + rand() % 30'000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      return absl::InternalError("the worker failed");
    }
    ASSIGN_OR_RETURN(uint64_t step, Reached(dir));
    std::printf("killed worker %d: its newest checkpoint is step %llu\n", kill_round,
                static_cast<unsigned long long>(step));
  }
  RETURN_IF_ERROR(Work(dir, kLast));  // resume once more and finish
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.read_only = true}));
  ASSIGN_OR_RETURN(auto ckpt, store->OpenCheckpoints("worker"));
  ASSIGN_OR_RETURN(State s, ckpt.Load<State>());
  std::printf("finished: step %llu, total %llu\n", static_cast<unsigned long long>(s.step),
              static_cast<unsigned long long>(s.total));
  if (s.step != kLast || s.total != kLast * (kLast + 1) / 2) {
    return absl::InternalError("the final state is wrong");
  }
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    char pattern[] = "/tmp/checkpoints.XXXXXX";
    dir = (tmp != nullptr ? std::string(tmp) : std::string(mkdtemp(pattern))) + "/store";
  }
  if (absl::Status s = example::Run(dir); !s.ok()) {
    std::fprintf(stderr, "checkpoints: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
