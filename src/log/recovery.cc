#include "src/log/recovery.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/folder.h"
#include "src/log/record_check.h"

namespace recstore::log {

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

// Records dense segment `i` may hold: up to the next segment's first record.
uint64_t MostRecords(const SegmentSet& set, size_t i) {
  return i + 1 < set.dense.size() ? set.dense[i + 1]->first_seq() - set.dense[i]->first_seq()
                                  : UINT64_MAX;
}

// Whether variable-size segment `s` holds `n` records: its commit block says so, or its first
// n slots point at increasing frame offsets below the slot area (and, if it is recycled, its
// last record validates). (A segment that lost the records of a missing neighbour has zeros
// there, or frame bytes that do not read as such a sequence.)
bool HoldsRecords(const Shape& shape, const Segment& s, uint64_t n) {
  if (n > MaxSlots(s)) return false;
  format::CommitBlock c;
  if (s.ReadCommit(&c) && c.sealed && c.records == n) return true;
  if (s.recycled() && n > 0) {
    // Slots past this segment's records may be the earlier use's, in increasing order too:
    // its last record must read as this segment's.
    uint64_t offset = 0;
    uint32_t len = 0;
    if (!RecordAt(shape, s, n - 1, s.first_seq() + n - 1, &offset, &len)) return false;
  }
  const uint64_t slot_area = s.capacity() - format::kSlotSize * n;
  uint64_t prev = 0;
  for (uint64_t j = 0; j < n; ++j) {
    const uint64_t off = SlotOffset(s, j);
    if (off < format::kDataStart || off % 8 != 0 || off <= prev ||
        off + format::kFrameHeaderSize > slot_area) {
      return false;
    }
    prev = off;
  }
  return true;
}

// In a recycled segment, the bytes from `cut` (where the records end, at `pos`) to the end of
// the last record of this segment that still validates after it (a salvage scan: records a
// torn write separated from the rest); 0 when none does. The earlier use's records there are
// not counted: seeded by their own sequence numbers, they never validate as this segment's.
uint64_t RecordsPastCut(const Shape& shape, const Segment& s, uint64_t most, TailPosition pos,
                        uint64_t cut) {
  TailPosition look = pos;
  std::vector<BadRecord> skipped;
  ScanSegment(shape, s, {.salvage = true, .repair_slots = false}, most, &look, &skipped, nullptr);
  if (look.index == pos.index) return 0;
  return look.offset - cut + (shape.fixed() ? 0 : format::kSlotSize * (look.index - pos.index));
}

// Every record of every compacted segment (RecoveryMode::kAbsoluteConsistency).
absl::Status CheckCompacted(const Shape& shape, const SegmentSet& set) {
  for (const auto& part : set.compacted) {
    for (uint64_t i = 0; i < part->count; ++i) {
      uint64_t offset = 0;
      uint32_t len = 0;
      if (!RecordAt(shape, *part->segment, i, part->seqs[i], &offset, &len, part->data_end)) {
        return shape.DataLossAt(part->segment->path(), offset, part->seqs[i],
                                shape.BadRecordReason());
      }
    }
  }
  return absl::OkStatus();
}

// Whether commit block `c` of `s` records a durable point the segment can have. Its
// checksum matched, so it was written after the sync that made it true: the records it counts
// are trusted to be durable (one that reads as invalid is damage, reported by the reads, not a
// torn tail to cut). What no segment can have is refused, and recovery then starts from an
// older point: more records than the segment (or the room before the next one) holds, a data
// end outside the frames' area, or a last durable frame that is intact but ends elsewhere.
bool CommitPointValid(const Shape& shape, const Segment& s, const format::CommitBlock& c,
                      uint64_t most) {
  if (c.records > most) return false;
  if (shape.fixed()) return true;
  if (c.records > MaxSlots(s) || c.data_end < format::kDataStart || c.data_end % 8 != 0 ||
      c.data_end > s.capacity() - format::kSlotSize * c.records) {
    return false;
  }
  if (c.records == 0) return c.data_end == format::kDataStart;
  uint64_t offset = 0;
  uint32_t len = 0;
  if (!RecordAt(shape, s, c.records - 1, s.first_seq() + c.records - 1, &offset, &len)) {
    return true;  // damaged: the block still says where the durable records end
  }
  return offset + format::FrameSpace(len) - format::kSlotSize == c.data_end;
}

// The newest recorded durable point: a dense index and the position after its durable
// records, walking back over segments whose commit block never reached the disk.
size_t FindDurablePoint(const Shape& shape, const SegmentSet& set, TailPosition* pos) {
  for (size_t i = set.dense.size(); i-- > 0;) {
    const Segment& s = *set.dense[i];
    format::CommitBlock c;
    const uint64_t most =
        std::min(MostRecords(set, i), shape.fixed() ? shape.geometry().per_segment : MaxSlots(s));
    if (s.ReadCommit(&c) && CommitPointValid(shape, s, c, most)) {
      *pos = {c.records, shape.fixed() ? shape.geometry().Offset(c.records) : c.data_end};
      return i;
    }
  }
  *pos = {0, format::kDataStart};
  return 0;
}

// How many records variable-size segment `s` appears to hold: its leading slots that point at
// increasing frame offsets (at most `most`).
uint64_t SlotsInUse(const Segment& s, uint64_t most) {
  const uint64_t n = std::min(most, MaxSlots(s));
  uint64_t prev = 0, j = 0;
  for (; j < n; ++j) {
    const uint64_t off = SlotOffset(s, j);
    if (off < format::kDataStart || off % 8 != 0 || off <= prev ||
        off + format::kFrameHeaderSize > s.capacity() - format::kSlotSize * (j + 1)) {
      break;
    }
    prev = off;
  }
  return j;
}

}  // namespace

