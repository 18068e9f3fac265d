// The segments of one collection in record order. One writer appends entries (under the
// collection's lock); readers look entries up without locks. Entries never move, so a
// reader's pointer stays valid while the table lives.
#ifndef RECSTORE_SRC_LOG_SEGMENT_TABLE_H_
#define RECSTORE_SRC_LOG_SEGMENT_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "src/log/segment.h"

namespace recstore::log {

class SegmentTable {
 public:
  struct Entry {
    std::atomic<uint64_t> first_seq{0};
    // Null until the segment is first mapped (segments are mapped lazily on open).
    std::atomic<Segment*> segment{nullptr};
  };

  SegmentTable() = default;
  SegmentTable(const SegmentTable&) = delete;
  SegmentTable& operator=(const SegmentTable&) = delete;
  ~SegmentTable();

  size_t size() const { return size_.load(std::memory_order_acquire); }
  Entry& at(size_t i) const {
    return blocks_[i / kBlock].load(std::memory_order_acquire)[i % kBlock];
  }

  // Writer only. Adds an entry; `segment` may be null (mapped later). The table owns it.
  void Push(uint64_t first_seq, std::unique_ptr<Segment> segment);
  // Writer only. Removes the last entry; no reader may hold its segment.
  void PopBack();
  // Sets the segment of an entry that had none; the table owns it.
  void Install(size_t i, std::unique_ptr<Segment> segment);

  // Index of the last entry whose first_seq <= seq; size() if there is none.
  size_t Find(uint64_t seq) const;

 private:
  static constexpr size_t kBlock = 1024;
  static constexpr size_t kMaxBlocks = 4096;  // 4M segments

  std::atomic<size_t> size_{0};
  std::unique_ptr<std::atomic<Entry*>[]> blocks_ { new std::atomic<Entry*>[ kMaxBlocks ]() };
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SEGMENT_TABLE_H_
