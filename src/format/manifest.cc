#include "src/format/manifest.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/layout.h"

namespace recstore::format {
namespace {

using base::PutFixed;

constexpr char kManifestMagic[8] = {'R', 'S', 'M', 'A', 'N', 'I', 'F', 'S'};
// Written in host byte order: a little-endian host writes 04 03 02 01. Record payloads are
// stored in host order, so a store only opens on hosts of the byte order that wrote it.
constexpr uint32_t kEndianMarker = 0x01020304;

void PutString(std::string* out, std::string_view s) {
  PutFixed<uint16_t>(out, static_cast<uint16_t>(s.size()));
  out->append(s.data(), s.size());
}

void PutFields(std::string* out, const RecordSchema& schema) {
  PutFixed<uint32_t>(out, schema.size);
  PutFixed<uint32_t>(out, schema.align);
  PutFixed<uint32_t>(out, static_cast<uint32_t>(schema.fields.size()));
  for (const FieldInfo& f : schema.fields) {
    PutString(out, f.name);
    PutFixed<uint8_t>(out, static_cast<uint8_t>(f.type));
    out->append(3, '\0');
    PutFixed<uint32_t>(out, f.offset);
    PutFixed<uint32_t>(out, f.size);
    PutFixed<uint32_t>(out, f.count);
  }
}

// Bounds-checked reader over the manifest body; the first failure sticks.
class Reader {
 public:
  Reader(std::string_view data, size_t base, const std::string& path)
      : data_(data), base_(base), path_(path) {}

