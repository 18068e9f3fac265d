// Collection: retention (TruncateBefore, retention policies) and the switch that installs a
// new state of the collection (manifest first, then the in-memory view, then file removal).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/collection.h"

namespace recstore::internal {

using log::Segment;

absl::Status Collection::CheckCompactable() {
  if (read_only()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", config_.info.name, "' is open read-only"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

absl::Status Collection::Install(const CollectionInfo& next,
                                 std::vector<std::shared_ptr<const log::CompactedPart>> parts,
                                 CompactionStats* stats, bool* installed) {
  std::vector<std::string> retired;
  RECSTORE_RETURN_IF_ERROR(CheckCompactable());
  // The switch. It runs without the collection's locks (appends and syncs go on; compact_mu_
  // keeps other switches out), and the store's lock is never taken inside them.
  bool replaced = false;
  absl::Status st = config_.manifest->Commit(next, &replaced);
  if (!replaced) return st;
  if (installed != nullptr) *installed = true;
  {
    // No flush may be running: a flush works on slot indexes of the view it started with.
    std::unique_lock<std::mutex> sync_lock(sync_mu_);
    sync_cv_.wait(sync_lock, [&] { return !flushing_; });
    std::lock_guard<std::mutex> lock(mu_);
    // The manifest names the new state: adopt it even if its folder sync failed.
    const log::SegmentView& cur = table_.current();
    auto view = std::make_shared<log::SegmentView>();
    view->first_seq = next.first_seq;
    view->compacted_end = next.compacted_end;
    view->generation = next.generation;
    view->compacted = std::move(parts);
    for (const auto& old : cur.compacted) {
      if (std::find(view->compacted.begin(), view->compacted.end(), old) == view->compacted.end()) {
        retired.push_back(old->segment->path());
      }
    }
    // Dense slots wholly below the live range go; the newest always stays.
    const uint64_t live = std::max(next.first_seq, next.compacted_end);
    size_t drop = 0;
    while (drop < active_ && drop + 1 < cur.dense.size() &&
           cur.dense[drop + 1]->first_seq.load(std::memory_order_relaxed) <= live) {
      retired.push_back(SegmentPath(cur.dense[drop]->first_seq.load(std::memory_order_relaxed)));
      ++drop;
    }
    view->dense.assign(cur.dense.begin() + static_cast<ptrdiff_t>(drop), cur.dense.end());
    active_ -= drop;
    sync_from_ = sync_from_ >= drop ? sync_from_ - drop : 0;
    begin_.store(next.first_seq, std::memory_order_release);
    {
      std::lock_guard<std::mutex> info_lock(info_mu_);
      info_ = next;
    }
    table_.Publish(std::move(view));
  }
  // The old files go only once the switch is durable: after a failed folder sync, a crash
  // could bring the old manifest back, and it needs them (the next open removes them).
  if (!st.ok()) return st;
  // Readers holding the old view keep the files mapped; removing the names frees the space
  // once they let go. A file left by a failure here is removed by the next open.
  for (const std::string& path : retired) config_.env->Remove(path).IgnoreError();
  if (!retired.empty()) config_.env->SyncDir(config_.dir).IgnoreError();
  stats->segments_in += retired.size();
  stats->first_seq = next.first_seq;
  stats->generation = next.generation;
  return st;
}

absl::StatusOr<CompactionStats> Collection::Truncate(uint64_t seq, const RetentionPolicy* policy) {
  CompactionStats stats;
  const absl::Time start = absl::Now();
  RECSTORE_RETURN_IF_ERROR(CheckCompactable());
  if (seq > end()) {
    return absl::OutOfRangeError(absl::StrCat("cannot truncate collection '", config_.info.name,
                                              "' before record ", seq, ": it ends at ", end()));
  }
  CollectionInfo next = info();
  stats.first_seq = next.first_seq;
  stats.generation = next.generation;
  if (policy != nullptr) {
    next.retention = *policy;
  } else if (seq <= next.first_seq) {
    return stats;
  }
  if (seq > next.first_seq) {
    // The new first record must be durable: a crash must not leave the log ending before it.
    if (seq > durable()) RECSTORE_RETURN_IF_ERROR(Sync().status());
    stats.records_in = seq - next.first_seq;
    next.first_seq = seq;
  }
  std::vector<std::shared_ptr<const log::CompactedPart>> parts;
  {
    std::shared_ptr<const log::SegmentView> view = table_.Load();
    for (const auto& part : view->compacted) {
      if (part->last() >= seq) parts.push_back(part);
    }
  }
  RECSTORE_RETURN_IF_ERROR(Install(next, std::move(parts), &stats));
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return stats;
}

absl::StatusOr<CompactionStats> Collection::TruncateBefore(uint64_t seq) {
  std::lock_guard<std::mutex> lock(compact_mu_);
  return Truncate(seq);
}

absl::StatusOr<CompactionStats> Collection::ApplyRetention() {
  std::lock_guard<std::mutex> lock(compact_mu_);
  return ApplyRetentionLocked();
}

absl::StatusOr<CompactionStats> Collection::ApplyRetentionLocked() {
  RECSTORE_RETURN_IF_ERROR(CheckCompactable());
  const RetentionPolicy policy = info().retention;
  CompactionStats stats;
  stats.first_seq = begin();
  if (policy.empty()) return stats;
  RECSTORE_ASSIGN_OR_RETURN(uint64_t point, RetentionPoint(policy));
  return Truncate(point);
}

void Collection::MaybeApplyRetention() {
  // After an append that started a segment; never waits for a compaction in progress.
  std::unique_lock<std::mutex> lock(compact_mu_, std::try_to_lock);
  if (!lock.owns_lock() || info().retention.empty()) return;
  ApplyRetentionLocked().IgnoreError();  // the next trigger or ApplyRetention() retries
}

absl::Status Collection::SetRetention(const RetentionPolicy& policy) {
  std::lock_guard<std::mutex> lock(compact_mu_);
  RECSTORE_RETURN_IF_ERROR(CheckCompactable());
  if (fixed() && policy.max_age.count() > 0) {
    RECSTORE_RETURN_IF_ERROR(FieldOf(policy.time_field, "time field", true).status());
  } else if (!fixed() && !policy.time_field.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection '", config_.info.name,
        "' holds byte records, which carry their append time: time_field must be empty"));
  }
  if (policy.max_age.count() < 0) {
    return absl::InvalidArgumentError("retention max_age must not be negative");
  }
  // One manifest rewrite stores the policy and drops what it drops.
  RECSTORE_ASSIGN_OR_RETURN(uint64_t point, RetentionPoint(policy));
  return Truncate(point, &policy).status();
}

absl::StatusOr<uint64_t> Collection::RetentionPoint(const RetentionPolicy& policy) {
  std::shared_ptr<const log::SegmentView> view = table_.Load();
  const uint64_t end = this->end();
  uint64_t point = view->first_seq;
  if (policy.max_records > 0 && end - point > policy.max_records) {
    point = end - policy.max_records;
  }
  if (policy.max_bytes > 0) {
    RECSTORE_ASSIGN_OR_RETURN(uint64_t p, KeepLastBytes(*view, end, policy.max_bytes));
    point = std::max(point, p);
  }
  if (policy.max_age.count() > 0) {
    const int64_t cutoff = config_.env->NowUnixNanos() - policy.max_age.count();
    RECSTORE_ASSIGN_OR_RETURN(uint64_t p, FirstYoungRecord(view, end, cutoff, policy.time_field));
    point = std::max(point, p);
  }
  return point;
}

absl::StatusOr<int64_t> Collection::AppendTime(uint64_t seq) {
  if (fixed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", config_.info.name,
                     "' holds fixed-size records, which carry no append "
                     "time; retention by age reads the time_field"));
  }
  // The view stays pinned until the frame header is read.
  std::shared_ptr<const log::SegmentView> view = table_.Load();
  RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> payload, GetIn(*view, seq));
  return config_.info.time_base +
         base::DecodeFixed32(payload.data() - format::kFrameHeaderSize + 4);
}

}  // namespace recstore::internal
