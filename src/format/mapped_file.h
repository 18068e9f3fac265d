// Encodings of the mapped containers' files (docs/format.md 10): the header page that starts a
// vector file (MappedVector) or a struct file (MappedStruct), the vector's journal header,
// and the struct's snapshot slots. Every decoder treats its input as hostile: each value is
// range-checked before any arithmetic uses it.
#ifndef RECSTORE_SRC_FORMAT_MAPPED_FILE_H_
#define RECSTORE_SRC_FORMAT_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "recstore/schema.h"

namespace recstore::format {

inline constexpr size_t kMappedPage = 4096;
inline constexpr uint32_t kMappedFormatVersion = 1;

enum class MappedKind : uint32_t { kVector = 1, kStruct = 2 };
std::string_view MappedKindName(MappedKind kind);

// The first 4096 bytes of a vector or struct file.
struct MappedHeader {
  MappedKind kind = MappedKind::kVector;
  uint64_t file_id = 0;  // random, chosen at creation; a journal names the file it belongs to
  uint64_t seq = 0;      // vector: syncs applied so far; struct: 0
  uint64_t size = 0;     // vector: elements; struct: 1
  RecordSchema schema;
};

// The header page, kMappedPage bytes. The schema must fit (EncodedHeaderFits).
std::string EncodeMappedHeader(const MappedHeader& h);
bool MappedHeaderFits(const RecordSchema& schema);

// Whether `page` starts with the magic of a mapped container file (for tools telling files
// apart; says nothing about the rest).
bool LooksLikeMappedFile(std::string_view page);

// Decodes a header page. FailedPrecondition: not a mapped container file (wrong magic), or
// one of a newer format version; DataLoss: checksum mismatch or a value out of range. The
// caller checks the kind and the size against the file.
absl::StatusOr<MappedHeader> DecodeMappedHeader(std::string_view page, const std::string& path);

// The vector's journal (file "<path>-journal"): a header, the numbers of the file pages it
// carries (strictly increasing, the first being 0, the header page), then the pages, starting
// at the first page boundary after the numbers. The checksum covers the header's first 40
// bytes, the numbers and the pages. The applied word (not checksummed) is written once the
// vector file holds the sync durably: AppliedTag(file_id, seq), 0 before.
inline constexpr size_t kJournalHeaderSize = 56;
inline constexpr size_t kJournalAppliedAt = 48;
struct JournalHeader {
  uint64_t file_id = 0;
  uint64_t seq = 0;         // the sync whose pages it carries
  uint64_t page_count = 0;  // pages carried, 1 and up
  uint64_t checksum = 0;
  uint64_t applied = 0;
};
// The applied word's value for a journal of `file_id` and `seq`: a hash, so no bit flip of 0
// makes one.
uint64_t AppliedTag(uint64_t file_id, uint64_t seq);
std::string EncodeJournalHeader(const JournalHeader& h);
// Offset of the first page in a journal of `page_count` pages.
uint64_t JournalPagesOffset(uint64_t page_count);
// nullopt when `bytes` (kJournalHeaderSize of them) is not a journal header of this version
// or its page count cannot fit a journal of `journal_size` bytes. The checksum is checked by
// the reader, over the whole journal.
std::optional<JournalHeader> DecodeJournalHeader(std::string_view bytes, uint64_t journal_size);
// The checksum seed and the bytes of the header it covers.
inline constexpr size_t kJournalChecksummedHeader = 40;

// A struct file's snapshot slot: seq (8), file id (8), checksum (8), then the struct's bytes.
// The checksum covers the seq and the payload, seeded with the file id; a slot is valid when
// its file id is the header's and its checksum matches, so a slot copied from another file
// fails. The slot's own file id lets an opener that finds no header tell a creation that never
// finished (no slot checks under its own id) from a damaged header in front of snapshots.
// Slot seq 0 is an empty slot.
inline constexpr size_t kSlotHeaderSize = 24;
// Offsets in a struct file of a `record_size`-byte struct: the live copy, then two slots.
struct StructLayout {
  uint64_t live = 0;
  uint64_t slot[2] = {0, 0};
  uint64_t file_size = 0;
};
StructLayout StructLayoutFor(uint32_t record_size);
uint64_t SlotChecksum(uint64_t file_id, uint64_t seq, std::string_view payload);
// A slot of `payload.size()` payload bytes.
std::string EncodeSlot(uint64_t file_id, uint64_t seq, std::string_view payload);
struct Slot {
  uint64_t seq = 0;
  uint64_t file_id = 0;
  std::string_view payload;  // into the bytes decoded
};
// `bytes`: kSlotHeaderSize + record_size bytes. nullopt when short, empty (seq 0), failing its
// checksum, or of another file id than `file_id` (nullopt: any; the slot's own is checked).
std::optional<Slot> DecodeSlot(std::string_view bytes, uint32_t record_size,
                               std::optional<uint64_t> file_id);

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_MAPPED_FILE_H_
