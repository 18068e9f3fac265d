#include "src/log/appender.h"

#include <algorithm>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/append_time.h"
#include "src/format/layout.h"
#include "src/log/record_check.h"

namespace recstore::log {

namespace {

// The capacity of a new variable-size segment whose first record takes `frame_space` bytes.
uint64_t ByteSegmentCapacity(const Shape& shape, uint64_t frame_space) {
  return std::max(shape.segment_size(),
                  format::RoundUp(format::kDataStart + frame_space, format::kPageSize));
}

}  // namespace

Appender::Appender(const Shape& shape, Published* published, GroupCommit* commit,
                   const FailState* fail, bool prefault, RecyclePool* pool)
    : shape_(shape),
      published_(published),
      commit_(commit),
      fail_(fail),
      prefault_(prefault),
      pool_(pool) {}

absl::StatusOr<Segment::Created> Appender::MakeSegment(const NewSegment& n) {
  const std::string path = shape_.SegmentPath(n.first);
  const format::SegmentHeader header = shape_.HeaderFor(n.first, n.capacity);
  if (std::optional<Segment::Created> c = pool_->Take(header, path)) {
    // A reused file: allocate what the batch writes where its earlier use did not.
    absl::Status s = c->segment->Reserve(std::max(n.front_end, format::kDataStart), n.back_begin);
    if (s.ok()) return *std::move(c);
    shape_.env()->Remove(path).IgnoreError();  // holds no record, and is not published
    return s;
  }
  return Segment::Create(shape_.env(), path, header, shape_.file_mode(), n.front_end, n.back_begin);
}

void Appender::Start(uint64_t data_end) {
  base::MutexLock lock(&mu_);
  data_end_ = data_end;
}

absl::Status Appender::AddSegmentsLocked(const std::vector<NewSegment>& segments,
                                         bool replace_last) {
  std::vector<Segment::Created> made;
  for (const NewSegment& n : segments) {
    absl::StatusOr<Segment::Created> c = MakeSegment(n);
    if (!c.ok()) {
      // None of them holds a record or is published: the next open would remove them anyway.
      for (const Segment::Created& m : made) shape_.env()->Remove(m.segment->path()).IgnoreError();
      return c.status();
    }
    made.push_back(*std::move(c));
  }
  auto next = std::make_shared<SegmentSet>(published_->current());
  if (replace_last) {
    commit_->Untrack(next->dense.back().get());
    next->dense.pop_back();
  }
  for (Segment::Created& m : made) {
    next->dense.push_back(m.segment);
    commit_->Track(m.segment, std::move(m.file), /*created=*/true);
  }
  published_->Publish(std::move(next));
  rotated_.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Appender::PrefaultMoreLocked(const Segment& s, uint64_t write_offset) {
  if (&s != populated_) {
    populated_ = &s;
    populated_to_ = 0;
  }
  if (write_offset + kPrefaultAhead / 2 < populated_to_) return;
  const uint64_t from = std::max(populated_to_, format::RoundUp(write_offset, format::kPageSize));
  s.Populate(from, kPrefaultAhead);
  populated_to_ = from + kPrefaultAhead;
}

void Appender::WriteFixedLocked(const Segment& s, uint64_t index, const std::byte* src, uint64_t k,
                                uint64_t seq) {
  const FixedGeometry& g = shape_.geometry();
  std::byte* dst = s.mutable_data() + g.Offset(index);
  for (uint64_t j = 0; j < k; ++j) {
    std::memcpy(dst, src, g.size);
    format::PublishChecksum(dst + g.checksum_offset,
                            format::FixedRecordChecksum(src, g.size, seq + j));
    dst += g.stride;
    src += g.size;
  }
  PrefaultLocked(s, g.Offset(index + k));
}

absl::StatusOr<uint64_t> Appender::AppendFixed(const void* records, size_t n) {
  base::MutexLock lock(&mu_);
  if (fail_->failed()) [[unlikely]]
    return fail_->status();
  const SegmentSet& set = published_->current();
  const Segment& newest = *set.dense.back();
  const uint64_t first = set.end();
  const uint64_t count = first - newest.first_seq();  // records in the newest segment
  const FixedGeometry& g = shape_.geometry();
  if (n - 1 < g.per_segment - count) [[likely]] {
    // The common case: one or more records that fit in the newest segment.
    RECSTORE_RETURN_IF_ERROR(newest.Reserve(g.Offset(count + n), UINT64_MAX));
    WriteFixedLocked(newest, count, static_cast<const std::byte*>(records), n, first);
    published_->PublishEnd(first + n);
    return first;
  }
  if (n == 0) return first;
  return AppendFixedAcrossLocked(static_cast<const std::byte*>(records), n);
}

absl::StatusOr<uint64_t> Appender::AppendFixedAcrossLocked(const std::byte* src, size_t n) {
  const uint64_t first = published_->current().end();
  const FixedGeometry& g = shape_.geometry();
  const uint64_t per = g.per_segment;
  const uint64_t newest_first = published_->current().dense.back()->first_seq();
  uint64_t count = first - newest_first;  // records in the newest segment
  // Reserve the space and create every segment the batch needs before writing, so a
  // failure writes nothing.
  size_t seg = published_->current().dense.size() - 1;
  RECSTORE_RETURN_IF_ERROR(published_->current().dense.back()->Reserve(
      g.Offset(count + std::min<uint64_t>(n, per - count)), UINT64_MAX));
  std::vector<NewSegment> made;
  for (uint64_t left = n - (per - count), k = 1; left > 0; ++k) {
    const uint64_t here = std::min(left, per);
    made.push_back({.first = newest_first + k * per,
                    .capacity = shape_.segment_size(),
                    .front_end = g.Offset(here)});
    left -= here;
  }
  RECSTORE_RETURN_IF_ERROR(AddSegmentsLocked(made, /*replace_last=*/false));
  const SegmentSet& set = published_->current();
  uint64_t seq = first;
  while (n > 0) {
    if (count == per) {
      ++seg;
      count = 0;
    }
    const uint64_t k = std::min<uint64_t>(n, per - count);
    WriteFixedLocked(*set.dense[seg], count, src, k, seq);
    src += k * g.size;
    count += k;
    seq += k;
    n -= k;
  }
  published_->PublishEnd(seq);
  return first;
}

void Appender::WriteFrameLocked(const Segment& s, uint64_t offset, std::string_view record,
                                uint64_t seq, uint32_t stamp) {
  const uint64_t len = record.size();
  std::byte* frame = s.mutable_data() + offset;
  base::EncodeFixed32(frame, static_cast<uint32_t>(len));
  base::EncodeFixed32(frame + 4, stamp);
  if (len > 0) std::memcpy(frame + format::kFrameHeaderSize, record.data(), len);
  // The slot before the checksum, and the checksum last with release ordering: a reader
  // in another process accepts the record by its checksum and then finds it by its slot.
  const uint64_t index = seq - s.first_seq();
  base::EncodeFixed32(s.mutable_data() + s.capacity() - format::kSlotSize * (index + 1),
                      static_cast<uint32_t>(offset));
  format::PublishChecksum(frame + 8, format::FrameChecksum(frame, static_cast<uint32_t>(len), seq));
}

absl::StatusOr<uint64_t> Appender::AppendBytes(const std::string_view* records, size_t n) {
  uint64_t frames = 0;  // the bytes the records' frames take, slots not included
  for (size_t i = 0; i < n; ++i) {
    if (records[i].size() > kMaxByteRecordSize) [[unlikely]] {
      return absl::InvalidArgumentError(
          absl::StrCat("record of ", records[i].size(), " bytes exceeds the maximum of ",
                       kMaxByteRecordSize, " for collection '", shape_.name(), "'"));
    }
    // Saturating: a sum past any segment's capacity only has to stay past it.
    frames = std::min(frames + (format::FrameSpace(records[i].size()) - format::kSlotSize),
                      uint64_t{1} << 62);
  }
  base::MutexLock lock(&mu_);
  if (fail_->failed()) [[unlikely]]
    return fail_->status();
  const SegmentSet& set = published_->current();
  const uint64_t first = set.end();
  if (n == 0) return first;
  const Segment& newest = *set.dense.back();
  const uint64_t count = first - newest.first_seq();  // records in the newest segment
  // Free space between the last frame and the slots in use (checked, though the writer keeps
  // it >= 0).
  const uint64_t slots = format::kSlotSize * count;
  const uint64_t room = slots + data_end_ <= newest.capacity() && slots <= newest.capacity()
                            ? newest.capacity() - slots - data_end_
                            : 0;
  if (n <= room && frames + format::kSlotSize * n <= room) [[likely]] {
    // The common case: the whole batch fits in the newest segment.
    const uint64_t end = data_end_ + frames;
    RECSTORE_RETURN_IF_ERROR(
        newest.Reserve(end, newest.capacity() - format::kSlotSize * (count + n)));
    const uint32_t stamp = format::AppendStamp(shape_.time_base(), shape_.env()->NowUnixNanos());
    uint64_t offset = data_end_;
    for (size_t i = 0; i < n; ++i) {
      WriteFrameLocked(newest, offset, records[i], first + i, stamp);
      offset += format::FrameSpace(records[i].size()) - format::kSlotSize;
    }
    PrefaultLocked(newest, end);
    data_end_ = end;
    published_->PublishEnd(first + n);
    return first;
  }
  return AppendBytesAcrossLocked(records, n);
}

absl::StatusOr<uint64_t> Appender::AppendBytesAcrossLocked(const std::string_view* records,
                                                           size_t n) {
  const uint64_t first = published_->current().end();
  const Segment* newest = published_->current().dense.back().get();
  if (first == newest->first_seq() &&
      data_end_ + format::FrameSpace(records[0].size()) > newest->capacity()) {
    // The newest segment is empty and too small for the first record: replace it (same first
    // sequence number, so same file name) with one that fits.
    RECSTORE_RETURN_IF_ERROR(AddSegmentsLocked(
        {{.first = first,
          .capacity = ByteSegmentCapacity(shape_, format::FrameSpace(records[0].size()))}},
        /*replace_last=*/true));
    newest = published_->current().dense.back().get();
  }
  // Placement, planned once: each record's segment (0: the newest, k: the k-th new one) and
  // frame offset, and the space each segment's frames and slots will take. That space is
  // reserved, and every segment the batch needs created, before anything is written.
  struct Place {
    size_t segment;
    uint64_t offset = 0;
  };
  absl::InlinedVector<Place, 4> plan(n);
  std::vector<NewSegment> made;
  uint64_t count = first - newest->first_seq(), end = data_end_, capacity = newest->capacity();
  uint64_t newest_front = end, newest_back = capacity - format::kSlotSize * count;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t need = format::FrameSpace(records[i].size());
    if (end + need > capacity - format::kSlotSize * count) {
      capacity = ByteSegmentCapacity(shape_, need);
      made.push_back({.first = first + i, .capacity = capacity});
      count = 0;
      end = format::kDataStart;
    }
    plan[i] = {made.size(), end};
    end += need - format::kSlotSize;
    ++count;
    if (made.empty()) {
      newest_front = end;
      newest_back = capacity - format::kSlotSize * count;
    } else {
      made.back().front_end = end;
      made.back().back_begin = capacity - format::kSlotSize * count;
    }
  }
  RECSTORE_RETURN_IF_ERROR(newest->Reserve(newest_front, newest_back));
  if (!made.empty()) {
    RECSTORE_RETURN_IF_ERROR(AddSegmentsLocked(made, /*replace_last=*/false));
  }
  const SegmentSet& set = published_->current();
  const size_t base = set.dense.size() - 1 - made.size();
  const uint32_t stamp = format::AppendStamp(shape_.time_base(), shape_.env()->NowUnixNanos());
  for (size_t i = 0; i < n; ++i) {
    const Segment& s = *set.dense[base + plan[i].segment];
    WriteFrameLocked(s, plan[i].offset, records[i], first + i, stamp);
    PrefaultLocked(s, plan[i].offset + format::FrameSpace(records[i].size()));
  }
  data_end_ = end;
  published_->PublishEnd(first + n);
  return first;
}

std::shared_ptr<const SegmentSet> Appender::Replace(
    const std::function<std::shared_ptr<SegmentSet>(const SegmentSet& current)>& next) {
  base::MutexLock lock(&mu_);
  std::shared_ptr<SegmentSet> set = next(published_->current());
  if (set != nullptr) published_->Publish(set);
  return set;
}

Snapshot Appender::ActiveStart(uint64_t* first) {
  base::MutexLock lock(&mu_);
  *first = published_->current().dense.back()->first_seq();
  return published_->Pin();
}

}  // namespace recstore::log
