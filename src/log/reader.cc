#include "src/log/reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/append_time.h"
#include "src/format/layout.h"
#include "src/log/record_check.h"

namespace recstore::log {

namespace {

// Where record `seq` lives: a segment, the record's index in it, and where its frames must end
// (0: at its slot). Null segment: no segment of the set holds it.
struct Place {
  const Segment* segment = nullptr;
  uint64_t index = 0;
  uint64_t limit = 0;
  uint64_t segment_end = 0;  // dense segments: one past the last record it holds
};

// The dense segment holding `seq`, which must be in [live_from, end) of the set.
Place DensePlace(const Shape& shape, const SegmentSet& set, uint64_t end, uint64_t seq) {
  if (set.dense.empty()) return {};
  size_t i;
  if (shape.fixed()) {
    const uint64_t first = set.dense[0]->first_seq();
    if (seq < first) return {};
    i = static_cast<size_t>((seq - first) / shape.geometry().per_segment);
    if (i >= set.dense.size()) return {};
  } else {
    i = set.FindDense(seq);
    if (i == set.dense.size()) return {};
  }
  const Segment* s = set.dense[i].get();
  const uint64_t segment_end = set.DenseEnd(i, end);
  if (seq >= segment_end) return {};
  return {s, seq - s->first_seq(), 0, segment_end};
}

absl::Status NoSegment(const Shape& shape, uint64_t seq) {
  return absl::DataLossError(absl::StrCat("record ", seq, " of collection '", shape.name(),
                                          "' is in no segment of the collection"));
}

}  // namespace

absl::StatusOr<std::span<const std::byte>> GetRecord(const Shape& shape, const SegmentSet& set,
                                                     uint64_t end, uint64_t seq) {
  if (seq < set.state.first_seq || seq >= end) {
    return absl::OutOfRangeError(absl::StrCat("record ", seq, " is outside [", set.state.first_seq,
                                              ", ", end, ") of collection '", shape.name(), "'"));
  }
  Place at;
  if (seq < set.state.compacted_end) {
    const size_t k = set.PartFor(seq);
    const CompactedPart* part = k < set.compacted.size() ? set.compacted[k].get() : nullptr;
    const uint64_t index = part != nullptr ? part->LowerBound(seq) : 0;
    if (part == nullptr || index == part->count || part->seqs[index] != seq) {
      return absl::NotFoundError(absl::StrCat("record ", seq, " of collection '", shape.name(),
                                              "' was removed by compaction"));
    }
    at = {part->segment.get(), index, part->data_end};
  } else {
    at = DensePlace(shape, set, end, seq);
    if (at.segment == nullptr) return NoSegment(shape, seq);
  }
  uint64_t offset = 0;
  uint32_t len = 0;
  if (!RecordAt(shape, *at.segment, at.index, seq, &offset, &len, at.limit)) {
    return shape.DataLossAt(at.segment->path(), offset, seq, shape.BadRecordReason());
  }
  const uint64_t payload = shape.fixed() ? offset : offset + format::kFrameHeaderSize;
  return std::span<const std::byte>(at.segment->data() + payload, len);
}

int64_t AppendTimeOf(const Shape& shape, std::span<const std::byte> payload) {
  const uint32_t stamp = base::DecodeFixed32(payload.data() - format::kFrameHeaderSize + 4);
  return format::AppendTimeSeconds(shape.time_base(), stamp);
}

namespace {

void FillBatch(const Shape& shape, const Segment& s, uint64_t index, uint64_t seq, uint64_t count,
               ScanBase::Batch* b) {
  b->first_seq = seq;
  b->seqs = nullptr;
  b->count = count;
  if (shape.fixed()) {
    b->base = s.data() + shape.geometry().Offset(index);
    b->stride = shape.geometry().stride;
    b->record_size = shape.geometry().size;
    b->records = nullptr;
  } else {
    b->base = nullptr;
    b->stride = 0;
    b->record_size = 0;
  }
}

}  // namespace

absl::Status NextBatch(const Shape& shape, const SegmentSet& set, uint64_t end, bool salvage,
                       uint64_t seq, ScanBase::Batch* batch,
                       std::vector<std::span<const std::byte>>* spans, uint64_t* skipped) {
  batch->count = 0;
  spans->clear();
  seq = std::max(seq, set.state.first_seq);
  while (seq < end) {
    uint64_t valid = 0, bad_offset = 0, offset = 0;
    uint32_t len = 0;
    const Segment* s;
    if (seq < set.state.compacted_end) {
      const size_t k = set.PartFor(seq);
      if (k == set.compacted.size()) {
        seq = set.state.compacted_end;
        continue;
      }
      const CompactedPart& part = *set.compacted[k];
      s = part.segment.get();
      const uint64_t first = part.LowerBound(seq);
      const uint64_t n = std::min<uint64_t>(
          std::lower_bound(part.seqs + first, part.seqs + part.count, end) - (part.seqs + first),
          kBatchRecords);
      if (n == 0) break;
      while (valid < n && RecordAt(shape, *s, first + valid, part.seqs[first + valid], &offset,
                                   &len, part.data_end)) {
        if (!shape.fixed()) spans->emplace_back(s->data() + offset + format::kFrameHeaderSize, len);
        ++valid;
      }
      bad_offset = offset;
      if (valid > 0) {
        FillBatch(shape, *s, first, part.seqs[first], valid, batch);
        batch->seqs = part.seqs + first;
        if (!shape.fixed()) batch->records = spans->data();
        return absl::OkStatus();
      }
      seq = part.seqs[first];
    } else {
      const Place at = DensePlace(shape, set, end, seq);
      if (at.segment == nullptr) return NoSegment(shape, seq);
      s = at.segment;
      const uint64_t n = std::min(at.segment_end - seq, kBatchRecords);
      if (shape.fixed()) {  // the scan hot path: no per-record branch on the kind
        const FixedGeometry& g = shape.geometry();
        const uint64_t room = g.per_segment > at.index ? g.per_segment - at.index : 0;
        const uint64_t m = std::min(n, room);
        while (valid < m && FixedRecordValid(*s, g, at.index + valid, seq + valid)) ++valid;
        bad_offset = g.Offset(at.index + valid);
      } else {
        while (valid < n && RecordAt(shape, *s, at.index + valid, seq + valid, &offset, &len)) {
          spans->emplace_back(s->data() + offset + format::kFrameHeaderSize, len);
          ++valid;
        }
        bad_offset = offset;
      }
      if (valid > 0) {
        FillBatch(shape, *s, at.index, seq, valid, batch);
        if (!shape.fixed()) batch->records = spans->data();
        return absl::OkStatus();
      }
    }
    if (!salvage) return shape.DataLossAt(s->path(), bad_offset, seq, shape.BadRecordReason());
    ++*skipped;
    ++seq;
  }
  return absl::OkStatus();
}

absl::Status ForEachRecord(const Shape& shape, const Snapshot& snap, uint64_t from, uint64_t end,
                           const std::function<bool(uint64_t, std::span<const std::byte>)>& fn) {
  end = std::min(end, snap.end);
  ScanBase::Batch batch;
  std::vector<std::span<const std::byte>> spans;
  uint64_t skipped = 0;
  for (uint64_t seq = from; seq < end;) {
    RECSTORE_RETURN_IF_ERROR(
        NextBatch(shape, *snap.set, end, /*salvage=*/false, seq, &batch, &spans, &skipped));
    if (batch.count == 0) break;
    for (size_t i = 0; i < batch.count; ++i) {
      const std::span<const std::byte> payload =
          batch.records != nullptr
              ? batch.records[i]
              : std::span<const std::byte>(batch.base + i * batch.stride, batch.record_size);
      if (!fn(batch.SeqAt(i), payload)) return absl::OkStatus();
    }
    seq = batch.SeqAt(batch.count - 1) + 1;
  }
  return absl::OkStatus();
}

namespace {

// The first record at or after `seq` that the set holds (compaction gaps skipped); `end` if
// none does.
uint64_t FirstAtOrAfter(const SegmentSet& set, uint64_t seq, uint64_t end) {
  if (seq < set.state.compacted_end) {
    const size_t k = set.PartFor(seq);
    if (k < set.compacted.size()) {
      const CompactedPart& p = *set.compacted[k];
      return std::min(p.seqs[p.LowerBound(seq)], end);  // p.last() >= seq: found
    }
    seq = set.state.compacted_end;
  }
  return std::min(seq, end);
}

}  // namespace

absl::StatusOr<uint64_t> LowerBound(
    const Shape& shape, const SegmentSet& set, uint64_t end,
    const std::function<bool(uint64_t, std::span<const std::byte>)>& pred) {
  // Invariant: the answer is the first record in [lo, hi) where pred holds, or hi's first
  // record at or after it when there is none.
  uint64_t lo = set.state.first_seq, hi = std::max(end, lo);
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const uint64_t s = FirstAtOrAfter(set, mid, hi);
    if (s >= hi) {  // no record in [mid, hi)
      hi = mid;
      continue;
    }
    RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> record, GetRecord(shape, set, end, s));
    if (pred(s, record)) {
      hi = mid;  // no record in [mid, s): the answer is below mid, or s
    } else {
      lo = s + 1;
    }
  }
  return FirstAtOrAfter(set, lo, std::max(end, set.state.first_seq));
}

