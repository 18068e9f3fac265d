// Collection: the write path (appends, segment creation, group-commit sync).
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/collection.h"
#include "src/log/syncer.h"

namespace recstore::internal {

using log::Segment;

namespace {

// Pre-fault this far ahead of the writer, in steps of half of it.
constexpr uint64_t kPrefaultAhead = 1 << 20;

}  // namespace

absl::Status Collection::CheckWritableLocked() const {
  if (read_only()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", config_.info.name, "' is open read-only"));
  }
  if (!failed_.ok()) return failed_;
  return absl::OkStatus();
}

void Collection::Fail(const absl::Status& cause) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_.ok()) return;
  failed_ = absl::Status(cause.code(),
                         absl::StrCat("collection '", config_.info.name,
                                      "' refuses writes after a failed sync: ", cause.message(),
                                      "; reopen the store to recover what was "
                                      "durable"));
}

absl::Status Collection::CreateSegmentLocked(uint64_t first_seq, uint64_t capacity) {
  RECSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg,
                            Segment::Create(config_.env, SegmentPath(first_seq),
                                            HeaderFor(first_seq, capacity), config_.file_mode));
  table_.Push(first_seq, std::move(seg));
  dir_dirty_ = true;
  rotated_.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Collection::RemoveNewSegmentsLocked(size_t n) {
  // They hold no published record, so no reader can hold them.
  for (; n > 0; --n) {
    const uint64_t first_seq = table_.at(table_.size() - 1).first_seq.load();
    table_.PopBack();
    config_.env->Remove(SegmentPath(first_seq)).IgnoreError();  // recovery removes it otherwise
  }
}

void Collection::PrefaultLocked(uint64_t write_offset) {
  if (!config_.prefault || write_offset + kPrefaultAhead / 2 < populated_to_) return;
  Segment* s = table_.at(active_).segment.load(std::memory_order_relaxed);
  uint64_t from = std::max(populated_to_, format::RoundUp(write_offset, format::kPageSize));
  s->Populate(from, kPrefaultAhead);
  populated_to_ = from + kPrefaultAhead;
}

absl::StatusOr<uint64_t> Collection::AppendFixed(const void* records, size_t n) {
  uint64_t first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (read_only() || !failed_.ok()) return CheckWritableLocked();
    first = next_seq_;
    if (n == 0) return first;
    // Create every segment the batch needs before writing, so a failure writes nothing.
    const uint64_t per = geometry_.per_segment;
    const uint64_t room = per - active_count_;
    if (n > room) {
      const uint64_t needed = (n - room + per - 1) / per;
      size_t created = 0;
      for (uint64_t k = table_.size() - 1 - active_; k < needed; ++k, ++created) {
        const uint64_t seg_first = table_.at(table_.size() - 1).first_seq.load() + per;
        if (absl::Status s = CreateSegmentLocked(seg_first, config_.info.segment_size); !s.ok()) {
          RemoveNewSegmentsLocked(created);
          return s;
        }
      }
    }
    const std::byte* src = static_cast<const std::byte*>(records);
    const uint32_t size = geometry_.size;
    while (n > 0) {
      if (active_count_ == per) {
        ++active_;
        active_count_ = 0;
        populated_to_ = 0;
      }
      Segment* s = table_.at(active_).segment.load(std::memory_order_relaxed);
      const uint64_t k = std::min<uint64_t>(n, per - active_count_);
      std::byte* dst = s->mutable_data() + geometry_.Offset(active_count_);
      for (uint64_t j = 0; j < k; ++j) {
        std::memcpy(dst, src, size);
        format::PublishChecksum(dst + geometry_.checksum_offset,
                                format::FixedRecordChecksum(src, size, next_seq_ + j));
        dst += geometry_.stride;
        src += size;
      }
      active_count_ += k;
      next_seq_ += k;
      n -= k;
      PrefaultLocked(geometry_.Offset(active_count_));
    }
    published_.store(next_seq_, std::memory_order_release);
  }
  return AfterAppend(first);
}

