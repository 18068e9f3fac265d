#include "src/log/collection.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/log/reader.h"
#include "src/log/recovery.h"

namespace recstore::internal {

Collection::Collection(const CollectionConfig& config, std::shared_ptr<log::SegmentSet> initial)
    : shape_(config.info, config.dir, config.env, config.file_mode),
      read_only_(config.read_only),
      recovery_mode_(config.recovery),
      sync_(config.sync),
      keep_alive_(config.keep_alive),
      fail_(config.info.name),
      published_(std::move(initial)),
      commit_(shape_, &published_, &fail_),
      pool_(shape_, config.read_only ? 0 : config.recycle_segments),
      appender_(shape_, &published_, &commit_, &fail_, config.prefault, &pool_),
      maintenance_(shape_, &published_, &appender_, &commit_, &fail_, config.manifest, &pool_),
      follower_(shape_, &published_, config.manifest, config.recovery == RecoveryMode::kSalvage) {}

absl::StatusOr<std::shared_ptr<Collection>> Collection::Open(CollectionConfig config) {
  const log::Shape shape(config.info, config.dir, config.env, config.file_mode);
  const log::CollectionState state = log::CollectionState::Of(config.info);
  // A reader pins every segment before it maps it, so that no writer recycles the file
  // under it (recycle.h).
  std::shared_ptr<log::ReaderPins> pins;
  if (config.read_only) {
    RECSTORE_ASSIGN_OR_RETURN(pins, log::ReaderPins::Open(shape));
  }
  absl::StatusOr<log::RecoveryPlan> plan =
      config.read_only
          ? log::PlanReadOnly(shape, config.manifest, state, config.recovery, pins.get())
          : log::PlanRecovery(shape, state, config.recovery, /*writer=*/true);
  if (!plan.ok()) return plan.status();
  std::shared_ptr<Collection> c(new Collection(config, plan->set));
  c->report_ = plan->report;
  if (c->read_only_) {
    c->follower_.Start(*plan, std::move(pins));
    c->open_ = true;
    return c;
  }
  // Before recovery changes anything: a page an earlier writer left must not mislead readers
  // once this writer changes the files, so the open fails if it cannot be taken over.
  RECSTORE_ASSIGN_OR_RETURN(c->page_, log::StatePage::OpenForWriter(c->shape_));
  // No reader has the collection yet: the cut may still change the plan's set.
  RECSTORE_RETURN_IF_ERROR(log::ApplyRecovery(c->shape_, &*plan, &c->commit_));
  // Retired files a previous writer left: kept for reuse up to this writer's limit.
  c->pool_.Adopt(plan->retired);
  c->open_ = true;
  c->appender_.Start(plan->position.offset < format::kDataStart ? format::kDataStart
                                                                : plan->position.offset);
  c->page_->Start(c->published_.end(), c->commit_.durable());
  c->published_.set_mirror(c->page_.get());
  if (c->sync_.mode == SyncPolicy::Mode::kBackground) {
    c->syncer_ = std::make_unique<log::BackgroundSyncer>(&c->published_, &c->commit_, c->sync_);
  }
  return c;
}

Collection::~Collection() {
  syncer_.reset();
  if (read_only_ || !open_) return;
  // A clean close leaves everything appended durable, so the next open has no tail to scan.
  commit_.Sync().IgnoreError();  // a failure leaves the log as a crash would; recovery handles it
}

absl::Status Collection::CheckWritable() const {
  if (read_only_) return shape_.ReadOnlyError();
  return absl::OkStatus();
}

absl::Status Collection::AfterAppend() {
  if (appender_.TakeRotated()) [[unlikely]]
    maintenance_.AfterRotation();
  switch (sync_.mode) {
    case SyncPolicy::Mode::kEveryAppend:
      return commit_.Sync().status();
    case SyncPolicy::Mode::kBackground:
      syncer_->Appended(end() - durable());
      break;
    case SyncPolicy::Mode::kManual:
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Collection::AppendFixed(const void* records, size_t n) {
  if (read_only_) [[unlikely]]
    return shape_.ReadOnlyError();
  absl::StatusOr<uint64_t> first = appender_.AppendFixed(records, n);
  if (first.ok()) [[likely]]
    RECSTORE_RETURN_IF_ERROR(AfterAppend());
  return first;
}

absl::StatusOr<uint64_t> Collection::AppendBytes(const std::string_view* records, size_t n) {
  if (read_only_) [[unlikely]]
    return shape_.ReadOnlyError();
  absl::StatusOr<uint64_t> first = appender_.AppendBytes(records, n);
  if (first.ok()) [[likely]]
    RECSTORE_RETURN_IF_ERROR(AfterAppend());
  return first;
}

absl::StatusOr<uint64_t> Collection::Sync() {
  RECSTORE_RETURN_IF_ERROR(CheckWritable());
  return commit_.Sync();
}

absl::Status Collection::Refresh() {
  if (!read_only_) return absl::OkStatus();
  return follower_.Refresh();
}

namespace {

// The longest a waiter sleeps on the page before it looks again by itself: a safety net for a
// page that is stale or lies (a writer of an earlier version, a damaged file).
constexpr absl::Duration kLongestSleep = absl::Milliseconds(250);
// Without a page to sleep on, waiters poll, backing off from the first to the last interval.
constexpr absl::Duration kFirstPoll = absl::Microseconds(50);
constexpr absl::Duration kLastPoll = absl::Milliseconds(10);

}  // namespace

std::shared_ptr<log::StatePage> Collection::WaitPage() const {
  return read_only_ ? follower_.page() : page_;
}

void Collection::WakeWaiters() {
  std::shared_ptr<log::StatePage> page = WaitPage();
  if (page != nullptr) page->WakeAll();
}

absl::Status Collection::WaitError() const {
  if (!read_only_) return fail_.status();
  if (follower_.writer_failed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the writer of collection '", shape_.name(),
                     "' reported a failed flush: it appends no more records until a new writer "
                     "recovers the collection"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Collection::WaitFor(uint64_t seq, absl::Time deadline,
                                             const WaitOptions& options,
                                             const std::atomic<bool>* stop) {
  const bool durable = options.until == WaitOptions::Until::kDurable;
  auto reached = [&] { return end() > seq && (!durable || this->durable() > seq); };
  auto stopped = [&] { return stop != nullptr && stop->load(std::memory_order_acquire); };
  const absl::Time spin_until = absl::Now() + absl::FromChrono(options.spin);
  absl::Duration poll = kFirstPoll;
  std::shared_ptr<log::StatePage> page;
  while (true) {
    if (stopped()) return absl::CancelledError("the wait was stopped");
    if (read_only_) RECSTORE_RETURN_IF_ERROR(follower_.Refresh());
    if (reached()) return end();
    RECSTORE_RETURN_IF_ERROR(WaitError());
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("record ", seq, " of collection '", shape_.name(), "' was not ",
                       durable ? "durable" : "appended", " by the deadline (end ", end(),
                       ", durable ", this->durable(), ")"));
    }
    if (now < spin_until) {
      __builtin_ia32_pause();  // a spin that leaves the core's other thread its share
      continue;
    }
    if (page == nullptr) page = WaitPage();
    const absl::Duration left = deadline - now;
    if (page != nullptr && page->can_sleep() && page->Read().has_value()) {
      // Register, then look once more: a record published from here on wakes the sleep.
      const uint32_t seen = page->Register(durable, seq);
      if (stopped()) continue;
      if (read_only_) RECSTORE_RETURN_IF_ERROR(follower_.Refresh());
      if (reached()) return end();
      page->Sleep(seen, absl::ToChronoNanoseconds(std::min(left, kLongestSleep)));
    } else {
      absl::SleepFor(std::min(left, poll));
      poll = std::min(poll * 2, kLastPoll);
    }
  }
}

absl::StatusOr<std::span<const std::byte>> Collection::Get(uint64_t seq) const {
  return published_.Read([&](const log::SegmentSet& set, uint64_t end) {
    return log::GetRecord(shape_, set, end, seq);
  });
}

absl::StatusOr<int64_t> Collection::AppendTime(uint64_t seq) const {
  if (shape_.fixed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", shape_.name(),
                     "' holds fixed-size records, which carry no append time; retention by age "
                     "reads the time_field"));
  }
  return published_.Read([&](const log::SegmentSet& set, uint64_t end) -> absl::StatusOr<int64_t> {
    RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> payload,
                              log::GetRecord(shape_, set, end, seq));
    return log::AppendTimeOf(shape_, payload);
  });
}