  template <typename T>
  T Fixed() {
    if (!Need(sizeof(T))) return 0;
    T v = base::DecodeFixed<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string String() {
    uint16_t n = Fixed<uint16_t>();
    if (!Need(n)) return {};
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  void Skip(size_t n) {
    if (Need(n)) pos_ += n;
  }
  void Fail(std::string_view what) { FailAt(offset(), what); }
  // Fails naming the file offset `at` (where the offending field starts).
  void FailAt(size_t at, std::string_view what) {
    if (status_.ok()) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": offset ", at, ": ", std::string(what)));
    }
  }
  // File offset of the next byte to read.
  size_t offset() const { return base_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  bool Need(size_t n) {
    if (!ok()) return false;
    if (data_.size() - pos_ < n) {
      Fail("manifest body ends early");
      return false;
    }
    return true;
  }

  std::string_view data_;
  size_t base_;
  const std::string& path_;
  size_t pos_ = 0;
  absl::Status status_;
};

// Smallest encodings, to refuse a count the body cannot hold before reading (or allocating
// for) any of its entries.
constexpr size_t kMinFieldBytes = 2 + 1 + 3 + 12;
constexpr size_t kMinCollectionBytesV1 = 4 + 1 + 3 + 8 + 8 + 2 + 2 + 12;
constexpr size_t kMinCollectionBytesV2 = kMinCollectionBytesV1 + 6 * 8 + 2;
constexpr size_t kMinCollectionBytesV3 = kMinCollectionBytesV2 + 8;
constexpr size_t kMinCollectionBytesV4 = kMinCollectionBytesV3 + 3 * 8;
// Bits of a version-4 entry's retention_flags; any other bit set is refused.
constexpr uint64_t kKeepUnconsumedFlag = 1;

// Reads a schema and checks each field on its own (the record size and alignment are checked
// by the caller, which knows the collection's kind and segment size).
RecordSchema ReadSchemaFields(Reader& r, std::string type_name, const std::string& collection) {
  RecordSchema s;
  s.type_name = std::move(type_name);
  s.size = r.Fixed<uint32_t>();
  s.align = r.Fixed<uint32_t>();
  const size_t count_at = r.offset();
  const uint32_t n = r.Fixed<uint32_t>();
  if (r.ok() && n > r.remaining() / kMinFieldBytes) {
    r.FailAt(count_at, absl::StrCat("collection '", collection, "' has ", n,
                                    " schema fields, more than the manifest body can hold"));
  }
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    const size_t at = r.offset();
    FieldInfo f;
    f.name = r.String();
    f.type = static_cast<FieldType>(r.Fixed<uint8_t>());
    r.Skip(3);
    f.offset = r.Fixed<uint32_t>();
    f.size = r.Fixed<uint32_t>();
    f.count = r.Fixed<uint32_t>();
    if (!r.ok()) break;
    const uint64_t element = FieldTypeSize(f.type);
    std::string problem;
    if (f.name.empty()) {
      problem = "has an empty name";
    } else if (element == 0) {
      problem = absl::StrCat("has unknown type ", static_cast<int>(f.type));
    } else if (f.count == 0 || element * f.count != f.size) {
      problem =
          absl::StrCat("has size ", f.size, " for ", f.count, " elements of ", element, " bytes");
    } else if (uint64_t{f.offset} + f.size > s.size) {
      problem = absl::StrCat("at offset ", f.offset, " of ", f.size,
                             " bytes ends past the record size ", s.size);
    } else {
      for (const FieldInfo& g : s.fields) {
        if (g.name == f.name) problem = "appears twice";
      }
    }
    if (!problem.empty()) {
      r.FailAt(at, absl::StrCat("collection '", collection, "': field ", i, " '",
                                absl::CEscape(f.name), "' ", problem));
    }
    s.fields.push_back(std::move(f));
  }
  return s;
}

namespace collection_checks {

// File offsets of a collection entry's fields, for the error messages.
struct Offsets {
  size_t id = 0, kind = 0, segment_size = 0, first_seq = 0, type_name = 0, schema = 0;
  size_t generation = 0, compacted_end = 0, time_base = 0, max_age = 0, time_field = 0;
  size_t compacted_first = 0, retention_flags = 0, hard_max_age = 0;
};

// The checks on one decoded collection entry (docs/format.md 2.2, "checks on read"), in
// entry order; the first failure sticks in `r`. `m` holds the collections decoded before it.
void Check(Reader& r, const Manifest& m, const CollectionInfo& c, uint8_t kind, const Offsets& at) {
  auto fail = [&](size_t offset, const std::string& what) {
    r.FailAt(offset, absl::StrCat("collection '", absl::CEscape(c.name), "' ", what));
  };
  const bool fixed = kind == static_cast<uint8_t>(CollectionKind::kFixed);
  if (c.id == 0 || c.id >= m.next_collection_id) {
    return fail(at.id, absl::StrCat("has id ", c.id, ", outside [1, next collection id ",
                                    m.next_collection_id, ")"));
  }
  for (const CollectionInfo& other : m.collections) {
    if (other.id == c.id) {
      return fail(at.id, absl::StrCat("has id ", c.id, ", like collection '",
                                      absl::CEscape(other.name), "'"));
    }
  }
  if (!fixed && kind != static_cast<uint8_t>(CollectionKind::kVariable)) {
    return fail(at.kind, absl::StrCat("has unknown kind ", kind));
  }
  if (c.segment_size < kMinSegmentSize || c.segment_size > kMaxSegmentSize ||
      c.segment_size % kPageSize != 0) {
    return fail(at.segment_size, absl::StrCat("has invalid segment size ", c.segment_size));
  }
  if (c.first_seq > kMaxSequence) {
    return fail(at.first_seq, absl::StrCat("has first sequence number ", c.first_seq,
                                           ", larger than any log reaches"));
  }
  if (fixed && !FixedLayoutValid(c.record_size, c.record_align, c.segment_size)) {
    return fail(at.schema, absl::StrCat("has invalid record size or alignment (", c.record_size,
                                        " bytes, align ", c.record_align, ", segment size ",
                                        c.segment_size, ")"));
  }
  if (!fixed && (!c.schema.type_name.empty() || c.record_size != 0 || c.record_align != 0 ||
                 !c.schema.fields.empty())) {
    return fail(at.type_name, "holds byte records but has a record type");
  }
  if (c.generation > kMaxSequence) {
    return fail(at.generation, absl::StrCat("has compaction generation ", c.generation,
                                            ", larger than any log reaches"));
  }
  if (c.compacted_end > kMaxSequence) {
    return fail(at.compacted_end, absl::StrCat("has compacted end ", c.compacted_end,
                                               ", larger than any log reaches"));
  }
  if (c.compacted_end != 0 && c.generation == 0) {
    return fail(at.compacted_end, "has compacted records but no generation");
  }
  if (c.compacted_first != CollectionInfo::kUnrecorded && c.compacted_first > c.compacted_end) {
    return fail(at.compacted_first,
                absl::StrCat("has its first compacted segment at record ", c.compacted_first,
                             ", past its compacted end ", c.compacted_end));
  }
  if (c.time_base < -kMaxTimeBase || c.time_base > kMaxTimeBase) {
    return fail(at.time_base, absl::StrCat("has time base ", c.time_base, " s, outside [",
                                           -kMaxTimeBase, ", ", kMaxTimeBase, "]"));
  }
  if (c.retention.max_age.count() < 0) {
    return fail(at.max_age, "has a negative retention age");
  }
  if (c.retention.hard_max_age.count() < 0) {
    return fail(at.hard_max_age, "has a negative retention hard age cap");
  }
  if (!fixed && !c.retention.time_field.empty()) {
    return fail(at.time_field, "holds byte records but has a retention time field");
  }
  if (fixed && (c.retention.max_age.count() > 0 || c.retention.hard_max_age.count() > 0)) {
    const FieldInfo* time = nullptr;
    for (const FieldInfo& f : c.schema.fields) {
      if (f.name == c.retention.time_field) time = &f;
    }
    if (time == nullptr || time->count != 1 ||
        (time->type != FieldType::kInt64 && time->type != FieldType::kUInt64)) {
      return fail(at.time_field,
                  absl::StrCat("has retention by age on time field '",
                               absl::CEscape(c.retention.time_field),
                               "', which is not an int64 or uint64 field of its schema"));
    }
  }
}

}  // namespace collection_checks

std::string Describe(const FieldInfo& f) {
  std::string type(FieldTypeName(f.type));
  if (f.count != 1) absl::StrAppend(&type, "[", f.count, "]");
  return absl::StrCat(type, " at offset ", f.offset);
}

}  // namespace

