// MappedVectorBase: the element count, the dirty pages and the operations that move elements;
// the file side is VectorStorage's.
#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "recstore/mapped_vector.h"
#include "src/mapped/vector_storage.h"

namespace recstore {
namespace {

size_t DirtyWords(size_t capacity_bytes) { return (capacity_bytes / 4096 + 63) / 64; }

}  // namespace

MappedVectorBase::MappedVectorBase(MappedVectorBase&& o) noexcept { *this = std::move(o); }

MappedVectorBase& MappedVectorBase::operator=(MappedVectorBase&& o) noexcept {
  if (this != &o) {
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
    low_water_ = std::exchange(o.low_water_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    elem_size_ = o.elem_size_;
    writable_ = std::exchange(o.writable_, false);
    last_dirty_page_ = std::exchange(o.last_dirty_page_, ~size_t{0});
    dirty_ = std::move(o.dirty_);
    o.dirty_.clear();
    storage_ = std::move(o.storage_);
  }
  return *this;
}

MappedVectorBase::MappedVectorBase() = default;
MappedVectorBase::~MappedVectorBase() = default;

absl::Status MappedVectorBase::InitOpen(std::string path, const MappedVectorOptions& options,
                                        const RecordSchema& schema) {
  return Init(internal::VectorStorage::Open(std::move(path), options, schema));
}

absl::Status MappedVectorBase::InitScratch(const ScratchOptions& options,
                                           const RecordSchema& schema) {
  return Init(internal::VectorStorage::Scratch(options, schema));
}

absl::Status MappedVectorBase::Init(
    absl::StatusOr<std::unique_ptr<internal::VectorStorage>> storage) {
  if (!storage.ok()) return storage.status();
  storage_ = *std::move(storage);
  base_ = storage_->base();
  size_ = storage_->size();
  low_water_ = size_;
  writable_ = storage_->writable();
  capacity_ = writable_ ? storage_->capacity_bytes() / elem_size_ : size_;
  if (capacity_ < size_) {
    return absl::InternalError(
        absl::StrCat(storage_->path(), ": ", size_, " elements but memory for ", capacity_));
  }
  dirty_.assign(DirtyWords(storage_->capacity_bytes()), 0);
  return absl::OkStatus();
}

const std::string& MappedVectorBase::path() const {
  static const std::string kNone;
  return storage_ ? storage_->path() : kNone;
}

uint64_t MappedVectorBase::sync_count() const { return storage_ ? storage_->sync_count() : 0; }

bool MappedVectorBase::has_unsynced_changes() const {
  if (!writable_) return false;
  if (size_ != storage_->synced_size() || low_water_ != size_) return true;
  return std::any_of(dirty_.begin(), dirty_.end(), [](uint64_t w) { return w != 0; });
}

absl::Status MappedVectorBase::CheckWritable() const {
  if (writable_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(storage_ ? storage_->path() : "", ": read-only vector"));
}

absl::Status MappedVectorBase::IndexError(const char* op, size_t index, size_t limit) const {
  return absl::OutOfRangeError(absl::StrCat("MappedVector ", storage_ ? storage_->path() : "", ": ",
                                            op, "(", index, "): out of range (size ", limit, ")"));
}

absl::Status MappedVectorBase::Sync() {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::Status s = storage_->Sync(size_, low_water_, dirty_);
  if (s.ok()) {
    last_dirty_page_ = ~size_t{0};
    low_water_ = size_;
  }
  return s;
}

absl::Status MappedVectorBase::Refresh() {
  if (!storage_) return absl::FailedPreconditionError("Refresh on a moved-from vector");
  absl::Status s = storage_->Refresh();
  if (!s.ok()) return s;
  base_ = storage_->base();
  size_ = storage_->size();
  low_water_ = size_;
  capacity_ = size_;
  return absl::OkStatus();
}

absl::Status MappedVectorBase::Grow(size_t n) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (n <= capacity_) return absl::OkStatus();
  if (n > std::numeric_limits<uint64_t>::max() / elem_size_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(storage_->path(), ": ", n, " elements overflow the address space"));
  }
  absl::Status s = storage_->Grow(uint64_t{n} * elem_size_);
  if (!s.ok()) return s;
  capacity_ = storage_->capacity_bytes() / elem_size_;
  dirty_.resize(DirtyWords(storage_->capacity_bytes()), 0);
  return absl::OkStatus();
}

absl::Status MappedVectorBase::reserve(size_t n) { return Grow(n); }

void MappedVectorBase::clear() {
  if (!writable_) return;
  size_ = 0;
  Shrunk();
}

void MappedVectorBase::pop_back() {
  if (!writable_ || size_ == 0) return;
  --size_;
  Shrunk();
}

absl::Status MappedVectorBase::ResizeBytes(size_t n) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (n > size_) {
    if (absl::Status s = Grow(n); !s.ok()) return s;
    // The bytes above size() hold whatever earlier elements left there.
    std::memset(base_ + size_ * elem_size_, 0, (n - size_) * elem_size_);
  }
  size_ = n;
  Shrunk();
  return absl::OkStatus();
}

absl::Status MappedVectorBase::InsertBytes(size_t index, const void* src, size_t count) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (index > size_) return IndexError("insert", index, size_);
  if (count == 0) return absl::OkStatus();
  if (count > std::numeric_limits<size_t>::max() - size_) {
    return IndexError("insert", count, size_);
  }
  const size_t e = elem_size_;
  // The source may be elements of this vector, which the shift below moves.
  std::vector<std::byte> copy;
  const std::byte* from = static_cast<const std::byte*>(src);
  if (from + count * e > base_ && from < base_ + capacity_ * e) {
    copy.assign(from, from + count * e);
    from = copy.data();
  }
  if (absl::Status s = Grow(size_ + count); !s.ok()) return s;
  std::memmove(base_ + (index + count) * e, base_ + index * e, (size_ - index) * e);
  std::memcpy(base_ + index * e, from, count * e);
  // What lies above the old size counts as changed already (low_water_ <= size_).
  if (index < size_) MarkDirty(index * e, (size_ - index) * e);
  size_ += count;
  return absl::OkStatus();
}

absl::Status MappedVectorBase::EraseBytes(size_t first, size_t last) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const size_t e = elem_size_;
  if (last < size_) {
    std::memmove(base_ + first * e, base_ + last * e, (size_ - last) * e);
    if (first < last) MarkDirty(first * e, (size_ - last) * e);
  }
  size_ -= last - first;
  Shrunk();
  return absl::OkStatus();
}

}  // namespace recstore
