// Collection: opening, crash recovery of the tail, and picking up another process's appends.
//
// Recovery starts at the newest durable point recorded in a segment's commit block (or at the
// first segment if none is recorded), scans forward keeping every complete, checksum-valid
// record, and - for a writer - zeroes everything after the last kept record and deletes any
// later segment, so no stale record can ever join the log after a later crash.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/collection.h"

namespace recstore::internal {

using log::Segment;

namespace {

// Bytes from `from` up to the end of the last non-zero page before the first all-zero page
// in [from, to): how much recognisable data a cut at `from` drops.
uint64_t NonZeroExtent(const Segment& s, uint64_t from, uint64_t to) {
  uint64_t last = from;
  uint64_t pos = from;
  while (pos < to) {
    const uint64_t page_end = std::min(to, format::RoundUp(pos + 1, format::kPageSize));
    bool nonzero = false;
    for (const std::byte* p = s.data() + pos; p < s.data() + page_end; ++p) {
      if (*p != std::byte{0}) {
        nonzero = true;
        break;
      }
    }
    if (!nonzero) break;
    last = page_end;
    pos = page_end;
  }
  return last - from;
}

// True when [from, to) of the segment holds only zeros.
bool AllZero(const Segment& s, uint64_t from, uint64_t to) {
  static const std::byte kZeros[4096] = {};
  for (uint64_t pos = from; pos < to;) {
    const uint64_t n = std::min<uint64_t>(sizeof(kZeros), to - pos);
    if (std::memcmp(s.data() + pos, kZeros, n) != 0) return false;
    pos += n;
  }
  return true;
}

}  // namespace

absl::Status Collection::ListSegments() {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, config_.env->ListDir(config_.dir));
  std::vector<uint64_t> firsts;
  for (const std::string& name : names) {
    uint64_t first_seq;
    if (format::ParseSegmentFileName(name, &first_seq)) {
      firsts.push_back(first_seq);
    } else if (!read_only() && name.size() > 4 && name.ends_with(".tmp")) {
      // A segment whose creation a crash interrupted.
      RECSTORE_RETURN_IF_ERROR(config_.env->Remove(absl::StrCat(config_.dir, "/", name)));
    }
  }
  std::sort(firsts.begin(), firsts.end());
  for (size_t k = 0; k < firsts.size(); ++k) {
    if (fixed() && firsts[k] != firsts[0] + k * geometry_.per_segment) {
      return absl::DataLossError(absl::StrCat(
          SegmentPath(firsts[k]), ": segment out of sequence in collection '", config_.info.name,
          "': expected the segment starting at record ", firsts[0] + k * geometry_.per_segment));
    }
    table_.Push(firsts[k], nullptr);
  }
  return absl::OkStatus();
}