absl::StatusOr<RecoveryPlan> PlanRecovery(const Shape& shape, const CollectionState& state,
                                          RecoveryMode mode, bool writer, ReaderPins* pins) {
  RecoveryPlan plan;
  RECSTORE_ASSIGN_OR_RETURN(FolderFiles files, ListFolder(shape, state));
  RECSTORE_ASSIGN_OR_RETURN(plan.set, OpenSet(shape, state, &files, writer, nullptr, pins));
  plan.stale = std::move(files.stale);
  plan.retired = std::move(files.retired);
  SegmentSet& set = *plan.set;
  if (mode == RecoveryMode::kAbsoluteConsistency) {
    RECSTORE_RETURN_IF_ERROR(CheckCompacted(shape, set));
  }
  // What the files contradict is damage for a writer. A reader may instead have looked while
  // the writer moved on (a segment created, a commit block written after the listing):
  // NotFound makes it plan again, and only what stays wrong is damage (PlanReadOnly).
  const auto contradicted = [writer](std::string message) {
    return absl::Status(writer ? absl::StatusCode::kDataLoss : absl::StatusCode::kNotFound,
                        std::move(message));
  };
  if (set.dense.empty()) {
    // The newest ordinary segment always stays: none at all is a new collection (a writer
    // creates its first segment) or one whose writer has not created it yet, unless
    // retention or compaction already ran.
    if (state.live_from() > 0) {
      return contradicted(absl::StrCat(
          shape.SegmentPath(state.live_from()), ": segment file of collection '", shape.name(),
          "' is missing: the collection has no ordinary segment, and its manifest entry says "
          "records up to ",
          state.live_from() - 1, " were written"));
    }
    set.set_end(state.live_from());
    plan.report.durable_point = plan.report.records = state.live_from();
    return plan;
  }
  const size_t n = set.dense.size();
  const bool salvage = mode == RecoveryMode::kSalvage;
  {
    // Only a sync that made the segment after it durable seals a segment; the newest one
    // sealed means a later segment file, whose name that sync made durable, is missing.
    const Segment& newest = *set.dense.back();
    format::CommitBlock c;
    if (newest.ReadCommit(&c) && c.sealed &&
        CommitPointValid(shape, newest, c,
                         shape.fixed() ? shape.geometry().per_segment : MaxSlots(newest))) {
      return contradicted(absl::StrCat(
          shape.SegmentPath(newest.first_seq() + c.records), ": segment file of collection '",
          shape.name(), "' is missing: the commit block of ", newest.path(),
          " records that segment full and the records after it durable"));
    }
  }
  TailPosition pos{0, format::kDataStart};
  const size_t durable_start = FindDurablePoint(shape, set, &pos);
  // Absolute consistency scans everything, from the first segment.
  const size_t start = mode == RecoveryMode::kAbsoluteConsistency ? 0 : durable_start;
  if (mode == RecoveryMode::kAbsoluteConsistency) pos = {0, format::kDataStart};
  plan.start = start;
  // Before the durable point a variable-size segment must hold exactly the records up to the
  // next one, or a segment between them is missing (past it, a short segment is a torn tail).
  if (!shape.fixed()) {
    for (size_t i = 0; i < durable_start; ++i) {
      const Segment& s = *set.dense[i];
      const uint64_t next = set.dense[i + 1]->first_seq();
      if (HoldsRecords(shape, s, next - s.first_seq())) continue;
      format::CommitBlock c;
      const uint64_t held = s.ReadCommit(&c) && c.sealed && c.records < next - s.first_seq()
                                ? c.records
                                : SlotsInUse(s, next - s.first_seq());
      return contradicted(absl::StrCat(
          shape.SegmentPath(s.first_seq() + held), ": segment file of collection '", shape.name(),
          "' is missing: no segment holds records ", s.first_seq() + held, " to ", next - 1, " (",
          s.path(), " holds ", held, " records)"));
    }
  }
  plan.report.durable_point = set.dense[start]->first_seq() + pos.index;
  const TailScanOptions options{.salvage = salvage, .repair_slots = writer};
  size_t i = start;
  while (true) {
    const Segment& s = *set.dense[i];
    std::vector<SlotFix> fixes;
    ScanSegment(shape, s, options, MostRecords(set, i), &pos, &plan.report.skipped, &fixes);
    for (const SlotFix& f : fixes) plan.fixes.emplace_back(i, f);
    if (!SegmentDone(shape, pos) || i + 1 >= n ||
        set.dense[i + 1]->first_seq() != s.first_seq() + pos.index) {
      break;
    }
    ++i;
    pos = {0, format::kDataStart};
  }
  plan.tail = i;
  plan.position = pos;
  const Segment& s = *set.dense[i];
  const uint64_t end = s.first_seq() + pos.index;

  // [end, ...) is not part of the log.
  const uint64_t keep = pos.index;
  const uint64_t cut_offset = shape.fixed() ? shape.geometry().Offset(keep) : pos.offset;
  const uint64_t cut_end = s.capacity() - (shape.fixed() ? 0 : format::kSlotSize * keep);
  uint64_t dropped = cut_offset < cut_end ? NonZeroExtent(s, cut_offset, cut_end) : 0;
  if (s.recycled() && dropped > 0) {
    // The earlier segment's records lie past the cut, and none of them validates here: what
    // counts as dropped is only records of this segment that follow the invalid one. A
    // reader's plan cuts nothing and, but under absolute consistency, refuses nothing: it
    // skips that scan of the rest of the segment (its report then says nothing dropped).
    const bool look = writer || mode == RecoveryMode::kAbsoluteConsistency;
    dropped = look ? RecordsPastCut(shape, s, MostRecords(set, i), pos, cut_offset) : 0;
  } else if (!shape.fixed()) {
    // Slots of dropped records sit just below the kept ones.
    uint64_t slot = cut_end;
    while (slot >= cut_offset + format::kSlotSize &&
           base::DecodeFixed32(s.data() + slot - format::kSlotSize) != 0) {
      slot -= format::kSlotSize;
      dropped += format::kSlotSize;
    }
  }
  const uint64_t removed = n - (i + 1);
  // A commit block is written only after the sync that made it true: a log that ends before
  // what one records has lost synced records (damage, not a torn tail), even if nothing
  // non-zero follows.
  for (size_t j = i; j < n; ++j) {
    format::CommitBlock commit;
    const Segment& sj = *set.dense[j];
    const uint64_t kept = j == i ? keep : 0;
    if (sj.ReadCommit(&commit) && commit.records > kept) {
      return contradicted(absl::StrCat(sj.path(), ": offset ",
                                       j == i ? cut_offset : format::kDataStart, ": record ",
                                       sj.first_seq() + kept, " of collection '", shape.name(),
                                       "' is invalid, but the commit block records ",
                                       commit.records, " durable records in this segment"));
    }
  }
  // The manifest's first live record (and a compaction's end) were durable when it was
  // written: a log that ends before them lost synced records.
  if (end < state.live_from()) {
    return contradicted(absl::StrCat(s.path(), ": offset ", cut_offset, ": collection '",
                                     shape.name(), "' ends at record ", end,
                                     ", but its manifest entry says the records up to ",
                                     state.live_from() - 1, " were written"));
  }
  if (mode == RecoveryMode::kAbsoluteConsistency) {
    if (dropped > 0 || removed > 0 ||
        (!s.recycled() && cut_offset < cut_end && !AllZero(s, cut_offset, cut_end))) {
      return contradicted(absl::StrCat(
          s.path(), ": offset ", cut_offset, ": record ", end, " of collection '", shape.name(),
          "' is invalid and is followed by data; absolute consistency refuses to truncate"));
    }
  }
  if (dropped > 0 || removed > 0) {
    plan.report.truncated = true;
    plan.report.truncated_file = s.path();
    plan.report.truncated_offset = cut_offset;
    plan.report.bytes_dropped = dropped;
    plan.report.segments_removed = removed;
  }
  if (writer) {
    plan.cut_offset = cut_offset;
    plan.cut_end = cut_end;
    plan.removed.assign(set.dense.begin() + static_cast<ptrdiff_t>(i + 1), set.dense.end());
    set.dense.resize(i + 1);
  }
  set.set_end(end);
  plan.report.tail_records_kept = end - plan.report.durable_point;
  plan.report.records = end;
  return plan;
}

