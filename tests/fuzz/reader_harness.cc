// The record reader fuzz target's harness (see reader_harness.h).
#include "tests/fuzz/reader_harness.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "src/format/segment_header.h"
#include "src/log/collection.h"
#include "src/store/manifest_file.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_inputs.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/testing/file_bytes.h"

namespace recstore::fuzz {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::WriteFileBytes;

constexpr uint64_t kSegmentSize = 64 << 10;
constexpr char kFixedName[] = "f";
constexpr char kBytesName[] = "v";

}  // namespace

FuzzRecord FixedRecord(uint64_t seq) {
  FuzzRecord r{static_cast<uint16_t>(seq * 31),
               static_cast<uint8_t>(seq),
               static_cast<uint8_t>(seq >> 8),
               {}};
  std::memset(r.text, 'A' + static_cast<int>(seq % 26), sizeof(r.text));
  return r;
}
// 40 to 100 bytes: a byte segment holds about 600.
std::string BytesRecord(uint64_t seq) {
  return std::string(40 + (seq * 7) % 61, static_cast<char>('a' + seq % 26));
}

namespace {

// A store with both collections: with `full_first`, each first gets one full segment; then
// `n` more records each. Closed cleanly.
void BuildStore(const std::string& dir, bool full_first, uint64_t n) {
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegmentSize});
  FUZZ_CHECK(store.ok()) << store.status();
  auto fixed = (*store)->OpenLog<FuzzRecord>(kFixedName);
  auto bytes = (*store)->OpenByteLog(kBytesName);
  FUZZ_CHECK(fixed.ok() && bytes.ok());
  uint64_t first_fixed = 0, first_bytes = 0;
  if (full_first) {
    const uint32_t stride = format::FixedStride(sizeof(FuzzRecord), alignof(FuzzRecord));
    first_fixed = (kSegmentSize - format::kDataStart) / stride;
    std::vector<FuzzRecord> batch;
    for (uint64_t seq = 0; seq < first_fixed; ++seq) batch.push_back(FixedRecord(seq));
    FUZZ_CHECK(fixed->AppendBatch(batch).ok());
    // Fill the byte segment exactly as far as the format lets records fit (format.md 3.4).
    uint64_t end = format::kDataStart;
    while (true) {
      const std::string r = BytesRecord(first_bytes);
      const uint64_t frame_end = end + format::FrameSpace(r.size()) - format::kSlotSize;
      if (frame_end + format::kSlotSize * (first_bytes + 1) > kSegmentSize) break;
      FUZZ_CHECK(bytes->Append(r).ok());
      end = frame_end;
      ++first_bytes;
    }
    FUZZ_CHECK(fixed->Sync().ok() && bytes->Sync().ok());
  }
  for (uint64_t i = 0; i < n; ++i) {
    FUZZ_CHECK(fixed->Append(FixedRecord(first_fixed + i)).ok());
    FUZZ_CHECK(bytes->Append(BytesRecord(first_bytes + i)).ok());
    if (i == n / 2) FUZZ_CHECK(fixed->Sync().ok() && bytes->Sync().ok());
  }
}

struct KindTemplate {
  CollectionInfo info;
  std::string folder;  // folder name, e.g. "000001-f"
  std::string full_segment;
  uint64_t full_records = 0;
  uint32_t stride = 0;  // fixed

  bool fixed() const { return info.kind == CollectionKind::kFixed; }
  format::SegmentHeader Header(uint64_t first, uint64_t capacity) const {
    format::SegmentHeader h;
    h.kind = static_cast<uint8_t>(info.kind);
    h.collection_id = info.id;
    h.record_size = fixed() ? info.record_size : 0;
    h.stride = stride;
    h.schema_hash = fixed() ? format::SchemaHash(info.schema) : 0;
    h.first_seq = first;
    h.capacity = capacity;
    return h;
  }
};

struct Template {
  std::string work;  // where inputs are written
  KindTemplate kinds[2];
};

KindTemplate LoadKind(const std::string& dir, const format::Manifest& m, const char* name) {
  KindTemplate k;
  const CollectionInfo* info = m.Find(name);
  FUZZ_CHECK(info != nullptr);
  k.info = *info;
  k.folder = absl::StrFormat("%06u-%s", info->id, name);
  if (k.fixed()) k.stride = format::FixedStride(info->record_size, info->record_align);
  k.full_segment = ReadFileBytes(absl::StrCat(dir, "/", k.folder, "/", format::SegmentFileName(0)));
  FUZZ_CHECK(k.full_segment.size() == kSegmentSize);
  return k;
}

