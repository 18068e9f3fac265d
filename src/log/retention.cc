#include "src/log/retention.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/log/reader.h"
#include "src/log/record_check.h"

namespace recstore::log {

namespace {

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

// The first record to keep so that at most `max_bytes` payload bytes remain.
absl::StatusOr<uint64_t> KeepLastBytes(const Shape& shape, const Snapshot& snap,
                                       uint64_t max_bytes) {
  const SegmentSet& set = *snap.set;
  if (shape.fixed()) {
    const uint64_t n = max_bytes / shape.geometry().size;
    return snap.end > n ? snap.end - n : 0;
  }
  // Walk back from the newest record, reading only frame lengths, until the budget is spent.
  uint64_t total = 0;
  for (size_t i = set.dense.size(); i-- > 0;) {
    const Segment& s = *set.dense[i];
    const uint64_t first = s.first_seq();
    const uint64_t seg_end = set.DenseEnd(i, snap.end);
    for (uint64_t seq = seg_end; seq-- > std::max(first, set.state.first_seq);) {
      uint64_t offset = 0;
      uint32_t len = 0;
      if (!RecordAt(shape, s, seq - first, seq, &offset, &len)) {
        return shape.DataLossAt(s.path(), offset, seq, shape.BadRecordReason());
      }
      total += len;
      if (total > max_bytes) return seq + 1;
    }
  }
  for (size_t k = set.compacted.size(); k-- > 0;) {
    const CompactedPart& part = *set.compacted[k];
    for (uint64_t i = part.count; i-- > 0;) {
      if (part.seqs[i] < set.state.first_seq) break;
      uint64_t offset = 0;
      uint32_t len = 0;
      if (!RecordAt(shape, *part.segment, i, part.seqs[i], &offset, &len, part.data_end)) {
        return shape.DataLossAt(part.segment->path(), offset, part.seqs[i],
                                shape.BadRecordReason());
      }
      total += len;
      if (total > max_bytes) return part.seqs[i] + 1;
    }
  }
  return set.state.first_seq;
}

// The first record at or after the snapshot's first whose time is >= cutoff (the end if none).
absl::StatusOr<uint64_t> FirstYoungRecord(const Shape& shape, const Snapshot& snap,
                                          int64_t cutoff_ns, const std::string& time_field) {
  const FieldInfo* field = nullptr;
  if (shape.fixed()) {
    RECSTORE_ASSIGN_OR_RETURN(field, shape.FindField(time_field, "time field", true));
  }
  uint64_t found = snap.end;
  RECSTORE_RETURN_IF_ERROR(ForEachRecord(
      shape, snap, snap.set->state.first_seq, snap.end,
      [&](uint64_t seq, std::span<const std::byte> p) {
        int64_t t;
        if (field != nullptr) {
          t = FieldAsInt64(p.data() + field->offset, field->type);
        } else {
          // Seconds of a 32-bit stamp around a checked time base: far inside int64 in ns.
          const __int128 ns = static_cast<__int128>(AppendTimeOf(shape, p)) * 1000000000;
          t = static_cast<int64_t>(std::clamp<__int128>(ns, INT64_MIN, INT64_MAX));
        }
        if (t < cutoff_ns) return true;
        found = seq;
        return false;
      }));
  return found;
}

}  // namespace

absl::Status CheckRetentionPolicy(const Shape& shape, const RetentionPolicy& policy) {
  if (policy.max_age.count() < 0) {
    return absl::InvalidArgumentError("retention max_age must not be negative");
  }
  if (policy.hard_max_age.count() < 0) {
    return absl::InvalidArgumentError("retention hard_max_age must not be negative");
  }
  if (shape.fixed() && (policy.max_age.count() > 0 || policy.hard_max_age.count() > 0)) {
    return shape.FindField(policy.time_field, "time field", true).status();
  }
  if (!shape.fixed() && !policy.time_field.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection '", shape.name(),
        "' holds byte records, which carry their append time: time_field must be empty"));
  }
  return absl::OkStatus();
}

namespace {

// The first record that limits `max_bytes` and `max_age` keep in `snap` (each 0: no limit);
// the snapshot's first when neither drops anything.
absl::StatusOr<uint64_t> BytesAndAgePoint(const Shape& shape, const Snapshot& snap,
                                          uint64_t max_bytes, std::chrono::nanoseconds max_age,
                                          const std::string& time_field, int64_t now_ns) {
  uint64_t point = snap.set->state.first_seq;
  if (max_bytes > 0) {
    RECSTORE_ASSIGN_OR_RETURN(uint64_t p, KeepLastBytes(shape, snap, max_bytes));
    point = std::max(point, p);
  }
  if (max_age.count() > 0) {
    int64_t cutoff;
    if (__builtin_sub_overflow(now_ns, static_cast<int64_t>(max_age.count()), &cutoff)) {
      cutoff = INT64_MIN;
    }
    RECSTORE_ASSIGN_OR_RETURN(uint64_t p, FirstYoungRecord(shape, snap, cutoff, time_field));
    point = std::max(point, p);
  }
  return point;
}

}  // namespace

absl::StatusOr<uint64_t> RetentionPoint(const Shape& shape, const Snapshot& snap,
                                        const RetentionPolicy& policy, int64_t now_ns,
                                        std::optional<uint64_t> lowest_cursor) {
  const uint64_t first = snap.set->state.first_seq;
  // C: the ordinary limits.
  RECSTORE_ASSIGN_OR_RETURN(
      uint64_t point,
      BytesAndAgePoint(shape, snap, policy.max_bytes, policy.max_age, policy.time_field, now_ns));
  if (policy.max_records > 0 && snap.end > first && snap.end - first > policy.max_records) {
    point = std::max(point, snap.end - policy.max_records);
  }
  // min(C, lowest cursor): a cursor holds back what it has not consumed.
  if (policy.keep_unconsumed && lowest_cursor.has_value()) {
    point = std::min(point, std::max(first, *lowest_cursor));
  }
  // H: the hard caps, which no cursor holds back.
  if (policy.hard_max_bytes > 0 || policy.hard_max_age.count() > 0) {
    RECSTORE_ASSIGN_OR_RETURN(
        uint64_t hard, BytesAndAgePoint(shape, snap, policy.hard_max_bytes, policy.hard_max_age,
                                        policy.time_field, now_ns));
    point = std::max(point, hard);
  }
  return std::min(point, snap.end);
}

}  // namespace recstore::log
