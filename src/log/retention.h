// Retention: which records a policy keeps, decided over one snapshot (the writer then drops
// the ones below with one manifest switch, maintenance.h).
#ifndef RECSTORE_SRC_LOG_RETENTION_H_
#define RECSTORE_SRC_LOG_RETENTION_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/compaction.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"

namespace recstore::log {

// Whether `policy` can apply to the collection. Errors: InvalidArgument for a negative age
// (max_age or hard_max_age), a time_field that is not an 8-byte integer field of a fixed-size
// collection's schema (needed by either age), or a time_field on a byte log (whose records
// carry their append time).
absl::Status CheckRetentionPolicy(const Shape& shape, const RetentionPolicy& policy);

// The first record `policy` keeps in `snap` at time `now_ns`. The ordinary limits
// (max_records, max_bytes, max_age) give a point C, the strictest winning; the hard caps
// (hard_max_bytes, hard_max_age) a point H. The result is max(H, min(C, lowest_cursor)) when
// policy.keep_unconsumed and `lowest_cursor` is set (the lowest committed position of the
// collection's consumer cursors), else max(H, C); never past the snapshot's end. Age: the
// first record at or after the snapshot's first whose time is not older than the cutoff
// (byte logs: the append time, stored as the clock gave it; fixed logs: the time field).
// Errors: DataLoss when a record it must read is invalid.
absl::StatusOr<uint64_t> RetentionPoint(const Shape& shape, const Snapshot& snap,
                                        const RetentionPolicy& policy, int64_t now_ns,
                                        std::optional<uint64_t> lowest_cursor = std::nullopt);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_RETENTION_H_
