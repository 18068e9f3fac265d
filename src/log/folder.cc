#include "src/log/folder.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"
#include "src/log/record_check.h"
#include "src/os/file.h"

namespace recstore::log {

absl::StatusOr<FolderFiles> ListFolder(const Shape& shape, const CollectionState& state) {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, shape.env()->ListDir(shape.dir()));
  FolderFiles files;
  for (const std::string& name : names) {
    uint64_t first_seq, generation;
    if (format::ParseSegmentFileName(name, &first_seq)) {
      // Below compacted_end, records live in compacted segments: an ordinary segment there
      // was left by a crash after the compaction's manifest switch.
      if (first_seq < state.compacted_end) {
        files.stale.push_back(name);
      } else {
        files.ordinary.push_back(first_seq);
      }
    } else if (format::ParseCompactedFileName(name, &generation, &first_seq)) {
      // Another generation: left by a compaction that crashed before or after its switch.
      if (generation == state.generation && first_seq < state.compacted_end) {
        files.compacted.push_back(first_seq);
      } else {
        files.stale.push_back(name);
      }
    } else if (ParseRecycleFileName(name, &first_seq)) {
      files.retired.push_back(first_seq);
    } else if (name.size() > 4 && name.ends_with(".tmp")) {
      files.stale.push_back(name);  // a file whose creation a crash interrupted
    }
  }
  std::sort(files.ordinary.begin(), files.ordinary.end());
  std::sort(files.compacted.begin(), files.compacted.end());
  // Ordinary segments wholly below first_seq were left by a crash during retention; the
  // newest one always stays (it is where appends go).
  size_t below = 0;
  while (below + 1 < files.ordinary.size() && files.ordinary[below + 1] <= state.first_seq) {
    files.stale.push_back(format::SegmentFileName(files.ordinary[below]));
    ++below;
  }
  files.ordinary.erase(files.ordinary.begin(), files.ordinary.begin() + below);
  return files;
}

absl::StatusOr<std::shared_ptr<const CompactedPart>> OpenCompacted(const Shape& shape,
                                                                   uint64_t generation,
                                                                   uint64_t first_seq,
                                                                   uint64_t compacted_end,
                                                                   bool linked) {
  const std::string path = shape.CompactedPath(generation, first_seq);
  auto part = std::make_shared<CompactedPart>();
  RECSTORE_ASSIGN_OR_RETURN(
      part->segment,
      Segment::Open(shape.env(), path, /*writable=*/false,
                    shape.CompactedHeaderFor(generation, first_seq, /*capacity=*/0)));
  const Segment& s = *part->segment;
  const uint64_t capacity = s.capacity();
  format::CommitBlock c;
  const uint64_t per_record = shape.fixed() ? 8 : 8 + format::kSlotSize;
  // Every bound in overflow-safe form: records * per_record fits below the capacity.
  const bool ok = s.ReadCommit(&c) && c.sealed && c.records > 0 &&
                  c.records <= (capacity - format::kDataStart) / per_record &&
                  c.data_end >= format::kDataStart && c.data_end % 8 == 0 &&
                  c.data_end <= capacity - per_record * c.records &&
                  (!shape.fixed() || (c.records <= shape.geometry().per_segment &&
                                      c.data_end == shape.geometry().Offset(c.records)));
  if (!ok) {
    return absl::DataLossError(absl::StrCat(path, ": offset ", format::kCommitBlockOffset,
                                            ": invalid index block of a compacted segment"));
  }
  if (!shape.fixed()) {
    // The frames are packed from kDataStart: the first slot points there, and the last frame
    // ends at the data end (else the count was changed and records would silently vanish).
    const uint64_t last = SlotOffset(s, c.records - 1);
    const bool packed =
        SlotOffset(s, 0) == format::kDataStart && last >= format::kDataStart && last % 8 == 0 &&
        last + format::kFrameHeaderSize <= c.data_end &&
        last + format::FrameSpace(base::DecodeFixed32(s.data() + last)) - format::kSlotSize ==
            c.data_end;
    if (!packed) {
      return absl::DataLossError(absl::StrCat(path, ": offset ", format::kCommitBlockOffset,
                                              ": the index block's record count does not match "
                                              "the records of the compacted segment"));
    }
  }
  part->count = c.records;
  part->data_end = c.data_end;
  part->seqs = reinterpret_cast<const uint64_t*>(s.data() + c.data_end);
  bool increasing = true;
  for (uint64_t i = 1; i < part->count && increasing; ++i) {
    increasing = part->seqs[i] > part->seqs[i - 1];
  }
  if (part->first() != first_seq || part->last() >= compacted_end || !increasing) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset ", c.data_end, ": sequence numbers do not match the segment"));
  }
  uint64_t next;
  if (format::DecodeLinkBlock(s.data() + format::kLinkBlockOffset, first_seq, &next) &&
      next > part->last() && next <= compacted_end) {
    part->next = next;
  } else if (linked) {
    return absl::DataLossError(absl::StrCat(path, ": offset ", format::kLinkBlockOffset,
                                            ": invalid link block of a compacted segment"));
  }
  return std::shared_ptr<const CompactedPart>(std::move(part));
}