absl::Status ApplyRecovery(const Shape& shape, RecoveryPlan* plan, GroupCommit* commit) {
  Env* env = shape.env();
  SegmentSet& set = *plan->set;
  const uint64_t end = set.end();
  // Files no state names go first: nothing reads them.
  for (const std::string& name : plan->stale) {
    RECSTORE_RETURN_IF_ERROR(env->Remove(shape.FilePath(name)));
  }
  for (const auto& [i, fix] : plan->fixes) {
    const Segment& s = *set.dense[i];
    // The slot's space: a crash may have lost an allocation no flush had made durable.
    RECSTORE_RETURN_IF_ERROR(s.Reserve(0, s.capacity() - format::kSlotSize * (fix.index + 1)));
    base::EncodeFixed32(s.mutable_data() + s.capacity() - format::kSlotSize * (fix.index + 1),
                        fix.offset);
  }
  os::File tail_file;
  if (set.dense.empty()) {
    RECSTORE_ASSIGN_OR_RETURN(
        Segment::Created c,
        Segment::Create(env, shape.SegmentPath(end), shape.HeaderFor(end, shape.segment_size()),
                        shape.file_mode()));
    set.dense.push_back(c.segment);
    tail_file = std::move(c.file);
  } else {
    const Segment& tail = *set.dense[plan->tail];
    RECSTORE_ASSIGN_OR_RETURN(tail_file, tail.Reopen());
    // Zero the whole rest of the segment: pages past the first zero page may still hold
    // records written before the crash, which must never be mistaken for new ones. The
    // range may become a hole, so the segment forgets what the slot repairs above reserved:
    // the appender reserves again before it writes there.
    RECSTORE_RETURN_IF_ERROR(tail.Zero(tail_file.fd(), plan->cut_offset, plan->cut_end));
    for (const auto& r : plan->removed) RECSTORE_RETURN_IF_ERROR(env->Remove(r->path()));
  }
  // Everything kept is made durable now, so durable() is true from the start and the next
  // open need not scan it again.
  for (size_t i = plan->start; i + 1 < set.dense.size(); ++i) {
    RECSTORE_ASSIGN_OR_RETURN(os::File f, set.dense[i]->Reopen());
    RECSTORE_RETURN_IF_ERROR(env->SyncData(f.fd(), f.path()));
  }
  RECSTORE_RETURN_IF_ERROR(env->SyncData(tail_file.fd(), tail_file.path()));
  RECSTORE_RETURN_IF_ERROR(os::SyncDir(env, shape.dir()));
  commit->Start(end,
                std::vector<std::shared_ptr<const Segment>>(
                    set.dense.begin() + static_cast<ptrdiff_t>(std::min(plan->start, plan->tail)),
                    set.dense.end()),
                std::move(tail_file));
  return absl::OkStatus();
}

}  // namespace recstore::log
