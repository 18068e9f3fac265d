#include "src/log/segment_table.h"

#include <cstdlib>

namespace recstore::log {

SegmentTable::~SegmentTable() {
  for (size_t b = 0; b < kMaxBlocks; ++b) {
    Entry* block = blocks_[b].load(std::memory_order_relaxed);
    if (block == nullptr) break;
    for (size_t i = 0; i < kBlock; ++i) delete block[i].segment.load(std::memory_order_relaxed);
    delete[] block;
  }
}

void SegmentTable::Push(uint64_t first_seq, std::unique_ptr<Segment> segment) {
  size_t i = size_.load(std::memory_order_relaxed);
  if (i / kBlock >= kMaxBlocks) std::abort();  // 4M segments: far beyond any segment size
  Entry* block = blocks_[i / kBlock].load(std::memory_order_relaxed);
  if (block == nullptr) {
    block = new Entry[kBlock];
    blocks_[i / kBlock].store(block, std::memory_order_release);
  }
  Entry& e = block[i % kBlock];
  e.first_seq.store(first_seq, std::memory_order_relaxed);
  e.segment.store(segment.release(), std::memory_order_release);
  size_.store(i + 1, std::memory_order_release);
}

void SegmentTable::PopBack() {
  size_t i = size_.load(std::memory_order_relaxed) - 1;
  size_.store(i, std::memory_order_release);
  Entry& e = at(i);
  delete e.segment.exchange(nullptr, std::memory_order_acq_rel);
}

void SegmentTable::Install(size_t i, std::unique_ptr<Segment> segment) {
  at(i).segment.store(segment.release(), std::memory_order_release);
}

size_t SegmentTable::Find(uint64_t seq) const {
  size_t n = size();
  size_t lo = 0, hi = n;  // invariant: answer in [lo-1, hi)
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).first_seq.load(std::memory_order_relaxed) <= seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? n : lo - 1;
}

}  // namespace recstore::log
