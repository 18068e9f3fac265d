#include "src/cursor/slot.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/layout.h"

namespace recstore::cursor {
namespace {

constexpr char kMagic[8] = {'R', 'S', 'C', 'U', 'R', 'S', 'O', 'R'};
constexpr size_t kChecksumAt = kSlotSize - 8;

}  // namespace

std::string EncodeSlot(const Slot& slot) {
  std::string out(kSlotSize, '\0');
  char* p = out.data();
  std::memcpy(p, kMagic, 8);
  base::EncodeFixed32(p + 8, kCursorFormatVersion);
  base::EncodeFixed32(p + 12, static_cast<uint32_t>(slot.counter % 2));
  base::EncodeFixed32(p + 16, slot.collection_id);
  // p + 20: reserved, zero.
  base::EncodeFixed64(p + 24, slot.counter);
  base::EncodeFixed64(p + 32, slot.position);
  base::EncodeFixed64(p + 40, static_cast<uint64_t>(slot.time_ns));
  base::EncodeFixed64(p + kChecksumAt, base::Checksum64(p, kChecksumAt));
  return out;
}

absl::StatusOr<std::optional<Slot>> DecodeSlot(std::string_view bytes, int index,
                                               uint32_t collection_id, const std::string& path) {
  if (bytes.size() < kSlotSize || std::memcmp(bytes.data(), kMagic, 8) != 0) return std::nullopt;
  const char* p = bytes.data();
  if (base::DecodeFixed64(p + kChecksumAt) != base::Checksum64(p, kChecksumAt)) {
    return std::nullopt;
  }
  const uint64_t base = static_cast<uint64_t>(index) * kBlockSize;
  auto bad = [&](size_t at, std::string what) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset ", base + at, ": cursor slot ", index, " ", what));
  };
  const uint32_t version = base::DecodeFixed32(p + 8);
  if (version == 0) return bad(8, "has format version 0");
  if (version > kCursorFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": cursor format version ", version,
                                                      ", this build reads up to ",
                                                      kCursorFormatVersion));
  }
  if (base::DecodeFixed32(p + 12) != static_cast<uint32_t>(index)) {
    return bad(12, absl::StrCat("names slot ", base::DecodeFixed32(p + 12)));
  }
  Slot s;
  s.collection_id = base::DecodeFixed32(p + 16);
  s.counter = base::DecodeFixed64(p + 24);
  s.position = base::DecodeFixed64(p + 32);
  s.time_ns = static_cast<int64_t>(base::DecodeFixed64(p + 40));
  if (s.collection_id != collection_id) {
    return bad(16,
               absl::StrCat("belongs to collection id ", s.collection_id, ", not ", collection_id));
  }
  if (s.counter > format::kMaxSequence) {
    return bad(24, absl::StrCat("has commit counter ", s.counter, ", above 2^62"));
  }
  if (s.counter % 2 != static_cast<uint64_t>(index)) {
    return bad(24, absl::StrCat("has commit counter ", s.counter, ", which belongs in slot ",
                                s.counter % 2));
  }
  if (s.position > format::kMaxSequence) {
    return bad(32, absl::StrCat("has position ", s.position, ", above 2^62"));
  }
  return s;
}

absl::StatusOr<Slot> ChooseSlot(const std::optional<Slot>& a, const std::optional<Slot>& b,
                                const std::string& path) {
  if (!a.has_value() && !b.has_value()) {
    return absl::DataLossError(
        absl::StrCat(path, ": both cursor slots (offsets 0 and ", kBlockSize, ") are damaged"));
  }
  if (!a.has_value()) return *b;
  if (!b.has_value()) return *a;
  const Slot& newer = a->counter > b->counter ? *a : *b;
  const Slot& older = a->counter > b->counter ? *b : *a;
  // Parity puts the counters in different slots, so they differ; overflow-safe: both <= 2^62.
  if (newer.counter - older.counter != 1) {
    return absl::DataLossError(absl::StrCat(path, ": cursor slots hold commits ", older.counter,
                                            " and ", newer.counter, ", which are not consecutive"));
  }
  if (newer.position < older.position) {
    return absl::DataLossError(absl::StrCat(path, ": cursor commit ", newer.counter,
                                            " moves the position back from ", older.position,
                                            " to ", newer.position));
  }
  return newer;
}

}  // namespace recstore::cursor
