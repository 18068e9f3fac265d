// DecodeManifest at the boundary values of every field, with valid checksums: each value the
// format does not admit is DataLoss naming the file and the offset of the field; each value it
// admits decodes unchanged.
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/old_manifest.h"
#include "tests/testing/status_matchers.h"

namespace recstore::format {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kPath[] = "store/MANIFEST";

// A manifest with a fixed collection (id 1) and a byte collection (id 2).
Manifest Sample() {
  Manifest m;
  m.generation = 7;
  m.next_collection_id = 3;
  CollectionInfo f;
  f.name = "ticks";
  f.id = 1;
  f.kind = CollectionKind::kFixed;
  f.segment_size = 64 << 10;
  f.schema.type_name = "Tick";
  f.schema.size = 16;
  f.schema.align = 8;
  f.schema.fields = {{"ts", FieldType::kInt64, 0, 8, 1}, {"sym", FieldType::kChar, 8, 4, 4}};
  f.record_size = 16;
  f.record_align = 8;
  CollectionInfo v;
  v.name = "events";
  v.id = 2;
  v.kind = CollectionKind::kVariable;
  v.segment_size = 64 << 10;
  v.time_base = 1700000000;
  m.collections = {f, v};
  return m;
}

absl::StatusOr<Manifest> Decode(const Manifest& m) {
  return DecodeManifest(EncodeManifest(m), kPath);
}

// What a refusal must look like: DataLoss, the file, the offset, and `what`.
auto Refused(const std::string& what) {
  return StatusIs(absl::StatusCode::kDataLoss,
                  AllOf(HasSubstr(kPath), HasSubstr(": offset "), HasSubstr(what)));
}

TEST(ManifestDecodeTest, SampleRoundTrips) {
  absl::StatusOr<Manifest> m = Decode(Sample());
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->collections.size(), 2u);
  EXPECT_EQ(m->collections[0].schema, Sample().collections[0].schema);
}

struct Case {
  std::string name;
  std::function<void(Manifest&)> edit;
  std::string refusal;  // empty: the value is admitted
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Manifest m = Sample();
    c.edit(m);
    absl::StatusOr<Manifest> got = Decode(m);
    if (c.refusal.empty()) {
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(EncodeManifest(*got), EncodeManifest(m));
    } else {
      EXPECT_THAT(got, Refused(c.refusal));
    }
  }
}

CollectionInfo& Fixed(Manifest& m) { return m.collections[0]; }
CollectionInfo& Bytes(Manifest& m) { return m.collections[1]; }
void SetRecord(Manifest& m, uint32_t size, uint32_t align) {
  Fixed(m).schema.size = Fixed(m).record_size = size;
  Fixed(m).schema.align = Fixed(m).record_align = align;
}

TEST(ManifestDecodeTest, StoreHeaderFields) {
  RunCases({
      {"generation 0", [](Manifest& m) { m.generation = 0; }, ""},
      {"generation at the bound", [](Manifest& m) { m.generation = kMaxSequence; }, ""},
      {"generation past the bound", [](Manifest& m) { m.generation = kMaxSequence + 1; },
       "manifest generation"},
      {"generation max", [](Manifest& m) { m.generation = UINT64_MAX; }, "manifest generation"},
      {"next id 0", [](Manifest& m) { m.next_collection_id = 0; }, "next collection id is 0"},
      {"next id max", [](Manifest& m) { m.next_collection_id = UINT32_MAX; }, ""},
      {"next id equal to an id", [](Manifest& m) { m.next_collection_id = 2; }, "has id 2"},
  });
}

