// The cursor file's two commit slots (docs/format.md section 9): pure encode and decode, no
// I/O. A cursor file is two 4 KiB blocks; commit number c lives in block c % 2, so a commit
// overwrites the older slot and a torn write leaves the newer one intact.
#ifndef RECSTORE_SRC_CURSOR_SLOT_H_
#define RECSTORE_SRC_CURSOR_SLOT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace recstore::cursor {

inline constexpr uint32_t kCursorFormatVersion = 1;
inline constexpr size_t kBlockSize = 4096;  // each slot starts a block of its own
inline constexpr size_t kSlotSize = 56;     // encoded bytes of one slot
inline constexpr size_t kFileSize = 2 * kBlockSize;

// What one slot holds.
struct Slot {
  uint32_t collection_id = 0;
  uint64_t counter = 0;   // commit counter: 0 and 1 at creation, +1 per commit
  uint64_t position = 0;  // the next record to process
  int64_t time_ns = 0;    // when it was written
};

// The kSlotSize bytes of `slot` for block `index` (counter % 2).
std::string EncodeSlot(const Slot& slot);

// Decodes the bytes of block `index` (0 or 1; at least kSlotSize bytes, or fewer when the
// file ends early). nullopt: the slot does not hold a checksummed slot (never written, torn
// by a crash during its write, or damaged), which a crash can explain. A slot whose checksum
// matches is still checked field by field: DataLoss naming `path` and the field's offset for
// a value out of range (version 0, a slot index or counter parity that does not match its
// block, another collection's id, a counter or position above 2^62); FailedPrecondition for
// a newer version.
absl::StatusOr<std::optional<Slot>> DecodeSlot(std::string_view bytes, int index,
                                               uint32_t collection_id, const std::string& path);

// The slot in force of a file whose blocks decode to `a` (block 0) and `b` (block 1): the
// valid one with the higher counter. Errors: DataLoss naming `path` when neither is valid,
// or when both are but are not two consecutive commits (counters one apart, the newer
// position not below the older).
absl::StatusOr<Slot> ChooseSlot(const std::optional<Slot>& a, const std::optional<Slot>& b,
                                const std::string& path);

}  // namespace recstore::cursor

#endif  // RECSTORE_SRC_CURSOR_SLOT_H_
