// FileSet: builds the damaged-file tests' store with the engine and records its bytes.
#include "tests/corruption/file_set.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/segment_header.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/open_store.h"
#include "tests/testing/state_page.h"

namespace recstore::testing {
namespace {

using ::recstore::testing::WriteFileBytes;

// readings: two sealed segments and part of a third before the Merge (3 compacted segments of
// at most 512 records), then up to part of the seventh segment (5 ordinary segments). events:
// about three segments before the Merge (3 compacted segments), then about four more.
constexpr uint64_t kReadingsPerSegment = 548;
constexpr uint64_t kReadingsBeforeMerge = kReadingsPerSegment * 2 + 100;
constexpr uint64_t kReadingsTotal = kReadingsPerSegment * 6 + 200;
constexpr uint64_t kEventsBeforeMerge = 850;
constexpr uint64_t kEventsTotal = 2000;
constexpr int kCheckpointSaves = 24;
constexpr uint64_t kTicks = 20000;
constexpr size_t kCheckpointSize = 14000;

std::string CheckpointPayload(int version) {
  std::string s(kCheckpointSize, '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<char>((i * 131 + static_cast<size_t>(version) * 7919) >> 3);
  }
  return s;
}

absl::Status AppendReadings(const Log<Reading>& log, uint64_t from, uint64_t to) {
  std::vector<Reading> batch;
  for (uint64_t seq = from; seq < to; ++seq) {
    Reading r;
    std::memcpy(&r, ExpectedPayload(CollectionKind::kFixed, seq).data(), sizeof(r));
    batch.push_back(r);
    if (batch.size() == 100 || seq + 1 == to) {
      RECSTORE_RETURN_IF_ERROR(log.AppendBatch(batch).status());
      batch.clear();
      RECSTORE_RETURN_IF_ERROR(log.Sync().status());
    }
  }
  return absl::OkStatus();
}

absl::Status AppendEvents(const ByteLog& log, uint64_t from, uint64_t to) {
  for (uint64_t seq = from; seq < to; ++seq) {
    RECSTORE_RETURN_IF_ERROR(log.Append(ExpectedPayload(CollectionKind::kVariable, seq)).status());
    if (seq % 100 == 99 || seq + 1 == to) RECSTORE_RETURN_IF_ERROR(log.Sync().status());
  }
  return absl::OkStatus();
}

void ListTree(const std::string& root, const std::string& rel, Tree* out) {
  DIR* d = ::opendir((rel.empty() ? root : root + "/" + rel).c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const std::string& n : names) {
    const std::string path = rel.empty() ? n : rel + "/" + n;
    const std::string full = root + "/" + path;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      (*out)[path + "/"] = "";
      ListTree(root, path, out);
      continue;
    }
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    bytes.resize(got);
    (*out)[path] = std::move(bytes);
  }
}

// Checks that record `i` of segment file `bytes` holds `want` (the file's own layout: a fixed
// slot, or the frame its slot names) and returns why not.
std::string RecordInFile(const std::string& bytes, CollectionKind kind, uint64_t i,
                         const std::string& want) {
  if (kind == CollectionKind::kFixed) {
    const uint64_t off =
        format::kDataStart + i * format::FixedStride(sizeof(Reading), alignof(Reading));
    if (off + want.size() > bytes.size() || bytes.compare(off, want.size(), want) != 0) {
      return absl::StrCat("slot ", i, " at ", off, " does not hold it");
    }
    return "";
  }
  const uint64_t slot = bytes.size() - format::kSlotSize * (i + 1);
  const uint64_t off = base::DecodeFixed32(bytes.data() + slot);
  if (off + format::kFrameHeaderSize + want.size() > bytes.size() ||
      base::DecodeFixed32(bytes.data() + off) != want.size() ||
      bytes.compare(off + format::kFrameHeaderSize, want.size(), want) != 0) {
    return absl::StrCat("frame ", i, " at ", off, " does not hold it");
  }
  return "";
}

}  // namespace

Tree ReadTree(const std::string& dir) {
  Tree t;
  ListTree(dir, "", &t);
  return t;
}

