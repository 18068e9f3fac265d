// The segments of one collection, as immutable views that readers pin.
//
// A view lists the collection's compacted segments (below compacted_end) and its ordinary
// ("dense") segments in record order. The writer changes the table by publishing a new view
// (copy, change, publish) under the collection's locks; a reader loads the current view and
// keeps it, and with it every segment it names, mapped for as long as it holds it. Segment
// slots are shared between views, so a segment mapped lazily through one view is mapped for
// all of them, and it is unmapped when the last view naming it goes.
#ifndef RECSTORE_SRC_LOG_SEGMENT_TABLE_H_
#define RECSTORE_SRC_LOG_SEGMENT_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "src/log/segment.h"

namespace recstore::log {

// One ordinary segment file. The segment is null until first mapped (segments are mapped
// lazily on open).
struct SegmentSlot {
  SegmentSlot(uint64_t first, std::unique_ptr<Segment> s)
      : first_seq(first), segment(s.release()) {}
  ~SegmentSlot() { delete segment.load(std::memory_order_relaxed); }
  SegmentSlot(const SegmentSlot&) = delete;
  SegmentSlot& operator=(const SegmentSlot&) = delete;

  std::atomic<uint64_t> first_seq;
  std::atomic<Segment*> segment;
};

// One compacted segment: mapped and checked when it joins a view, immutable.
struct CompactedPart {
  std::unique_ptr<Segment> segment;
  uint64_t count = 0;              // records
  uint64_t data_end = 0;           // offset of the sequence-number array
  const uint64_t* seqs = nullptr;  // count entries, increasing

  uint64_t first() const { return seqs[0]; }
  uint64_t last() const { return seqs[count - 1]; }
  // Index of the first record whose sequence number is >= seq (count if none).
  uint64_t LowerBound(uint64_t seq) const;
};

struct SegmentView {
  uint64_t first_seq = 0;      // the collection's first live record
  uint64_t compacted_end = 0;  // records below live in `compacted` (or were removed)
  uint64_t generation = 0;     // compaction generation of `compacted`
  std::vector<std::shared_ptr<const CompactedPart>> compacted;  // in record order
  std::vector<std::shared_ptr<SegmentSlot>> dense;              // in record order

  // Index of the compacted part holding `seq` or the first one after it; compacted.size()
  // if none.
  size_t PartFor(uint64_t seq) const;
  // Index of the last dense slot whose first_seq <= seq; dense.size() if none.
  size_t FindDense(uint64_t seq) const;
};

class SegmentTable {
 public:
  SegmentTable() : view_(std::make_shared<SegmentView>()) {}
  SegmentTable(const SegmentTable&) = delete;
  SegmentTable& operator=(const SegmentTable&) = delete;

  // Readers: the current view; holding it keeps its segments mapped.
  std::shared_ptr<const SegmentView> Load() const {
    std::lock_guard<std::mutex> lock(mu_);
    return view_;
  }

  // Writer only (the collection's writer lock held, or before readers exist): the current
  // view and its dense slots.
  const SegmentView& current() const { return *view_; }
  size_t size() const { return view_->dense.size(); }
  SegmentSlot& at(size_t i) const { return *view_->dense[i]; }

  // Writer only. Adds a dense slot at the end; `segment` may be null (mapped later).
  void Push(uint64_t first_seq, std::unique_ptr<Segment> segment);
  // Writer only. Removes the last dense slot.
  void PopBack();
  // Writer only. Makes `view` the current one.
  void Publish(std::shared_ptr<const SegmentView> view);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const SegmentView> view_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SEGMENT_TABLE_H_
