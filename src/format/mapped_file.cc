#include "src/format/mapped_file.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/manifest.h"

namespace recstore::format {
namespace {

using base::DecodeFixed;
using base::EncodeFixed;

constexpr char kHeaderMagic[8] = {'R', 'S', 'M', 'A', 'P', 'P', 'E', 'D'};
constexpr char kJournalMagic[8] = {'R', 'S', 'J', 'O', 'U', 'R', 'N', 'L'};
// Header page: magic 0, version 8, kind 12, file id 16, seq 24, size 32, schema length 40,
// reserved 44, checksum 48, schema 56.
constexpr size_t kSchemaAt = 56;
constexpr size_t kChecksumAt = 48;

uint64_t HeaderChecksum(std::string_view page, uint32_t schema_len) {
  return base::ChecksumBuilder()
      .Add(page.data(), kChecksumAt)
      .Add(page.data() + kSchemaAt, schema_len)
      .Finish();
}

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

}  // namespace

std::string_view MappedKindName(MappedKind kind) {
  switch (kind) {
    case MappedKind::kVector:
      return "vector";
    case MappedKind::kStruct:
      return "struct";
  }
  return "unknown";
}

bool MappedHeaderFits(const RecordSchema& schema) {
  return EncodeSchema(schema).size() <= kMappedPage - kSchemaAt;
}

std::string EncodeMappedHeader(const MappedHeader& h) {
  std::string page(kMappedPage, '\0');
  const std::string schema = EncodeSchema(h.schema);
  std::memcpy(page.data(), kHeaderMagic, 8);
  EncodeFixed<uint32_t>(page.data() + 8, kMappedFormatVersion);
  EncodeFixed<uint32_t>(page.data() + 12, static_cast<uint32_t>(h.kind));
  EncodeFixed<uint64_t>(page.data() + 16, h.file_id);
  EncodeFixed<uint64_t>(page.data() + 24, h.seq);
  EncodeFixed<uint64_t>(page.data() + 32, h.size);
  EncodeFixed<uint32_t>(page.data() + 40, static_cast<uint32_t>(schema.size()));
  std::memcpy(page.data() + kSchemaAt, schema.data(), schema.size());
  EncodeFixed<uint64_t>(page.data() + kChecksumAt,
                        HeaderChecksum(page, static_cast<uint32_t>(schema.size())));
  return page;
}

bool LooksLikeMappedFile(std::string_view page) {
  return page.size() >= 8 && std::memcmp(page.data(), kHeaderMagic, 8) == 0;
}

absl::StatusOr<MappedHeader> DecodeMappedHeader(std::string_view page, const std::string& path) {
  if (page.size() < kMappedPage || !LooksLikeMappedFile(page)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a recstore vector or struct file (no RSMAPPED header page)"));
  }
  const uint32_t version = DecodeFixed<uint32_t>(page.data() + 8);
  if (version > kMappedFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": format version ", version,
                                                      " is newer than this build reads (",
                                                      kMappedFormatVersion, ")"));
  }
  auto loss = [&](size_t at, std::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": offset ", at, ": ", std::string(what)));
  };
  if (version == 0) return loss(8, "format version 0");
  const uint32_t schema_len = DecodeFixed<uint32_t>(page.data() + 40);
  if (schema_len > kMappedPage - kSchemaAt) {
    return loss(40, absl::StrCat("schema length ", schema_len, " exceeds the header page"));
  }
  if (DecodeFixed<uint64_t>(page.data() + kChecksumAt) != HeaderChecksum(page, schema_len)) {
    return loss(kChecksumAt, "header checksum mismatch (the header page is damaged)");
  }
  MappedHeader h;
  const uint32_t kind = DecodeFixed<uint32_t>(page.data() + 12);
  if (kind != static_cast<uint32_t>(MappedKind::kVector) &&
      kind != static_cast<uint32_t>(MappedKind::kStruct)) {
    return loss(12, absl::StrCat("unknown kind ", kind));
  }
  h.kind = static_cast<MappedKind>(kind);
  h.file_id = DecodeFixed<uint64_t>(page.data() + 16);
  h.seq = DecodeFixed<uint64_t>(page.data() + 24);
  h.size = DecodeFixed<uint64_t>(page.data() + 32);
  auto schema = DecodeSchema(page.substr(kSchemaAt, schema_len), path, kSchemaAt);
  if (!schema.ok()) return schema.status();
  h.schema = *std::move(schema);
  if (h.kind == MappedKind::kStruct && h.size != 1) {
    return loss(32, absl::StrCat("a struct file holds one struct, not ", h.size));
  }
  return h;
}

