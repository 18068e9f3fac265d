#include "src/log/segment_table.h"

#include <algorithm>

namespace recstore::log {

uint64_t CompactedPart::LowerBound(uint64_t seq) const {
  return static_cast<uint64_t>(std::lower_bound(seqs, seqs + count, seq) - seqs);
}

size_t SegmentView::PartFor(uint64_t seq) const {
  auto it = std::partition_point(compacted.begin(), compacted.end(),
                                 [&](const auto& p) { return p->last() < seq; });
  return static_cast<size_t>(it - compacted.begin());
}

size_t SegmentView::FindDense(uint64_t seq) const {
  auto it = std::partition_point(dense.begin(), dense.end(), [&](const auto& s) {
    return s->first_seq.load(std::memory_order_relaxed) <= seq;
  });
  return it == dense.begin() ? dense.size() : static_cast<size_t>(it - dense.begin()) - 1;
}

void SegmentTable::Push(uint64_t first_seq, std::unique_ptr<Segment> segment) {
  auto next = std::make_shared<SegmentView>(*view_);
  next->dense.push_back(std::make_shared<SegmentSlot>(first_seq, std::move(segment)));
  Publish(std::move(next));
}

void SegmentTable::PopBack() {
  auto next = std::make_shared<SegmentView>(*view_);
  next->dense.pop_back();
  Publish(std::move(next));
}

void SegmentTable::Publish(std::shared_ptr<const SegmentView> view) {
  std::shared_ptr<const SegmentView> old;
  std::lock_guard<std::mutex> lock(mu_);
  old = std::exchange(view_, std::move(view));
  // `old` is released after the lock: the last release may unmap segments.
}

}  // namespace recstore::log
