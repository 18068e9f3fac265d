// Collection: retention and compaction.
#include "src/log/collection.h"

namespace recstore::internal {

absl::StatusOr<CompactionStats> Collection::TruncateBefore(uint64_t) {
  return absl::UnimplementedError("TruncateBefore");
}
absl::StatusOr<CompactionStats> Collection::ApplyRetention() {
  return absl::UnimplementedError("ApplyRetention");
}
absl::Status Collection::SetRetention(const RetentionPolicy&) {
  return absl::UnimplementedError("SetRetention");
}
absl::StatusOr<CompactionStats> Collection::Compact(const CompactOptions&) {
  return absl::UnimplementedError("Compact");
}
absl::StatusOr<int64_t> Collection::AppendTime(uint64_t) {
  return absl::UnimplementedError("AppendTime");
}
ReadPin Collection::Pin() { return nullptr; }

}  // namespace recstore::internal
