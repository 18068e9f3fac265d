// What never changes while a collection is open: its identity, kind, record geometry and
// schema, its folder and file names, and the Env its files go through. Everything that does
// change (first live record, compaction generation, retention policy, segments, end) lives in
// the current SegmentSet (segment_set.h) and nowhere else.
#ifndef RECSTORE_SRC_LOG_SHAPE_H_
#define RECSTORE_SRC_LOG_SHAPE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "recstore/log.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"

namespace recstore::log {

// Where fixed-size records sit in a segment.
struct FixedGeometry {
  uint32_t size = 0;             // payload bytes
  uint32_t stride = 0;           // bytes from one record to the next
  uint32_t checksum_offset = 0;  // of the record's u64 checksum, from the record's start
  uint64_t per_segment = 0;      // records per segment

  uint64_t Offset(uint64_t index) const { return format::kDataStart + index * stride; }
};

// The parts of a manifest entry that change while the collection is open.
struct CollectionState {
  uint64_t first_seq = 0;
  uint64_t generation = 0;
  uint64_t compacted_end = 0;
  uint64_t compacted_first = 0;  // CollectionInfo::compacted_first
  RetentionPolicy retention;

  static CollectionState Of(const CollectionInfo& info);
  // The first record that can live in an ordinary segment.
  uint64_t live_from() const { return first_seq > compacted_end ? first_seq : compacted_end; }
  friend bool operator==(const CollectionState&, const CollectionState&) = default;
};

class Shape {
 public:
  // Takes the fixed parts of `info` (its state fields are ignored). `info` must have passed
  // the manifest's checks (format::DecodeManifest), so its geometry fits a segment.
  Shape(const CollectionInfo& info, std::string dir, Env* env, mode_t file_mode);

  const std::string& name() const { return name_; }
  uint32_t id() const { return id_; }
  CollectionKind kind() const { return kind_; }
  bool fixed() const { return kind_ == CollectionKind::kFixed; }
  uint32_t record_size() const { return record_size_; }
  uint64_t segment_size() const { return segment_size_; }
  int64_t time_base() const { return time_base_; }
  const RecordSchema& schema() const { return schema_; }
  const FixedGeometry& geometry() const { return geometry_; }
  Env* env() const { return env_; }
  const std::string& dir() const { return dir_; }
  mode_t file_mode() const { return file_mode_; }

  // The schema field `name`; with `time_field`, it must be an int64 or uint64 scalar.
  // Errors: InvalidArgument naming `what` and the field.
  absl::StatusOr<const FieldInfo*> FindField(const std::string& name, std::string_view what,
                                             bool time_field) const;

  // The manifest entry for `state`.
  CollectionInfo Info(const CollectionState& state) const;

  std::string SegmentPath(uint64_t first_seq) const;
  std::string CompactedPath(uint64_t generation, uint64_t first_seq) const;
  std::string FilePath(std::string_view name) const;
  // The header every ordinary segment of this collection starting at `first_seq` has.
  format::SegmentHeader HeaderFor(uint64_t first_seq, uint64_t capacity) const;
  format::SegmentHeader CompactedHeaderFor(uint64_t generation, uint64_t first_seq,
                                           uint64_t capacity) const;

  // Why a record fails its check, as error messages say it.
  const char* BadRecordReason() const;
  // DataLoss naming `path`, `offset`, record `seq` and the collection.
  absl::Status DataLossAt(const std::string& path, uint64_t offset, uint64_t seq,
                          std::string_view what) const;
  // An error for a call a read-only handle cannot make.
  absl::Status ReadOnlyError() const;

 private:
  std::string name_;
  uint32_t id_;
  CollectionKind kind_;
  uint32_t record_size_;
  uint32_t record_align_;
  uint64_t segment_size_;
  int64_t time_base_;
  RecordSchema schema_;
  uint64_t schema_hash_;
  FixedGeometry geometry_;
  Env* env_;
  std::string dir_;
  mode_t file_mode_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SHAPE_H_
