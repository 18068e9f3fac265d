// StoreImage: builds the corruption tests' store with the engine and maps its bytes.
#include "tests/corruption/store_image.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "tests/testing/state_page.h"

namespace recstore::testing {
namespace {

constexpr uint64_t kFixedRecords = 548 * 2 + 40;  // two full segments and part of a third
constexpr uint64_t kByteRecords = 600;            // two full segments and part of a third
constexpr uint32_t kRecordSize = sizeof(Reading);
constexpr uint32_t kChecksumOffset = 104;  // round_up(100, 8)

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

std::string Fill(uint64_t seed, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = SplitMix(seed + i);
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteWholeFile(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()) ||
      ::ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) {
    // The caller's next open reports the damage; nothing better to do here.
  }
  ::close(fd);
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

int NextVersion() {
  static int version = 0;
  return ++version;
}

absl::Status Load(const std::string& dir, const std::string& name, CollectionKind kind,
                  uint64_t total, CollectionImage* c) {
  c->name = name;
  c->kind = kind;
  c->version = NextVersion();
  if (kind == CollectionKind::kFixed)
    c->stride = format::FixedStride(kRecordSize, alignof(Reading));
  for (const std::string& f : ListFiles(dir)) {
    if (f.size() > name.size() && f.ends_with("-" + name)) c->folder = f;
  }
  if (c->folder.empty()) return absl::InternalError(absl::StrCat("no folder for ", name));
  for (const std::string& f : ListFiles(dir + "/" + c->folder)) {
    if (::recstore::testing::IsStatePage(f)) continue;
    SegmentImage s;
    if (!format::ParseSegmentFileName(f, &s.first_seq)) {
      return absl::InternalError(absl::StrCat("unexpected file ", f));
    }
    s.file = f;
    s.bytes = ReadWholeFile(absl::StrCat(dir, "/", c->folder, "/", f));
    c->segments.push_back(std::move(s));
  }
  for (size_t k = 0; k < c->segments.size(); ++k) {
    SegmentImage& s = c->segments[k];
    const uint64_t end = k + 1 < c->segments.size() ? c->segments[k + 1].first_seq : total;
    s.records = end - s.first_seq;
    const uint64_t cap = s.bytes.size();
    uint64_t off = format::kDataStart;
    for (uint64_t i = 0; i < s.records; ++i) {
      RecordLoc r;
      r.seq = s.first_seq + i;
      r.segment = k;
      const std::string want = ExpectedPayload(kind, r.seq);
      if (kind == CollectionKind::kFixed) {
        r.offset = format::kDataStart + i * c->stride;
        r.span = c->stride;
        if (s.bytes.compare(r.offset, want.size(), want) != 0) {
          return absl::InternalError(absl::StrCat(name, ": record ", r.seq, " not where expected"));
        }
      } else {
        r.offset = off;
        const uint32_t len = base::DecodeFixed32(s.bytes.data() + off);
        r.span = format::RoundUp(format::kFrameHeaderSize + len, 8);
        r.slot = cap - format::kSlotSize * (i + 1);
        if (base::DecodeFixed32(s.bytes.data() + r.slot) != off || len != want.size() ||
            s.bytes.compare(off + format::kFrameHeaderSize, len, want) != 0) {
          return absl::InternalError(absl::StrCat(name, ": frame ", r.seq, " not where expected"));
        }
        off += r.span;
      }
      c->records.push_back(r);
      c->payloads.push_back(want);
    }
  }
  if (c->records.size() != total || c->segments.size() < 3) {
    return absl::InternalError(absl::StrCat(name, ": ", c->records.size(), " records in ",
                                            c->segments.size(), " segments"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ExpectedPayload(CollectionKind kind, uint64_t seq) {
  if (kind == CollectionKind::kFixed) {
    Reading r;
    r.sensor = static_cast<uint32_t>(seq * 2654435761u);
    r.value = ~static_cast<uint32_t>(seq);
    const std::string label = Fill(seq * 131 + 7, sizeof(r.label));
    std::memcpy(r.label, label.data(), sizeof(r.label));
    return std::string(reinterpret_cast<const char*>(&r), sizeof(r));
  }
  // Lengths 0..400; every 50th record is empty and every 50th is 64 bytes (no frame padding).
  size_t len = SplitMix(seq ^ 0x5eed) % 401;
  if (seq % 50 == 7) len = 0;
  if (seq % 50 == 8) len = 64;
  return Fill(seq * 977 + 3, len);
}

const char* RoleName(ByteRole role) {
  switch (role) {
    case ByteRole::kHeader:
      return "segment header";
    case ByteRole::kCommit:
      return "commit block";
    case ByteRole::kHeaderFiller:
      return "header page filler";
    case ByteRole::kCovered:
      return "checksummed record byte";
    case ByteRole::kPadding:
      return "record padding";
    case ByteRole::kSlot:
      return "slot index";
    case ByteRole::kFree:
      return "free space";
  }
  return "?";
}

ByteInfo CollectionImage::Classify(size_t segment, uint64_t offset) const {
  if (offset < 72) return {ByteRole::kHeader};
  if (offset >= format::kCommitBlockOffset && offset < format::kCommitBlockOffset + 32) {
    return {ByteRole::kCommit};
  }
  if (offset < format::kDataStart) return {ByteRole::kHeaderFiller};
  const SegmentImage& s = segments[segment];
  if (fixed()) {
    const uint64_t i = (offset - format::kDataStart) / stride;
    if (i >= s.records) return {ByteRole::kFree};
    const uint64_t rel = (offset - format::kDataStart) % stride;
    const bool covered = rel < kRecordSize || (rel >= kChecksumOffset && rel < kChecksumOffset + 8);
    return {covered ? ByteRole::kCovered : ByteRole::kPadding, s.first_seq + i};
  }
  const uint64_t cap = s.bytes.size();
  if (offset >= cap - format::kSlotSize * s.records) {
    return {ByteRole::kSlot, s.first_seq + (cap - offset - 1) / format::kSlotSize};
  }
  // The last frame starting at or before `offset`.
  auto first = records.begin() + static_cast<std::ptrdiff_t>(s.first_seq);
  auto last = first + static_cast<std::ptrdiff_t>(s.records);
  auto it = std::upper_bound(first, last, offset,
                             [](uint64_t off, const RecordLoc& r) { return off < r.offset; });
  if (it == first) return {ByteRole::kFree};
  const RecordLoc& r = *(it - 1);
  if (offset >= r.offset + r.span) return {ByteRole::kFree};
  const uint64_t len = base::DecodeFixed32(s.bytes.data() + r.offset);
  return {
      offset < r.offset + format::kFrameHeaderSize + len ? ByteRole::kCovered : ByteRole::kPadding,
      r.seq};
}

bool CollectionImage::HasNextInSegment(uint64_t seq) const {
  return seq + 1 < records.size() && records[seq + 1].segment == records[seq].segment;
}

std::string CollectionImage::SegmentPath(const std::string& dir, size_t segment) const {
  return absl::StrCat(dir, "/", folder, "/", segments[segment].file);
}

absl::StatusOr<StoreImage> StoreImage::Build(const std::string& dir) {
  uint64_t fixed_total = 0, bytes_total = 0;
  {
    RECSTORE_ASSIGN_OR_RETURN(
        std::unique_ptr<Store> store,
        Store::Open(dir, {.create_if_missing = true, .segment_size = kSegmentSize}));
    RECSTORE_ASSIGN_OR_RETURN(Log<Reading> readings, store->OpenLog<Reading>(kFixedName));
    RECSTORE_ASSIGN_OR_RETURN(ByteLog events, store->OpenByteLog(kBytesName));
    std::vector<Reading> batch;
    for (uint64_t seq = 0; seq < kFixedRecords; ++seq) {
      Reading r;
      std::memcpy(&r, ExpectedPayload(CollectionKind::kFixed, seq).data(), sizeof(r));
      batch.push_back(r);
      if (batch.size() == 100 || seq + 1 == kFixedRecords) {
        RECSTORE_RETURN_IF_ERROR(readings.AppendBatch(batch).status());
        batch.clear();
      }
      if (seq % 500 == 499) RECSTORE_RETURN_IF_ERROR(readings.Sync().status());
    }
    for (uint64_t seq = 0; seq < kByteRecords; ++seq) {
      RECSTORE_RETURN_IF_ERROR(
          events.Append(ExpectedPayload(CollectionKind::kVariable, seq)).status());
      if (seq % 300 == 299) RECSTORE_RETURN_IF_ERROR(events.Sync().status());
    }
    fixed_total = readings.end();
    bytes_total = events.end();
  }  // a clean close: everything durable, commit blocks current
  StoreImage img;
  img.dir_ = dir;
  img.manifest_ = ReadWholeFile(dir + "/MANIFEST");
  RECSTORE_RETURN_IF_ERROR(Load(dir, kFixedName, CollectionKind::kFixed, fixed_total, &img.fixed_));
  RECSTORE_RETURN_IF_ERROR(
      Load(dir, kBytesName, CollectionKind::kVariable, bytes_total, &img.bytes_));
  return img;
}

void StoreImage::Restore(const CollectionImage& c, const std::set<std::string>& changed) {
  for (const std::string& path : changed) {
    auto it = on_disk_.find(path);
    if (it != on_disk_.end()) {
      it->second = 0;  // must be rewritten before its image is used again
    } else if (path.ends_with(".tmp") || path.ends_with(".seg")) {
      ::unlink(path.c_str());
    }
  }
  for (size_t k = 0; k < c.segments.size(); ++k) {
    const std::string path = c.SegmentPath(dir_, k);
    int& version = on_disk_[path];
    struct stat st;
    if (version != c.version || ::stat(path.c_str(), &st) != 0 ||
        static_cast<uint64_t>(st.st_size) != c.segments[k].bytes.size()) {
      WriteWholeFile(path, c.segments[k].bytes);
      version = c.version;
    }
  }
  if (changed.count(dir_ + "/MANIFEST") > 0) WriteWholeFile(dir_ + "/MANIFEST", manifest_);
}

CollectionImage WithoutCommitBlocks(const CollectionImage& c) {
  CollectionImage out = c;
  out.commit_blocks = false;
  out.version = NextVersion();
  for (SegmentImage& s : out.segments) {
    std::memset(s.bytes.data() + format::kCommitBlockOffset, 0, 32);
  }
  return out;
}

void FlipBit(const std::string& path, uint64_t offset, int bit) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  char b = 0;
  if (::pread(fd, &b, 1, static_cast<off_t>(offset)) == 1) {
    b = static_cast<char>(b ^ (1 << bit));
    if (::pwrite(fd, &b, 1, static_cast<off_t>(offset)) != 1) b = 0;
  }
  ::close(fd);
}

void CutFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return;
}

void ZeroFrom(const std::string& path, uint64_t offset) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;
  if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) return;
  if (::truncate(path.c_str(), st.st_size) != 0) return;
}

}  // namespace recstore::testing
