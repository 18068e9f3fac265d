#include "src/log/shape.h"

#include "absl/strings/str_cat.h"
#include "src/format/manifest.h"

namespace recstore::log {

namespace {

FixedGeometry MakeGeometry(const CollectionInfo& info) {
  FixedGeometry g;
  if (info.kind != CollectionKind::kFixed) return g;
  g.size = info.record_size;
  g.checksum_offset = format::FixedChecksumOffset(info.record_size);
  g.stride = format::FixedStride(info.record_size, info.record_align);
  g.per_segment = (info.segment_size - format::kDataStart) / g.stride;
  return g;
}

}  // namespace

CollectionState CollectionState::Of(const CollectionInfo& info) {
  return {.first_seq = info.first_seq,
          .generation = info.generation,
          .compacted_end = info.compacted_end,
          .compacted_first = info.compacted_first,
          .retention = info.retention};
}

Shape::Shape(const CollectionInfo& info, std::string dir, Env* env, mode_t file_mode)
    : name_(info.name),
      id_(info.id),
      kind_(info.kind),
      record_size_(info.record_size),
      record_align_(info.record_align),
      segment_size_(info.segment_size),
      time_base_(info.time_base),
      schema_(info.schema),
      schema_hash_(info.kind == CollectionKind::kFixed ? format::SchemaHash(info.schema) : 0),
      geometry_(MakeGeometry(info)),
      env_(env),
      dir_(std::move(dir)),
      file_mode_(file_mode) {}

absl::StatusOr<const FieldInfo*> Shape::FindField(const std::string& name, std::string_view what,
                                                  bool time_field) const {
  for (const FieldInfo& f : schema_.fields) {
    if (f.name != name) continue;
    if (time_field &&
        !((f.type == FieldType::kInt64 || f.type == FieldType::kUInt64) && f.count == 1)) {
      return absl::InvalidArgumentError(absl::StrCat("field '", name, "' of collection '", name_,
                                                     "' is not an int64 or uint64 scalar"));
    }
    return &f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("collection '", name_, "' has no ", std::string(what), " '", name, "'"));
}

CollectionInfo Shape::Info(const CollectionState& state) const {
  CollectionInfo info;
  info.name = name_;
  info.id = id_;
  info.kind = kind_;
  info.record_size = record_size_;
  info.record_align = record_align_;
  info.schema = schema_;
  info.segment_size = segment_size_;
  info.time_base = time_base_;
  info.first_seq = state.first_seq;
  info.generation = state.generation;
  info.compacted_end = state.compacted_end;
  info.compacted_first = state.compacted_first;
  info.retention = state.retention;
  return info;
}

std::string Shape::SegmentPath(uint64_t first_seq) const {
  return FilePath(format::SegmentFileName(first_seq));
}

std::string Shape::CompactedPath(uint64_t generation, uint64_t first_seq) const {
  return FilePath(format::CompactedFileName(generation, first_seq));
}

std::string Shape::FilePath(std::string_view name) const {
  return absl::StrCat(dir_, "/", std::string(name));
}

format::SegmentHeader Shape::HeaderFor(uint64_t first_seq, uint64_t capacity) const {
  format::SegmentHeader h;
  h.kind = static_cast<uint8_t>(kind_);
  h.collection_id = id_;
  h.record_size = geometry_.size;
  h.stride = geometry_.stride;
  h.schema_hash = schema_hash_;
  h.first_seq = first_seq;
  h.capacity = capacity;
  return h;
}

format::SegmentHeader Shape::CompactedHeaderFor(uint64_t generation, uint64_t first_seq,
                                                uint64_t capacity) const {
  format::SegmentHeader h = HeaderFor(first_seq, capacity);
  h.compacted = true;
  h.generation = generation;
  return h;
}

const char* Shape::BadRecordReason() const {
  return fixed() ? "checksum mismatch" : "invalid frame or checksum mismatch";
}

absl::Status Shape::DataLossAt(const std::string& path, uint64_t offset, uint64_t seq,
                               std::string_view what) const {
  return absl::DataLossError(absl::StrCat(path, ": offset ", offset, ": record ", seq,
                                          " of collection '", name_, "': ", std::string(what)));
}

absl::Status Shape::ReadOnlyError() const {
  return absl::FailedPreconditionError(absl::StrCat("collection '", name_, "' is open read-only"));
}

}  // namespace recstore::log
