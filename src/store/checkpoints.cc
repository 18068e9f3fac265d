// Checkpoints (include/recstore/checkpoint.h) over a byte log, and Store::OpenCheckpoints.
//
// Record layout (docs/checkpoints.md): u32 magic "RSCK", u16 version, u16 keep (the set's keep
// when saved; 0: not recorded), i64 time_ns, u64 payload size, payload. The log's record
// checksum covers all of it.
//
// Dropping old versions: TruncateBefore deletes whole segments only and rewrites the manifest,
// so it is called only when it is sure to free a segment. The state keeps the frame space
// (format.md 3.4: round_up(16 + length, 8) + 4 bytes) of every live record. When the records
// strictly between begin() and the first kept version need more than one segment's data area
// (segment_size - 4096), the segment holding begin() cannot hold them all (neither an ordinary
// segment nor an oversized one, whose slack after its first record is below 4096 bytes), so
// it ends before the first kept version and TruncateBefore(end - keep) deletes it. Dropped
// versions therefore hold at most about one segment of space besides the kept ones.
#include <algorithm>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "recstore/checkpoint.h"
#include "recstore/env.h"
#include "recstore/status_macros.h"
#include "recstore/store.h"
#include "src/base/endian.h"
#include "src/base/mutex.h"
#include "src/log/collection.h"
#include "src/log/reader.h"
#include "src/store/store_state.h"

namespace recstore {
namespace internal {

class CheckpointState {
 public:
  // keep 0: the keep recorded with the newest version (Init).
  CheckpointState(std::shared_ptr<Collection> collection, uint32_t keep, Env* env)
      : collection_(collection),
        log_(std::move(collection)),
        keep_(keep),
        env_(env),
        data_area_(log_.info().segment_size - 4096) {}

  // One snapshot of the log: every read of a Load or List works on it, whatever a concurrent
  // Save drops meanwhile (the snapshot keeps its segments mapped).
  log::Snapshot Snapshot() const { return collection_->Pin(); }

  const ByteLog& log() const { return log_; }
  uint32_t keep() const { return keep_; }

  // Appends, syncs, then drops whole segments of old versions when that frees one.
  absl::StatusOr<CheckpointInfo> Save(std::span<const std::byte> payload) {
    if (payload.size() > kMaxCheckpointSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint of ", payload.size(), " bytes is above the limit of ", kMaxCheckpointSize));
    }
    base::MutexLock lock(&mu_);
    CheckpointInfo info{.seq = 0, .time_ns = env_->NowUnixNanos(), .size = payload.size()};
    std::string record(kCheckpointHeaderSize + payload.size(), '\0');
    base::EncodeFixed32(record.data(), kCheckpointMagic);
    base::EncodeFixed16(record.data() + 4, kCheckpointVersion);
    base::EncodeFixed16(record.data() + 6, static_cast<uint16_t>(keep_));
    base::EncodeFixed64(record.data() + 8, static_cast<uint64_t>(info.time_ns));
    base::EncodeFixed64(record.data() + 16, payload.size());
    if (!payload.empty()) {
      std::memcpy(record.data() + kCheckpointHeaderSize, payload.data(), payload.size());
    }
    RECSTORE_ASSIGN_OR_RETURN(info.seq, log_.Append(record));
    RECSTORE_RETURN_IF_ERROR(log_.Sync().status());
    RECSTORE_RETURN_IF_ERROR(DropOld());
    return info;
  }

  // Brings the frame-space bookkeeping up to [begin(), end()); reads the sizes of records it
  // has not seen (all of them at open). A record that cannot be read counts as 0 bytes,
  // which only delays a TruncateBefore.
  void Track() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const log::Snapshot snap = Snapshot();
    const uint64_t begin = snap.set->state.first_seq, end = snap.end;
    while (!space_.empty() && first_ < begin) PopFront();
    if (space_.empty()) first_ = std::max(first_, begin);
    if (first_ > end) first_ = end;  // cannot happen for a writer; keeps the state sane
    for (uint64_t seq = first_ + space_.size(); seq < end; ++seq) {
      absl::StatusOr<std::span<const std::byte>> r =
          log::GetRecord(collection_->shape(), *snap.set, snap.end, seq);
      const uint64_t space = r.ok() ? (kCheckpointHeaderSize + r->size() + 16 + 7) / 8 * 8 + 4 : 0;
      space_.push_back(space);
      total_ += space;
    }
  }