absl::Status Collection::Recover() {
  RECSTORE_RETURN_IF_ERROR(ListSegments());
  std::lock_guard<std::mutex> sync_lock(sync_mu_);  // lock order: sync_mu_, then mu_
  std::lock_guard<std::mutex> lock(mu_);
  if (table_.size() == 0 && read_only()) {
    // The writer created the collection but not yet its first segment.
    next_seq_ = begin();
    published_.store(next_seq_);
    durable_.store(next_seq_);
    report_.durable_point = report_.records = next_seq_;
    return absl::OkStatus();
  }
  if (table_.size() == 0) {
    next_seq_ = begin();
    if (!read_only()) {
      RECSTORE_RETURN_IF_ERROR(CreateSegmentLocked(begin(), config_.info.segment_size));
      RECSTORE_RETURN_IF_ERROR(config_.env->SyncDir(config_.dir));
      dir_dirty_ = false;
      active_end_ = format::kDataStart;
    }
    published_.store(next_seq_);
    durable_.store(next_seq_);
    report_.durable_point = report_.records = next_seq_;
    return absl::OkStatus();
  }
  // Find the newest recorded durable point, walking back over segments whose commit block
  // never reached the disk.
  size_t start = 0;
  uint64_t index = 0, offset = format::kDataStart;
  if (config_.recovery != RecoveryMode::kAbsoluteConsistency) {
    for (size_t i = table_.size(); i-- > 0;) {
      absl::StatusOr<Segment*> seg = SegmentAt(i);
      if (!seg.ok()) {
        // Only a newest segment whose header was never written is taken for a torn creation.
        // Any other invalid segment was damaged (Segment::Create names a file only once its
        // header and full allocation are on disk), and an I/O error says nothing about the
        // file: fail the open and leave the file, never drop the records in and after it.
        if (Segment::IsUnwritten(seg.status()) && i + 1 == table_.size() && i > 0) continue;
        return seg.status();
      }
      format::CommitBlock c;
      const Segment& s = **seg;
      const bool plausible =
          s.ReadCommit(&c) &&
          (fixed() ? c.records <= geometry_.per_segment
                   : c.records <= (s.capacity() - format::kDataStart) / format::kSlotSize &&
                         c.data_end >= format::kDataStart && c.data_end % 8 == 0 &&
                         c.data_end <= s.capacity() - format::kSlotSize * c.records);
      if (plausible || i == 0) {
        start = i;
        index = plausible ? c.records : 0;
        offset = plausible && !fixed() ? c.data_end : format::kDataStart;
        break;
      }
    }
  }
  report_.durable_point = table_.at(start).first_seq.load() + index;
  RECSTORE_RETURN_IF_ERROR(ScanTail(start, index, offset, /*at_open=*/true));
  report_.tail_records_kept = next_seq_ - report_.durable_point;
  report_.records = next_seq_;
  if (read_only()) {
    durable_.store(report_.durable_point);
    return absl::OkStatus();
  }
  // Everything kept is made durable now, so durable() is true from the start and the next
  // open need not scan it again.
  for (size_t i = start; i <= active_; ++i) {
    RECSTORE_ASSIGN_OR_RETURN(Segment * s, SegmentAt(i));
    RECSTORE_RETURN_IF_ERROR(s->SyncData());
  }
  RECSTORE_RETURN_IF_ERROR(config_.env->SyncDir(config_.dir));
  durable_.store(next_seq_);
  sync_from_ = active_;
  WriteCommitFor(active_, next_seq_);
  return absl::OkStatus();
}

