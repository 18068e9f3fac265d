// A range of address space reserved once, into which a container maps its memory as it grows,
// so the elements never move: file pages (copy-on-write or shared) and anonymous pages.
#ifndef RECSTORE_SRC_MAPPED_REGION_H_
#define RECSTORE_SRC_MAPPED_REGION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"

namespace recstore::mapped {

inline constexpr size_t kPage = 4096;
inline uint64_t RoundUpToPage(uint64_t v) { return (v + kPage - 1) / kPage * kPage; }

class Region {
 public:
  Region() = default;
  Region(Region&& o) noexcept { *this = std::move(o); }
  Region& operator=(Region&& o) noexcept;
  ~Region() { Reset(); }

  // Reserves `max_bytes` (rounded up to a page, at least one) of address space. `path` names
  // the container in errors.
  static absl::StatusOr<Region> Reserve(Env* env, uint64_t max_bytes, std::string path);

  std::byte* base() const { return base_; }
  // Bytes mapped from base(), a multiple of the page size.
  size_t mapped() const { return mapped_; }
  size_t reserved() const { return reserved_; }

  // Maps [mapped(), mapped()+len) from file `fd` at `offset` (copy-on-write unless `shared`);
  // `fd` < 0: anonymous zero pages. ResourceExhausted past the reservation.
  absl::Status Extend(size_t len, int fd, uint64_t offset, bool shared);
  // Replaces [0, len) with fresh anonymous zero pages; what was mapped above len stays.
  absl::Status ResetAnonymous(size_t len);

 private:
  void Reset();

  Env* env_ = nullptr;
  std::string path_;
  std::byte* base_ = nullptr;
  size_t reserved_ = 0;
  size_t mapped_ = 0;
};

}  // namespace recstore::mapped

#endif  // RECSTORE_SRC_MAPPED_REGION_H_
