#include "src/log/compaction.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/log/compacted_writer.h"
#include "src/log/folder.h"
#include "src/log/reader.h"
#include "src/os/file.h"

namespace recstore::log {

namespace {

constexpr uint64_t kProgressEvery = 4096;

bool AllZeroBytes(std::span<const std::byte> b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

// The fields the options name, once checked.
struct Fields {
  const FieldInfo* key = nullptr;
  const FieldInfo* tombstone = nullptr;
};

absl::StatusOr<Fields> FieldsOf(const Shape& shape, const CompactOptions& options) {
  Fields f;
  if (!options.key.field.empty()) {
    if (!shape.fixed()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "collection '", shape.name(), "' holds byte records: key them with key.prefix"));
    }
    RECSTORE_ASSIGN_OR_RETURN(f.key, shape.FindField(options.key.field, "key field", false));
  }
  if (options.key.prefix > 0 && shape.fixed()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection '", shape.name(), "' holds fixed-size records: key them with key.field"));
  }
  if (!options.tombstone_field.empty()) {
    if (f.key == nullptr) return absl::InvalidArgumentError("tombstone_field needs a key field");
    RECSTORE_ASSIGN_OR_RETURN(f.tombstone,
                              shape.FindField(options.tombstone_field, "tombstone field", false));
  }
  return f;
}

}  // namespace

absl::Status CheckCompactOptions(const Shape& shape, const CompactOptions& options) {
  return FieldsOf(shape, options).status();
}

void DiscardRewrite(const Shape& shape, const Rewrite& rewrite) {
  for (const auto& part : rewrite.parts) shape.env()->Remove(part->segment->path()).IgnoreError();
}

absl::StatusOr<Rewrite> RewriteBelow(const Shape& shape, const Snapshot& snap, uint64_t boundary,
                                     const CompactOptions& options, int64_t now_ns) {
  RECSTORE_ASSIGN_OR_RETURN(const Fields fields, FieldsOf(shape, options));
  const bool keyed = fields.key != nullptr || options.key.prefix > 0;
  const uint64_t from = snap.set->state.first_seq;
  const uint64_t scan_end = snap.end;
  Rewrite out;
  out.next = snap.set->state;
  out.stats.first_seq = out.next.first_seq;
  out.stats.generation = out.next.generation;

  // Pass 1: totals, and the newest record of each key (over the whole log up to scan_end).
  CompactionProgress& progress = out.progress;
  auto key_of = [&](std::span<const std::byte> p, bool* has) -> std::string_view {
    *has = true;
    if (fields.key != nullptr) {
      return {reinterpret_cast<const char*>(p.data()) + fields.key->offset, fields.key->size};
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
  RECSTORE_RETURN_IF_ERROR(ForEachRecord(shape, snap, from, keyed ? scan_end : boundary,
                                         [&](uint64_t seq, std::span<const std::byte> p) {
                                           if (seq < boundary) {
                                             ++progress.records_total;
                                             progress.bytes_total += p.size();
                                           }
                                           bool has;
                                           std::string_view key =
                                               keyed ? key_of(p, &has) : std::string_view();
                                           if (keyed && has)
                                             newest[absl::string_view(key.data(), key.size())] =
                                                 seq;
                                           return true;
                                         }));
  out.stats.records_in = progress.records_total;
  out.stats.bytes_in = progress.bytes_total;
  auto is_tombstone = [&](std::span<const std::byte> p) {
    if (fields.tombstone != nullptr) {
      return !AllZeroBytes(p.subspan(fields.tombstone->offset, fields.tombstone->size));
    }
    return !shape.fixed() && options.key.prefix > 0 && p.size() == options.key.prefix;
  };
  auto tombstone_expired = [&](uint64_t seq, std::span<const std::byte> p) {
    if (shape.fixed()) return scan_end - 1 - seq >= options.tombstone_grace_records;
    const __int128 t = static_cast<__int128>(AppendTimeOf(shape, p)) * 1000000000;
    return static_cast<__int128>(now_ns) - t >= options.tombstone_grace.count();
  };

  // Pass 2: copy what stays into the next generation's files.
  const uint64_t generation = out.next.generation + 1;
  const FixedGeometry& g = shape.geometry();
  CompactedWriter writer({
      .env = shape.env(),
      .fixed = shape.fixed(),
      .stride = g.stride,
      .segment_size = shape.segment_size(),
      .file_mode = shape.file_mode(),
      .path = [&](uint64_t first) { return shape.CompactedPath(generation, first); },
      .header =
          [&](uint64_t first, uint64_t capacity) {
            return shape.CompactedHeaderFor(generation, first, capacity);
          },
  });
  auto cleanup = [&](absl::Status st) {
    writer.Finish(boundary).IgnoreError();
    for (uint64_t first : writer.files()) {
      shape.env()->Remove(shape.CompactedPath(generation, first)).IgnoreError();
    }
    return st;
  };
  absl::Status write_status;
  progress.records_done = progress.bytes_done = 0;
  absl::Status st =
      ForEachRecord(shape, snap, from, boundary, [&](uint64_t seq, std::span<const std::byte> p) {
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
              shape.fixed()
                  ? std::span<const std::byte>(p.data(), g.stride)
                  : std::span<const std::byte>(p.data() - format::kFrameHeaderSize,
                                               format::FrameSpace(p.size()) - format::kSlotSize);
          write_status = writer.Add(seq, stored);
          if (!write_status.ok()) return false;
          ++out.stats.records_kept;
        }
        ++progress.records_done;
        progress.bytes_done += p.size();
        if (options.progress && progress.records_done % kProgressEvery == 0) {
          options.progress(progress);
        }
        return true;
      });
  if (st.ok()) st = write_status;
  if (st.ok()) st = writer.Finish(boundary);
  if (st.ok() && !writer.files().empty()) st = os::SyncDir(shape.env(), shape.dir());
  for (uint64_t first : writer.files()) {
    if (!st.ok()) break;
    absl::StatusOr<std::shared_ptr<const CompactedPart>> part =
        OpenCompacted(shape, generation, first, boundary, /*linked=*/true);
    if (!part.ok()) {
      st = part.status();
      break;
    }
    out.parts.push_back(*std::move(part));
  }
  if (!st.ok()) return cleanup(st);
  out.stats.segments_out = out.parts.size();
  out.stats.bytes_written = writer.bytes_written();
  out.next.generation = generation;
  out.next.compacted_end = boundary;
  out.next.compacted_first = out.parts.empty() ? boundary : out.parts.front()->first();
  return out;
}

}  // namespace recstore::log