absl::Status Collection::ScanTail(size_t i, uint64_t index, uint64_t offset, bool at_open) {
  const bool salvage = config_.recovery == RecoveryMode::kSalvage;
  uint64_t seq = table_.at(i).first_seq.load() + index;
  RECSTORE_ASSIGN_OR_RETURN(Segment * s, SegmentAt(i));
  while (true) {
    if (fixed()) {
      while (index < geometry_.per_segment) {
        if (log::FixedRecordValid(*s, geometry_, index, seq)) {
          ++index;
          ++seq;
          continue;
        }
        if (!salvage) break;
        uint64_t j = index + 1;
        while (j < geometry_.per_segment &&
               !log::FixedRecordValid(*s, geometry_, j, seq + (j - index))) {
          ++j;
        }
        if (j == geometry_.per_segment) break;
        for (; index < j; ++index, ++seq) {
          report_.skipped.push_back({seq, s->path(), geometry_.Offset(index), "checksum mismatch"});
        }
      }
    } else {
      while (true) {
        uint32_t len;
        const uint64_t limit = s->capacity() - format::kSlotSize * (index + 1);
        if (!log::FrameValid(*s, offset, limit, seq, &len)) {
          if (!salvage || index + 2 > (s->capacity() - format::kDataStart) / format::kSlotSize) {
            break;
          }
          // The slot of the next record tells where it starts, if it reached the disk.
          const uint64_t next = log::SlotOffset(*s, index + 1);
          if (next <= offset ||
              !log::FrameValid(*s, next, limit - format::kSlotSize, seq + 1, &len)) {
            break;
          }
          report_.skipped.push_back({seq, s->path(), offset, "invalid frame or checksum"});
          len = static_cast<uint32_t>(next - offset - format::kFrameHeaderSize);
        }
        const uint64_t slot = s->capacity() - format::kSlotSize * (index + 1);
        if (base::DecodeFixed32(s->data() + slot) != offset) {
          // The frame reached the disk but its slot did not (another page). A writer repairs
          // the slot; a reader cannot, and reads find records through slots, so its log ends
          // before this record.
          if (s->mutable_data() == nullptr) break;
          base::EncodeFixed32(s->mutable_data() + slot, static_cast<uint32_t>(offset));
        }
        offset += format::FrameSpace(len) - format::kSlotSize;
        ++index;
        ++seq;
      }
    }
    // Continue into the next segment if it starts right where this one's records end.
    // A variable-size segment is only left for the next once it holds a record.
    const bool full = fixed() ? index == geometry_.per_segment : index > 0;
    if (full && i + 1 == table_.size() && read_only() &&
        config_.env->Exists(SegmentPath(seq)).ok()) {
      table_.Push(seq, nullptr);  // appeared since we last looked
    }
    if (!full || i + 1 >= table_.size() || table_.at(i + 1).first_seq.load() != seq) break;
    absl::StatusOr<Segment*> next = SegmentAt(i + 1);
    if (!next.ok()) {
      // A torn creation of the newest segment is cut away; damage anywhere fails (see Recover).
      if (!Segment::IsUnwritten(next.status()) || i + 2 != table_.size()) return next.status();
      break;
    }
    ++i;
    s = *next;
    index = 0;
    offset = format::kDataStart;
  }
  // [seq, ...) is not part of the log.
  if (at_open) {
    RECSTORE_RETURN_IF_ERROR(CutTail(i, index, fixed() ? geometry_.Offset(index) : offset));
  }
  active_ = i;
  active_count_ = index;
  active_end_ = offset;
  next_seq_ = seq;
  populated_to_ = 0;
  published_.store(seq, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Collection::CutTail(size_t i, uint64_t keep_records, uint64_t cut_offset) {
  RECSTORE_ASSIGN_OR_RETURN(Segment * s, SegmentAt(i));
  const uint64_t region_end = s->capacity() - (fixed() ? 0 : format::kSlotSize * keep_records);
  uint64_t dropped = NonZeroExtent(*s, cut_offset, region_end);
  if (!fixed()) {
    // Slots of dropped records sit just below the kept ones.
    uint64_t slot = region_end;
    while (slot >= cut_offset + format::kSlotSize &&
           base::DecodeFixed32(s->data() + slot - format::kSlotSize) != 0) {
      slot -= format::kSlotSize;
      dropped += format::kSlotSize;
    }
  }
  const uint64_t removed = table_.size() - (i + 1);
  // Absolute consistency does not start from commit blocks, but a valid one still says which
  // records were durable: a log that ends before it has lost synced records, even if nothing
  // non-zero follows (a tail lost at a record boundary).
  format::CommitBlock commit;
  if (config_.recovery == RecoveryMode::kAbsoluteConsistency && !read_only() &&
      s->ReadCommit(&commit) && commit.records > keep_records) {
    return absl::DataLossError(absl::StrCat(
        s->path(), ": offset ", cut_offset, ": record ", s->first_seq() + keep_records,
        " of collection '", config_.info.name, "' is invalid, but the commit block records ",
        commit.records, " durable records in this segment"));
  }
  if (config_.recovery == RecoveryMode::kAbsoluteConsistency &&
      (dropped > 0 || removed > 0 || !AllZero(*s, cut_offset, region_end))) {
    return absl::DataLossError(absl::StrCat(
        s->path(), ": offset ", cut_offset, ": record ", s->first_seq() + keep_records,
        " of collection '", config_.info.name,
        "' is invalid and is followed by data; absolute consistency refuses to truncate"));
  }
  if (dropped > 0 || removed > 0) {
    report_.truncated = true;
    report_.truncated_file = s->path();
    report_.truncated_offset = cut_offset;
    report_.bytes_dropped = dropped;
    report_.segments_removed = removed;
  }
  if (read_only()) return absl::OkStatus();  // readers report, the writer cuts
  // Zero the whole rest of the segment: pages past the first zero page may still hold
  // records written before the crash, which must never be mistaken for new ones.
  RECSTORE_RETURN_IF_ERROR(s->ZeroRange(cut_offset, region_end - cut_offset));
  while (table_.size() > i + 1) {
    const uint64_t first = table_.at(table_.size() - 1).first_seq.load();
    table_.PopBack();
    RECSTORE_RETURN_IF_ERROR(config_.env->Remove(SegmentPath(first)));
  }
  return absl::OkStatus();
}

absl::Status Collection::Refresh() {
  if (!read_only()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (table_.size() == 0) {
    if (!config_.env->Exists(SegmentPath(begin())).ok()) return absl::OkStatus();
    table_.Push(begin(), nullptr);
    active_count_ = 0;
    active_end_ = format::kDataStart;
  }
  return ScanTail(active_, active_count_, active_end_, /*at_open=*/false);
}

}  // namespace recstore::internal