const CollectionInfo* Manifest::Find(std::string_view name) const {
  for (const CollectionInfo& c : collections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

StoreId NewStoreId() {
  // std::random_device reads the kernel's random source (getrandom), not a seeded PRNG.
  std::random_device dev;
  StoreId id{};
  while (StoreIdString(id).empty()) {
    for (size_t i = 0; i < id.size(); i += 4) {
      const uint32_t word = dev();
      std::memcpy(id.data() + i, &word, 4);
    }
  }
  return id;
}

std::string StoreIdString(const StoreId& id) {
  if (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) return "";
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

std::string EncodeManifest(const Manifest& m) {
  std::string body;
  PutFixed<uint64_t>(&body, m.generation);
  PutFixed<uint32_t>(&body, m.next_collection_id);
  PutFixed<uint32_t>(&body, static_cast<uint32_t>(m.collections.size()));
  // Manifest format version 5.
  body.append(reinterpret_cast<const char*>(m.store_id.data()), m.store_id.size());
  for (const CollectionInfo& c : m.collections) {
    PutFixed<uint32_t>(&body, c.id);
    PutFixed<uint8_t>(&body, static_cast<uint8_t>(c.kind));
    body.append(3, '\0');
    PutFixed<uint64_t>(&body, c.segment_size);
    PutFixed<uint64_t>(&body, c.first_seq);
    PutString(&body, c.name);
    PutString(&body, c.schema.type_name);
    PutFields(&body, c.schema);
    // Format version 2.
    PutFixed<uint64_t>(&body, c.generation);
    PutFixed<uint64_t>(&body, c.compacted_end);
    PutFixed<uint64_t>(&body, static_cast<uint64_t>(c.time_base));
    PutFixed<uint64_t>(&body, c.retention.max_records);
    PutFixed<uint64_t>(&body, c.retention.max_bytes);
    PutFixed<uint64_t>(&body, static_cast<uint64_t>(c.retention.max_age.count()));
    PutString(&body, c.retention.time_field);
    // Format version 3.
    PutFixed<uint64_t>(&body, c.compacted_first);
    // Manifest format version 4.
    PutFixed<uint64_t>(&body, c.retention.keep_unconsumed ? kKeepUnconsumedFlag : 0);
    PutFixed<uint64_t>(&body, c.retention.hard_max_bytes);
    PutFixed<uint64_t>(&body, static_cast<uint64_t>(c.retention.hard_max_age.count()));
  }
  std::string out(kManifestHeaderSize, '\0');
  char* h = out.data();
  std::memcpy(h, kManifestMagic, 8);
  base::EncodeFixed32(h + 8, kManifestFormatVersion);
  std::memcpy(h + 12, &kEndianMarker, 4);
  base::EncodeFixed64(h + 16, body.size());
  base::EncodeFixed64(h + 24, base::StringChecksum64(body));
  base::EncodeFixed64(h + 32, base::Checksum64(h, 32));
  return out + body;
}

absl::StatusOr<Manifest> DecodeManifest(std::string_view bytes, const std::string& path) {
  if (bytes.size() < kManifestHeaderSize || std::memcmp(bytes.data(), kManifestMagic, 8) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": offset 0: not a recstore manifest (", bytes.size(), " bytes)"));
  }
  const char* h = bytes.data();
  if (base::DecodeFixed64(h + 32) != base::Checksum64(h, 32)) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset 32: manifest header checksum mismatch"));
  }
  const uint32_t version = base::DecodeFixed32(h + 8);
  if (absl::Status s = CheckFormatVersion(version, path, "manifest", kManifestFormatVersion);
      !s.ok())
    return s;
  uint32_t marker;
  std::memcpy(&marker, h + 12, 4);
  if (marker != kEndianMarker) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": store was written on a host of the other byte order (marker 0x",
                     absl::Hex(marker), ", this host 0x", absl::Hex(kEndianMarker), ")"));
  }
  uint64_t body_len = base::DecodeFixed64(h + 16);
  if (body_len != bytes.size() - kManifestHeaderSize) {
    return absl::DataLossError(absl::StrCat(path, ": offset 16: manifest body length ", body_len,
                                            " but file holds ",
                                            bytes.size() - kManifestHeaderSize));
  }
  std::string_view body = bytes.substr(kManifestHeaderSize);
  if (base::DecodeFixed64(h + 24) != base::StringChecksum64(body)) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset ", kManifestHeaderSize, ": manifest body checksum mismatch"));
  }
  Reader r(body, kManifestHeaderSize, path);
  Manifest m;
  m.generation = r.Fixed<uint64_t>();
  const size_t next_id_at = r.offset();
  m.next_collection_id = r.Fixed<uint32_t>();
  const size_t count_at = r.offset();
  const uint32_t n = r.Fixed<uint32_t>();
  if (version >= 5) {
    // Any value; all zero reads as "not assigned yet" (a writer assigns one).
    for (uint8_t& b : m.store_id) b = r.Fixed<uint8_t>();
  }
  if (r.ok() && m.generation > kMaxSequence) {
    r.FailAt(kManifestHeaderSize, absl::StrCat("manifest generation ", m.generation,
                                               " is larger than any store reaches"));
  }
  if (r.ok() && m.next_collection_id == 0) r.FailAt(next_id_at, "next collection id is 0");
  const size_t min_entry = version >= 4   ? kMinCollectionBytesV4
                           : version == 3 ? kMinCollectionBytesV3
                           : version == 2 ? kMinCollectionBytesV2
                                          : kMinCollectionBytesV1;
  if (r.ok() && n > r.remaining() / min_entry) {
    r.FailAt(count_at, absl::StrCat(n, " collections do not fit in a manifest body of ",
                                    body.size(), " bytes"));
  }
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    collection_checks::Offsets at;
    CollectionInfo c;
    at.id = r.offset();
    c.id = r.Fixed<uint32_t>();
    at.kind = r.offset();
    const uint8_t kind = r.Fixed<uint8_t>();
    r.Skip(3);
    at.segment_size = r.offset();
    c.segment_size = r.Fixed<uint64_t>();
    at.first_seq = r.offset();
    c.first_seq = r.Fixed<uint64_t>();
    c.name = r.String();
    at.type_name = r.offset();
    std::string type_name = r.String();
    at.schema = r.offset();
    c.schema = ReadSchemaFields(r, std::move(type_name), c.name);
    c.record_size = c.schema.size;
    c.record_align = c.schema.align;
    if (version >= 2) {
      at.generation = r.offset();
      c.generation = r.Fixed<uint64_t>();
      at.compacted_end = r.offset();
      c.compacted_end = r.Fixed<uint64_t>();
      at.time_base = r.offset();
      c.time_base = static_cast<int64_t>(r.Fixed<uint64_t>());
      c.retention.max_records = r.Fixed<uint64_t>();
      c.retention.max_bytes = r.Fixed<uint64_t>();
      at.max_age = r.offset();
      c.retention.max_age = std::chrono::nanoseconds(static_cast<int64_t>(r.Fixed<uint64_t>()));
      at.time_field = r.offset();
      c.retention.time_field = r.String();
    }
    // Before version 3 no chain of compacted segments was kept.
    c.compacted_first = c.compacted_end == 0 ? 0 : CollectionInfo::kUnrecorded;
    if (version >= 3) {
      at.compacted_first = r.offset();
      c.compacted_first = r.Fixed<uint64_t>();
    }
    if (version >= 4) {
      at.retention_flags = r.offset();
      const uint64_t flags = r.Fixed<uint64_t>();
      c.retention.hard_max_bytes = r.Fixed<uint64_t>();
      at.hard_max_age = r.offset();
      c.retention.hard_max_age =
          std::chrono::nanoseconds(static_cast<int64_t>(r.Fixed<uint64_t>()));
      if (r.ok() && (flags & ~kKeepUnconsumedFlag) != 0) {
        r.FailAt(at.retention_flags, absl::StrCat("collection '", absl::CEscape(c.name),
                                                  "' has unknown retention flags 0x",
                                                  absl::Hex(flags & ~kKeepUnconsumedFlag)));
      }
      c.retention.keep_unconsumed = (flags & kKeepUnconsumedFlag) != 0;
    }
    if (!r.ok()) break;
    c.kind = static_cast<CollectionKind>(kind);
    collection_checks::Check(r, m, c, kind, at);
    m.collections.push_back(std::move(c));
  }
  if (r.ok() && !r.done()) r.Fail("trailing bytes after the last collection");
  if (!r.ok()) return r.status();
  return m;
}

