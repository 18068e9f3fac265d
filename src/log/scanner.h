// What a ScanRange holds (include/recstore/log.h): the collection, one snapshot of it, and
// where the scan is.
#ifndef RECSTORE_SRC_LOG_SCANNER_H_
#define RECSTORE_SRC_LOG_SCANNER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "recstore/log.h"
#include "src/log/collection.h"
#include "src/log/segment_set.h"

namespace recstore::internal {

class Scanner {
 public:
  // Takes the snapshot now, yielding records below `limit` at most (a follow of durable
  // records), in order, or newest first when `reverse` (one record per batch, each checked
  // as Get checks it). `collection` may be null (a handle that is not open).
  Scanner(std::shared_ptr<Collection> collection, uint64_t from, uint64_t limit = UINT64_MAX,
          bool reverse = false);

  // The next batch of verified records (count 0 at the end or on an error: see status()).
  void Next(ScanBase::Batch* batch);

  const absl::Status& status() const { return status_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t from() const { return from_; }
  uint64_t end() const { return snap_.end; }
  // [the `from` asked for, from()) when retention had dropped those records.
  Gap lost() const { return requested_ < from_ ? Gap{requested_, from_} : Gap{}; }

 private:
  std::shared_ptr<Collection> collection_;
  log::Snapshot snap_;
  uint64_t requested_ = 0;
  uint64_t from_ = 0;
  bool reverse_ = false;
  uint64_t next_ = 0;  // where the next batch starts (reverse: one past its record)
  absl::Status status_;
  uint64_t skipped_ = 0;
  std::vector<std::span<const std::byte>> spans_;  // the current batch's byte records

  void NextReverse(ScanBase::Batch* batch);
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_LOG_SCANNER_H_
