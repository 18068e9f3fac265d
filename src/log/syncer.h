// SyncPolicy::kBackground: a thread that syncs a collection once enough records are pending
// or enough time has passed.
#ifndef RECSTORE_SRC_LOG_SYNCER_H_
#define RECSTORE_SRC_LOG_SYNCER_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "recstore/options.h"
#include "src/base/mutex.h"
#include "src/log/group_commit.h"
#include "src/log/published.h"

namespace recstore::log {

class BackgroundSyncer {
 public:
  // Starts the thread; `published` and `commit` must outlive this object.
  BackgroundSyncer(const Published* published, GroupCommit* commit, const SyncPolicy& policy);
  // Stops the thread (after at most one more sync).
  ~BackgroundSyncer();

  // Called after each append with the number of records not yet synced.
  void Appended(uint64_t pending) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  bool WokenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Published* const published_;
  GroupCommit* const commit_;
  const SyncPolicy policy_;
  mutable base::Mutex mu_;
  base::CondVar woken_;  // wake_ or stop_ was set
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SYNCER_H_