std::string EncodeJournalHeader(const JournalHeader& h) {
  std::string out(kJournalHeaderSize, '\0');
  std::memcpy(out.data(), kJournalMagic, 8);
  EncodeFixed<uint32_t>(out.data() + 8, kMappedFormatVersion);
  EncodeFixed<uint64_t>(out.data() + 16, h.file_id);
  EncodeFixed<uint64_t>(out.data() + 24, h.seq);
  EncodeFixed<uint64_t>(out.data() + 32, h.page_count);
  EncodeFixed<uint64_t>(out.data() + 40, h.checksum);
  EncodeFixed<uint64_t>(out.data() + kJournalAppliedAt, h.applied);
  return out;
}

uint64_t JournalPagesOffset(uint64_t page_count) {
  return RoundUp(kJournalHeaderSize + 8 * page_count, kMappedPage);
}

std::optional<JournalHeader> DecodeJournalHeader(std::string_view bytes, uint64_t journal_size) {
  if (bytes.size() < kJournalHeaderSize || std::memcmp(bytes.data(), kJournalMagic, 8) != 0 ||
      DecodeFixed<uint32_t>(bytes.data() + 8) != kMappedFormatVersion) {
    return std::nullopt;
  }
  JournalHeader h;
  h.file_id = DecodeFixed<uint64_t>(bytes.data() + 16);
  h.seq = DecodeFixed<uint64_t>(bytes.data() + 24);
  h.page_count = DecodeFixed<uint64_t>(bytes.data() + 32);
  h.checksum = DecodeFixed<uint64_t>(bytes.data() + 40);
  h.applied = DecodeFixed<uint64_t>(bytes.data() + kJournalAppliedAt);
  // Each page costs 8 bytes of number and a page: refuse a count the file cannot hold before
  // any arithmetic on it.
  if (h.page_count == 0 || h.page_count > journal_size / (kMappedPage + 8)) return std::nullopt;
  if (JournalPagesOffset(h.page_count) + h.page_count * kMappedPage > journal_size) {
    return std::nullopt;
  }
  return h;
}

StructLayout StructLayoutFor(uint32_t record_size) {
  StructLayout l;
  l.live = kMappedPage;
  const uint64_t live_bytes = RoundUp(record_size, kMappedPage);
  const uint64_t slot_bytes = RoundUp(kSlotHeaderSize + uint64_t{record_size}, kMappedPage);
  l.slot[0] = l.live + live_bytes;
  l.slot[1] = l.slot[0] + slot_bytes;
  l.file_size = l.slot[1] + slot_bytes;
  return l;
}

uint64_t SlotChecksum(uint64_t file_id, uint64_t seq, std::string_view payload) {
  char seq_bytes[8];
  EncodeFixed<uint64_t>(seq_bytes, seq);
  return base::ChecksumBuilder(file_id).Add(seq_bytes, 8).Add(payload).Finish();
}

uint64_t AppliedTag(uint64_t file_id, uint64_t seq) {
  char seq_bytes[8];
  EncodeFixed<uint64_t>(seq_bytes, seq);
  return base::ChecksumBuilder(file_id).Add("applied", 7).Add(seq_bytes, 8).Finish() | 1;
}

std::string EncodeSlot(uint64_t file_id, uint64_t seq, std::string_view payload) {
  std::string out;
  base::PutFixed<uint64_t>(&out, seq);
  base::PutFixed<uint64_t>(&out, file_id);
  base::PutFixed<uint64_t>(&out, SlotChecksum(file_id, seq, payload));
  out.append(payload.data(), payload.size());
  return out;
}

std::optional<Slot> DecodeSlot(std::string_view bytes, uint32_t record_size,
                               std::optional<uint64_t> file_id) {
  if (bytes.size() < kSlotHeaderSize + uint64_t{record_size}) return std::nullopt;
  Slot slot;
  slot.seq = DecodeFixed<uint64_t>(bytes.data());
  slot.file_id = DecodeFixed<uint64_t>(bytes.data() + 8);
  const uint64_t sum = DecodeFixed<uint64_t>(bytes.data() + 16);
  slot.payload = bytes.substr(kSlotHeaderSize, record_size);
  if (slot.seq == 0 || slot.file_id != file_id.value_or(slot.file_id) ||
      sum != SlotChecksum(slot.file_id, slot.seq, slot.payload)) {
    return std::nullopt;
  }
  return slot;
}

}  // namespace recstore::format
