// Collection: opening, crash recovery of the tail, and picking up another process's appends.
//
// Recovery starts at the newest durable point recorded in a segment's commit block (or at the
// first segment if none is recorded), scans forward keeping every complete, checksum-valid
// record, and - for a writer - zeroes everything after the last kept record and deletes any
// later segment, so no stale record can ever join the log after a later crash.
#include <fcntl.h>

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
  const CollectionInfo& info = config_.info;
  std::vector<uint64_t> firsts, compacted;
  std::vector<std::string> stale;  // files the manifest does not name
  for (const std::string& name : names) {
    uint64_t first_seq, generation;
    if (format::ParseSegmentFileName(name, &first_seq)) {
      // Below compacted_end, records live in compacted segments: an ordinary segment there
      // was left by a crash after the compaction's manifest switch.
      if (first_seq < info.compacted_end) {
        stale.push_back(name);
      } else {
        firsts.push_back(first_seq);
      }
    } else if (format::ParseCompactedFileName(name, &generation, &first_seq)) {
      // Another generation: left by a compaction that crashed before or after its switch.
      if (generation == info.generation && first_seq < info.compacted_end) {
        compacted.push_back(first_seq);
      } else {
        stale.push_back(name);
      }
    } else if (name.size() > 4 && name.ends_with(".tmp")) {
      stale.push_back(name);  // a segment whose creation a crash interrupted
    }
  }
  std::sort(firsts.begin(), firsts.end());
  std::sort(compacted.begin(), compacted.end());
  // Ordinary segments wholly below first_seq were left by a crash during retention; the
  // newest one always stays (it is where appends go).
  size_t below = 0;
  while (below + 1 < firsts.size() && firsts[below + 1] <= info.first_seq) {
    stale.push_back(format::SegmentFileName(firsts[below]));
    ++below;
  }
  firsts.erase(firsts.begin(), firsts.begin() + below);
  auto view = std::make_shared<log::SegmentView>();
  view->first_seq = info.first_seq;
  view->compacted_end = info.compacted_end;
  view->generation = info.generation;
  for (uint64_t first : compacted) {
    RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<const log::CompactedPart> part,
                              OpenCompacted(info.generation, first, info.compacted_end));
    if (!view->compacted.empty() && part->first() <= view->compacted.back()->last()) {
      return absl::DataLossError(
          absl::StrCat(part->segment->path(), ": compacted segment overlaps the one before it"));
    }
    if (part->last() < info.first_seq) {
      stale.push_back(format::CompactedFileName(info.generation, first));
    } else {
      view->compacted.push_back(std::move(part));
    }
  }
  // The ordinary segments must start at or before the first record they hold: below that,
  // the manifest says records live in compacted segments or were dropped.
  const uint64_t live = std::max(info.first_seq, info.compacted_end);
  if (!firsts.empty() && firsts[0] > live) {
    // A reader may have read the manifest just before the writer switched to a new state and
    // removed the old files: NotFound makes it read the manifest again.
    return absl::Status(read_only() ? absl::StatusCode::kNotFound : absl::StatusCode::kDataLoss,
                        absl::StrCat(SegmentPath(firsts[0]), ": collection '", config_.info.name,
                                     "' has no segment for records ", live, " to ", firsts[0] - 1,
                                     " (the segments before this one are missing)"));
  }
  for (size_t k = 0; k < firsts.size(); ++k) {
    if (fixed() && firsts[k] != firsts[0] + k * geometry_.per_segment) {
      return absl::DataLossError(absl::StrCat(
          SegmentPath(firsts[k]), ": segment out of sequence in collection '", config_.info.name,
          "': expected the segment starting at record ", firsts[0] + k * geometry_.per_segment));
    }
    view->dense.push_back(std::make_shared<log::SegmentSlot>(firsts[k], nullptr));
  }
  table_.Publish(std::move(view));
  if (read_only() || stale.empty()) return absl::OkStatus();
  for (const std::string& name : stale) {
    RECSTORE_RETURN_IF_ERROR(config_.env->Remove(absl::StrCat(config_.dir, "/", name)));
  }
  return config_.env->SyncDir(config_.dir);
}