absl::StatusOr<uint64_t> Collection::LowerBound(
    const std::function<bool(uint64_t, std::span<const std::byte>)>& pred) const {
  const log::Snapshot snap = published_.Pin();
  return log::LowerBound(shape_, *snap.set, snap.end, pred);
}

absl::StatusOr<uint64_t> Collection::SeekAppendTime(int64_t seconds) const {
  if (shape_.fixed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", shape_.name(),
                     "' holds fixed-size records, which carry no append time; seek by a time "
                     "field of the record with Log<T>::Seek"));
  }
  return LowerBound([&](uint64_t, std::span<const std::byte> payload) {
    return log::AppendTimeOf(shape_, payload) >= seconds;
  });
}

VerifyReport Collection::Verify() const { return log::Verify(shape_, published_.Pin()); }

absl::StatusOr<CompactionStats> Collection::TruncateBefore(uint64_t seq) {
  RECSTORE_RETURN_IF_ERROR(CheckWritable());
  return maintenance_.TruncateBefore(seq);
}

absl::StatusOr<CompactionStats> Collection::ApplyRetention() {
  RECSTORE_RETURN_IF_ERROR(CheckWritable());
  return maintenance_.ApplyRetention();
}

absl::Status Collection::SetRetention(const RetentionPolicy& policy) {
  RECSTORE_RETURN_IF_ERROR(CheckWritable());
  return maintenance_.SetRetention(policy);
}

absl::StatusOr<CompactionStats> Collection::Compact(const CompactOptions& options) {
  RECSTORE_RETURN_IF_ERROR(CheckWritable());
  return maintenance_.Compact(options);
}

uint64_t Collection::begin() const {
  return published_.Read([](const log::SegmentSet& set, uint64_t) { return set.state.first_seq; });
}

uint64_t Collection::size() const {
  return published_.Read([](const log::SegmentSet& set, uint64_t end) {
    const uint64_t begin = set.state.first_seq;
    if (end <= begin) return uint64_t{0};
    // Below compacted_end only the records the compacted parts hold are live; from there on
    // (ordinary segments) every sequence number up to end is a record.
    uint64_t live = 0;
    for (const auto& part : set.compacted) {
      if (part->last() < begin) continue;
      live += part->count - part->LowerBound(begin);
    }
    const uint64_t dense_from = set.state.live_from();
    return live + (end > dense_from ? end - dense_from : 0);
  });
}

uint64_t Collection::seq_count() const {
  return published_.Read([](const log::SegmentSet& set, uint64_t end) {
    return end > set.state.first_seq ? end - set.state.first_seq : 0;
  });
}

uint64_t Collection::durable() const {
  if (read_only_) return std::max(std::min(report_.durable_point, end()), follower_.durable());
  return commit_.durable();
}

CollectionInfo Collection::info() const { return shape_.Info(published_.Pin().set->state); }

}  // namespace recstore::internal
