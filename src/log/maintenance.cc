#include "src/log/maintenance.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "recstore/status_macros.h"
#include "src/log/compaction.h"
#include "src/log/retention.h"
#include "src/os/file.h"

namespace recstore::log {

Maintenance::Maintenance(const Shape& shape, Published* published, Appender* appender,
                         GroupCommit* commit, const FailState* fail, ManifestHook* manifest,
                         RecyclePool* pool)
    : shape_(shape),
      published_(published),
      appender_(appender),
      commit_(commit),
      fail_(fail),
      manifest_(manifest),
      pool_(pool) {}

absl::Status Maintenance::Install(const CollectionState& next,
                                  std::vector<std::shared_ptr<const CompactedPart>> parts,
                                  CompactionStats* stats, bool* installed) {
  RECSTORE_RETURN_IF_ERROR(fail_->status());
  // The switch. It runs without the writer lock (appends and syncs go on; mu_ keeps other
  // switches out), and the store's lock is never taken inside the collection's.
  bool replaced = false;
  absl::Status st = manifest_->Commit(shape_.Info(next), &replaced);
  if (!replaced) return st;
  if (installed != nullptr) *installed = true;
  // The manifest names the new state: adopt it even if its folder sync failed.
  std::vector<std::string> retired;
  std::vector<std::shared_ptr<const Segment>> retired_dense;
  appender_->Replace([&](const SegmentSet& cur) {
    auto set = std::make_shared<SegmentSet>(cur);
    set->state = next;
    set->compacted = std::move(parts);
    for (const auto& old : cur.compacted) {
      if (std::find(set->compacted.begin(), set->compacted.end(), old) == set->compacted.end()) {
        retired.push_back(old->segment->path());
      }
    }
    // Ordinary segments wholly below the live range go; the newest always stays. They are
    // durable (every caller synced past them), so group commit has no flush left for them.
    const uint64_t live = next.live_from();
    size_t drop = 0;
    while (drop + 1 < cur.dense.size() && cur.dense[drop + 1]->first_seq() <= live) {
      retired_dense.push_back(cur.dense[drop]);
      commit_->Untrack(cur.dense[drop].get());
      ++drop;
    }
    set->dense.erase(set->dense.begin(), set->dense.begin() + static_cast<ptrdiff_t>(drop));
    return set;
  });
  // Reads in flight on the old set end quickly; pins keep what they hold mapped.
  published_->ReleaseReplaced();
  // The old files go only once the switch is durable: after a failed folder sync, a crash
  // could bring the old manifest back, and it needs them (the next open removes them).
  if (!st.ok()) return st;
  // Removing the names (or moving them into the recycle pool) frees the space once no reader maps
  // them; a file left by a failure here is removed by the next open.
  for (const std::string& path : retired) shape_.env()->Remove(path).IgnoreError();
  for (const auto& seg : retired_dense) {
    if (!pool_->Retire(seg)) shape_.env()->Remove(seg->path()).IgnoreError();
  }
  const size_t n = retired.size() + retired_dense.size();
  if (n > 0) os::SyncDir(shape_.env(), shape_.dir()).IgnoreError();
  stats->segments_in += n;
  stats->first_seq = next.first_seq;
  stats->generation = next.generation;
  return absl::OkStatus();
}

absl::StatusOr<CompactionStats> Maintenance::TruncateLocked(uint64_t seq,
                                                            const RetentionPolicy* policy) {
  const absl::Time start = absl::Now();
  RECSTORE_RETURN_IF_ERROR(fail_->status());
  const Snapshot snap = published_->Pin();
  CompactionStats stats;
  CollectionState next = snap.set->state;
  stats.first_seq = next.first_seq;
  stats.generation = next.generation;
  if (seq > snap.end) {
    return absl::OutOfRangeError(absl::StrCat("cannot truncate collection '", shape_.name(),
                                              "' before record ", seq, ": it ends at ", snap.end));
  }
  if (policy != nullptr) {
    next.retention = *policy;
  } else if (seq <= next.first_seq) {
    return stats;
  }
  if (seq > next.first_seq) {
    // The new first record must be durable: a crash must not leave the log ending before it.
    if (seq > commit_->durable()) RECSTORE_RETURN_IF_ERROR(commit_->Sync().status());
    stats.records_in = seq - next.first_seq;
    next.first_seq = seq;
  }
  std::vector<std::shared_ptr<const CompactedPart>> parts;
  for (const auto& part : snap.set->compacted) {
    if (part->last() >= seq) parts.push_back(part);
  }
  // The chain of compacted segments now starts at the first one kept.
  if (next.compacted_first != CollectionInfo::kUnrecorded) {
    next.compacted_first = parts.empty() ? next.compacted_end : parts.front()->first();
  }
  RECSTORE_RETURN_IF_ERROR(Install(next, std::move(parts), &stats));
  stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return stats;
}

absl::StatusOr<CompactionStats> Maintenance::TruncateBefore(uint64_t seq) {
  base::MutexLock lock(&mu_);
  return TruncateLocked(seq, nullptr);
}

absl::StatusOr<CompactionStats> Maintenance::ApplyRetention() {
  base::MutexLock lock(&mu_);
  return ApplyRetentionLocked();
}

absl::StatusOr<CompactionStats> Maintenance::ApplyRetentionLocked() {
  RECSTORE_RETURN_IF_ERROR(fail_->status());
  const Snapshot snap = published_->Pin();
  const RetentionPolicy& policy = snap.set->state.retention;
  CompactionStats stats;
  stats.first_seq = snap.set->state.first_seq;
  stats.generation = snap.set->state.generation;
  if (policy.empty()) return stats;
  RECSTORE_ASSIGN_OR_RETURN(uint64_t point, PointOf(snap, policy));
  return TruncateLocked(point, nullptr);
}

absl::StatusOr<uint64_t> Maintenance::PointOf(const Snapshot& snap, const RetentionPolicy& policy) {
  // Cursor positions only move up, so a position read now is at most what the cursor holds
  // when the cut is made: the cut never passes a record a cursor has not consumed.
  std::optional<uint64_t> lowest;
  if (policy.keep_unconsumed) {
    RECSTORE_ASSIGN_OR_RETURN(lowest, manifest_->LowestCursorPosition(shape_.id(), shape_.name()));
  }
  return RetentionPoint(shape_, snap, policy, shape_.env()->NowUnixNanos(), lowest);
}

void Maintenance::AfterRotation() {
  if (!mu_.TryLock()) return;
  if (!published_->Read(
          [](const SegmentSet& set, uint64_t) { return set.state.retention.empty(); })) {
    ApplyRetentionLocked().IgnoreError();  // the next trigger or ApplyRetention() retries
  }
  mu_.Unlock();
}

absl::Status Maintenance::SetRetention(const RetentionPolicy& policy) {
  base::MutexLock lock(&mu_);
  RECSTORE_RETURN_IF_ERROR(fail_->status());
  RECSTORE_RETURN_IF_ERROR(CheckRetentionPolicy(shape_, policy));
  // One manifest rewrite stores the policy and drops what it drops.
  RECSTORE_ASSIGN_OR_RETURN(uint64_t point, PointOf(published_->Pin(), policy));
  return TruncateLocked(point, &policy).status();
}

absl::StatusOr<CompactionStats> Maintenance::Compact(const CompactOptions& options) {
  base::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  RECSTORE_RETURN_IF_ERROR(fail_->status());
  RECSTORE_RETURN_IF_ERROR(CheckCompactOptions(shape_, options));
  // Everything below the active segment is made durable, then read from one snapshot. Appends
  // go on, so the active segment may be newer than the first sync covered: sync again then.
  // Only durable records are read: a key's newest record must survive any crash, or the
  // older ones this compaction drops would be lost with it.
  RECSTORE_RETURN_IF_ERROR(commit_->Sync().status());
  uint64_t boundary;
  Snapshot snap = appender_->ActiveStart(&boundary);
  if (boundary > commit_->durable()) RECSTORE_RETURN_IF_ERROR(commit_->Sync().status());
  snap.end = std::min(snap.end, commit_->durable());
  if (boundary <= snap.set->state.first_seq) {
    CompactionStats stats;
    stats.first_seq = snap.set->state.first_seq;
    stats.generation = snap.set->state.generation;
    stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return stats;  // nothing below the active segment
  }
  RECSTORE_ASSIGN_OR_RETURN(
      Rewrite rewrite, RewriteBelow(shape_, snap, boundary, options, shape_.env()->NowUnixNanos()));
  bool installed = false;
  absl::Status st = Install(rewrite.next, rewrite.parts, &rewrite.stats, &installed);
  if (!installed) {
    DiscardRewrite(shape_, rewrite);
    return st;
  }
  RECSTORE_RETURN_IF_ERROR(st);
  if (options.progress) options.progress(rewrite.progress);
  rewrite.stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return rewrite.stats;
}

}  // namespace recstore::log
