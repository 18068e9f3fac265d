#include "src/log/collection.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "src/log/syncer.h"

namespace recstore::internal {

using log::Segment;

namespace {

// Records verified per run handed to an iterator: verification stays just ahead of the reader.
constexpr uint64_t kRunChunk = 4096;

log::FixedGeometry MakeGeometry(const CollectionInfo& info) {
  log::FixedGeometry g;
  if (info.kind != CollectionKind::kFixed) return g;
  g.size = info.record_size;
  g.checksum_offset = format::FixedChecksumOffset(info.record_size);
  g.stride = format::FixedStride(info.record_size, info.record_align);
  g.per_segment = (info.segment_size - format::kDataStart) / g.stride;
  return g;
}

}  // namespace

Collection::Collection(CollectionConfig config)
    : config_(std::move(config)),
      begin_(config_.info.first_seq),
      geometry_(MakeGeometry(config_.info)),
      schema_hash_(fixed() ? format::SchemaHash(config_.info.schema) : 0),
      info_(config_.info) {}

CollectionInfo Collection::info() const {
  std::lock_guard<std::mutex> lock(info_mu_);
  return info_;
}

absl::StatusOr<std::shared_ptr<Collection>> Collection::Open(CollectionConfig config) {
  std::shared_ptr<Collection> c(new Collection(std::move(config)));
  if (absl::Status s = c->Recover(); !s.ok()) {
    // Never opened: the destructor must not flush a half-recovered log, whose segments may
    // not even be mapped.
    std::lock_guard<std::mutex> lock(c->mu_);
    c->failed_ = s;
    return s;
  }
  if (!c->read_only() && c->config_.sync.mode == SyncPolicy::Mode::kBackground) {
    c->syncer_ = std::make_unique<log::BackgroundSyncer>(c.get(), c->config_.sync);
  }
  return c;
}

Collection::~Collection() {
  syncer_.reset();
  if (read_only()) return;
  // A clean close leaves everything appended durable, so the next open has no tail to scan.
  Sync().IgnoreError();  // a failure leaves the log as a crash would; recovery handles it
}

std::string Collection::SegmentPath(uint64_t first_seq) const {
  return absl::StrCat(config_.dir, "/", format::SegmentFileName(first_seq));
}

std::string Collection::CompactedPath(uint64_t generation, uint64_t first_seq) const {
  return absl::StrCat(config_.dir, "/", format::CompactedFileName(generation, first_seq));
}

format::SegmentHeader Collection::HeaderFor(uint64_t first_seq, uint64_t capacity) const {
  format::SegmentHeader h;
  h.kind = static_cast<uint8_t>(config_.info.kind);
  h.collection_id = config_.info.id;
  h.record_size = geometry_.size;
  h.stride = geometry_.stride;
  h.schema_hash = schema_hash_;
  h.first_seq = first_seq;
  h.capacity = capacity;
  return h;
}

absl::StatusOr<std::unique_ptr<Segment>> Collection::OpenSegment(uint64_t first_seq,
                                                                 uint64_t capacity) {
  return Segment::Open(config_.env, SegmentPath(first_seq), !read_only(),
                       HeaderFor(first_seq, capacity));
}

absl::StatusOr<Segment*> Collection::SegmentAt(size_t i) { return SegmentAt(table_.current(), i); }

absl::StatusOr<Segment*> Collection::SegmentAt(const log::SegmentView& view, size_t i) {
  log::SegmentSlot& e = *view.dense[i];
  if (Segment* s = e.segment.load(std::memory_order_acquire)) return s;
  std::lock_guard<std::mutex> lock(map_mu_);
  if (Segment* s = e.segment.load(std::memory_order_acquire)) return s;
  const uint64_t first_seq = e.first_seq.load(std::memory_order_relaxed);
  uint64_t capacity = config_.info.segment_size;
  if (!fixed()) {
    // A variable-size segment may be larger than usual (one oversized record): take the
    // capacity from the file, which the header check then confirms.
    RECSTORE_ASSIGN_OR_RETURN(os::File f,
                              os::File::Open(config_.env, SegmentPath(first_seq), O_RDONLY));
    RECSTORE_ASSIGN_OR_RETURN(capacity, config_.env->FileSize(f.fd(), f.path()));
    capacity = std::max(capacity, config_.info.segment_size);
  }
  RECSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg, OpenSegment(first_seq, capacity));
  Segment* s = seg.release();
  e.segment.store(s, std::memory_order_release);
  return s;
}