absl::StatusOr<std::shared_ptr<const log::CompactedPart>> Collection::OpenCompacted(
    uint64_t generation, uint64_t first_seq, uint64_t compacted_end) {
  const std::string path = CompactedPath(generation, first_seq);
  uint64_t capacity;
  {
    RECSTORE_ASSIGN_OR_RETURN(os::File f, os::File::Open(config_.env, path, O_RDONLY));
    RECSTORE_ASSIGN_OR_RETURN(capacity, config_.env->FileSize(f.fd(), f.path()));
  }
  format::SegmentHeader expect = HeaderFor(first_seq, capacity);
  expect.compacted = true;
  expect.generation = generation;
  auto part = std::make_shared<log::CompactedPart>();
  RECSTORE_ASSIGN_OR_RETURN(part->segment,
                            Segment::Open(config_.env, path, /*writable=*/false, expect));
  const Segment& s = *part->segment;
  format::CommitBlock c;
  const uint64_t per_record = fixed() ? 8 : 8 + format::kSlotSize;
  const bool ok = s.ReadCommit(&c) && c.sealed && c.records > 0 &&
                  c.records <= capacity / per_record && c.data_end >= format::kDataStart &&
                  c.data_end % 8 == 0 && c.data_end <= capacity - per_record * c.records &&
                  (!fixed() || c.data_end == geometry_.Offset(c.records));
  if (!ok) {
    return absl::DataLossError(absl::StrCat(path, ": offset ", format::kCommitBlockOffset,
                                            ": invalid index block of a compacted segment"));
  }
  part->count = c.records;
  part->data_end = c.data_end;
  part->seqs = reinterpret_cast<const uint64_t*>(s.data() + c.data_end);
  if (part->first() != first_seq || part->last() >= compacted_end || part->last() < part->first()) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset ", c.data_end, ": sequence numbers do not match the segment"));
  }
  return std::shared_ptr<const log::CompactedPart>(std::move(part));
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
    next_seq_ = std::max(begin(), config_.info.compacted_end);
    if (!read_only()) {
      RECSTORE_RETURN_IF_ERROR(CreateSegmentLocked(next_seq_, config_.info.segment_size));
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
    // Map every segment now: the writer may delete files that retention or compaction
    // retires, and what this process has mapped stays readable until it lets go.
    for (size_t i = 0; i < table_.size(); ++i) {
      absl::Status st = SegmentAt(i).status();
      if (!st.ok() && !(Segment::IsUnwritten(st) && i + 1 == table_.size())) return st;
    }
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
  WriteCommitFor(table_.current(), active_, next_seq_);
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
  RECSTORE_RETURN_IF_ERROR(FollowManifestLocked());
  if (table_.size() == 0) {
    const uint64_t first = std::max(begin(), table_.current().compacted_end);
    if (!config_.env->Exists(SegmentPath(first)).ok()) return absl::OkStatus();
    table_.Push(first, nullptr);
    active_ = 0;
    active_count_ = 0;
    active_end_ = format::kDataStart;
  }
  return ScanTail(active_, active_count_, active_end_, /*at_open=*/false);
}

