// The state of one collection at one moment: an immutable SegmentSet, and the Snapshot a read
// takes of it.
//
// A SegmentSet holds the collection's changing manifest state (first live record, compaction
// generation and range, retention policy), its compacted segments (below compacted_end) and
// its ordinary ("dense") segments in record order, every one of them mapped, and the end of
// the log. It is the single holder of all of these: a writer that changes any of them builds
// a new set and publishes it (published.h); a set, once published, never changes again except
// for its end, which moves up while the set is current and freezes when the next set
// replaces it. So every record below a set's end lives in that set's segments, and a reader
// that holds a set and reads its end has a consistent view, whatever the writer does next.
#ifndef RECSTORE_SRC_LOG_SEGMENT_SET_H_
#define RECSTORE_SRC_LOG_SEGMENT_SET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "src/log/segment.h"
#include "src/log/shape.h"

namespace recstore::log {

// One compacted segment: mapped and checked when it joins a set, immutable.
struct CompactedPart {
  std::shared_ptr<const Segment> segment;
  uint64_t count = 0;              // records, at least 1
  uint64_t data_end = 0;           // offset of the sequence-number array
  const uint64_t* seqs = nullptr;  // count entries, strictly increasing
  // The first record of the generation's next compacted segment (its compacted end for the
  // last one); CollectionInfo::kUnrecorded for a segment of format version 2.
  uint64_t next = CollectionInfo::kUnrecorded;

  uint64_t first() const { return seqs[0]; }
  uint64_t last() const { return seqs[count - 1]; }
  // Index of the first record whose sequence number is >= seq (count if none).
  uint64_t LowerBound(uint64_t seq) const;
};

class SegmentSet {
 public:
  SegmentSet() = default;
  // A copy of `other`'s state and segments, with the end it has now.
  SegmentSet(const SegmentSet& other);
  SegmentSet& operator=(const SegmentSet&) = delete;
  // Releases the chain of later sets without deep recursion.
  ~SegmentSet();

  CollectionState state;
  std::vector<std::shared_ptr<const CompactedPart>> compacted;  // in record order
  std::vector<std::shared_ptr<const Segment>> dense;            // in record order, all mapped

  // One past the last record; see the file comment. Written only by the collection's one
  // publisher.
  uint64_t end() const { return end_.load(std::memory_order_acquire); }
  void set_end(uint64_t end) const { end_.store(end, std::memory_order_release); }

  // Index of the compacted part holding `seq` or the first one after it; compacted.size()
  // if none.
  size_t PartFor(uint64_t seq) const;
  // The largest sequence number at or below `seq` that a compacted part holds, in *out;
  // false if none does.
  bool CompactedAtOrBelow(uint64_t seq, uint64_t* out) const;
  // Index of the last dense segment whose first record is <= seq; dense.size() if none.
  size_t FindDense(uint64_t seq) const;
  // One past the last record of dense segment `i` when the log ends at `end`.
  uint64_t DenseEnd(size_t i, uint64_t end) const;

 private:
  friend class Published;
  mutable std::atomic<uint64_t> end_{0};
  // The set that replaced this one: a pin on this set keeps every later set, and so every
  // segment mapped since, alive (log.h: what Get returns stays valid while an earlier pin
  // exists). Set once, by the publisher, when it replaces this set; read when the set goes.
  // Every access holds *chain_mu_, which all sets of a collection share.
  mutable std::shared_ptr<const SegmentSet> successor_;
  std::shared_ptr<std::mutex> chain_mu_;
};

// What one read works on: a set and its end, taken at one moment. Holding it keeps the set's
// segments (and those of every later set) mapped.
struct Snapshot {
  std::shared_ptr<const SegmentSet> set;
  uint64_t end = 0;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SEGMENT_SET_H_