TEST(ManifestDecodeTest, RecordSizeAndAlignment) {
  RunCases({
      // Issue 12, bug 4.
      {"record size 0xFFFFFFF9", [](Manifest& m) { SetRecord(m, 0xFFFFFFF9u, 8); },
       "invalid record size or alignment"},
      {"record size max", [](Manifest& m) { SetRecord(m, UINT32_MAX, 8); },
       "invalid record size or alignment"},
      {"record size 2^32-8", [](Manifest& m) { SetRecord(m, 0xFFFFFFF8u, 8); },
       "invalid record size or alignment"},
      {"record size 0",
       [](Manifest& m) {
         SetRecord(m, 0, 8);
         Fixed(m).schema.fields.clear();
       },
       "invalid record size or alignment"},
      {"largest record of the segment", [](Manifest& m) { SetRecord(m, 65536 - 4096 - 8, 8); }, ""},
      {"one byte more", [](Manifest& m) { SetRecord(m, 65536 - 4096 - 7, 8); },
       "invalid record size or alignment"},
      {"align 0", [](Manifest& m) { SetRecord(m, 16, 0); }, "invalid record size or alignment"},
      {"align 3", [](Manifest& m) { SetRecord(m, 16, 3); }, "invalid record size or alignment"},
      {"align 4096", [](Manifest& m) { SetRecord(m, 16, 4096); }, ""},
      {"align 8192", [](Manifest& m) { SetRecord(m, 16, 8192); },
       "invalid record size or alignment"},
      {"align 2^31", [](Manifest& m) { SetRecord(m, 16, 0x80000000u); },
       "invalid record size or alignment"},
      {"align max", [](Manifest& m) { SetRecord(m, 16, UINT32_MAX); },
       "invalid record size or alignment"},
  });
}

TEST(ManifestDecodeTest, SchemaFields) {
  auto field = [](Manifest& m) -> FieldInfo& { return Fixed(m).schema.fields[1]; };
  RunCases({
      {"unknown type 0", [&](Manifest& m) { field(m).type = static_cast<FieldType>(0); },
       "has unknown type 0"},
      {"unknown type 13", [&](Manifest& m) { field(m).type = static_cast<FieldType>(13); },
       "has unknown type 13"},
      {"unknown type 255", [&](Manifest& m) { field(m).type = static_cast<FieldType>(255); },
       "has unknown type 255"},
      {"count 0", [&](Manifest& m) { field(m).count = 0; }, "elements"},
      {"count max", [&](Manifest& m) { field(m).count = UINT32_MAX; }, "elements"},
      // 8 * 2^29 = 2^32: wraps to 0 in u32 arithmetic.
      {"count * size wraps",
       [&](Manifest& m) {
         field(m).type = FieldType::kInt64;
         field(m).count = 1u << 29;
         field(m).size = 0;
       },
       "elements"},
      {"size max", [&](Manifest& m) { field(m).size = UINT32_MAX; }, "elements"},
      {"offset at the end", [&](Manifest& m) { field(m).offset = 12; }, ""},
      {"offset one past", [&](Manifest& m) { field(m).offset = 13; }, "ends past the record size"},
      {"offset max", [&](Manifest& m) { field(m).offset = UINT32_MAX; },
       "ends past the record size"},
      {"offset max - 3", [&](Manifest& m) { field(m).offset = UINT32_MAX - 3; },
       "ends past the record size"},
      {"empty name", [&](Manifest& m) { field(m).name = ""; }, "has an empty name"},
      {"name twice", [&](Manifest& m) { field(m).name = "ts"; }, "appears twice"},
      {"long name", [&](Manifest& m) { field(m).name = std::string(65535, 'n'); }, ""},
  });
}