const Template& GetTemplate() {
  static const Template* t = [] {
    auto* t = new Template;
    const std::string& dir = TemplateStoreDir();
    absl::StatusOr<format::Manifest> m = store::ReadManifest(Env::Default(), dir);
    FUZZ_CHECK(m.ok()) << m.status();
    t->kinds[0] = LoadKind(dir, *m, kFixedName);
    t->kinds[1] = LoadKind(dir, *m, kBytesName);
    t->kinds[0].full_records = (kSegmentSize - format::kDataStart) / t->kinds[0].stride;
    // The byte segment's record count: the frames its slot index points at.
    const std::string& seg = t->kinds[1].full_segment;
    uint64_t count = 0;
    while (base::DecodeFixed32(seg.data() + kSegmentSize - 4 * (count + 1)) != 0) ++count;
    t->kinds[1].full_records = count;
    t->work = ScratchDir() + "/work";
    for (const KindTemplate& k : t->kinds) {
      std::filesystem::create_directories(t->work + "/" + k.folder);
    }
    return t;
  }();
  return *t;
}

// Rewrites every record checksum the head's structure implies (and, if asked, the slots).
void Reseal(std::string* seg, const KindTemplate& k, uint64_t first, uint64_t head_len,
            bool slots) {
  std::byte* p = reinterpret_cast<std::byte*>(seg->data());
  const uint64_t cap = seg->size();
  const uint64_t head_end = std::min<uint64_t>(cap, format::kDataStart + head_len);
  if (k.fixed()) {
    const uint32_t size = k.info.record_size;
    const uint32_t sum_at = format::FixedChecksumOffset(size);
    for (uint64_t i = 0, off = format::kDataStart; off + k.stride <= head_end;
         ++i, off += k.stride) {
      base::EncodeFixed64(p + off + sum_at, format::FixedRecordChecksum(p + off, size, first + i));
    }
    return;
  }
  uint64_t off = format::kDataStart;
  for (uint64_t i = 0; off + format::kFrameHeaderSize <= head_end; ++i) {
    const uint32_t len = base::DecodeFixed32(p + off);
    const uint64_t limit = cap - format::kSlotSize * (i + 1);
    if (off + format::kFrameHeaderSize > limit || len > limit - off - format::kFrameHeaderSize) {
      break;
    }
    base::EncodeFixed64(p + off + 8, format::FrameChecksum(p + off, len, first + i));
    if (slots) base::EncodeFixed32(p + limit, static_cast<uint32_t>(off));
    off += format::RoundUp(format::kFrameHeaderSize + len, 8);
  }
}

testing::HeapMapEnv* Env() {
  static auto* env = new testing::HeapMapEnv;
  return env;
}

void CheckError(const absl::Status& s, const std::string& dir) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kDataLoss ||
             s.code() == absl::StatusCode::kFailedPrecondition)
      << s;
  FUZZ_CHECK(absl::StrContains(s.message(), dir)) << "error names no file: " << s;
}