void WriteTree(const std::string& dir, const Tree& now, const Tree& want) {
  // Removals first, deepest paths first (files before their folder).
  for (auto it = now.rbegin(); it != now.rend(); ++it) {
    if (want.count(it->first) > 0) continue;
    const std::string full = dir + "/" + it->first;
    if (it->first.ends_with("/")) {
      ::rmdir(full.c_str());
    } else {
      ::unlink(full.c_str());
    }
  }
  for (const auto& [path, bytes] : want) {  // folders sort before the files in them
    auto it = now.find(path);
    if (it != now.end() && it->second == bytes) continue;
    const std::string full = dir + "/" + path;
    if (path.ends_with("/")) {
      ::mkdir(full.c_str(), 0755);
    } else {
      WriteFileBytes(full, bytes);
    }
  }
}

std::vector<std::string> DiffTree(const Tree& a, const Tree& b,
                                  const std::set<std::string>& ignore) {
  std::vector<std::string> out;
  for (const auto& [path, bytes] : a) {
    if (ignore.count(path) > 0 || IsStatePage(path)) continue;
    auto it = b.find(path);
    if (it == b.end()) {
      out.push_back(path + " (removed)");
    } else if (it->second != bytes) {
      out.push_back(path + " (changed)");
    }
  }
  for (const auto& [path, bytes] : b) {
    if (ignore.count(path) == 0 && a.count(path) == 0 && !IsStatePage(path)) {
      out.push_back(path + " (created)");
    }
  }
  return out;
}

namespace {

absl::Status BuildMixed(const std::string& dir, std::vector<std::string>* saves) {
  RECSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(dir, {.create_if_missing = true, .segment_size = kSegmentSize}));
  RECSTORE_ASSIGN_OR_RETURN(Log<Reading> readings, store->OpenLog<Reading>(kFixedName));
  RECSTORE_ASSIGN_OR_RETURN(ByteLog events, store->OpenByteLog(kBytesName));
  RECSTORE_ASSIGN_OR_RETURN(Checkpoints checkpoints,
                            store->OpenCheckpoints(kCheckpointSet, {.keep = kCheckpointKeep}));
  RECSTORE_RETURN_IF_ERROR(AppendReadings(readings, 0, kReadingsBeforeMerge));
  RECSTORE_RETURN_IF_ERROR(AppendEvents(events, 0, kEventsBeforeMerge));
  RECSTORE_RETURN_IF_ERROR(readings.Merge().status());
  RECSTORE_RETURN_IF_ERROR(events.Merge().status());
  RECSTORE_RETURN_IF_ERROR(AppendReadings(readings, kReadingsBeforeMerge, kReadingsTotal));
  RECSTORE_RETURN_IF_ERROR(AppendEvents(events, kEventsBeforeMerge, kEventsTotal));
  for (int v = 0; v < kCheckpointSaves; ++v) {
    saves->push_back(CheckpointPayload(v));
    RECSTORE_RETURN_IF_ERROR(checkpoints.Save(saves->back()).status());
  }
  return absl::OkStatus();  // a clean close: everything durable
}

absl::Status BuildTiny(const std::string& dir) {
  RECSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(dir, {.create_if_missing = true, .segment_size = kSegmentSize}));
  RECSTORE_ASSIGN_OR_RETURN(ByteLog ticks, store->OpenByteLog(kTicksName));
  // Empty records, each viewing a real (empty) string: a default-constructed string_view has
  // no data pointer, which the append copies from (a memcpy from null, undefined behaviour
  // that UBSan reports in src/log/append.cc).
  static const char kEmpty[] = "";
  const std::vector<std::string_view> batch(1000, std::string_view(kEmpty, 0));
  for (uint64_t n = 0; n < kTicks; n += batch.size()) {
    RECSTORE_RETURN_IF_ERROR(ticks.AppendBatch(batch).status());
    RECSTORE_RETURN_IF_ERROR(ticks.Sync().status());
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// Whether the file at `full` holds exactly `want`, read in chunks.
bool SameFile(const std::string& full, const std::string& want) {
  struct stat st;
  if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != want.size()) {
    return false;
  }
  int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  static char buf[1 << 16];
  bool same = true;
  for (size_t off = 0; same && off < want.size();) {
    ssize_t n = ::pread(fd, buf, std::min(sizeof(buf), want.size() - off), static_cast<off_t>(off));
    if (n <= 0) {
      same = false;
      break;
    }
    same = std::memcmp(buf, want.data() + off, static_cast<size_t>(n)) == 0;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return same;
}

void ListNames(const std::string& root, const std::string& rel, std::vector<std::string>* out) {
  DIR* d = ::opendir((rel.empty() ? root : root + "/" + rel).c_str());
  if (d == nullptr) return;
  std::vector<std::pair<std::string, bool>> entries;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    const std::string path = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    if (::lstat((root + "/" + path).c_str(), &st) != 0) continue;
    entries.emplace_back(path, S_ISDIR(st.st_mode));
  }
  ::closedir(d);
  for (const auto& [path, dir] : entries) {
    out->push_back(dir ? path + "/" : path);
    if (dir) ListNames(root, path, out);
  }
}

}  // namespace