TEST(ManifestDecodeTest, CollectionFields) {
  RunCases({
      {"id 0", [](Manifest& m) { Fixed(m).id = 0; }, "has id 0"},
      {"id max", [](Manifest& m) { Fixed(m).id = UINT32_MAX; }, "has id 4294967295"},
      {"id twice", [](Manifest& m) { Bytes(m).id = 1; }, "like collection 'ticks'"},
      {"kind 0", [](Manifest& m) { Fixed(m).kind = static_cast<CollectionKind>(0); },
       "unknown kind 0"},
      {"kind 3", [](Manifest& m) { Bytes(m).kind = static_cast<CollectionKind>(3); },
       "unknown kind 3"},
      {"kind 255", [](Manifest& m) { Bytes(m).kind = static_cast<CollectionKind>(255); },
       "unknown kind 255"},
      {"segment size 0", [](Manifest& m) { Bytes(m).segment_size = 0; }, "invalid segment size"},
      {"segment size max", [](Manifest& m) { Bytes(m).segment_size = UINT64_MAX; },
       "invalid segment size"},
      {"segment size 2^64-4096", [](Manifest& m) { Bytes(m).segment_size = UINT64_MAX - 4095; },
       "invalid segment size"},
      {"segment size 1 GiB", [](Manifest& m) { Bytes(m).segment_size = kMaxSegmentSize; }, ""},
      {"segment size 1 GiB + 4096",
       [](Manifest& m) { Bytes(m).segment_size = kMaxSegmentSize + 4096; }, "invalid segment size"},
      {"segment size not a page multiple",
       [](Manifest& m) { Bytes(m).segment_size = (64 << 10) + 8; }, "invalid segment size"},
      {"first_seq at the bound", [](Manifest& m) { Bytes(m).first_seq = kMaxSequence; }, ""},
      {"first_seq past the bound", [](Manifest& m) { Bytes(m).first_seq = kMaxSequence + 1; },
       "first sequence number"},
      {"first_seq max", [](Manifest& m) { Fixed(m).first_seq = UINT64_MAX; },
       "first sequence number"},
      {"byte collection with a type name", [](Manifest& m) { Bytes(m).schema.type_name = "X"; },
       "holds byte records but has a record type"},
      {"byte collection with a record size",
       [](Manifest& m) {
         Bytes(m).schema.size = Bytes(m).record_size = 16;
         Bytes(m).schema.align = Bytes(m).record_align = 8;
       },
       "holds byte records but has a record type"},
  });
}

TEST(ManifestDecodeTest, CompactionAndRetentionFields) {
  RunCases({
      {"generation max", [](Manifest& m) { Fixed(m).generation = UINT64_MAX; },
       "compaction generation"},
      {"generation past the bound", [](Manifest& m) { Fixed(m).generation = kMaxSequence + 1; },
       "compaction generation"},
      {"compacted end max",
       [](Manifest& m) {
         Fixed(m).generation = 1;
         Fixed(m).compacted_end = UINT64_MAX;
       },
       "compacted end"},
      {"compacted end without generation", [](Manifest& m) { Fixed(m).compacted_end = 5; },
       "has compacted records but no generation"},
      {"generation without compacted end", [](Manifest& m) { Fixed(m).generation = 3; }, ""},
      {"time base 2^32", [](Manifest& m) { Bytes(m).time_base = kMaxTimeBase; }, ""},
      {"time base 2^32 + 1", [](Manifest& m) { Bytes(m).time_base = kMaxTimeBase + 1; },
       "time base"},
      {"time base -2^32", [](Manifest& m) { Bytes(m).time_base = -kMaxTimeBase; }, ""},
      {"time base min", [](Manifest& m) { Bytes(m).time_base = INT64_MIN; }, "time base"},
      {"time base max", [](Manifest& m) { Bytes(m).time_base = INT64_MAX; }, "time base"},
      {"max records max", [](Manifest& m) { Bytes(m).retention.max_records = UINT64_MAX; }, ""},
      {"max bytes max", [](Manifest& m) { Fixed(m).retention.max_bytes = UINT64_MAX; }, ""},
      {"max age max",
       [](Manifest& m) { Bytes(m).retention.max_age = std::chrono::nanoseconds(INT64_MAX); }, ""},
      {"max age negative",
       [](Manifest& m) { Bytes(m).retention.max_age = std::chrono::nanoseconds(-1); },
       "negative retention age"},
      {"max age 2^63 as u64",
       [](Manifest& m) { Bytes(m).retention.max_age = std::chrono::nanoseconds(INT64_MIN); },
       "negative retention age"},
      {"byte collection with a time field",
       [](Manifest& m) { Bytes(m).retention.time_field = "ts"; }, "retention time field"},
      {"age retention on an int64 field",
       [](Manifest& m) {
         Fixed(m).retention.max_age = std::chrono::seconds(5);
         Fixed(m).retention.time_field = "ts";
       },
       ""},
      {"age retention on a char field",
       [](Manifest& m) {
         Fixed(m).retention.max_age = std::chrono::seconds(5);
         Fixed(m).retention.time_field = "sym";
       },
       "not an int64 or uint64 field"},
      {"age retention without a field",
       [](Manifest& m) { Fixed(m).retention.max_age = std::chrono::seconds(5); },
       "not an int64 or uint64 field"},
      {"time field kept without age retention",
       [](Manifest& m) {
         Fixed(m).retention.max_records = 10;
         Fixed(m).retention.time_field = "nothing";
       },
       ""},
  });
}