// Reads everything, the way Get, scans and Verify do, and checks what the mode promises.
void Exercise(const std::shared_ptr<internal::Collection>& shared, const KindTemplate& k,
              RecoveryMode mode, bool writer, uint64_t input_first, const std::string& dir) {
  internal::Collection& c = *shared;
  const RecoveryReport& rep = c.recovery();
  const uint64_t begin = c.begin(), end = c.end();
  FUZZ_CHECK(begin <= rep.durable_point && rep.durable_point <= end && rep.records == end);
  std::set<uint64_t> holes;
  for (const BadRecord& b : rep.skipped) holes.insert(b.seq);
  uint64_t bad = 0;
  for (uint64_t seq = begin; seq < end; ++seq) {
    // The template's full segment is the same in every run: Get only a sample of it (Verify
    // and the scan below still read all of it).
    if (seq + 4 < input_first && seq % 64 != 0) continue;
    absl::StatusOr<std::span<const std::byte>> r = c.Get(seq);
    if (r.ok()) {
      if (k.fixed()) FUZZ_CHECK(r->size() == k.info.record_size);
      uint64_t sum = 0;  // touch every byte: ASan checks the reads
      for (std::byte b : *r) sum += static_cast<uint8_t>(b);
      (void)sum;
    } else {
      ++bad;
      CheckError(r.status(), dir);
      // Records from the durable point on were checked at open (the writer fixed their slots).
      FUZZ_CHECK(!(writer && seq >= rep.durable_point && holes.count(seq) == 0))
          << "record " << seq << " past the durable point " << rep.durable_point
          << " fails after a writer's recovery: " << r.status();
    }
  }
  FUZZ_CHECK(c.Get(end).status().code() == absl::StatusCode::kOutOfRange);
  // A scan, as applications make one.
  uint64_t yielded = 0, last = 0;
  bool stopped = false;
  UntypedLog log(shared);
  auto scan = log.Scan(begin);
  for (const auto& [seq, v] : scan) {
    FUZZ_CHECK(seq >= begin && seq < end && (yielded == 0 || seq > last));
    if (k.fixed()) FUZZ_CHECK(v.size() == k.info.record_size);
    uint64_t sum = 0;
    for (std::byte b : v) sum += static_cast<uint8_t>(b);
    (void)sum;
    last = seq;
    ++yielded;
  }
  const uint64_t skipped = scan.skipped();
  if (!scan.status().ok()) {
    stopped = true;
    CheckError(scan.status(), dir);
    FUZZ_CHECK(mode != RecoveryMode::kSalvage ||
               !absl::StrContains(scan.status().message(), " of collection '"))
        << "a salvage scan stopped at a record: " << scan.status();
  }
  FUZZ_CHECK(stopped || yielded + skipped == end - begin)
      << "a scan yielded " << yielded << " and skipped " << skipped << " of " << end - begin;
  FUZZ_CHECK(mode == RecoveryMode::kSalvage || skipped == 0);
  absl::StatusOr<VerifyReport> v = log.Verify();
  FUZZ_CHECK(v.ok()) << v.status();
  FUZZ_CHECK(!v->ok || bad == 0) << "Verify ok but " << bad << " bad records";
  FUZZ_CHECK(v->ok || v->first_bad.seq < end) << "Verify names record " << v->first_bad.seq;
  if (writer && mode == RecoveryMode::kAbsoluteConsistency) {
    FUZZ_CHECK(v->ok) << "a record fails after absolute consistency opened: " << v->first_bad.seq
                      << " " << v->first_bad.reason;
  }
  if (writer && mode == RecoveryMode::kTolerateTornTail && rep.durable_point <= input_first) {
    FUZZ_CHECK(v->ok) << "record " << v->first_bad.seq << " fails although recovery checked it";
  }
}

struct Input {
  uint8_t f0 = 0, f1 = 0;
  std::string commit;
  std::string rest;
  uint16_t tail = 0;
};

Input Parse(const uint8_t* data, size_t size) {
  Input in;
  std::string all(reinterpret_cast<const char*>(data), size);
  if (all.size() < 36) all.resize(36, '\0');
  in.f0 = static_cast<uint8_t>(all[0]);
  in.f1 = static_cast<uint8_t>(all[1]);
  in.commit = all.substr(2, 32);
  in.tail = base::DecodeFixed16(reinterpret_cast<const std::byte*>(all.data() + 34));
  in.rest = all.substr(36);
  return in;
}

// RECSTORE_FUZZ_DEBUG=1 prints what each open found (for replaying a crash by hand).
void Debug(const internal::Collection& c, const char* what) {
  static const bool on = std::getenv("RECSTORE_FUZZ_DEBUG") != nullptr;
  if (!on) return;
  const RecoveryReport& r = c.recovery();
  std::fprintf(stderr,
               "%s: end %llu, durable point %llu, tail kept %llu, truncated %d at %llu of %s "
               "(%llu bytes), segments removed %llu, skipped %zu\n",
               what, static_cast<unsigned long long>(c.end()),
               static_cast<unsigned long long>(r.durable_point),
               static_cast<unsigned long long>(r.tail_records_kept), r.truncated,
               static_cast<unsigned long long>(r.truncated_offset), r.truncated_file.c_str(),
               static_cast<unsigned long long>(r.bytes_dropped),
               static_cast<unsigned long long>(r.segments_removed), r.skipped.size());
}