std::vector<std::string> DiffDir(const std::string& dir, const Tree& want,
                                 const std::set<std::string>& ignore) {
  std::vector<std::string> names;
  ListNames(dir, "", &names);
  std::set<std::string> present(names.begin(), names.end());
  std::vector<std::string> out;
  for (const auto& [path, bytes] : want) {
    if (ignore.count(path) > 0 || IsStatePage(path)) continue;
    if (present.count(path) == 0) {
      out.push_back(path + " (removed)");
    } else if (!path.ends_with("/") && !SameFile(dir + "/" + path, bytes)) {
      out.push_back(path + " (changed)");
    }
  }
  for (const std::string& path : names) {
    if (ignore.count(path) == 0 && want.count(path) == 0 && !IsStatePage(path)) {
      out.push_back(path + " (created)");
    }
  }
  return out;
}

void RestoreDir(const std::string& dir, const Tree& want, const std::vector<std::string>& diff) {
  Tree now;  // what differs, as far as WriteTree needs to know
  for (const std::string& entry : diff) {
    const std::string path = entry.substr(0, entry.rfind(" ("));
    if (entry.ends_with("(created)")) now[path] = "";
    if (entry.ends_with("(changed)")) now[path] = want.at(path) + "x";  // anything else
  }
  for (const auto& [path, bytes] : want) {
    if (now.count(path) == 0 &&
        std::find(diff.begin(), diff.end(), path + " (removed)") == diff.end()) {
      now[path] = bytes;
    }
  }
  WriteTree(dir, now, want);
}

absl::StatusOr<FileSet> FileSet::Build(const std::string& dir, Layout layout) {
  std::vector<std::string> saves;
  if (layout == Layout::kMixed) {
    RECSTORE_RETURN_IF_ERROR(BuildMixed(dir, &saves));
  } else {
    RECSTORE_RETURN_IF_ERROR(BuildTiny(dir));
  }
  FileSet set;
  set.dir_ = dir;
  set.pristine_ = ReadTree(dir);
  if (!saves.empty()) {
    set.newest_checkpoint_ = saves.back();
    set.newest_checkpoint_seq_ = kCheckpointSaves - 1;
  }
  // What each collection holds, read back once by the engine from the pristine store and
  // checked against what was appended and against the files' own layout.
  RECSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir, {.read_only = true}));
  for (const CollectionInfo& info : store->ListCollections()) {
    CollectionTruth c;
    c.name = info.name;
    c.kind = info.kind;
    c.folder = absl::StrCat(absl::Dec(info.id, absl::kZeroPad6), "-", info.name);
    c.compacted_end = info.compacted_end;
    RECSTORE_ASSIGN_OR_RETURN(UntypedLog log, store->OpenUntyped(info.name));
    c.begin = log.begin();
    c.end = log.end();
    const bool is_checkpoint = info.name == kCheckpointLog;
    const bool is_ticks = info.name == kTicksName;
    const uint64_t want_end = is_checkpoint                         ? kCheckpointSaves
                              : is_ticks                            ? kTicks
                              : info.kind == CollectionKind::kFixed ? kReadingsTotal
                                                                    : kEventsTotal;
    if (c.end != want_end || (!is_checkpoint && c.begin != 0) || c.begin >= c.end) {
      return absl::InternalError(absl::StrCat(info.name, ": records [", c.begin, ", ", c.end,
                                              "), expected end ", want_end));
    }
    for (uint64_t seq = c.begin; seq < c.end; ++seq) {
      RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> got, log.Get(seq));
      std::string bytes(AsString(got));
      const bool right =
          is_checkpoint ? bytes.size() == kCheckpointHeaderSize + kCheckpointSize &&
                              bytes.compare(kCheckpointHeaderSize, kCheckpointSize, saves[seq]) == 0
                        : bytes == (is_ticks ? std::string() : ExpectedPayload(info.kind, seq));
      if (!right) return absl::InternalError(absl::StrCat(info.name, ": record ", seq, " differs"));
      c.records.push_back(std::move(bytes));
    }
    // Segment files in record order: compacted ones (below compacted_end), then ordinary ones.
    std::vector<std::pair<uint64_t, std::string>> compacted, ordinary;
    for (const auto& [path, bytes] : set.pristine_) {
      if (!path.starts_with(c.folder + "/") || path.ends_with("/")) continue;
      const std::string name = path.substr(c.folder.size() + 1);
      uint64_t first, generation;
      if (format::ParseSegmentFileName(name, &first)) {
        ordinary.emplace_back(first, path);
      } else if (format::ParseCompactedFileName(name, &generation, &first)) {
        compacted.emplace_back(first, path);
      } else if (!IsStatePage(name)) {
        return absl::InternalError(absl::StrCat("unexpected file ", path));
      }
    }
    std::sort(compacted.begin(), compacted.end());
    std::sort(ordinary.begin(), ordinary.end());
    std::vector<uint64_t> firsts;
    for (const auto* list : {&compacted, &ordinary}) {
      for (const auto& [first, path] : *list) {
        firsts.push_back(first);
        c.files.push_back(path);
      }
    }
    const size_t n_compacted = compacted.size();
    for (uint64_t seq = c.begin; seq < c.end; ++seq) {
      // The last file of the right kind starting at or before seq.
      size_t lo = seq < c.compacted_end ? 0 : n_compacted;
      size_t hi = seq < c.compacted_end ? n_compacted : firsts.size();
      size_t k = hi;
      for (size_t i = lo; i < hi; ++i) {
        if (firsts[i] <= seq) k = i;
      }
      if (k == hi) return absl::InternalError(absl::StrCat(info.name, ": no file for ", seq));
      const std::string why = RecordInFile(set.pristine_.at(c.files[k]), c.kind, seq - firsts[k],
                                           c.records[seq - c.begin]);
      if (!why.empty()) {
        return absl::InternalError(absl::StrCat(c.files[k], ": record ", seq, ": ", why));
      }
      c.file_of.push_back(k);
    }
    const size_t want_compacted = is_checkpoint || is_ticks ? 0 : 3;
    const size_t want_ordinary = is_ticks ? 7 : is_checkpoint ? 3 : 5;
    if (compacted.size() < want_compacted || ordinary.size() < want_ordinary) {
      return absl::InternalError(absl::StrCat(info.name, ": ", compacted.size(), " compacted and ",
                                              ordinary.size(), " ordinary segments"));
    }
    set.collections_.push_back(std::move(c));
  }
  if (set.collections_.size() != (layout == Layout::kMixed ? 3u : 1u)) {
    return absl::InternalError("unexpected collections");
  }
  return set;
}

