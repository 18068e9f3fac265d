#include "src/mapped/region.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace recstore::mapped {

Region& Region::operator=(Region&& o) noexcept {
  if (this != &o) {
    Reset();
    env_ = std::exchange(o.env_, nullptr);
    path_ = std::move(o.path_);
    base_ = std::exchange(o.base_, nullptr);
    reserved_ = std::exchange(o.reserved_, 0);
    mapped_ = std::exchange(o.mapped_, 0);
  }
  return *this;
}

absl::StatusOr<Region> Region::Reserve(Env* env, uint64_t max_bytes, std::string path) {
  const uint64_t len = max_bytes < kPage ? kPage : RoundUpToPage(max_bytes);
  if (len < max_bytes || len > (uint64_t{1} << 46)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": max_bytes ", max_bytes, " is above 64 TiB of address space"));
  }
  absl::StatusOr<void*> addr = env->ReserveAddress(len, path);
  if (!addr.ok()) return addr.status();
  Region r;
  r.env_ = env;
  r.path_ = std::move(path);
  r.base_ = static_cast<std::byte*>(*addr);
  r.reserved_ = len;
  return r;
}

absl::Status Region::Extend(size_t len, int fd, uint64_t offset, bool shared) {
  if (len == 0) return absl::OkStatus();
  if (len % kPage != 0 || len > reserved_ - mapped_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": growing to ", mapped_ + len, " bytes passes the ", reserved_,
                     " reserved (open it with a larger max_bytes)"));
  }
  absl::Status s = env_->MapAt(base_ + mapped_, len, fd, path_, offset, shared);
  if (!s.ok()) return s;
  mapped_ += len;
  return absl::OkStatus();
}

absl::Status Region::ResetAnonymous(size_t len) {
  if (len == 0) return absl::OkStatus();
  if (len > mapped_) return absl::InternalError(absl::StrCat(path_, ": reset past the mapping"));
  return env_->MapAt(base_, len, -1, path_, 0, false);
}

void Region::Reset() {
  if (base_ != nullptr) env_->Unmap(base_, reserved_, path_).IgnoreError();
  base_ = nullptr;
}

}  // namespace recstore::mapped