absl::StatusOr<std::shared_ptr<const Segment>> OpenOrdinary(const Shape& shape, uint64_t first,
                                                            bool writable, ReaderPins* pins) {
  // Variable-size segments may be larger than the collection's segment size (one oversized
  // record): their header says how large, and the file must match it.
  const std::string path = shape.SegmentPath(first);
  // A reader pins the file before it maps it (recycle.h).
  std::shared_ptr<const void> hold;
  if (pins != nullptr) {
    RECSTORE_ASSIGN_OR_RETURN(hold, pins->Hold(first));
  }
  RECSTORE_ASSIGN_OR_RETURN(
      std::shared_ptr<const Segment> seg,
      Segment::Open(shape.env(), path, writable,
                    shape.HeaderFor(first, shape.fixed() ? shape.segment_size() : 0),
                    /*file=*/nullptr, std::move(hold)));
  if (seg->capacity() < shape.segment_size()) {
    return absl::DataLossError(absl::StrCat(path, ": offset 48: segment capacity ", seg->capacity(),
                                            " is below the collection's ", shape.segment_size()));
  }
  return seg;
}

namespace {

// A missing segment: DataLoss for a writer; NotFound for a reader, whose manifest may be
// older than the files.
absl::Status Missing(bool writer, std::string message) {
  return absl::Status(writer ? absl::StatusCode::kDataLoss : absl::StatusCode::kNotFound,
                      std::move(message));
}

}  // namespace

absl::StatusOr<std::shared_ptr<SegmentSet>> OpenSet(const Shape& shape,
                                                    const CollectionState& state,
                                                    FolderFiles* files, bool writer,
                                                    const SegmentSet* reuse, ReaderPins* pins) {
  auto set = std::make_shared<SegmentSet>();
  set->state = state;
  const bool linked = state.compacted_first != CollectionInfo::kUnrecorded;
  uint64_t expect = state.compacted_first;  // linked: the next file the chain names
  auto missing_compacted = [&](uint64_t first) {
    return Missing(writer,
                   absl::StrCat(shape.CompactedPath(state.generation, first),
                                ": compacted segment file of collection '", shape.name(),
                                "' is missing (generation ", state.generation, " names it)"));
  };
  for (uint64_t first : files->compacted) {
    if (linked && first < state.compacted_first) {
      // Before the chain's start: left by a retention whose switch a crash interrupted.
      files->stale.push_back(format::CompactedFileName(state.generation, first));
      continue;
    }
    if (linked && first != expect) return missing_compacted(expect);
    std::shared_ptr<const CompactedPart> part;
    if (reuse != nullptr && reuse->state.generation == state.generation) {
      const size_t k = reuse->PartFor(first);
      if (k < reuse->compacted.size() && reuse->compacted[k]->first() == first) {
        part = reuse->compacted[k];
      }
    }
    if (part == nullptr) {
      absl::StatusOr<std::shared_ptr<const CompactedPart>> opened =
          OpenCompacted(shape, state.generation, first, state.compacted_end, linked);
      if (!opened.ok()) {
        if (opened.status().code() == absl::StatusCode::kNotFound) {
          return Missing(writer, std::string(opened.status().message()));
        }
        return opened.status();
      }
      part = *std::move(opened);
    }
    if (!set->compacted.empty() && part->first() <= set->compacted.back()->last()) {
      return absl::DataLossError(
          absl::StrCat(part->segment->path(), ": compacted segment overlaps the one before it"));
    }
    expect = part->next;
    if (!linked && part->last() < state.first_seq) {
      files->stale.push_back(format::CompactedFileName(state.generation, first));
    } else {
      set->compacted.push_back(std::move(part));
    }
  }
  if (linked && expect != state.compacted_end) return missing_compacted(expect);
  // The ordinary segments must start at or before the first record they hold: below that,
  // the manifest says records live in compacted segments or were dropped.
  const uint64_t live = state.live_from();
  if (!files->ordinary.empty() && files->ordinary[0] > live) {
    return Missing(writer, absl::StrCat(shape.SegmentPath(live), ": segment file of collection '",
                                        shape.name(), "' is missing: no segment holds records ",
                                        live, " to ", files->ordinary[0] - 1, " (the next one is ",
                                        shape.SegmentPath(files->ordinary[0]), ")"));
  }
  const uint64_t per = shape.geometry().per_segment;
  for (size_t k = 0; k < files->ordinary.size(); ++k) {
    const uint64_t first = files->ordinary[k];
    if (shape.fixed() && k > 0 && first != files->ordinary[k - 1] + per) {
      return absl::DataLossError(absl::StrCat(
          shape.SegmentPath(files->ordinary[k - 1] + per), ": segment file of collection '",
          shape.name(), "' is missing: no segment holds records ", files->ordinary[k - 1] + per,
          " to ", first - 1, " (the next one is ", shape.SegmentPath(first), ")"));
    }
    const std::string path = shape.SegmentPath(first);
    std::shared_ptr<const Segment> seg;
    if (reuse != nullptr) {
      const size_t i = reuse->FindDense(first);
      if (i < reuse->dense.size() && reuse->dense[i]->first_seq() == first) seg = reuse->dense[i];
      if (seg != nullptr && k + 1 == files->ordinary.size()) {
        // The newest name may now be another file (an empty segment replaced by a larger one).
        absl::StatusOr<os::File> f = os::File::Open(shape.env(), path, O_RDONLY | O_NOFOLLOW);
        absl::StatusOr<Env::FileId> id = f.ok() ? shape.env()->Identify(f->fd(), path) : f.status();
        if (!id.ok() || !(*id == seg->id())) seg = nullptr;
      }
    }
    if (seg == nullptr) {
      absl::StatusOr<std::shared_ptr<const Segment>> opened =
          OpenOrdinary(shape, first, writer, pins);
      if (!opened.ok()) {
        if (opened.status().code() == absl::StatusCode::kNotFound) {
          return Missing(writer, std::string(opened.status().message()));
        }
        return opened.status();
      }
      seg = *std::move(opened);
    }
    set->dense.push_back(std::move(seg));
  }
  return set;
}

}  // namespace recstore::log
