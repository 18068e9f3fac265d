// MappedStructBase: forwards to StructStorage.
#include "absl/strings/str_cat.h"
#include "recstore/mapped_struct.h"
#include "src/mapped/struct_storage.h"

namespace recstore {

MappedStructBase::MappedStructBase(MappedStructBase&& o) noexcept { *this = std::move(o); }

MappedStructBase& MappedStructBase::operator=(MappedStructBase&& o) noexcept {
  if (this != &o) {
    live_ = std::exchange(o.live_, nullptr);
    storage_ = std::move(o.storage_);
  }
  return *this;
}

MappedStructBase::MappedStructBase() = default;
MappedStructBase::~MappedStructBase() = default;

absl::Status MappedStructBase::InitOpen(std::string path, const MappedStructOptions& options,
                                        const RecordSchema& schema) {
  absl::StatusOr<std::unique_ptr<internal::StructStorage>> storage =
      internal::StructStorage::Open(std::move(path), options, schema);
  if (!storage.ok()) return storage.status();
  storage_ = *std::move(storage);
  live_ = storage_->live();
  return absl::OkStatus();
}

const std::string& MappedStructBase::path() const {
  static const std::string kNone;
  return storage_ ? storage_->path() : kNone;
}

bool MappedStructBase::read_only() const { return storage_ && storage_->read_only(); }

uint64_t MappedStructBase::sync_count() const { return storage_ ? storage_->sync_count() : 0; }

absl::Status MappedStructBase::Sync() {
  if (!storage_) return absl::FailedPreconditionError("Sync on a moved-from MappedStruct");
  return storage_->Sync();
}

absl::Status MappedStructBase::Refresh() {
  if (!storage_) return absl::FailedPreconditionError("Refresh on a moved-from MappedStruct");
  return storage_->Refresh();
}

void MappedStructBase::LoadInto(void* out) const { storage_->Snapshot(out); }

}  // namespace recstore
