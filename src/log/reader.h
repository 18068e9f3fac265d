// Reads as functions of one snapshot: a SegmentSet and the end of the log taken at one moment
// (Published::Read or Published::Pin). Nothing here reads live state, so a read can neither
// see a record that is not in the set nor run past a segment's mapping, whatever the writer
// does meanwhile. Every offset and length read from a segment is bounds-checked before use.
#ifndef RECSTORE_SRC_LOG_READER_H_
#define RECSTORE_SRC_LOG_READER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"
#include "recstore/options.h"
#include "src/log/segment_set.h"
#include "src/log/shape.h"

namespace recstore::log {

// Records verified per batch handed to a scan: verification stays just ahead of the reader.
inline constexpr uint64_t kBatchRecords = 4096;

// The payload of record `seq`, checked. Errors: OutOfRange outside [first live record, end);
// NotFound when compaction removed it; DataLoss naming file and offset when it is invalid.
absl::StatusOr<std::span<const std::byte>> GetRecord(const Shape& shape, const SegmentSet& set,
                                                     uint64_t end, uint64_t seq);

// A byte record's append time in Unix seconds, from the frame before its payload (a payload
// GetRecord or a scan returned for a variable-size collection).
int64_t AppendTimeOf(const Shape& shape, std::span<const std::byte> payload);

// The next valid records at or after `seq` and below `end`, at most kBatchRecords, into
// `batch` (count 0: none left). Byte records' payloads go to `spans`, which batch->records
// then points into. An invalid record is skipped and counted in *skipped when `salvage`,
// and is a DataLoss error otherwise.
absl::Status NextBatch(const Shape& shape, const SegmentSet& set, uint64_t end, bool salvage,
                       uint64_t seq, ScanBase::Batch* batch,
                       std::vector<std::span<const std::byte>>* spans, uint64_t* skipped);

// Calls fn(seq, payload) for the records of `snap` in [from, end), in order, until fn returns
// false. An invalid record is a DataLoss error, never skipped: retention and compaction must
// not take damage for a gap.
absl::Status ForEachRecord(const Shape& shape, const Snapshot& snap, uint64_t from, uint64_t end,
                           const std::function<bool(uint64_t, std::span<const std::byte>)>& fn);

// The first record of [first live record, end) at which pred(seq, payload) holds, assuming it
// holds for a suffix of the records: a binary search, O(log n) records read, each checked as
// GetRecord checks it; `end` when it holds for none. Compaction gaps are skipped. Errors:
// DataLoss for an invalid record it reads.
absl::StatusOr<uint64_t> LowerBound(
    const Shape& shape, const SegmentSet& set, uint64_t end,
    const std::function<bool(uint64_t, std::span<const std::byte>)>& pred);

// Checks every record of `snap`: the compacted segments' sequence numbers and records, then
// every ordinary segment's records up to the snapshot's end.
VerifyReport Verify(const Shape& shape, const Snapshot& snap);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_READER_H_