std::string EncodeSchema(const RecordSchema& schema) {
  std::string out;
  PutString(&out, schema.type_name);
  PutFields(&out, schema);
  return out;
}

absl::StatusOr<RecordSchema> DecodeSchema(std::string_view bytes, const std::string& path,
                                          size_t base) {
  Reader r(bytes, base, path);
  std::string type_name = r.String();
  const size_t size_at = r.offset();
  RecordSchema s = ReadSchemaFields(r, std::move(type_name), path);
  if (r.ok() && !r.done()) r.Fail("trailing bytes after the schema");
  if (r.ok() && (s.size == 0 || s.size > kMaxSchemaRecordSize)) {
    r.FailAt(size_at,
             absl::StrCat("record size ", s.size, " is outside 1..", kMaxSchemaRecordSize));
  }
  if (r.ok() &&
      (s.align == 0 || !std::has_single_bit(s.align) || s.align > 4096 || s.size % s.align != 0)) {
    r.FailAt(size_at + 4, absl::StrCat("alignment ", s.align,
                                       " is not a power of two up to 4096 "
                                       "that divides the record size ",
                                       s.size));
  }
  if (!r.ok()) return r.status();
  return s;
}

uint64_t SchemaHash(const RecordSchema& schema) {
  std::string bytes;
  PutFields(&bytes, schema);
  return base::StringChecksum64(bytes);
}