  absl::Status Init() {
    if (keep_ == 0) keep_ = RecordedKeep();
    base::MutexLock lock(&mu_);
    if (!log_.read_only()) Track();
    return absl::OkStatus();
  }

  // The keep recorded with the newest intact version that has one (looking at the last few
  // records only); kDefaultCheckpointKeep when none does.
  uint32_t RecordedKeep() const {
    const log::Snapshot snap = Snapshot();
    const uint64_t begin = snap.set->state.first_seq;
    for (uint64_t seq = snap.end, looked = 0; seq > begin && looked < 16; ++looked) {
      absl::StatusOr<Checkpoint> c = Read(snap, --seq);
      if (c.ok() && c->info.keep != 0) return c->info.keep;
    }
    return kDefaultCheckpointKeep;
  }

  absl::StatusOr<Checkpoint> Read(const log::Snapshot& snap, uint64_t seq) const {
    RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> r,
                              log::GetRecord(collection_->shape(), *snap.set, snap.end, seq));
    if (r.size() < kCheckpointHeaderSize) {
      return absl::DataLossError(absl::StrCat("checkpoint record ", seq, " of ", log_.name(),
                                              " is shorter than its header (", r.size(),
                                              " bytes)"));
    }
    const std::byte* p = r.data();
    const uint32_t magic = base::DecodeFixed32(p);
    const uint16_t version = base::DecodeFixed16(p + 4);
    const uint64_t size = base::DecodeFixed64(p + 16);
    if (magic != kCheckpointMagic || version != kCheckpointVersion ||
        size != r.size() - kCheckpointHeaderSize) {
      return absl::DataLossError(absl::StrCat("checkpoint record ", seq, " of ", log_.name(),
                                              " has an invalid header (magic ", absl::Hex(magic),
                                              ", version ", version, ", size ", size,
                                              " in a record of ", r.size(), " bytes)"));
    }
    Checkpoint c;
    c.info = {.seq = seq,
              .time_ns = static_cast<int64_t>(base::DecodeFixed64(p + 8)),
              .size = size,
              .keep = base::DecodeFixed16(p + 6)};
    c.data.assign(reinterpret_cast<const char*>(p) + kCheckpointHeaderSize, size);
    return c;
  }

  // The sequence numbers of the kept versions in `snap`: [first, end).
  std::pair<uint64_t, uint64_t> KeptRange(const log::Snapshot& snap) const {
    const uint64_t begin = snap.set->state.first_seq, end = snap.end;
    if (end < begin) return {end, end};  // a reader between a retention and its refresh
    return {end - begin > keep_ ? end - keep_ : begin, end};
  }

 private:
  absl::Status DropOld() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Track();
    const uint64_t end = first_ + space_.size();
    if (end - first_ <= keep_) return absl::OkStatus();
    const uint64_t cut = end - keep_;
    // Frame space of the records strictly between begin() and the first kept version.
    uint64_t between = total_ - space_.front();
    for (uint64_t seq = cut; seq < end; ++seq) between -= space_[seq - first_];
    if (between <= data_area_) return absl::OkStatus();
    RECSTORE_RETURN_IF_ERROR(log_.TruncateBefore(cut).status());
    Track();
    return absl::OkStatus();
  }

  void PopFront() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    total_ -= space_.front();
    space_.pop_front();
    ++first_;
  }

  const std::shared_ptr<Collection> collection_;
  const ByteLog log_;
  uint32_t keep_;  // set by the constructor or Init, then never changed
  Env* const env_;
  const uint64_t data_area_;
  base::Mutex mu_;
  uint64_t first_ ABSL_GUARDED_BY(mu_) = 0;          // seq of space_.front()
  std::deque<uint64_t> space_ ABSL_GUARDED_BY(mu_);  // frame space of records first_, first_+1...
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;          // sum of space_
};

}  // namespace internal

absl::StatusOr<CheckpointInfo> Checkpoints::Save(std::span<const std::byte> payload) const {
  if (state_ == nullptr) return absl::FailedPreconditionError("checkpoint set not open");
  return state_->Save(payload);
}