VerifyReport Verify(const Shape& shape, const Snapshot& snap) {
  const SegmentSet& set = *snap.set;
  VerifyReport report;
  auto bad = [&](uint64_t seq, const std::string& file, uint64_t offset, std::string reason) {
    report.ok = false;
    report.first_bad = BadRecord{seq, file, offset, std::move(reason)};
    return report;
  };
  uint64_t prev_seq = 0;
  bool any = false;
  for (const auto& part : set.compacted) {
    const Segment& s = *part->segment;
    ++report.segments_checked;
    for (uint64_t i = 0; i < part->count; ++i) {
      const uint64_t seq = part->seqs[i];
      if ((any && seq <= prev_seq) || seq >= set.state.compacted_end) {
        return bad(seq, s.path(), part->data_end + 8 * i, "sequence numbers out of order");
      }
      any = true;
      prev_seq = seq;
      if (seq < set.state.first_seq) continue;
      uint64_t offset = 0;
      uint32_t len = 0;
      if (!RecordAt(shape, s, i, seq, &offset, &len, part->data_end)) {
        return bad(seq, s.path(), offset, shape.BadRecordReason());
      }
      report.bytes_checked += len;
      ++report.records_checked;
    }
  }
  const uint64_t live_from = set.state.live_from();
  for (size_t i = 0; i < set.dense.size(); ++i) {
    const Segment& s = *set.dense[i];
    const uint64_t first_seq = s.first_seq();
    if (first_seq >= snap.end && i > 0) break;
    ++report.segments_checked;
    const uint64_t seg_end = set.DenseEnd(i, snap.end);
    for (uint64_t seq = std::max(first_seq, live_from); seq < seg_end; ++seq) {
      uint64_t offset = 0;
      uint32_t len = 0;
      if (!RecordAt(shape, s, seq - first_seq, seq, &offset, &len)) {
        return bad(seq, s.path(), offset, shape.BadRecordReason());
      }
      report.bytes_checked += len;
      ++report.records_checked;
    }
  }
  return report;
}

}  // namespace recstore::log
