#include "tests/hostile/fields.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "src/format/segment_header.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/file_bytes.h"

namespace recstore::hostile {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::WriteFileBytes;

uint64_t Get(const std::string& bytes, uint64_t offset, int width) {
  uint64_t v = 0;
  for (int i = width; i-- > 0;) v = v << 8 | static_cast<uint8_t>(bytes[offset + i]);
  return v;
}

void Put(std::string* bytes, uint64_t offset, int width, uint64_t v) {
  for (int i = 0; i < width; ++i) (*bytes)[offset + i] = static_cast<char>(v >> (8 * i));
}

constexpr uint64_t kTwo32 = uint64_t{1} << 32;

// Walks the encoded manifest (docs/format.md 2.2), naming every field.
class ManifestWalker {
 public:
  ManifestWalker(const TemplateStore& t, std::vector<Field>* out)
      : t_(t), bytes_(ReadFileBytes(t.dir + "/MANIFEST")), out_(out) {}

  void Walk() {
    const Written* ticks = t_.Find(kTicks);
    Add("generation", 8, {}, {format::kMaxSequence, format::kMaxSequence + 1});
    Add("next_collection_id", 4, {}, {2, 3});
    const uint64_t count =
        Add("collection_count", 4, {}, {3, 5, kTwo32 / 40, kTwo32 / 90 + 1, kTwo32 / 122 + 1});
    Add("store_id[0..7]", 8, {}, {0, UINT64_MAX});
    Add("store_id[8..15]", 8, {}, {0, UINT64_MAX});
    for (uint64_t i = 0; i < count; ++i) {
      const std::string name = PeekString(24);
      const Written* w = t_.Find(name);
      const std::vector<std::string> own = {name};
      prefix_ = absl::StrCat("collection '", name, "' ");
      Add("id", 4, own, {1, 2, 3, 4});
      Add("kind", 1, own, {1, 2, 3});
      Add("segment_size", 8, own,
          {4096, format::kMinSegmentSize - 4096, kSegmentSize + 8, kSegmentSize * 2,
           format::kMaxSegmentSize, format::kMaxSegmentSize + 4096, UINT64_MAX - 4095});
      const uint64_t end = w != nullptr ? w->end : 0;
      Add("first_seq", 8, own, {end - 1, end, end + 1, format::kMaxSequence + 1, UINT64_MAX - end});
      String("name", own);
      String("type_name", own);
      // A fixed collection's segment headers follow its schema (see Field::schema_folder).
      if (w != nullptr && w->kind == CollectionKind::kFixed) {
        schema_folder_ = w->folder;
        schema_at_ = pos_;
      }
      const uint64_t record_size =
          Add("record_size", 4, own,
              {0xFFFFFFF9, 0xFFFFFFF8, 0xFFFFFFF0, 0x80000000, 61432, 61433, 33});
      Add("record_align", 4, own, {0x80000000, 4096, 8192, 3, 16});
      const uint64_t fields = Add("field_count", 4, own, {0x7FFFFFFF, 1000, 6});
      for (uint64_t k = 0; k < fields; ++k) {
        const std::string field = PeekString(0);
        prefix_ = absl::StrCat("collection '", name, "' field '", field, "' ");
        String("name", own);
        Add("type", 1, own, {13, 4, 12});
        Add("offset", 4, own, {record_size - 1, record_size, 0xFFFFFFF8, 0xFFFFFFFC});
        Add("size", 4, own, {record_size, record_size + 1, 0x80000000});
        Add("count", 4, own, {uint64_t{1} << 29, uint64_t{1} << 30, 0x80000000, record_size});
        prefix_ = absl::StrCat("collection '", name, "' ");
      }
      schema_folder_.clear();
      Add("generation", 8, own, {format::kMaxSequence + 1});
      Add("compacted_end", 8, own,
          {end, end + 1, ticks != nullptr ? ticks->end : 0, format::kMaxSequence + 1});
      Add("time_base", 8, own,
          {static_cast<uint64_t>(INT64_MAX), static_cast<uint64_t>(INT64_MIN),
           static_cast<uint64_t>(int64_t{-1} << 33), uint64_t{1} << 33});
      Add("max_records", 8, own, {1, end, end + 1});
      Add("max_bytes", 8, own, {1, 7, 100});
      Add("max_age_ns", 8, own,
          {static_cast<uint64_t>(INT64_MAX), static_cast<uint64_t>(INT64_MIN), 1'000'000'000});
      String("time_field", own);
      Add("compacted_first", 8, own,
          {0, end, end + 1, CollectionInfo::kUnrecorded, CollectionInfo::kUnrecorded - 1});
      Add("retention_flags", 8, own, {1, 2, UINT64_MAX});
      Add("hard_max_bytes", 8, own, {1, 7, UINT64_MAX});
      Add("hard_max_age_ns", 8, own,
          {static_cast<uint64_t>(INT64_MAX), static_cast<uint64_t>(INT64_MIN), 1'000'000'000});
      prefix_.clear();
    }
  }

 private:
  uint64_t Add(const std::string& name, int width, std::vector<std::string> collections,
               std::vector<uint64_t> special) {
    Field f;
    f.group = "manifest";
    f.name = absl::StrCat("MANIFEST ", prefix_, name);
    f.file = "MANIFEST";
    f.offset = pos_;
    f.width = width;
    f.fixup = Fixup::kManifest;
    f.collections = std::move(collections);
    f.special = std::move(special);
    f.schema_folder = schema_folder_;
    f.schema_at = schema_at_;
    if (!schema_folder_.empty()) f.name += " (segment headers follow)";
    const uint64_t value = Get(bytes_, pos_, width);
    pos_ += width;
    if (width == 1) pos_ += 3;  // kind and type are followed by 3 reserved bytes
    out_->push_back(std::move(f));
    return value;
  }
  // A string's u16 length is a field; its bytes are not.
  void String(const std::string& name, const std::vector<std::string>& own) {
    const uint64_t len = Add(name + " length", 2, own, {len_edge_});
    pos_ += len;
  }
  std::string PeekString(uint64_t skip) const {
    const uint64_t len = Get(bytes_, pos_ + skip, 2);
    return bytes_.substr(pos_ + skip + 2, len);
  }

  const TemplateStore& t_;
  const std::string bytes_;
  std::vector<Field>* out_;
  uint64_t pos_ = format::kManifestHeaderSize;
  std::string prefix_;
  std::string schema_folder_;
  uint64_t schema_at_ = 0;
  const uint64_t len_edge_ = 0x8000;
};

void AddSegmentFields(const TemplateStore& t, const Written& w, const std::string& file,
                      bool compacted, std::vector<Field>* out) {
  const std::string bytes = ReadFileBytes(t.dir + "/" + file);
  const uint64_t size = bytes.size();
  const uint64_t first_seq = Get(bytes, 40, 8);
  const uint64_t records = Get(bytes, format::kCommitBlockOffset + 8, 8);
  const uint64_t data_end = Get(bytes, format::kCommitBlockOffset + 16, 8);
  const std::vector<std::string> own = {w.name};
  auto add = [&](const std::string& group, const std::string& name, uint64_t offset, int width,
                 Fixup fixup, std::vector<uint64_t> special) {
    Field f;
    f.group = group;
    f.name = absl::StrCat(file, " ", name);
    f.file = file;
    f.offset = offset;
    f.width = width;
    f.fixup = fixup;
    f.commit_seed = first_seq;
    f.collections = own;
    f.special = std::move(special);
    f.records_intact = fixup == Fixup::kCommitBlock || fixup == Fixup::kLinkBlock;
    out->push_back(std::move(f));
  };
  const std::string h = "segment header";
  add(h, "header.format_version", 8, 4, Fixup::kSegmentHeader, {1, 2, 3});
  add(h, "header.kind", 12, 1, Fixup::kSegmentHeader, {1, 2, 3});
  add(h, "header.flags", 13, 1, Fixup::kSegmentHeader, {0, 1, 2, 0xfe});
  add(h, "header.collection_id", 16, 4, Fixup::kSegmentHeader, {2, 3});
  add(h, "header.record_size", 20, 4, Fixup::kSegmentHeader,
      {0xFFFFFFF9, 0xFFFFFFF8, 32, 33, 61432});
  add(h, "header.stride", 24, 4, Fixup::kSegmentHeader,
      {8, 16, 40, 48, size - 4096, size, 0xFFFFFFF8});
  add(h, "header.schema_hash", 32, 8, Fixup::kSegmentHeader, {});
  add(h, "header.first_seq", 40, 8, Fixup::kSegmentHeader,
      {first_seq + 1536, w.end, format::kMaxSequence + 1, UINT64_MAX - records});
  add(h, "header.capacity", 48, 8, Fixup::kSegmentHeader,
      {size - 4096, size + 4096, size - 8, size * 2, 4096, format::kMaxSegmentFileSize,
       format::kMaxSegmentFileSize + 4096, kTwo32, UINT64_MAX - 4095});
  add(h, "header.generation", 56, 8, Fixup::kSegmentHeader, {1, 2, format::kMaxSequence + 1});
  const std::string c = "commit block";
  const uint64_t at = format::kCommitBlockOffset;
  add(c, "commit.flags", at + 4, 4, Fixup::kCommitBlock, {0, 1, 2});
  add(c, "commit.records", at + 8, 8, Fixup::kCommitBlock,
      {records + 1, (size - 4096) / 4, (size - 4096) / 4 + 1, (size - 4096) / 40 + 1,
       format::kMaxSegmentRecords, format::kMaxSegmentRecords + 1, uint64_t{1} << 61,
       uint64_t{1} << 62, UINT64_MAX / 4 + 1, UINT64_MAX / 12 + 1});
  add(c, "commit.data_end", at + 16, 8, Fixup::kCommitBlock,
      {size, size + 8, size - 8, size - 4 * records, data_end + 8, data_end - 8, 4096, 4088, 4100,
       format::kMaxSegmentFileSize, kTwo32, UINT64_MAX - 7});
  if (compacted) {
    const uint64_t next = Get(bytes, format::kLinkBlockOffset + 8, 8);
    add("link block", "link.next_first", format::kLinkBlockOffset + 8, 8, Fixup::kLinkBlock,
        {next - 1, next + 1, first_seq, 0, w.end, w.end + 1, format::kMaxSequence + 1});
  }
  if (compacted && records > 0) {
    // The sequence-number array, host byte order (little-endian here), at data_end.
    const std::string x = "compacted index";
    for (uint64_t i : {uint64_t{0}, records / 2, records - 1}) {
      const uint64_t seq = Get(bytes, data_end + 8 * i, 8);
      add(x, absl::StrCat("seq[", i, "]"), data_end + 8 * i, 8, Fixup::kNone,
          {seq + 1, seq - 1, w.end, w.end - 1, first_seq, format::kMaxSequence + 1});
    }
  }
}

}  // namespace

std::vector<Field> ManifestFields(const TemplateStore& t) {
  std::vector<Field> out;
  ManifestWalker(t, &out).Walk();
  return out;
}

std::vector<Field> SegmentFields(const TemplateStore& t) {
  std::vector<Field> out;
  for (const Written& w : t.collections) {
    std::vector<std::string> ordinary, compacted;
    for (const auto& e : std::filesystem::directory_iterator(t.dir + "/" + w.folder)) {
      const std::string name = e.path().filename().string();
      uint64_t a, b;
      if (format::ParseSegmentFileName(name, &a)) ordinary.push_back(name);
      if (format::ParseCompactedFileName(name, &a, &b)) compacted.push_back(name);
    }
    std::sort(ordinary.begin(), ordinary.end());
    std::sort(compacted.begin(), compacted.end());
    auto take = [&](const std::vector<std::string>& files, bool is_compacted) {
      if (files.empty()) return;
      AddSegmentFields(t, w, w.folder + "/" + files.front(), is_compacted, &out);
      if (files.size() > 1)
        AddSegmentFields(t, w, w.folder + "/" + files.back(), is_compacted, &out);
    };
    take(ordinary, false);
    take(compacted, true);
  }
  return out;
}

uint64_t ReadField(const std::string& dir, const Field& f) {
  return Get(ReadFileBytes(dir + "/" + f.file), f.offset, f.width);
}

std::vector<uint64_t> ValuesFor(const Field& f, uint64_t original, size_t limit) {
  const uint64_t max = f.width == 8 ? UINT64_MAX : (uint64_t{1} << (8 * f.width)) - 1;
  std::vector<uint64_t> candidates = {0, max};
  if (!f.special.empty()) candidates.push_back(f.special[0]);
  candidates.insert(candidates.end(), {1, max - 1});
  if (!f.special.empty())
    candidates.insert(candidates.end(), f.special.begin() + 1, f.special.end());
  const uint64_t more[] = {
      max - 7,    uint64_t{1} << (8 * f.width - 1),       original + 1, original - 1,   2,
      max - 4095, (uint64_t{1} << (8 * f.width - 1)) - 1, original * 2, original ^ 0x80};
  candidates.insert(candidates.end(), std::begin(more), std::end(more));
  std::vector<uint64_t> values;
  for (uint64_t v : candidates) {
    v &= max;
    if (v == original || std::find(values.begin(), values.end(), v) != values.end()) continue;
    values.push_back(v);
    if (values.size() == limit) break;
  }
  return values;
}

namespace {

// Rewrites every segment header in `folder` to match the schema at `at` of `manifest`: its
// record_size, the stride the engine computes (stored in a u32, as the header does) and its
// hash. Does nothing when the schema runs past the end of the manifest.
void FollowSchema(const std::string& dir, const std::string& folder, const std::string& manifest,
                  uint64_t at) {
  if (at + 12 > manifest.size()) return;
  const uint32_t record_size = static_cast<uint32_t>(Get(manifest, at, 4));
  const uint32_t align = static_cast<uint32_t>(Get(manifest, at + 4, 4));
  const uint64_t n = Get(manifest, at + 8, 4);
  uint64_t end = at + 12;
  for (uint64_t i = 0; i < n; ++i) {
    if (end + 2 > manifest.size()) return;
    end += 2 + Get(manifest, end, 2) + 1 + 3 + 12;
    if (end > manifest.size()) return;
  }
  const uint64_t hash = base::Checksum64(manifest.data() + at, end - at);
  const uint32_t stride = static_cast<uint32_t>(format::FixedStride(record_size, align));
  for (const auto& e : std::filesystem::directory_iterator(dir + "/" + folder)) {
    if (e.path().extension() != ".seg") continue;
    std::string bytes = ReadFileBytes(e.path().string());
    if (bytes.size() < format::kEncodedSegmentHeaderSize) continue;
    Put(&bytes, 20, 4, record_size);
    Put(&bytes, 24, 4, stride);
    Put(&bytes, 32, 8, hash);
    testing::FixSegmentHeaderChecksum(reinterpret_cast<std::byte*>(bytes.data()));
    WriteFileBytes(e.path().string(), bytes);
  }
}

}  // namespace

void WriteField(const std::string& dir, const Field& f, uint64_t value) {
  const std::string path = dir + "/" + f.file;
  std::string bytes = ReadFileBytes(path);
  Put(&bytes, f.offset, f.width, value);
  std::byte* p = reinterpret_cast<std::byte*>(bytes.data());
  switch (f.fixup) {
    case Fixup::kManifest:
      testing::FixManifestChecksums(&bytes);
      break;
    case Fixup::kSegmentHeader:
      testing::FixSegmentHeaderChecksum(p);
      break;
    case Fixup::kCommitBlock:
      testing::FixCommitChecksum(p + format::kCommitBlockOffset, f.commit_seed);
      break;
    case Fixup::kLinkBlock:
      testing::FixLinkChecksum(p + format::kLinkBlockOffset, f.commit_seed);
      break;
    case Fixup::kNone:
      break;
  }
  WriteFileBytes(path, bytes);
  if (!f.schema_folder.empty()) FollowSchema(dir, f.schema_folder, bytes, f.schema_at);
}

}  // namespace recstore::hostile