absl::Status Collection::FollowManifestLocked() {
  if (config_.manifest == nullptr) return absl::OkStatus();
  // The writer removes the files of a state once the next one is in place; if that happens
  // between reading the manifest and opening its files, read it again.
  for (int attempt = 0;; ++attempt) {
    RECSTORE_ASSIGN_OR_RETURN(CollectionInfo info, config_.manifest->Reload(config_.info.name));
    const log::SegmentView& cur = table_.current();
    if (info.generation == cur.generation && info.first_seq == cur.first_seq) {
      return absl::OkStatus();
    }
    absl::StatusOr<std::shared_ptr<log::SegmentView>> view = ViewOfFolder(info);
    if (!view.ok()) {
      if (view.status().code() == absl::StatusCode::kNotFound && attempt < 20) continue;
      return view.status();
    }
    // Keep the scan position if its segment is still there; otherwise (it was retired) the
    // scan resumes at the first ordinary segment, past everything the new state holds below.
    const std::shared_ptr<log::SegmentSlot>& at = cur.dense.empty() ? nullptr : cur.dense[active_];
    auto it = std::find((*view)->dense.begin(), (*view)->dense.end(), at);
    if (at != nullptr && it != (*view)->dense.end()) {
      active_ = static_cast<size_t>(it - (*view)->dense.begin());
    } else {
      active_ = 0;
      active_count_ = 0;
      active_end_ = format::kDataStart;
    }
    begin_.store(info.first_seq, std::memory_order_release);
    {
      std::lock_guard<std::mutex> info_lock(info_mu_);
      info_ = info;
    }
    table_.Publish(*std::move(view));
    return absl::OkStatus();
  }
}

absl::StatusOr<std::shared_ptr<log::SegmentView>> Collection::ViewOfFolder(
    const CollectionInfo& info) {
  const log::SegmentView& cur = table_.current();
  auto view = std::make_shared<log::SegmentView>();
  view->first_seq = info.first_seq;
  view->compacted_end = info.compacted_end;
  view->generation = info.generation;
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, config_.env->ListDir(config_.dir));
  std::vector<uint64_t> firsts, compacted;
  for (const std::string& name : names) {
    uint64_t generation, first;
    if (format::ParseSegmentFileName(name, &first)) {
      if (first >= info.compacted_end) firsts.push_back(first);
    } else if (format::ParseCompactedFileName(name, &generation, &first) &&
               generation == info.generation && first < info.compacted_end) {
      compacted.push_back(first);
    }
  }
  std::sort(firsts.begin(), firsts.end());
  std::sort(compacted.begin(), compacted.end());
  for (uint64_t first : compacted) {
    std::shared_ptr<const log::CompactedPart> part;
    if (info.generation == cur.generation) {
      for (const auto& p : cur.compacted) {
        if (p->first() == first) part = p;
      }
    }
    if (part == nullptr) {
      RECSTORE_ASSIGN_OR_RETURN(part, OpenCompacted(info.generation, first, info.compacted_end));
    }
    if (part->last() >= info.first_seq) view->compacted.push_back(std::move(part));
  }
  size_t below = 0;
  while (below + 1 < firsts.size() && firsts[below + 1] <= info.first_seq) ++below;
  const uint64_t live = std::max(info.first_seq, info.compacted_end);
  if (below < firsts.size() && firsts[below] > live) {
    return absl::NotFoundError(absl::StrCat(SegmentPath(firsts[below]), ": collection '",
                                            config_.info.name, "' has no segment for records ",
                                            live, " to ", firsts[below] - 1));
  }
  for (size_t k = below; k < firsts.size(); ++k) {
    std::shared_ptr<log::SegmentSlot> slot;
    for (const auto& d : cur.dense) {
      if (d->first_seq.load(std::memory_order_relaxed) == firsts[k]) slot = d;
    }
    if (slot == nullptr) slot = std::make_shared<log::SegmentSlot>(firsts[k], nullptr);
    view->dense.push_back(std::move(slot));
  }
  // Map every segment now, as at open: what this process has mapped stays readable.
  for (size_t i = 0; i < view->dense.size(); ++i) {
    absl::Status st = SegmentAt(*view, i).status();
    if (!st.ok() && !(Segment::IsUnwritten(st) && i + 1 == view->dense.size())) return st;
  }
  return view;
}

}  // namespace recstore::internal
