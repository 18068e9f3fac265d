#include "src/log/follower.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/log/folder.h"
#include "src/os/file.h"

namespace recstore::log {

namespace {

absl::Status TooManyChanges(const Shape& shape) {
  return absl::UnavailableError(absl::StrCat("collection '", shape.name(), "' changed on each of ",
                                             kFollowAttempts,
                                             " attempts to read a consistent state; try again"));
}

}  // namespace

absl::StatusOr<RecoveryPlan> PlanReadOnly(const Shape& shape, ManifestHook* hook,
                                          CollectionState state, RecoveryMode mode,
                                          ReaderPins* pins) {
  int missing_in_same_state = 0;
  for (int attempt = 0; attempt < kFollowAttempts; ++attempt) {
    absl::StatusOr<RecoveryPlan> plan = PlanRecovery(shape, state, mode, /*writer=*/false, pins);
    if (!plan.ok() && plan.status().code() != absl::StatusCode::kNotFound) return plan.status();
    RECSTORE_ASSIGN_OR_RETURN(CollectionInfo now, hook->Reload(shape.name()));
    const CollectionState current = CollectionState::Of(now);
    if (current == state) {
      if (plan.ok()) return plan;
      // A file of a state the manifest keeps naming is missing: damage, once it is not a
      // writer's recovery removing segments past its cut at that moment.
      if (++missing_in_same_state == 3) return absl::DataLossError(plan.status().message());
    }
    state = current;
  }
  return TooManyChanges(shape);
}

Follower::Follower(const Shape& shape, Published* published, ManifestHook* hook, bool salvage)
    : shape_(shape), published_(published), hook_(hook), salvage_(salvage) {}

void Follower::Start(const RecoveryPlan& plan, std::shared_ptr<ReaderPins> pins) {
  base::MutexLock lock(&mu_);
  pins_ = std::move(pins);
  if (!plan.set->dense.empty()) tail_ = plan.set->dense[plan.tail];
  pos_ = plan.position;
  durable_.store(std::min(plan.report.durable_point, plan.set->end()), std::memory_order_release);
  page_ = StatePage::OpenForReader(shape_);
}

std::shared_ptr<StatePage> Follower::page() const {
  base::MutexLock lock(&mu_);
  return page_;
}

void Follower::NoteWords(const StatePage::Words& words) {
  const uint64_t durable = std::min(words.durable, published_->current().end());
  if (durable > durable_.load(std::memory_order_relaxed)) {
    durable_.store(durable, std::memory_order_release);
  }
  writer_failed_.store(words.failed, std::memory_order_release);
}

absl::Status Follower::FollowManifestLocked() {
  for (int attempt = 0; attempt < kFollowAttempts; ++attempt) {
    RECSTORE_ASSIGN_OR_RETURN(CollectionInfo info, hook_->Reload(shape_.name()));
    const CollectionState state = CollectionState::Of(info);
    const SegmentSet& cur = published_->current();
    if (state == cur.state) return absl::OkStatus();
    absl::StatusOr<FolderFiles> files = ListFolder(shape_, state);
    if (!files.ok()) return files.status();
    absl::StatusOr<std::shared_ptr<SegmentSet>> set =
        OpenSet(shape_, state, &*files, /*writer=*/false, &cur, pins_.get());
    if (!set.ok() && set.status().code() != absl::StatusCode::kNotFound) return set.status();
    RECSTORE_ASSIGN_OR_RETURN(CollectionInfo again, hook_->Reload(shape_.name()));
    if (!set.ok() || !(CollectionState::Of(again) == state)) continue;
    // Keep the scan position if its segment is still there; otherwise (it was retired) scan
    // from the first ordinary segment of the new state.
    std::shared_ptr<SegmentSet> next = *std::move(set);
    if (std::find(next->dense.begin(), next->dense.end(), tail_) == next->dense.end()) {
      tail_ = next->dense.empty() ? nullptr : next->dense.front();
      pos_ = {0, format::kDataStart};
    }
    published_->Publish(std::move(next));
    published_->ReleaseReplaced();
    return absl::OkStatus();
  }
  return TooManyChanges(shape_);
}

absl::StatusOr<bool> Follower::AddNewSegmentLocked(uint64_t first) {
  absl::StatusOr<std::shared_ptr<const Segment>> seg =
      OpenOrdinary(shape_, first, /*writable=*/false, pins_.get());
  if (!seg.ok()) {
    if (seg.status().code() == absl::StatusCode::kNotFound) return false;  // not yet
    return seg.status();
  }
  auto next = std::make_shared<SegmentSet>(published_->current());
  next->dense.push_back(*seg);
  published_->Publish(std::move(next));
  tail_ = *std::move(seg);
  pos_ = {0, format::kDataStart};
  return true;
}

absl::Status Follower::FollowReplacedLocked() {
  const SegmentSet& cur = published_->current();
  if (tail_ == nullptr || pos_.index > 0 || cur.dense.back() != tail_) return absl::OkStatus();
  absl::StatusOr<os::File> f = os::File::Open(shape_.env(), tail_->path(), O_RDONLY);
  if (!f.ok()) return absl::OkStatus();  // gone: the manifest will say why
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId id, shape_.env()->Identify(f->fd(), tail_->path()));
  if (id == tail_->id()) return absl::OkStatus();
  RECSTORE_ASSIGN_OR_RETURN(
      std::shared_ptr<const Segment> seg,
      OpenOrdinary(shape_, tail_->first_seq(), /*writable=*/false, pins_.get()));
  auto next = std::make_shared<SegmentSet>(cur);
  next->dense.back() = seg;
  published_->Publish(std::move(next));
  tail_ = std::move(seg);
  return absl::OkStatus();
}