absl::StatusOr<Checkpoint> Checkpoints::Load() const {
  if (state_ == nullptr) return absl::FailedPreconditionError("checkpoint set not open");
  const ByteLog& log = state_->log();
  if (log.read_only()) RECSTORE_RETURN_IF_ERROR(log.Refresh());
  const log::Snapshot snap = state_->Snapshot();
  const auto [first, end] = state_->KeptRange(snap);
  if (first == end) {
    return absl::NotFoundError(absl::StrCat("no checkpoint saved in ", log.name()));
  }
  absl::Status newest_error;
  for (uint64_t seq = end; seq-- > first;) {
    absl::StatusOr<Checkpoint> c = state_->Read(snap, seq);
    if (c.ok()) {
      c->skipped = end - 1 - seq;
      return c;
    }
    const absl::StatusCode code = c.status().code();
    if (code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kNotFound) {
      return c.status();
    }
    if (newest_error.ok()) newest_error = c.status();
  }
  return absl::DataLossError(absl::StrCat("none of the ", end - first, " kept checkpoints of ",
                                          log.name(),
                                          " is intact; newest: ", newest_error.message()));
}

absl::StatusOr<Checkpoint> Checkpoints::LoadAt(uint64_t seq) const {
  if (state_ == nullptr) return absl::FailedPreconditionError("checkpoint set not open");
  if (state_->log().read_only()) RECSTORE_RETURN_IF_ERROR(state_->log().Refresh());
  const log::Snapshot snap = state_->Snapshot();
  const auto [first, end] = state_->KeptRange(snap);
  if (seq < first || seq >= end) {
    return absl::OutOfRangeError(absl::StrCat("checkpoint ", seq, " is not kept in ",
                                              state_->log().name(), " (kept: [", first, ", ", end,
                                              "))"));
  }
  return state_->Read(snap, seq);
}

absl::StatusOr<std::vector<CheckpointInfo>> Checkpoints::List() const {
  if (state_ == nullptr) return absl::FailedPreconditionError("checkpoint set not open");
  if (state_->log().read_only()) RECSTORE_RETURN_IF_ERROR(state_->log().Refresh());
  const log::Snapshot snap = state_->Snapshot();
  const auto [first, end] = state_->KeptRange(snap);
  std::vector<CheckpointInfo> out;
  for (uint64_t seq = end; seq-- > first;) {
    absl::StatusOr<Checkpoint> c = state_->Read(snap, seq);
    if (c.ok()) {
      out.push_back(c->info);
      continue;
    }
    const absl::StatusCode code = c.status().code();
    if (code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kNotFound) {
      return c.status();
    }
  }
  return out;
}

uint32_t Checkpoints::keep() const { return state_ == nullptr ? 0 : state_->keep(); }

const ByteLog& Checkpoints::log() const {
  static const ByteLog* const kNone = new ByteLog();
  return state_ == nullptr ? *kNone : state_->log();
}

absl::Status Checkpoints::SizeMismatch(const CheckpointInfo& info, size_t want) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint ", info.seq, " holds ", info.size,
                                                 " bytes, not the ", want,
                                                 " bytes of the requested type"));
}

absl::StatusOr<Checkpoints> Store::OpenCheckpoints(std::string_view name,
                                                   const CheckpointOptions& options) {
  RECSTORE_RETURN_IF_ERROR(internal::ValidateNameOf("checkpoint set", name));
  if (options.keep > kMaxCheckpointKeep) {
    return absl::InvalidArgumentError(absl::StrCat("CheckpointOptions::keep is ", options.keep,
                                                   ", above the limit of ", kMaxCheckpointKeep));
  }
  const std::string log_name = absl::StrCat("checkpoint.", std::string(name));
  if (absl::Status s = ValidateName(log_name); !s.ok()) {
    // Longer than 128 bytes, or ".." made by a name that starts with '.'.
    return absl::InvalidArgumentError(
        absl::StrCat("invalid checkpoint set name '", absl::CEscape(std::string(name)),
                     "': the name of its log is refused (", s.message(), ")"));
  }
  CollectionOptions copts;
  copts.create_if_missing = options.create_if_missing;
  copts.segment_size = options.segment_size != 0 ? options.segment_size
                                                 : std::min(kDefaultCheckpointSegmentSize,
                                                            state_->options().segment_size);
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            OpenCollection(log_name, CollectionKind::kVariable, nullptr, copts));
  auto state =
      std::make_shared<internal::CheckpointState>(std::move(c), options.keep, state_->env());
  RECSTORE_RETURN_IF_ERROR(state->Init());
  return Checkpoints(std::move(state));
}

}  // namespace recstore