absl::Status CompareSchemas(const RecordSchema& stored, const RecordSchema& requested,
                            std::string_view subject) {
  auto mismatch = [&](std::string what) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(subject), " was created with record type '", stored.type_name,
                     "'; opening it as '", requested.type_name, "' fails: ", what));
  };
  size_t n = std::min(stored.fields.size(), requested.fields.size());
  for (size_t i = 0; i < n; ++i) {
    const FieldInfo& a = stored.fields[i];
    const FieldInfo& b = requested.fields[i];
    if (a.name != b.name) {
      return mismatch(
          absl::StrCat("field ", i, " is '", a.name, "' on disk but '", b.name, "' in the type"));
    }
    if (!(a == b)) {
      return mismatch(absl::StrCat("field '", a.name, "' is ", Describe(a), " on disk but ",
                                   Describe(b), " in the type"));
    }
  }
  if (stored.fields.size() > n) {
    return mismatch(absl::StrCat("field '", stored.fields[n].name, "' is missing from the type"));
  }
  if (requested.fields.size() > n) {
    return mismatch(absl::StrCat("field '", requested.fields[n].name, "' is not on disk"));
  }
  if (stored.size != requested.size) {
    return mismatch(absl::StrCat("record size is ", stored.size, " on disk but ", requested.size,
                                 " in the type"));
  }
  if (stored.align != requested.align) {
    return mismatch(absl::StrCat("alignment is ", stored.align, " on disk but ", requested.align,
                                 " in the type"));
  }
  return absl::OkStatus();
}

}  // namespace recstore::format
