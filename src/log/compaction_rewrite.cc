// Collection: compaction (by key, by predicate, or merge) and the record walks retention
// needs. Compaction rewrites the records below the active segment into compacted segments of
// the next generation, then installs them (compaction.cc).
#include <algorithm>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/collection.h"
#include "src/log/compacted_writer.h"

namespace recstore::internal {

using log::Segment;

namespace {

constexpr uint64_t kProgressEvery = 4096;

bool AllZeroBytes(std::span<const std::byte> b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

int64_t FieldAsInt64(const std::byte* p, FieldType type) {
  if (type == FieldType::kUInt64) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX));
  }
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

absl::StatusOr<const FieldInfo*> Collection::FieldOf(const std::string& name, std::string_view what,
                                                     bool time) const {
  for (const FieldInfo& f : config_.info.schema.fields) {
    if (f.name != name) continue;
    if (time && !((f.type == FieldType::kInt64 || f.type == FieldType::kUInt64) && f.count == 1)) {
      return absl::InvalidArgumentError(absl::StrCat("field '", name, "' of collection '",
                                                     config_.info.name,
                                                     "' is not an int64 or uint64 scalar"));
    }
    return &f;
  }
  return absl::InvalidArgumentError(absl::StrCat("collection '", config_.info.name, "' has no ",
                                                 std::string(what), " '", name, "'"));
}

absl::Status Collection::ForEachRecord(
    std::shared_ptr<const log::SegmentView> view, uint64_t from, uint64_t end,
    const std::function<bool(uint64_t, std::span<const std::byte>)>& fn) {
  ReadPin pin = std::move(view);
  uint64_t skipped = 0;
  RecordRun run;
  for (uint64_t seq = from; seq < end; seq = run.next_seq) {
    RECSTORE_RETURN_IF_ERROR(NextRun(seq, end, &run, &skipped, &pin));
    if (run.count == 0) break;
    for (uint64_t i = 0; i < run.count; ++i) {
      std::span<const std::byte> payload =
          fixed() ? std::span<const std::byte>(run.base + i * run.stride, geometry_.size)
                  : log_internal::BytesView::At(run, i);
      if (!fn(run.SeqAt(i), payload)) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Collection::KeepLastBytes(const log::SegmentView& view, uint64_t end,
                                                   uint64_t max_bytes) {
  if (fixed()) {
    const uint64_t n = max_bytes / geometry_.size;
    return end > n ? end - n : 0;
  }
  // Walk back from the newest record, reading only frame lengths, until the budget is spent.
  uint64_t total = 0;
  auto take = [&](uint32_t len) {
    total += len;
    return total > max_bytes;
  };
  for (size_t i = view.dense.size(); i-- > 0;) {
    const uint64_t first = view.dense[i]->first_seq.load(std::memory_order_relaxed);
    const uint64_t seg_end = SegmentEnd(view, i);
    if (seg_end <= first) continue;
    RECSTORE_ASSIGN_OR_RETURN(Segment * s, SegmentAt(view, i));
    for (uint64_t seq = seg_end; seq-- > std::max(first, view.first_seq);) {
      uint64_t offset;
      uint32_t len;
      if (!RecordAt(*s, seq - first, seq, &offset, &len)) {
        return DataLossAt(*s, offset, seq, BadRecordReason());
      }
      if (take(len)) return seq + 1;
    }
  }
  for (size_t k = view.compacted.size(); k-- > 0;) {
    const log::CompactedPart& part = *view.compacted[k];
    for (uint64_t i = part.count; i-- > 0;) {
      if (part.seqs[i] < view.first_seq) break;
      uint64_t offset;
      uint32_t len;
      if (!RecordAt(*part.segment, i, part.seqs[i], &offset, &len, part.data_end)) {
        return DataLossAt(*part.segment, offset, part.seqs[i], BadRecordReason());
      }
      if (take(len)) return part.seqs[i] + 1;
    }
  }
  return view.first_seq;
}

absl::StatusOr<uint64_t> Collection::FirstYoungRecord(std::shared_ptr<const log::SegmentView> view,
                                                      uint64_t end, int64_t cutoff_ns,
                                                      const std::string& time_field) {
  const FieldInfo* field = nullptr;
  if (fixed()) {
    RECSTORE_ASSIGN_OR_RETURN(field, FieldOf(time_field, "time field", true));
  }
  const uint64_t from = view->first_seq;
  uint64_t found = end;
  RECSTORE_RETURN_IF_ERROR(
      ForEachRecord(std::move(view), from, end, [&](uint64_t seq, std::span<const std::byte> p) {
        int64_t t;
        if (field != nullptr) {
          t = FieldAsInt64(p.data() + field->offset, field->type);
        } else {
          const uint32_t stamp = base::DecodeFixed32(p.data() - format::kFrameHeaderSize + 4);
          t = (config_.info.time_base + int64_t{stamp}) * 1000000000;
        }
        if (t < cutoff_ns) return true;
        found = seq;
        return false;
      }));
  return found;
}

absl::StatusOr<CompactionStats> Collection::Compact(const CompactOptions& options) {
  std::lock_guard<std::mutex> compact_lock(compact_mu_);
  const absl::Time start = absl::Now();
  RECSTORE_RETURN_IF_ERROR(CheckCompactable());
  // What the options ask for.
  const FieldInfo* key_field = nullptr;
  const FieldInfo* tombstone_field = nullptr;
  if (!options.key.field.empty()) {
    if (!fixed()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "collection '", config_.info.name, "' holds byte records: key them with key.prefix"));
    }
    RECSTORE_ASSIGN_OR_RETURN(key_field, FieldOf(options.key.field, "key field", false));
  }
  if (options.key.prefix > 0 && fixed()) {
    return absl::InvalidArgumentError(absl::StrCat("collection '", config_.info.name,
                                                   "' holds fixed-size records: key them with "
                                                   "key.field"));
  }
  if (!options.tombstone_field.empty()) {
    if (key_field == nullptr) {
      return absl::InvalidArgumentError("tombstone_field needs a key field");
    }
    RECSTORE_ASSIGN_OR_RETURN(tombstone_field,
                              FieldOf(options.tombstone_field, "tombstone field", false));
  }
  const bool keyed = key_field != nullptr || options.key.prefix > 0;

  // Everything below the active segment is made durable, then read from a pinned view.
  RECSTORE_RETURN_IF_ERROR(Sync().status());
  uint64_t boundary, scan_end;
  std::shared_ptr<const log::SegmentView> view;
  {
    std::lock_guard<std::mutex> lock(mu_);
    boundary = table_.at(active_).first_seq.load(std::memory_order_relaxed);
    scan_end = next_seq_;
    view = table_.Load();
  }
  CollectionInfo next = info();
  CompactionStats stats;
  stats.first_seq = next.first_seq;
  stats.generation = next.generation;
  const uint64_t from = view->first_seq;
  if (boundary <= from) {
    stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return stats;  // nothing below the active segment
  }

  // Pass 1: totals, and the newest record of each key (over the whole log up to scan_end).
  CompactionProgress progress;
  auto key_of = [&](std::span<const std::byte> p, bool* has) -> std::string_view {
    *has = true;
    if (key_field != nullptr) {
      return {reinterpret_cast<const char*>(p.data()) + key_field->offset, key_field->size};
    }
    if (p.size() < options.key.prefix) {
      *has = false;
      return {};
    }
    return {reinterpret_cast<const char*>(p.data()), options.key.prefix};
  };
  absl::flat_hash_map<std::string, uint64_t> newest;
  // At most one key per record: reserving spares the map its rehashes as it grows.
  if (keyed) newest.reserve(std::min<uint64_t>(scan_end - from, uint64_t{1} << 24));
  RECSTORE_RETURN_IF_ERROR(ForEachRecord(
      view, from, keyed ? scan_end : boundary, [&](uint64_t seq, std::span<const std::byte> p) {
        if (seq < boundary) {
          ++progress.records_total;
          progress.bytes_total += p.size();
        }
        bool has;
        std::string_view key = keyed ? key_of(p, &has) : std::string_view();
        if (keyed && has) newest[absl::string_view(key.data(), key.size())] = seq;
        return true;
      }));
  stats.records_in = progress.records_total;
  stats.bytes_in = progress.bytes_total;
  auto is_tombstone = [&](std::span<const std::byte> p) {
    if (tombstone_field != nullptr) {
      return !AllZeroBytes(p.subspan(tombstone_field->offset, tombstone_field->size));
    }
    return !fixed() && options.key.prefix > 0 && p.size() == options.key.prefix;
  };
  const int64_t now_ns = config_.env->NowUnixNanos();
  auto tombstone_expired = [&](uint64_t seq, std::span<const std::byte> p) {
    if (fixed()) return scan_end - 1 - seq >= options.tombstone_grace_records;
    const uint32_t stamp = base::DecodeFixed32(p.data() - format::kFrameHeaderSize + 4);
    const int64_t t = (config_.info.time_base + int64_t{stamp}) * 1000000000;
    return now_ns - t >= options.tombstone_grace.count();
  };

  // Pass 2: copy what stays into the next generation's files.
  const uint64_t generation = next.generation + 1;
  log::CompactedWriter writer({
      .env = config_.env,
      .fixed = fixed(),
      .stride = geometry_.stride,
      .segment_size = config_.info.segment_size,
      .file_mode = config_.file_mode,
      .path = [&](uint64_t first) { return CompactedPath(generation, first); },
      .header =
          [&](uint64_t first, uint64_t capacity) {
            format::SegmentHeader h = HeaderFor(first, capacity);
            h.compacted = true;
            h.generation = generation;
            return h;
          },
  });
  auto cleanup = [&](absl::Status st) {
    writer.Finish().IgnoreError();
    for (uint64_t first : writer.files()) {
      config_.env->Remove(CompactedPath(generation, first)).IgnoreError();
    }
    return st;
  };
  absl::Status write_status;
  CompactionProgress done = progress;
  done.records_done = done.bytes_done = 0;
  absl::Status st =
      ForEachRecord(view, from, boundary, [&](uint64_t seq, std::span<const std::byte> p) {
        bool keep = true;
        if (keyed) {
          bool has;
          std::string_view key = key_of(p, &has);
          if (has) {
            keep = newest.find(absl::string_view(key.data(), key.size()))->second == seq;
            if (keep && is_tombstone(p)) keep = !tombstone_expired(seq, p);
          }
        }
        if (keep && options.keep) keep = options.keep(seq, p);
        if (keep) {
          // The whole stored record: a fixed slot, or a frame with its padding.
          std::span<const std::byte> stored =
              fixed()
                  ? std::span<const std::byte>(p.data(), geometry_.stride)
                  : std::span<const std::byte>(p.data() - format::kFrameHeaderSize,
                                               format::FrameSpace(p.size()) - format::kSlotSize);
          write_status = writer.Add(seq, stored);
          if (!write_status.ok()) return false;
          ++stats.records_kept;
        }
        ++done.records_done;
        done.bytes_done += p.size();
        if (options.progress && done.records_done % kProgressEvery == 0) options.progress(done);
        return true;
      });
  if (st.ok()) st = write_status;
  if (st.ok()) st = writer.Finish();
  if (st.ok() && !writer.files().empty()) st = config_.env->SyncDir(config_.dir);
  std::vector<std::shared_ptr<const log::CompactedPart>> parts;
  for (uint64_t first : writer.files()) {
    if (!st.ok()) break;
    absl::StatusOr<std::shared_ptr<const log::CompactedPart>> part =
        OpenCompacted(generation, first, boundary);
    if (!part.ok()) {
      st = part.status();
      break;
    }
    parts.push_back(*std::move(part));
  }
  if (!st.ok()) return cleanup(st);
  stats.segments_out = parts.size();
  stats.bytes_written = writer.bytes_written();
  next.generation = generation;
  next.compacted_end = boundary;
  bool installed = false;
  st = Install(next, std::move(parts), &stats, &installed);
  if (!installed) return cleanup(st);
  RECSTORE_RETURN_IF_ERROR(st);
  if (options.progress) options.progress(done);
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return stats;
}

}  // namespace recstore::internal
