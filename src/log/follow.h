// What a FollowRange holds (include/recstore/log.h): the collection, where the follow is, and
// the scan of the records it has found but not yet yielded. When that scan is done it waits
// (Collection::WaitFor) for the record at its position, then scans a new snapshot from there.
#ifndef RECSTORE_SRC_LOG_FOLLOW_H_
#define RECSTORE_SRC_LOG_FOLLOW_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "recstore/log.h"
#include "src/log/collection.h"
#include "src/log/scanner.h"

namespace recstore::internal {

class FollowState {
 public:
  // `collection` may be null (a handle that is not open: the follow ends at once).
  FollowState(std::shared_ptr<Collection> collection, uint64_t from, const FollowOptions& options);

  // The owner's thread.
  void Next(ScanBase::Batch* batch, absl::Time deadline);
  bool done() const { return done_; }
  const absl::Status& status() const { return status_; }
  uint64_t position() const { return next_; }
  const std::vector<Gap>& gaps() const { return gaps_; }

  // Any thread.
  void Stop();

 private:
  void Finish(absl::Status status);
  // Starts the scan of a new snapshot at next_, handling a gap below begin().
  bool StartScan();

  const std::shared_ptr<Collection> collection_;
  const FollowOptions options_;
  uint64_t next_;
  std::unique_ptr<Scanner> scanner_;
  std::atomic<bool> stop_{false};
  bool done_ = false;
  absl::Status status_;
  std::vector<Gap> gaps_;
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_LOG_FOLLOW_H_
