// The Env of the concurrent history (history_test.cc).
//
// The history checks what readers see while the writer works, not what survives a power loss
// (the crash tests check that). So its writer's syncs sleep briefly instead of flushing: a fast
// disk. Segments then rotate often, and a thread that synced wakes up as after a real flush,
// taking a core from a reader at a random point (which is how a follower's Get lands between
// its two reads of the log's state). A read-only store's folder listings are sometimes slow,
// so a Refresh that read one manifest lists the folder after the writer moved on.
#ifndef RECSTORE_TESTS_LOG_HISTORY_ENV_H_
#define RECSTORE_TESTS_LOG_HISTORY_ENV_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/store.h"
#include "tests/testing/fault_env.h"
#include "tests/testing/open_store.h"

namespace recstore::testing::history {

struct EnvTiming {
  // Each fdatasync, fsync and folder fsync sleeps this long instead (< 0: real syncs).
  int64_t sync_us = -1;
  // One folder listing in `slow_list_one_in` (0: none) takes `slow_list_us` longer.
  uint32_t slow_list_one_in = 0;
  int64_t slow_list_us = 0;
};

class HistoryEnv : public FaultEnv {
 public:
  explicit HistoryEnv(EnvTiming timing) : timing_(timing) {}

  absl::Status SyncData(int fd, const std::string& path) override {
    if (timing_.sync_us < 0) return FaultEnv::SyncData(fd, path);
    return Sleep(timing_.sync_us);
  }
  absl::Status SyncAll(int fd, const std::string& path) override {
    if (timing_.sync_us < 0) return FaultEnv::SyncAll(fd, path);
    return Sleep(timing_.sync_us);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    if (timing_.slow_list_one_in > 0 && lists_.fetch_add(1) % timing_.slow_list_one_in == 0) {
      ++slow_lists_;
      Sleep(timing_.slow_list_us).IgnoreError();
    }
    return FaultEnv::ListDir(path);
  }

  uint64_t slow_lists() const { return slow_lists_.load(); }

 private:
  static absl::Status Sleep(int64_t us) {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
    return absl::OkStatus();
  }

  const EnvTiming timing_;
  std::atomic<uint64_t> lists_{0};
  std::atomic<uint64_t> slow_lists_{0};
};

}  // namespace recstore::testing::history

#endif  // RECSTORE_TESTS_LOG_HISTORY_ENV_H_
