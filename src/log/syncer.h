// SyncPolicy::kBackground: a thread that syncs a collection once enough records are pending
// or enough time has passed.
#ifndef RECSTORE_SRC_LOG_SYNCER_H_
#define RECSTORE_SRC_LOG_SYNCER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "recstore/options.h"

namespace recstore::internal {
class Collection;
}  // namespace recstore::internal

namespace recstore::log {

class BackgroundSyncer {
 public:
  // Starts the thread; `collection` must outlive this object.
  BackgroundSyncer(internal::Collection* collection, const SyncPolicy& policy);
  // Stops the thread (after at most one more sync).
  ~BackgroundSyncer();

  // Called after each append with the number of records not yet synced.
  void Appended(uint64_t pending);

 private:
  void Run();

  internal::Collection* const collection_;
  const SyncPolicy policy_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;  // guarded by mu_
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SYNCER_H_
