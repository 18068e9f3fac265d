#include "src/log/scanner.h"

#include <algorithm>

#include "src/log/reader.h"

namespace recstore::internal {

Scanner::Scanner(std::shared_ptr<Collection> collection, uint64_t from, uint64_t limit,
                 bool reverse)
    : collection_(std::move(collection)), requested_(from), from_(from), reverse_(reverse) {
  if (collection_ == nullptr) {
    status_ = absl::FailedPreconditionError("scan of a log handle that is not open");
    return;
  }
  snap_ = collection_->Pin();
  snap_.end = std::min(snap_.end, limit);
  from_ = std::max(from, snap_.set->state.first_seq);
  next_ = reverse_ ? snap_.end : from_;
  spans_.reserve(reverse_ ? 1 : log::kBatchRecords);
}

void Scanner::Next(ScanBase::Batch* batch) {
  batch->count = 0;
  if (reverse_) return NextReverse(batch);
  if (!status_.ok() || snap_.set == nullptr || next_ >= snap_.end) return;
  status_ = log::NextBatch(collection_->shape(), *snap_.set, snap_.end, collection_->salvage(),
                           next_, batch, &spans_, &skipped_);
  next_ = status_.ok() && batch->count > 0 ? batch->SeqAt(batch->count - 1) + 1 : snap_.end;
}

void Scanner::NextReverse(ScanBase::Batch* batch) {
  if (!status_.ok() || snap_.set == nullptr) return;
  const log::SegmentSet& set = *snap_.set;
  const log::Shape& shape = collection_->shape();
  while (next_ > from_) {
    uint64_t seq = next_ - 1;
    if (seq < set.state.compacted_end) {
      uint64_t kept;
      if (!set.CompactedAtOrBelow(seq, &kept) || kept < from_) {
        next_ = from_;  // compaction kept nothing in [from_, next_)
        return;
      }
      seq = kept;
    }
    next_ = seq;
    absl::StatusOr<std::span<const std::byte>> r = log::GetRecord(shape, set, snap_.end, seq);
    if (!r.ok()) {
      if (collection_->salvage() && r.status().code() == absl::StatusCode::kDataLoss) {
        ++skipped_;
        continue;
      }
      status_ = r.status();
      return;
    }
    batch->first_seq = seq;
    batch->seqs = nullptr;
    batch->count = 1;
    batch->base = r->data();
    batch->stride = 0;
    batch->record_size = r->size();
    if (shape.fixed()) {
      batch->records = nullptr;
    } else {
      spans_.assign(1, *r);
      batch->records = spans_.data();
    }
    return;
  }
}

}  // namespace recstore::internal