std::vector<std::string> FileSet::Files() const {
  std::vector<std::string> out;
  for (const CollectionTruth& c : collections_)
    out.insert(out.end(), c.files.begin(), c.files.end());
  out.push_back("MANIFEST");
  out.push_back("LOCK");
  return out;
}

int FileSet::CollectionOf(const std::string& file) const {
  for (size_t i = 0; i < collections_.size(); ++i) {
    if (file.starts_with(collections_[i].folder + "/")) return static_cast<int>(i);
  }
  return -1;
}

const char* DamageName(Damage d) {
  switch (d) {
    case Damage::kDelete:
      return "deleted";
    case Damage::kZero:
      return "zeroed whole";
    case Damage::kTruncate:
      return "truncated to 0";
    case Damage::kTruncateToHeader:
      return "truncated to its header";
    case Damage::kZeroHeader:
      return "header zeroed";
  }
  return "?";
}

bool ApplyDamage(Damage d, const std::string& file, Tree* tree) {
  auto it = tree->find(file);
  if (it == tree->end()) return false;
  std::string& bytes = it->second;
  const bool lock = file == "LOCK";
  const size_t header = file == "MANIFEST" ? 40 : format::kEncodedSegmentHeaderSize;
  const size_t page = file == "MANIFEST" ? 40 : format::kSegmentHeaderSize;
  const std::string before = bytes;
  switch (d) {
    case Damage::kDelete:
      tree->erase(it);
      return true;
    case Damage::kZero:
      bytes.assign(bytes.size(), '\0');
      break;
    case Damage::kTruncate:
      bytes.clear();
      break;
    case Damage::kTruncateToHeader:
      if (lock || bytes.size() <= page) return false;
      bytes.resize(page);
      break;
    case Damage::kZeroHeader:
      if (lock || bytes.size() < header) return false;
      std::memset(bytes.data(), 0, header);
      break;
  }
  return bytes != before;
}

}  // namespace recstore::testing