absl::StatusOr<uint64_t> Collection::AppendBytes(const std::string_view* records, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (records[i].size() > kMaxByteRecordSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("record of ", records[i].size(), " bytes exceeds the maximum of ",
                       kMaxByteRecordSize, " for collection '", config_.info.name, "'"));
    }
  }
  uint64_t first;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (read_only() || !failed_.ok()) return CheckWritableLocked();
    first = next_seq_;
    if (n > 0 && active_count_ == 0 &&
        active_end_ + format::FrameSpace(records[0].size()) >
            table_.at(active_).segment.load()->capacity()) {
      // The active segment is empty and too small for the first record: replace it (same
      // first sequence number, so same file name) with one that fits.
      const uint64_t cap =
          std::max(config_.info.segment_size,
                   format::RoundUp(format::kDataStart + format::FrameSpace(records[0].size()),
                                   format::kPageSize));
      RECSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Segment> seg,
                                Segment::Create(config_.env, SegmentPath(next_seq_),
                                                HeaderFor(next_seq_, cap), config_.file_mode));
      table_.PopBack();  // no reader can hold it: it has no records
      table_.Push(next_seq_, std::move(seg));
      dir_dirty_ = true;
      populated_to_ = 0;
    }
    // Plan the placement, creating the segments it needs before writing anything.
    {
      uint64_t count = active_count_, end = active_end_, seq = next_seq_;
      uint64_t cap = table_.at(active_).segment.load()->capacity();
      size_t created = 0;
      for (size_t i = 0; i < n; ++i, ++seq) {
        const uint64_t need = format::FrameSpace(records[i].size());
        if (end + need > cap - format::kSlotSize * count) {
          cap = std::max(config_.info.segment_size,
                         format::RoundUp(format::kDataStart + need, format::kPageSize));
          if (absl::Status s = CreateSegmentLocked(seq, cap); !s.ok()) {
            RemoveNewSegmentsLocked(created);
            return s;
          }
          ++created;
          count = 0;
          end = format::kDataStart;
        }
        end += need - format::kSlotSize;
        ++count;
      }
    }
    const uint32_t stamp = AppendStamp();
    for (size_t i = 0; i < n; ++i) {
      const uint64_t len = records[i].size();
      Segment* s = table_.at(active_).segment.load(std::memory_order_relaxed);
      const uint64_t frame_space = format::FrameSpace(len) - format::kSlotSize;
      if (active_end_ + frame_space + format::kSlotSize >
          s->capacity() - format::kSlotSize * active_count_) {
        ++active_;
        s = table_.at(active_).segment.load(std::memory_order_relaxed);
        active_count_ = 0;
        active_end_ = format::kDataStart;
        populated_to_ = 0;
      }
      std::byte* frame = s->mutable_data() + active_end_;
      base::EncodeFixed32(frame, static_cast<uint32_t>(len));
      base::EncodeFixed32(frame + 4, stamp);
      std::memcpy(frame + format::kFrameHeaderSize, records[i].data(), len);
      // The slot before the checksum, and the checksum last with release ordering: a reader
      // in another process accepts the record by its checksum and then finds it by its slot.
      base::EncodeFixed32(
          s->mutable_data() + s->capacity() - format::kSlotSize * (active_count_ + 1),
          static_cast<uint32_t>(active_end_));
      format::PublishChecksum(frame + 8,
                              format::FrameChecksum(frame, static_cast<uint32_t>(len), next_seq_));
      active_end_ += frame_space;
      ++active_count_;
      ++next_seq_;
      PrefaultLocked(active_end_);
    }
    published_.store(next_seq_, std::memory_order_release);
  }
  return AfterAppend(first);
}