TEST(ManifestDecodeTest, ReaderAwareRetentionFields) {
  RunCases({
      {"keep unconsumed", [](Manifest& m) { Bytes(m).retention.keep_unconsumed = true; }, ""},
      {"hard max bytes max", [](Manifest& m) { Bytes(m).retention.hard_max_bytes = UINT64_MAX; },
       ""},
      {"hard max age max",
       [](Manifest& m) { Bytes(m).retention.hard_max_age = std::chrono::nanoseconds(INT64_MAX); },
       ""},
      {"hard max age negative",
       [](Manifest& m) { Bytes(m).retention.hard_max_age = std::chrono::nanoseconds(-1); },
       "negative retention hard age cap"},
      {"hard max age 2^63 as u64",
       [](Manifest& m) { Bytes(m).retention.hard_max_age = std::chrono::nanoseconds(INT64_MIN); },
       "negative retention hard age cap"},
      {"hard age on an int64 field",
       [](Manifest& m) {
         Fixed(m).retention.hard_max_age = std::chrono::seconds(5);
         Fixed(m).retention.time_field = "ts";
       },
       ""},
      {"hard age without a field",
       [](Manifest& m) { Fixed(m).retention.hard_max_age = std::chrono::seconds(5); },
       "not an int64 or uint64 field"},
  });
}

TEST(ManifestDecodeTest, UnknownRetentionFlagsAreRefused) {
  // The byte collection's entry is the last: retention_flags is its third-last u64.
  Manifest m = Sample();
  Bytes(m).retention.keep_unconsumed = true;
  for (uint64_t flags : {uint64_t{2}, uint64_t{3}, uint64_t{1} << 63, UINT64_MAX}) {
    SCOPED_TRACE(flags);
    std::string bytes = EncodeManifest(m);
    const size_t at = bytes.size() - 24;
    ASSERT_EQ(base::DecodeFixed64(bytes.data() + at), 1u);
    base::EncodeFixed64(bytes.data() + at, flags);
    testing::FixManifestChecksums(&bytes);
    EXPECT_THAT(DecodeManifest(bytes, kPath),
                Refused(absl::StrCat("offset ", at,
                                     ": collection 'events' has unknown retention "
                                     "flags")));
  }
}

TEST(ManifestDecodeTest, Version3ManifestsReadWithTheNewFieldsUnset) {
  Manifest m = Sample();
  Fixed(m).retention.max_records = 9;
  Bytes(m).retention.max_age = std::chrono::seconds(3);
  const std::string v3 = testing::EncodeManifestV3(m);
  ASSERT_EQ(base::DecodeFixed32(v3.data() + 8), 3u);
  ASSERT_EQ(v3.size() + 16 + 2 * 24, EncodeManifest(m).size());
  absl::StatusOr<Manifest> got = DecodeManifest(v3, kPath);
  ASSERT_THAT(got, IsOk());
  // Re-encoded, it is what this build would have written.
  EXPECT_EQ(EncodeManifest(*got), EncodeManifest(m));
  EXPECT_FALSE(got->collections[0].retention.keep_unconsumed);
  EXPECT_EQ(got->collections[1].retention.hard_max_bytes, 0u);
  // A version-3 body that carries the newer fields is refused.
  std::string v3_with_v4_body = EncodeManifest(m);
  base::EncodeFixed32(v3_with_v4_body.data() + 8, 3);
  testing::FixManifestChecksums(&v3_with_v4_body);
  EXPECT_THAT(DecodeManifest(v3_with_v4_body, kPath), Refused(""));
  EXPECT_EQ(base::DecodeFixed32(EncodeManifest(m).data() + 8), kManifestFormatVersion);
}

// Offsets of the encoded Sample(): the body starts at 40.
constexpr size_t kCountAt = 40 + 12;
// The fixed collection's field_count: its entry starts at 72 (after the 16-byte store id);
// id, kind, reserved, segment_size, first_seq (24 bytes), name "ticks" (7), type name "Tick"
// (6), size and align.
constexpr size_t kFieldCountAt = 72 + 24 + 7 + 6 + 8;