uint64_t Collection::SegmentEnd(const log::SegmentView& view, size_t i) const {
  uint64_t end = this->end();
  if (i + 1 < view.dense.size()) {
    end = std::min(end, view.dense[i + 1]->first_seq.load(std::memory_order_relaxed));
  }
  return end;
}

absl::Status Collection::DataLossAt(const Segment& seg, uint64_t offset, uint64_t seq,
                                    std::string_view what) const {
  return absl::DataLossError(absl::StrCat(seg.path(), ": offset ", offset, ": record ", seq,
                                          " of collection '", config_.info.name,
                                          "': ", std::string(what)));
}

bool Collection::RecordAt(const Segment& s, uint64_t index, uint64_t seq, uint64_t* offset,
                          uint32_t* len, uint64_t limit) const {
  if (fixed()) {
    *offset = geometry_.Offset(index);
    *len = geometry_.size;
    return log::FixedRecordValid(s, geometry_, index, seq);
  }
  *offset = log::SlotOffset(s, index);
  if (limit == 0) limit = s.capacity() - format::kSlotSize * (index + 1);
  return log::FrameValid(s, *offset, limit, seq, len);
}

size_t Collection::SegmentIndexFor(const log::SegmentView& view, uint64_t seq) const {
  if (!fixed()) return view.FindDense(seq);
  return (seq - view.dense[0]->first_seq.load(std::memory_order_relaxed)) / geometry_.per_segment;
}

ReadPin Collection::Pin() { return table_.Load(); }

absl::StatusOr<std::span<const std::byte>> Collection::Get(uint64_t seq) {
  std::shared_ptr<const log::SegmentView> view = table_.Load();
  return GetIn(*view, seq);
}

absl::StatusOr<std::span<const std::byte>> Collection::GetIn(const log::SegmentView& v,
                                                             uint64_t seq) {
  const log::SegmentView* view = &v;
  if (seq < view->first_seq || seq >= end()) {
    return absl::OutOfRangeError(absl::StrCat("record ", seq, " is outside [", view->first_seq,
                                              ", ", end(), ") of collection '", config_.info.name,
                                              "'"));
  }
  const Segment* s;
  uint64_t index, limit = 0;
  if (seq < view->compacted_end) {
    const size_t k = view->PartFor(seq);
    const log::CompactedPart* part =
        k < view->compacted.size() ? view->compacted[k].get() : nullptr;
    index = part != nullptr ? part->LowerBound(seq) : 0;
    if (part == nullptr || index == part->count || part->seqs[index] != seq) {
      return absl::NotFoundError(absl::StrCat("record ", seq, " of collection '", config_.info.name,
                                              "' was removed by compaction"));
    }
    s = part->segment.get();
    limit = part->data_end;
  } else {
    RECSTORE_ASSIGN_OR_RETURN(s, SegmentAt(*view, SegmentIndexFor(*view, seq)));
    index = seq - s->first_seq();
  }
  uint64_t offset;
  uint32_t len;
  if (!RecordAt(*s, index, seq, &offset, &len, limit)) {
    return DataLossAt(*s, offset, seq, BadRecordReason());
  }
  const uint64_t payload = fixed() ? offset : offset + format::kFrameHeaderSize;
  return std::span<const std::byte>(s->data() + payload, len);
}

void Collection::FillRun(const Segment& s, uint64_t index, uint64_t seq, uint64_t count,
                         RecordRun* run) const {
  run->first_seq = seq;
  run->count = count;
  run->next_seq = seq + count;
  run->seqs = nullptr;
  if (fixed()) {
    run->base = s.data() + geometry_.Offset(index);
    run->stride = geometry_.stride;
    run->slots = nullptr;
  } else {
    run->base = s.data();
    run->stride = 0;
    run->slots = s.data() + s.capacity() - format::kSlotSize * index;
  }
}