uint32_t Collection::AppendStamp() const {
  const int64_t seconds = config_.env->NowUnixNanos() / 1000000000 - config_.info.time_base;
  return static_cast<uint32_t>(std::clamp<int64_t>(seconds, 0, UINT32_MAX));
}

absl::StatusOr<uint64_t> Collection::AfterAppend(uint64_t first_seq) {
  if (rotated_.load(std::memory_order_relaxed) && rotated_.exchange(false)) {
    MaybeApplyRetention();
  }
  switch (config_.sync.mode) {
    case SyncPolicy::Mode::kEveryAppend:
      RECSTORE_RETURN_IF_ERROR(Sync().status());
      break;
    case SyncPolicy::Mode::kBackground:
      syncer_->Appended(pending());
      break;
    case SyncPolicy::Mode::kManual:
      break;
  }
  return first_seq;
}

void Collection::WriteCommitFor(const log::SegmentView& view, size_t i, uint64_t durable_end) {
  Segment* s = view.dense[i]->segment.load(std::memory_order_acquire);
  const uint64_t next_first = i + 1 < view.dense.size()
                                  ? view.dense[i + 1]->first_seq.load(std::memory_order_relaxed)
                                  : UINT64_MAX;
  const bool sealed = next_first <= durable_end;
  const uint64_t records = (sealed ? next_first : durable_end) - s->first_seq();
  // Variable-size records: the data end is just past the last durable frame. A block that
  // already records these records keeps its data end: the last of them may be one recovery
  // trusted without reading, so its slot and length are not to be trusted here.
  uint64_t data_end = format::kDataStart;
  format::CommitBlock old;
  if (s->ReadCommit(&old) && old.records == records) {
    if (old.sealed == sealed) return;
    data_end = old.data_end;
  } else if (!fixed() && records > 0) {
    const uint64_t off = log::SlotOffset(*s, records - 1);
    data_end = off + format::FrameSpace(base::DecodeFixed32(s->data() + off)) - format::kSlotSize;
  }
  s->WriteCommit({.records = records, .data_end = data_end, .sealed = sealed});
}

absl::StatusOr<uint64_t> Collection::Sync() {
  if (read_only()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", config_.info.name, "' is open read-only"));
  }
  const uint64_t target = end();
  std::unique_lock<std::mutex> sync_lock(sync_mu_);
  // Group commit: one caller (the leader) flushes while the others wait for its flush, and
  // return as soon as a flush has covered their records.
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      RECSTORE_RETURN_IF_ERROR(failed_);
    }
    if (durable() >= target) return durable();
    if (!flushing_) break;
    sync_cv_.wait(sync_lock);
  }
  flushing_ = true;
  uint64_t end;
  size_t last;
  bool dir_dirty;
  std::shared_ptr<const log::SegmentView> view;  // appends may publish new views meanwhile
  {
    std::lock_guard<std::mutex> lock(mu_);
    end = next_seq_;
    last = active_;
    dir_dirty = std::exchange(dir_dirty_, false);
    view = table_.Load();
  }
  const size_t first = sync_from_;
  sync_lock.unlock();  // appends and new Sync callers proceed during the flush
  absl::Status st;
  for (size_t i = first; i <= last && st.ok(); ++i) {
    st = view->dense[i]->segment.load(std::memory_order_acquire)->SyncData();
  }
  if (st.ok() && dir_dirty) st = config_.env->SyncDir(config_.dir);
  if (!st.ok()) Fail(st);
  sync_lock.lock();
  flushing_ = false;
  if (st.ok()) {
    durable_.store(end, std::memory_order_release);
    // Commit blocks record durable points so recovery need not scan what is known good.
    // They are written after the flush that made them true and reach the disk with a later
    // flush (or by write-back); until then recovery scans from an older point.
    for (size_t i = first; i <= last; ++i) WriteCommitFor(*view, i, end);
    sync_from_ = last;
  }
  sync_cv_.notify_all();
  if (!st.ok()) return st;
  return end;
}

}  // namespace recstore::internal