std::string Patched(size_t at, uint32_t value) {
  std::string bytes = EncodeManifest(Sample());
  base::EncodeFixed32(bytes.data() + at, value);
  testing::FixManifestChecksums(&bytes);
  return bytes;
}

TEST(ManifestDecodeTest, CountsBeyondTheBodyFailBeforeReading) {
  ASSERT_EQ(base::DecodeFixed32(EncodeManifest(Sample()).data() + kCountAt), 2u);
  ASSERT_EQ(base::DecodeFixed32(EncodeManifest(Sample()).data() + kFieldCountAt), 2u);
  for (uint32_t n : {3u, 1000u, 0x7FFFFFFFu, UINT32_MAX}) {
    SCOPED_TRACE(n);
    EXPECT_THAT(DecodeManifest(Patched(kCountAt, n), kPath),
                Refused(absl::StrCat("offset ", kCountAt, ": ", n, " collections do not fit")));
  }
  for (uint32_t n : {100u, 0x7FFFFFFFu, UINT32_MAX}) {
    SCOPED_TRACE(n);
    EXPECT_THAT(DecodeManifest(Patched(kFieldCountAt, n), kPath),
                Refused(absl::StrCat("offset ", kFieldCountAt, ": collection 'ticks' has ", n,
                                     " schema fields")));
  }
  // A count the body could hold but that it does not: the next bytes are no field.
  EXPECT_THAT(DecodeManifest(Patched(kFieldCountAt, 3), kPath), Refused("field 2"));
  EXPECT_THAT(DecodeManifest(Patched(kCountAt, 1), kPath), Refused("trailing bytes"));
  EXPECT_THAT(DecodeManifest(Patched(kCountAt, 0), kPath), Refused("trailing bytes"));
}

TEST(ManifestDecodeTest, StringLengthsPastTheBody) {
  // The fixed collection's name length (u16 at 96) claims more than the body holds.
  for (uint16_t len : {uint16_t{0xFFFF}, uint16_t{0x8000}, uint16_t{1000}}) {
    std::string bytes = EncodeManifest(Sample());
    base::EncodeFixed16(bytes.data() + 96, len);
    testing::FixManifestChecksums(&bytes);
    EXPECT_THAT(DecodeManifest(bytes, kPath), Refused("ends early"));
  }
}

TEST(ManifestDecodeTest, StoreIdRoundTripsAndOlderVersionsHaveNone) {
  Manifest m = Sample();
  m.store_id = NewStoreId();
  ASSERT_EQ(StoreIdString(m.store_id).size(), 32u);
  EXPECT_NE(StoreIdString(NewStoreId()), StoreIdString(m.store_id));
  const std::string bytes = EncodeManifest(m);
  // The id sits right after collection_count, at body offset 16.
  EXPECT_EQ(bytes.substr(56, 16),
            std::string(reinterpret_cast<const char*>(m.store_id.data()), 16));
  absl::StatusOr<Manifest> got = DecodeManifest(bytes, kPath);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->store_id, m.store_id);
  for (uint32_t version : {3u, 4u}) {
    SCOPED_TRACE(version);
    absl::StatusOr<Manifest> old = DecodeManifest(testing::EncodeOldManifest(m, version), kPath);
    ASSERT_THAT(old, IsOk());
    EXPECT_EQ(StoreIdString(old->store_id), "");
    EXPECT_EQ(old->collections.size(), m.collections.size());
  }
  // An all-zero id reads as unassigned, not as damage.
  m.store_id = {};
  got = DecodeManifest(EncodeManifest(m), kPath);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(StoreIdString(got->store_id), "");
}

TEST(ManifestDecodeTest, FormatVersionZero) {
  std::string bytes = EncodeManifest(Sample());
  base::EncodeFixed32(bytes.data() + 8, 0);
  testing::FixManifestChecksums(&bytes);
  EXPECT_THAT(DecodeManifest(bytes, kPath), Refused("format version 0"));
  base::EncodeFixed32(bytes.data() + 8, UINT32_MAX);
  testing::FixManifestChecksums(&bytes);
  EXPECT_THAT(DecodeManifest(bytes, kPath),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(kPath)));
}

}  // namespace
}  // namespace recstore::format