std::shared_ptr<internal::Collection> Open(const KindTemplate& k, const std::string& dir,
                                           RecoveryMode mode, bool read_only) {
  // A read-only open re-reads the manifest entry: it stays the template's.
  class FixedManifest : public log::ManifestHook {
   public:
    explicit FixedManifest(const CollectionInfo& info) : info_(info) {}
    absl::Status Commit(const CollectionInfo&, bool*) override {
      return absl::UnimplementedError("the fuzz harness never switches the manifest");
    }
    absl::StatusOr<CollectionInfo> Reload(const std::string&) override { return info_; }

   private:
    const CollectionInfo info_;
  };
  static FixedManifest* const manifests[2] = {new FixedManifest(GetTemplate().kinds[0].info),
                                              new FixedManifest(GetTemplate().kinds[1].info)};
  internal::CollectionConfig cfg;
  cfg.env = Env();
  cfg.dir = dir;
  cfg.info = k.info;
  cfg.read_only = read_only;
  cfg.recovery = mode;
  cfg.prefault = false;
  cfg.manifest = manifests[&k == &GetTemplate().kinds[0] ? 0 : 1];
  absl::StatusOr<std::shared_ptr<internal::Collection>> c = internal::Collection::Open(cfg);
  if (!c.ok()) {
    CheckError(c.status(), dir);
    return nullptr;
  }
  Debug(**c, read_only ? "read-only open" : "writer open");
  return *std::move(c);
}

}  // namespace

const std::string& TemplateStoreDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(ScratchDir() + "/template");
    BuildStore(*d, /*full_first=*/true, /*n=*/0);
    return d;
  }();
  return *dir;
}

void RunReaderInput(const uint8_t* data, size_t size) {
  const Template& t = GetTemplate();
  const Input in = Parse(data, size);
  const KindTemplate& k = t.kinds[in.f0 & 1];
  const RecoveryMode mode = ((in.f0 >> 1) & 3) == 1   ? RecoveryMode::kAbsoluteConsistency
                            : ((in.f0 >> 1) & 3) == 2 ? RecoveryMode::kSalvage
                                                      : RecoveryMode::kTolerateTornTail;
  const std::string dir = t.work + "/" + k.folder;
  EmptyDir(dir);
  uint64_t first = 0;
  if (in.f0 & 0x10) {
    std::string prev = k.full_segment;
    if (in.f0 & 0x20) std::memset(prev.data() + format::kCommitBlockOffset, 0, 32);
    WriteFileBytes(dir + "/" + format::SegmentFileName(0), prev);
    first = k.full_records;
  }
  const uint64_t cap = k.info.segment_size;
  std::string seg(cap, '\0');
  std::byte* p = reinterpret_cast<std::byte*>(seg.data());
  format::EncodeSegmentHeader(k.Header(first, cap), p);
  std::string rest = in.rest;
  if (in.f1 & 4) {
    std::memcpy(p, rest.data(), std::min<size_t>(72, rest.size()));
    if (in.f1 & 8) FixSegmentHeaderChecksum(p);
    rest = rest.size() > 72 ? rest.substr(72) : "";
  }
  if (in.f0 & 0x80) {
    std::memcpy(p + format::kCommitBlockOffset, in.commit.data(), 32);
    if (!(in.f1 & 0x20)) FixCommitChecksum(p + format::kCommitBlockOffset, first);
  }
  const size_t tail = std::min<size_t>(in.tail, rest.size());
  const std::string head = rest.substr(0, rest.size() - tail);
  std::memcpy(p + format::kDataStart, head.data(),
              std::min<size_t>(head.size(), cap - format::kDataStart));
  std::memcpy(p + cap - tail, rest.data() + rest.size() - tail, tail);
  if (in.f0 & 8) Reseal(&seg, k, first, head.size(), (in.f1 & 0x10) != 0);
  if (in.f1 & 2) seg.resize(std::min<size_t>(cap, format::kDataStart + head.size()));
  WriteFileBytes(dir + "/" + format::SegmentFileName(first), seg);

  if (in.f1 & 1) {
    std::shared_ptr<internal::Collection> r = Open(k, dir, mode, /*read_only=*/true);
    if (r != nullptr) Exercise(r, k, mode, /*writer=*/false, first, dir);
  }
  std::shared_ptr<internal::Collection> w = Open(k, dir, mode, /*read_only=*/false);
  if (w == nullptr) return;
  Exercise(w, k, mode, /*writer=*/true, first, dir);
  const uint64_t end = w->end();
  const bool append = (in.f0 & 0x40) != 0;
  const FuzzRecord rec = FixedRecord(end);
  const std::string bytes = BytesRecord(end) + "!";
  auto same = [&](const std::span<const std::byte>& got) {
    return k.fixed() ? got.size() == sizeof(rec) && std::memcmp(got.data(), &rec, sizeof(rec)) == 0
                     : AsString(got) == bytes;
  };
  if (append) {
    std::string_view sv = bytes;
    absl::StatusOr<uint64_t> seq = k.fixed() ? w->AppendFixed(&rec, 1) : w->AppendBytes(&sv, 1);
    FUZZ_CHECK(seq.ok() && *seq == end) << "append after recovery: " << seq.status();
    absl::StatusOr<std::span<const std::byte>> got = w->Get(end);
    FUZZ_CHECK(got.ok() && same(*got)) << "appended record does not read back";
  }
  w.reset();  // a clean close: syncs and writes the commit block
  // Reopening finds the same records and nothing left to cut.
  std::shared_ptr<internal::Collection> again = Open(k, dir, mode, /*read_only=*/false);
  FUZZ_CHECK(again != nullptr) << "a store that opened does not reopen after a clean close";
  const RecoveryReport& rep = again->recovery();
  FUZZ_CHECK(again->end() == end + (append ? 1 : 0) && !rep.truncated && rep.segments_removed == 0)
      << "second open: end " << again->end() << " (was " << end << "), truncated " << rep.truncated
      << " at " << rep.truncated_offset << " of " << rep.truncated_file << ", segments removed "
      << rep.segments_removed;
  if (append) {
    absl::StatusOr<std::span<const std::byte>> got = again->Get(end);
    FUZZ_CHECK(got.ok() && same(*got))
        << "appended record lost after a clean close: "
        << (got.ok() ? std::string(AsString(*got)) : got.status().ToString());
  }
  // The reopened collection's segments (at most two) and its state page.
  FUZZ_CHECK(Env()->live_mappings() <= 3);
}

