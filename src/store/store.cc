// The public Store and LogCore, over StoreState and Collection.
#include "recstore/store.h"

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/log/collection.h"
#include "src/os/env.h"
#include "src/store/store_state.h"

namespace recstore {

absl::StatusOr<std::unique_ptr<Store>> internal::StoreAccess::Open(os::Env* env,
                                                                   const std::string& path,
                                                                   const StoreOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<StoreState> state,
                            StoreState::Open(env, path, options));
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  return internal::StoreAccess::Open(os::DefaultEnv(), path, options);
}

Store::Store(std::shared_ptr<internal::StoreState> state) : state_(std::move(state)) {}
Store::~Store() = default;

absl::StatusOr<LogCore> Store::OpenCore(std::string_view name, CollectionKind kind,
                                        const RecordSchema* schema,
                                        const CollectionOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            state_->OpenCollection(name, kind, schema, options, state_));
  // The writer applies the collection's retention policy at open.
  if (!c->read_only() && !c->info().retention.empty()) {
    RECSTORE_RETURN_IF_ERROR(c->ApplyRetention().status());
  }
  return LogCore(std::move(c));
}

absl::StatusOr<ByteLog> Store::OpenByteLog(std::string_view name,
                                           const CollectionOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(LogCore core,
                            OpenCore(name, CollectionKind::kVariable, nullptr, options));
  return ByteLog(std::move(core));
}

absl::StatusOr<UntypedLog> Store::OpenUntyped(std::string_view name) {
  CollectionOptions options;
  options.create_if_missing = false;
  RECSTORE_ASSIGN_OR_RETURN(LogCore core, OpenCore(name, CollectionKind::kFixed, nullptr, options));
  return UntypedLog(std::move(core));
}

std::vector<CollectionInfo> Store::ListCollections() const { return state_->ListCollections(); }

absl::Status Store::DropCollection(std::string_view name) { return state_->Drop(name); }

const std::string& Store::path() const { return state_->path(); }
const StoreOptions& Store::options() const { return state_->options(); }

absl::Status Store::ValidateName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid collection name '", std::string(name), "': ", std::string(why)));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 128) return bad("longer than 128 bytes");
  if (name == "." || name.find("..") != std::string_view::npos) return bad("'.' or '..'");
  for (char c : name) {
    if (c == '/') return bad("contains '/'");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return bad("contains a NUL or control character");
    }
  }
  return absl::OkStatus();
}

// LogCore forwards to the collection.
absl::StatusOr<uint64_t> LogCore::AppendFixed(const void* records, size_t n) const {
  return c_->AppendFixed(records, n);
}
absl::StatusOr<uint64_t> LogCore::AppendBytes(const std::string_view* records, size_t n) const {
  return c_->AppendBytes(records, n);
}
absl::StatusOr<uint64_t> LogCore::Sync() const { return c_->Sync(); }
absl::Status LogCore::Refresh() const { return c_->Refresh(); }
absl::StatusOr<const std::byte*> LogCore::GetFixed(uint64_t seq) const {
  absl::StatusOr<std::span<const std::byte>> bytes = c_->Get(seq);
  if (!bytes.ok()) return bytes.status();
  return bytes->data();
}
absl::StatusOr<std::span<const std::byte>> LogCore::GetBytes(uint64_t seq) const {
  return c_->Get(seq);
}
absl::Status LogCore::NextRun(uint64_t seq, uint64_t end, RecordRun* run, uint64_t* skipped,
                              ReadPin* pin) const {
  return c_->NextRun(seq, end, run, skipped, pin);
}
absl::StatusOr<CompactionStats> LogCore::TruncateBefore(uint64_t seq) const {
  return c_->TruncateBefore(seq);
}
absl::StatusOr<CompactionStats> LogCore::ApplyRetention() const { return c_->ApplyRetention(); }
absl::Status LogCore::SetRetention(const RetentionPolicy& policy) const {
  return c_->SetRetention(policy);
}
absl::StatusOr<CompactionStats> LogCore::Compact(const CompactOptions& options) const {
  return c_->Compact(options);
}
absl::StatusOr<int64_t> LogCore::AppendTime(uint64_t seq) const { return c_->AppendTime(seq); }
ReadPin LogCore::Pin() const { return c_->Pin(); }
absl::StatusOr<VerifyReport> LogCore::Verify() const { return c_->Verify(); }
uint64_t LogCore::begin() const { return c_->begin(); }
uint64_t LogCore::end() const { return c_->end(); }
uint64_t LogCore::durable() const { return c_->durable(); }
CollectionInfo LogCore::info() const { return c_->info(); }
const CollectionInfo& LogCore::shape() const { return c_->shape(); }
const RecoveryReport& LogCore::recovery() const { return c_->recovery(); }
bool LogCore::read_only() const { return c_->read_only(); }

}  // namespace recstore
