#include "src/log/scanner.h"

#include <algorithm>

#include "src/log/reader.h"

namespace recstore::internal {

Scanner::Scanner(std::shared_ptr<Collection> collection, uint64_t from, uint64_t limit)
    : collection_(std::move(collection)), requested_(from), from_(from) {
  if (collection_ == nullptr) {
    status_ = absl::FailedPreconditionError("scan of a log handle that is not open");
    return;
  }
  snap_ = collection_->Pin();
  snap_.end = std::min(snap_.end, limit);
  from_ = std::max(from, snap_.set->state.first_seq);
  next_ = from_;
  spans_.reserve(log::kBatchRecords);
}

void Scanner::Next(ScanBase::Batch* batch) {
  batch->count = 0;
  if (!status_.ok() || snap_.set == nullptr || next_ >= snap_.end) return;
  status_ = log::NextBatch(collection_->shape(), *snap_.set, snap_.end, collection_->salvage(),
                           next_, batch, &spans_, &skipped_);
  next_ = status_.ok() && batch->count > 0 ? batch->SeqAt(batch->count - 1) + 1 : snap_.end;
}

}  // namespace recstore::internal
