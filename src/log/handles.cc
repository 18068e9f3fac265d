// The public handles (include/recstore/log.h) over internal::Collection.
#include "absl/strings/str_cat.h"
#include "recstore/log.h"
#include "src/log/collection.h"
#include "src/log/follow.h"
#include "src/log/scanner.h"

namespace recstore {

namespace {

absl::Status NotOpen() {
  return absl::FailedPreconditionError("the log handle is not open (default-constructed)");
}

const RecoveryReport& EmptyReport() {
  static const RecoveryReport* const kEmpty = new RecoveryReport();
  return *kEmpty;
}

}  // namespace

ScanBase::ScanBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from)
    : scanner_(std::make_unique<internal::Scanner>(collection, from)) {}
ScanBase::ScanBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from,
                   uint64_t before, Reverse)
    : scanner_(std::make_unique<internal::Scanner>(collection, from, before, /*reverse=*/true)) {}
ScanBase::ScanBase(ScanBase&&) noexcept = default;
ScanBase& ScanBase::operator=(ScanBase&&) noexcept = default;
ScanBase::~ScanBase() = default;

void ScanBase::Next(Batch* batch) { scanner_->Next(batch); }
const absl::Status& ScanBase::status() const { return scanner_->status(); }
uint64_t ScanBase::skipped() const { return scanner_->skipped(); }
uint64_t ScanBase::from() const { return scanner_->from(); }
uint64_t ScanBase::end() const { return scanner_->end(); }
Gap ScanBase::lost() const { return scanner_->lost(); }

FollowBase::FollowBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from,
                       const FollowOptions& options)
    : state_(std::make_unique<internal::FollowState>(collection, from, options)) {}
FollowBase::FollowBase(FollowBase&&) noexcept = default;
FollowBase& FollowBase::operator=(FollowBase&&) noexcept = default;
FollowBase::~FollowBase() = default;

void FollowBase::Stop() const { state_->Stop(); }
bool FollowBase::done() const { return state_->done(); }
const absl::Status& FollowBase::status() const { return state_->status(); }
uint64_t FollowBase::position() const { return state_->position(); }
const std::vector<Gap>& FollowBase::gaps() const { return state_->gaps(); }
void FollowBase::Next(ScanBase::Batch* batch, absl::Time deadline) {
  state_->Next(batch, deadline);
}

absl::StatusOr<uint64_t> LogBase::WaitFor(uint64_t seq, absl::Time deadline,
                                          const WaitOptions& options) const {
  if (c_ == nullptr) return NotOpen();
  return c_->WaitFor(seq, deadline, options);
}

absl::StatusOr<uint64_t> LogBase::Sync() const {
  if (c_ == nullptr) return NotOpen();
  return c_->Sync();
}

absl::Status LogBase::Refresh() const {
  if (c_ == nullptr) return NotOpen();
  return c_->Refresh();
}

absl::StatusOr<VerifyReport> LogBase::Verify() const {
  if (c_ == nullptr) return NotOpen();
  return c_->Verify();
}

uint64_t LogBase::begin() const { return c_ == nullptr ? 0 : c_->begin(); }
uint64_t LogBase::end() const { return c_ == nullptr ? 0 : c_->end(); }
uint64_t LogBase::size() const { return c_ == nullptr ? 0 : c_->size(); }
uint64_t LogBase::seq_count() const { return c_ == nullptr ? 0 : c_->seq_count(); }
uint64_t LogBase::durable() const { return c_ == nullptr ? 0 : c_->durable(); }
CollectionInfo LogBase::info() const { return c_ == nullptr ? CollectionInfo{} : c_->info(); }

const std::string& LogBase::name() const {
  static const std::string* const kNone = new std::string();
  return c_ == nullptr ? *kNone : c_->shape().name();
}

const RecoveryReport& LogBase::recovery() const {
  return c_ == nullptr ? EmptyReport() : c_->recovery();
}

bool LogBase::read_only() const { return c_ != nullptr && c_->read_only(); }

absl::StatusOr<CompactionStats> LogBase::TruncateBefore(uint64_t seq) const {
  if (c_ == nullptr) return NotOpen();
  return c_->TruncateBefore(seq);
}

absl::Status LogBase::SetRetention(const RetentionPolicy& policy) const {
  if (c_ == nullptr) return NotOpen();
  return c_->SetRetention(policy);
}

absl::StatusOr<CompactionStats> LogBase::ApplyRetention() const {
  if (c_ == nullptr) return NotOpen();
  return c_->ApplyRetention();
}

absl::StatusOr<CompactionStats> LogBase::Compact(const CompactOptions& options) const {
  if (c_ == nullptr) return NotOpen();
  return c_->Compact(options);
}

ReadPin LogBase::Pin() const {
  if (c_ == nullptr) return nullptr;
  return c_->Pin().set;
}

absl::StatusOr<std::span<const std::byte>> LogBase::GetRecord(uint64_t seq) const {
  if (c_ == nullptr) return NotOpen();
  return c_->Get(seq);
}

absl::StatusOr<uint64_t> LogBase::AppendFixed(const void* records, size_t n) const {
  if (c_ == nullptr) return NotOpen();
  return c_->AppendFixed(records, n);
}

absl::StatusOr<uint64_t> LogBase::AppendBytes(const std::string_view* records, size_t n) const {
  if (c_ == nullptr) return NotOpen();
  return c_->AppendBytes(records, n);
}

absl::StatusOr<uint64_t> UntypedLog::AppendBatch(std::span<const std::string_view> records) const {
  if (c_ == nullptr) return NotOpen();
  if (records.empty()) return c_->end();
  const CollectionInfo info = c_->info();
  if (info.kind == CollectionKind::kVariable)
    return c_->AppendBytes(records.data(), records.size());
  std::string packed;
  packed.reserve(records.size() * info.record_size);
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].size() != info.record_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record ", i, " of the batch has ", records[i].size(), " bytes; collection '", info.name,
          "' holds records of ", info.record_size, " bytes"));
    }
    packed.append(records[i]);
  }
  return c_->AppendFixed(packed.data(), records.size());
}

absl::StatusOr<int64_t> ByteLog::AppendTime(uint64_t seq) const {
  if (c_ == nullptr) return NotOpen();
  return c_->AppendTime(seq);
}

absl::StatusOr<uint64_t> LogBase::LowerBoundRecords(
    const std::function<bool(uint64_t, std::span<const std::byte>)>& pred) const {
  if (c_ == nullptr) return NotOpen();
  return c_->LowerBound(pred);
}

absl::StatusOr<uint64_t> ByteLog::SeekTime(absl::Time t) const {
  if (c_ == nullptr) return NotOpen();
  // Append times are whole seconds: records of t's second count (rounded toward the past).
  const int64_t seconds = absl::ToUnixSeconds(t);
  return c_->SeekAppendTime(seconds);
}

}  // namespace recstore