absl::Status Collection::NextRun(uint64_t seq, uint64_t end, RecordRun* run, uint64_t* skipped,
                                 ReadPin* pin) {
  run->count = 0;
  if (*pin == nullptr) *pin = table_.Load();
  const auto& view = *static_cast<const log::SegmentView*>(pin->get());
  const bool salvage = config_.recovery == RecoveryMode::kSalvage;
  seq = std::max(seq, view.first_seq);
  while (seq < end) {
    uint64_t valid = 0, bad_offset = 0;
    uint32_t len;
    const Segment* s;
    if (seq < view.compacted_end) {
      const size_t k = view.PartFor(seq);
      if (k == view.compacted.size()) {
        seq = view.compacted_end;
        continue;
      }
      const log::CompactedPart& part = *view.compacted[k];
      s = part.segment.get();
      const uint64_t first = part.LowerBound(seq);
      const uint64_t n = std::min<uint64_t>(
          std::lower_bound(part.seqs + first, part.seqs + part.count, end) - (part.seqs + first),
          kRunChunk);
      if (n == 0) break;
      while (valid < n && RecordAt(*s, first + valid, part.seqs[first + valid], &bad_offset, &len,
                                   part.data_end)) {
        ++valid;
      }
      if (valid > 0) {
        FillRun(*s, first, part.seqs[first], valid, run);
        run->seqs = part.seqs + first;
        run->next_seq = part.seqs[first + valid - 1] + 1;
        return absl::OkStatus();
      }
      seq = part.seqs[first];
    } else {
      const size_t i = SegmentIndexFor(view, seq);
      RECSTORE_ASSIGN_OR_RETURN(s, SegmentAt(view, i));
      const uint64_t first = seq - s->first_seq();
      const uint64_t n = std::min({end, SegmentEnd(view, i), seq + kRunChunk}) - seq;
      if (fixed()) {  // the scan hot path: no per-record branch on the kind
        while (valid < n && log::FixedRecordValid(*s, geometry_, first + valid, seq + valid)) {
          ++valid;
        }
        bad_offset = geometry_.Offset(first + valid);
      } else {
        while (valid < n && RecordAt(*s, first + valid, seq + valid, &bad_offset, &len)) ++valid;
      }
      if (valid > 0) {
        FillRun(*s, first, seq, valid, run);
        return absl::OkStatus();
      }
    }
    if (!salvage) return DataLossAt(*s, bad_offset, seq, BadRecordReason());
    ++*skipped;
    ++seq;
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> Collection::Verify() {
  VerifyReport report;
  std::shared_ptr<const log::SegmentView> view = table_.Load();
  const uint64_t end = this->end();
  auto bad = [&](uint64_t seq, std::string file, uint64_t offset, std::string reason) {
    report.ok = false;
    report.first_bad = BadRecord{seq, std::move(file), offset, std::move(reason)};
    return report;
  };
  uint64_t prev_seq = 0;
  bool any = false;
  for (const auto& part : view->compacted) {
    const Segment& s = *part->segment;
    ++report.segments_checked;
    for (uint64_t i = 0; i < part->count; ++i) {
      const uint64_t seq = part->seqs[i];
      if ((any && seq <= prev_seq) || seq >= view->compacted_end) {
        return bad(seq, s.path(), part->data_end + 8 * i, "sequence numbers out of order");
      }
      any = true;
      prev_seq = seq;
      if (seq < view->first_seq) continue;
      uint64_t offset;
      uint32_t len;
      if (!RecordAt(s, i, seq, &offset, &len, part->data_end)) {
        return bad(seq, s.path(), offset, BadRecordReason());
      }
      report.bytes_checked += len;
      ++report.records_checked;
    }
  }
  const uint64_t live_from = std::max(view->first_seq, view->compacted_end);
  for (size_t i = 0; i < view->dense.size(); ++i) {
    const uint64_t first_seq = view->dense[i]->first_seq.load(std::memory_order_relaxed);
    if (first_seq >= end && i > 0) break;
    absl::StatusOr<Segment*> seg = SegmentAt(*view, i);
    if (!seg.ok()) {
      if (!Segment::IsInvalid(seg.status())) return seg.status();
      return bad(first_seq, SegmentPath(first_seq), 0, std::string(seg.status().message()));
    }
    const Segment& s = **seg;
    ++report.segments_checked;
    const uint64_t seg_end = SegmentEnd(*view, i);
    for (uint64_t seq = std::max(first_seq, live_from); seq < seg_end; ++seq) {
      uint64_t offset;
      uint32_t len;
      if (!RecordAt(s, seq - first_seq, seq, &offset, &len)) {
        return bad(seq, s.path(), offset, BadRecordReason());
      }
      report.bytes_checked += len;
      ++report.records_checked;
    }
  }
  return report;
}

}  // namespace recstore::internal