std::vector<std::string> ReaderSeeds(const std::string& scratch) {
  std::vector<std::string> seeds;
  const Template& t = GetTemplate();
  int n_store = 0;
  for (bool prev : {false, true}) {
    for (uint64_t n : {0, 1, 5, 40}) {
      const std::string dir = absl::StrCat(scratch, "/store-", n_store++);
      BuildStore(dir, prev, n);
      for (int kind = 0; kind < 2; ++kind) {
        const KindTemplate& k = t.kinds[kind];
        const uint64_t first = prev ? k.full_records : 0;
        const std::string path =
            absl::StrCat(dir, "/", k.folder, "/", format::SegmentFileName(first));
        const std::string seg = ReadFileBytes(path);
        if (seg.size() != kSegmentSize) continue;  // prev with n == 0: no second segment
        uint64_t head_end = format::kDataStart + n * k.stride;
        std::string tail;
        if (!k.fixed()) {
          head_end = format::kDataStart;
          for (uint64_t i = 0; i < n; ++i) {
            head_end += format::RoundUp(
                format::kFrameHeaderSize +
                    base::DecodeFixed32(reinterpret_cast<const std::byte*>(seg.data() + head_end)),
                8);
          }
          tail = seg.substr(kSegmentSize - 4 * n);
        }
        const std::string head = seg.substr(format::kDataStart, head_end - format::kDataStart);
        const std::string commit = seg.substr(format::kCommitBlockOffset, 32);
        // (f0 without kind and prev, f1)
        const std::pair<uint8_t, uint8_t> variants[] = {
            {0x80, 0}, {0x80 | 2, 0}, {4, 0}, {0x40, 1}, {0x80 | 0x40 | 4, 0},
            {8, 0x10}, {2 | 0x20, 0},
        };
        for (auto [f0, f1] : variants) {
          std::string s;
          s.push_back(static_cast<char>(f0 | kind | (prev ? 0x10 : 0)));
          s.push_back(static_cast<char>(f1));
          s += commit;
          s.push_back(static_cast<char>(tail.size() & 0xff));
          s.push_back(static_cast<char>(tail.size() >> 8));
          s += head + tail;
          seeds.push_back(std::move(s));
        }
      }
    }
  }
  return seeds;
}

}  // namespace recstore::fuzz
