// The write path of a collection: places records in the newest segment, creates segments as
// they fill, and publishes each append with one release store of the set's end.
//
// The appender's lock is the collection's writer lock: every change to the published set
// (rotation here, retention and compaction through Replace) happens under it, so there is
// one publisher. The log's end is the current set's end and nothing else; the records of the
// newest segment are end - its first sequence number.
#ifndef RECSTORE_SRC_LOG_APPENDER_H_
#define RECSTORE_SRC_LOG_APPENDER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "src/base/mutex.h"
#include "src/log/fail_state.h"
#include "src/log/group_commit.h"
#include "src/log/published.h"
#include "src/log/recycle.h"
#include "src/log/shape.h"

namespace recstore::log {

class Appender {
 public:
  // Everything passed in must outlive the appender.
  // New segments of the collection's segment size come from `pool` when it has a free file.
  Appender(const Shape& shape, Published* published, GroupCommit* commit, const FailState* fail,
           bool prefault, RecyclePool* pool);

  // At open, after recovery: variable-size records: the offset just past the newest
  // segment's last frame.
  void Start(uint64_t data_end) ABSL_LOCKS_EXCLUDED(mu_);

  // See Log<T>::AppendBatch and ByteLog::AppendBatch. Segments a batch needs are all created,
  // and the disk space it writes reserved (Segment::Reserve), before anything is written, so
  // a failure (ResourceExhausted on a full disk) leaves the log as it was.
  absl::StatusOr<uint64_t> AppendFixed(const void* records, size_t n) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<uint64_t> AppendBytes(const std::string_view* records, size_t n)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether an append created a segment since the last call (retention may apply).
  bool TakeRotated() {
    return rotated_.load(std::memory_order_relaxed) && rotated_.exchange(false);
  }

  // Under the writer lock, publishes the set `next(current)` returns; no append publishes
  // in between. Returns what the callback returned (null: nothing was published).
  std::shared_ptr<const SegmentSet> Replace(
      const std::function<std::shared_ptr<SegmentSet>(const SegmentSet& current)>& next)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The first record of the segment appends go to, and a snapshot, at one moment.
  Snapshot ActiveStart(uint64_t* first) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Pre-fault this far ahead of the writer, in steps of half of it.
  static constexpr uint64_t kPrefaultAhead = 1 << 20;

  // A segment an append needs: where it starts, its capacity, and the space the append will
  // write in it ([0, front_end) and [back_begin, capacity); Segment::Reserve).
  struct NewSegment {
    uint64_t first = 0;
    uint64_t capacity = 0;
    uint64_t front_end = 0;
    uint64_t back_begin = UINT64_MAX;
  };
  // Creates the segments `made` describes and publishes them, all or none; `replace_last`
  // swaps the newest (empty) segment for the first one created.
  absl::Status AddSegmentsLocked(const std::vector<NewSegment>& made, bool replace_last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One new segment's file: a retired one from the pool, or a new one.
  absl::StatusOr<Segment::Created> MakeSegment(const NewSegment& n)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AppendBytes for a batch that does not fit in the newest segment: plans each record's
  // place, creates the segments and writes.
  absl::StatusOr<uint64_t> AppendBytesAcrossLocked(const std::string_view* records, size_t n)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the frame of record `seq` at `offset` of `s` (space reserved), then its slot, then
  // its checksum, published last.
  void WriteFrameLocked(const Segment& s, uint64_t offset, std::string_view record, uint64_t seq,
                        uint32_t stamp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AppendFixed for a batch that fills the newest segment and goes on in new ones.
  absl::StatusOr<uint64_t> AppendFixedAcrossLocked(const std::byte* src, size_t n)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes k fixed records, the first being `seq`, at slot `index` of `s` (space reserved),
  // each with its checksum published last; then prefaults ahead.
  void WriteFixedLocked(const Segment& s, uint64_t index, const std::byte* src, uint64_t k,
                        uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pre-faults the next kPrefaultAhead bytes of `s` once the writer, at `write_offset`, comes
  // within half of it of what was pre-faulted (a call per append; the work once per 512 KiB).
  void PrefaultLocked(const Segment& s, uint64_t write_offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!prefault_ || (&s == populated_ && write_offset + kPrefaultAhead / 2 < populated_to_)) {
      return;
    }
    PrefaultMoreLocked(s, write_offset);
  }
  void PrefaultMoreLocked(const Segment& s, uint64_t write_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Shape& shape_;
  Published* const published_;
  GroupCommit* const commit_;
  const FailState* const fail_;
  const bool prefault_;
  RecyclePool* const pool_;
  std::atomic<bool> rotated_{false};

  base::Mutex mu_;
  uint64_t data_end_ ABSL_GUARDED_BY(mu_) = 0;               // variable: offset past the last frame
  const Segment* populated_ ABSL_GUARDED_BY(mu_) = nullptr;  // segment prefaulted up to:
  uint64_t populated_to_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_APPENDER_H_