absl::Status Follower::Refresh() {
  base::MutexLock lock(&mu_);
  if (page_ == nullptr) page_ = StatePage::OpenForReader(shape_);
  const std::optional<StatePage::Words> words =
      page_ != nullptr ? page_->Read() : std::optional<StatePage::Words>();
  if (words.has_value() && seen_valid_ && words->epoch == seen_epoch_ &&
      words->generation == seen_generation_) {
    // No file and no manifest state changed since the last full refresh: only records, in
    // the segments the view has (a segment the writer creates from now on holds only
    // records appended after this call began).
    RECSTORE_ASSIGN_OR_RETURN(const bool missing, ScanLocked(/*files_changed=*/false));
    // The page said the writer had published up to words->end when this call began: the
    // view must reach it. If it does not, something the generation did not announce moved
    // (or the page lies): the full refresh finds out.
    if (!missing && published_->current().end() >= words->end) {
      NoteWords(*words);
      return absl::OkStatus();
    }
  }
  // Read before the manifest: if the generation is the same at the next Refresh, so is the
  // state this one read.
  seen_valid_ = false;
  RECSTORE_RETURN_IF_ERROR(FollowAllLocked());
  if (words.has_value()) {
    seen_valid_ = true;
    seen_epoch_ = words->epoch;
    seen_generation_ = words->generation;
    NoteWords(*words);
  }
  return absl::OkStatus();
}

absl::Status Follower::FollowAllLocked() {
  for (int attempt = 0; attempt < kFollowAttempts; ++attempt) {
    RECSTORE_RETURN_IF_ERROR(FollowManifestLocked());
    RECSTORE_ASSIGN_OR_RETURN(const bool missing, ScanLocked(/*files_changed=*/true));
    if (!missing) return absl::OkStatus();
    // The next segment was not there: not created yet if the manifest still names the state
    // the view has; otherwise it may have been created and retired since (with records the
    // caller must see), and the new state is followed.
    RECSTORE_ASSIGN_OR_RETURN(CollectionInfo info, hook_->Reload(shape_.name()));
    if (CollectionState::Of(info) == published_->current().state) return absl::OkStatus();
  }
  return TooManyChanges(shape_);
}

absl::StatusOr<bool> Follower::ScanLocked(bool files_changed) {
  if (tail_ == nullptr) {
    if (!files_changed) return false;
    // The writer had not created the first segment.
    RECSTORE_ASSIGN_OR_RETURN(bool added,
                              AddNewSegmentLocked(published_->current().state.live_from()));
    if (!added) return true;
  }
  if (files_changed) RECSTORE_RETURN_IF_ERROR(FollowReplacedLocked());
  const TailScanOptions options{.salvage = salvage_, .repair_slots = false};
  std::vector<BadRecord> skipped;  // scans report them again
  while (true) {
    const SegmentSet& cur = published_->current();
    const size_t i = cur.FindDense(tail_->first_seq());
    const uint64_t most =
        i + 1 < cur.dense.size() ? cur.dense[i + 1]->first_seq() - tail_->first_seq() : UINT64_MAX;
    ScanSegment(shape_, *tail_, options, most, &pos_, &skipped, nullptr);
    const uint64_t end = tail_->first_seq() + pos_.index;
    if (end > cur.end()) published_->PublishEnd(end);
    if (!SegmentDone(shape_, pos_)) return false;
    if (i + 1 < cur.dense.size()) {
      if (cur.dense[i + 1]->first_seq() != end) return false;
      tail_ = cur.dense[i + 1];
      pos_ = {0, format::kDataStart};
      continue;
    }
    if (!files_changed) return false;
    RECSTORE_ASSIGN_OR_RETURN(bool added, AddNewSegmentLocked(end));
    if (!added) return true;
  }
}

}  // namespace recstore::log
