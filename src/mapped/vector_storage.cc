#include "src/mapped/vector_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/format/manifest.h"
#include "src/mapped/file_names.h"
#include "src/mapped/journal.h"
#include "src/mapped/vector_state.h"

namespace recstore::internal {
namespace {

using mapped::DirOf;
using mapped::NewFileId;

using format::kMappedPage;
using mapped::AllZero;
using mapped::kPage;
using mapped::RoundUpToPage;

}  // namespace

absl::StatusOr<std::unique_ptr<VectorStorage>> VectorStorage::Open(
    std::string path, const MappedVectorOptions& options, const RecordSchema& schema) {
  if (path.empty()) return absl::InvalidArgumentError("MappedVector::Open: the path is empty");
  if (!format::MappedHeaderFits(schema)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the schema of '", schema.type_name,
                                                   "' does not fit a 4096-byte header page"));
  }
  std::unique_ptr<VectorStorage> st(new VectorStorage);
  st->env_ = options.env != nullptr ? options.env : Env::Default();
  st->path_ = std::move(path);
  st->journal_path_ = st->path_ + "-journal";
  st->writable_ = !options.read_only;
  st->elem_size_ = schema.size;
  st->schema_ = schema;
  st->max_bytes_ = options.max_bytes;
  if (st->writable_) {
    absl::StatusOr<mapped::Region> region =
        mapped::Region::Reserve(st->env_, options.max_bytes, st->path_);
    if (!region.ok()) return region.status();
    st->region_ = *std::move(region);
    absl::Status s = st->OpenWriter(options, schema);
    if (!s.ok()) return s;
    return st;
  }
  absl::StatusOr<os::LockFile> f = os::LockFile::Open(st->env_, st->path_, O_RDONLY, 0);
  if (!f.ok()) return f.status();
  st->file_ = *std::move(f);
  absl::StatusOr<os::File> j = os::File::Open(st->env_, st->journal_path_, O_RDONLY);
  if (j.ok()) {
    st->journal_ = *std::move(j);
  } else if (!absl::IsNotFound(j.status())) {
    return j.status();
  }
  absl::Status s = st->Refresh();
  if (!s.ok()) return s;
  return st;
}

absl::StatusOr<std::unique_ptr<VectorStorage>> VectorStorage::Scratch(const ScratchOptions& options,
                                                                      const RecordSchema& schema) {
  std::unique_ptr<VectorStorage> st(new VectorStorage);
  st->env_ = options.env != nullptr ? options.env : Env::Default();
  st->writable_ = true;
  st->scratch_ = true;
  st->elem_size_ = schema.size;
  st->schema_ = schema;
  const std::string name = options.dir.empty() ? "scratch vector" : options.dir;
  absl::StatusOr<mapped::Region> region =
      mapped::Region::Reserve(st->env_, options.max_bytes, name);
  if (!region.ok()) return region.status();
  st->region_ = *std::move(region);
  if (!options.dir.empty()) {
    // O_TMPFILE: a file with no name, gone with its last descriptor.
    absl::StatusOr<os::LockFile> f =
        os::LockFile::Open(st->env_, options.dir, O_RDWR | O_TMPFILE, 0600);
    if (!f.ok()) return f.status();
    st->file_ = *std::move(f);
    st->path_ = options.dir;
  }
  if (options.reserve > 0) {
    if (options.reserve > st->region_.reserved() / st->elem_size_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          name, ": reserving ", options.reserve, " elements passes max_bytes ", options.max_bytes));
    }
    absl::Status s = st->Grow(uint64_t{options.reserve} * st->elem_size_);
    if (!s.ok()) return s;
  }
  return st;
}

absl::Status VectorStorage::OpenWriter(const MappedVectorOptions& options,
                                       const RecordSchema& schema) {
  bool created = false;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<os::LockFile> f = os::LockFile::Open(env_, path_, O_RDWR, 0);
    if (f.ok()) {
      file_ = *std::move(f);
      break;
    }
    if (!absl::IsNotFound(f.status())) return f.status();
    if (!options.create_if_missing) {
      return absl::NotFoundError(
          absl::StrCat(path_, ": no such vector file (open with create_if_missing to create it)"));
    }
    // O_EXCL: of two processes creating the file at once, one creates it and the other opens
    // what the first made (and waits for its lock).
    f = os::LockFile::Open(env_, path_, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (f.ok()) {
      file_ = *std::move(f);
      created = true;
      break;
    }
    if (!absl::IsAlreadyExists(f.status()) || attempt >= 3) return f.status();
  }
  // The creator makes the file before it can lock it. An opener that takes the lock in between
  // finds the file empty: it lets the lock go and looks again, for as long as the creator
  // retries its lock, so that the creator goes first.
  constexpr int kTries = 2500;
  constexpr auto kPause = std::chrono::microseconds(200);
  absl::Status locked;
  for (int i = 0; i < kTries; ++i) {
    if (i > 0) std::this_thread::sleep_for(kPause);
    locked = env_->Lock(file_.fd(), path_, 0, LockKind::kExclusive);
    if (!locked.ok()) {
      if (created && absl::IsUnavailable(locked)) continue;
      break;
    }
    if (created) break;
    absl::StatusOr<uint64_t> size = env_->FileSize(file_.fd(), path_);
    if (!size.ok()) return size.status();
    if (*size != 0 || i + 1 == kTries) break;
    if (absl::Status u = env_->Lock(file_.fd(), path_, 0, LockKind::kUnlock); !u.ok()) return u;
  }
  if (!locked.ok()) {
    if (!absl::IsUnavailable(locked)) return locked;
    return absl::UnavailableError(absl::StrCat(
        path_, ": open for writing by another MappedVector (in this process or another)"));
  }
  if (created) {
    if (absl::Status s = InitializeLocked(schema); !s.ok()) return s;
  }
  if (absl::Status s = RecoverLocked(options, schema); !s.ok()) return s;
  absl::StatusOr<uint64_t> file_size = env_->FileSize(file_.fd(), path_);
  if (!file_size.ok()) return file_size.status();
  // Whole pages only can be mapped: a file whose length is not 4096 plus whole pages (this
  // build never writes one) is extended to the next page first, so that every element the
  // header counts lies in the mapping.
  const uint64_t data_bytes = RoundUpToPage(*file_size - kMappedPage);
  if (kMappedPage + data_bytes > *file_size) {
    absl::Status s =
        env_->Allocate(file_.fd(), path_, *file_size, kMappedPage + data_bytes - *file_size);
    if (!s.ok()) return s;
  }
  if (data_bytes > region_.reserved()) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": holds ", data_bytes, " bytes of elements, more than max_bytes (",
                     options.max_bytes, "); open it with a larger max_bytes"));
  }
  return region_.Extend(data_bytes, file_.fd(), kMappedPage, /*shared=*/false);
}

absl::Status VectorStorage::RecoverLocked(const MappedVectorOptions& options,
                                          const RecordSchema& schema) {
  absl::StatusOr<std::string> page = mapped::ReadHeaderPage(env_, file_.fd(), path_);
  if (!page.ok()) return page.status();
  absl::StatusOr<os::File> j = os::File::Open(env_, journal_path_, O_RDWR);
  bool journal_missing = false;
  if (j.ok()) {
    journal_ = *std::move(j);
  } else if (absl::IsNotFound(j.status())) {
    journal_missing = true;
  } else {
    return j.status();
  }
  std::optional<mapped::Journal> journal;
  if (!journal_missing) {
    // The journal of the sync the header names, marked applied, has nothing to redo: it is
    // not read further.
    absl::StatusOr<std::optional<format::JournalHeader>> head =
        mapped::ReadJournalHead(env_, journal_.fd(), journal_path_);
    if (!head.ok()) return head.status();
    if (!mapped::AppliedTo(*head, format::DecodeMappedHeader(*page, path_))) {
      absl::StatusOr<std::optional<mapped::Journal>> read =
          mapped::ReadJournal(env_, journal_.fd(), journal_path_);
      if (!read.ok()) return read.status();
      journal = *std::move(read);
    }
  }
  absl::StatusOr<uint64_t> file_size = env_->FileSize(file_.fd(), path_);
  if (!file_size.ok()) return file_size.status();
  // A creation that stopped before its header was durable leaves a short or zero header page
  // and no journal: there was never a synced state, so it is initialized again. Any other
  // damaged header is refused below: it may hide synced data. A short page must be zeros or
  // start with the magic: other short files are not ours to initialize over.
  const bool torn_header =
      AllZero(*page) || (page->size() < kMappedPage && format::LooksLikeMappedFile(*page));
  if (torn_header && !journal.has_value() && *file_size <= kMappedPage) {
    if (!options.create_if_missing) {
      return absl::DataLossError(absl::StrCat(
          path_,
          ": has no header (an unfinished creation); open it with create_if_missing to "
          "initialize it, or remove it"));
    }
    if (absl::Status s = InitializeLocked(schema); !s.ok()) return s;
    return RecoverLocked(options, schema);
  }
  absl::StatusOr<format::MappedHeader> header = format::DecodeMappedHeader(*page, path_);
  if (journal.has_value() && mapped::JournalApplies(header, *page, journal->header)) {
    // A journal with a valid checksum is still checked before it writes anything.
    absl::Status s = mapped::CheckVectorHeader(path_ + "-journal", journal->file_header, schema,
                                               mapped::CoveredBytes(*file_size, &*journal));
    if (!s.ok()) return s;
    // Redo: the journal is durable, the file may hold part of it. Made durable before this
    // open returns, since the next sync overwrites the journal.
    if (s = mapped::ApplyJournal(env_, file_.fd(), path_, *journal); !s.ok()) return s;
    if (s = env_->SyncData(file_.fd(), path_); !s.ok()) return s;
    header = journal->file_header;
    file_size = env_->FileSize(file_.fd(), path_);
    if (!file_size.ok()) return file_size.status();
  } else if (header.ok() && journal.has_value() && journal->header.file_id == header->file_id &&
             journal->header.seq > header->seq + 1) {
    return absl::DataLossError(absl::StrCat(path_, ": its journal holds sync ", journal->header.seq,
                                            " but the file only sync ", header->seq,
                                            ": syncs in between are lost"));
  }
  if (!header.ok()) {
    // A zeroed header page in front of elements is a damaged header, not a foreign file.
    if (AllZero(*page)) {
      return absl::DataLossError(
          absl::StrCat(path_, ": the header page is zeroed; no valid journal restores it"));
    }
    if (!absl::IsDataLoss(header.status())) return header.status();
    return absl::DataLossError(
        absl::StrCat(header.status().message(), "; no valid journal restores it"));
  }
  absl::Status s =
      mapped::CheckVectorHeader(path_, *header, schema, mapped::CoveredBytes(*file_size, nullptr));
  if (!s.ok()) return s;
  // Only for a file known to be a vector of this type: a refused open creates nothing.
  if (journal_missing) {
    absl::StatusOr<os::File> jj = os::File::Open(env_, journal_path_, O_RDWR | O_CREAT, 0644);
    if (!jj.ok()) return jj.status();
    journal_ = *std::move(jj);
    if (s = os::SyncDir(env_, DirOf(path_)); !s.ok()) return s;
  }
  file_id_ = header->file_id;
  seq_ = header->seq;
  size_ = header->size;
  return absl::OkStatus();
}

absl::Status VectorStorage::InitializeLocked(const RecordSchema& schema) {
  file_id_ = NewFileId(env_, path_);
  const std::string header =
      format::EncodeMappedHeader({format::MappedKind::kVector, file_id_, 0, 0, schema});
  if (absl::Status s = env_->Truncate(file_.fd(), path_, 0); !s.ok()) return s;
  if (absl::Status s = env_->PWrite(file_.fd(), path_, header, 0); !s.ok()) return s;
  if (absl::Status s = env_->SyncData(file_.fd(), path_); !s.ok()) return s;
  // A journal left by an earlier file of this name names another file id; emptied anyway.
  absl::StatusOr<os::File> j =
      os::File::Open(env_, journal_path_, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (!j.ok()) return j.status();
  if (absl::Status s = env_->SyncData(j->fd(), journal_path_); !s.ok()) return s;
  return os::SyncDir(env_, DirOf(path_));
}

absl::Status VectorStorage::Grow(uint64_t bytes) {
  if (!writable_) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": read-only vector"));
  }
  const uint64_t have = region_.mapped();
  if (bytes <= have) return absl::OkStatus();
  if (bytes > region_.reserved()) {
    return absl::ResourceExhaustedError(absl::StrCat(path_.empty() ? "scratch vector" : path_, ": ",
                                                     bytes, " bytes of elements pass max_bytes (",
                                                     region_.reserved(), ")"));
  }
  // Doubling (at least 64 KiB, at most 1 GiB at a time), as std::vector, within the
  // reservation.
  uint64_t want = std::max<uint64_t>(
      bytes, std::min<uint64_t>(std::max<uint64_t>(have, 1 << 16), uint64_t{1} << 30) + have);
  want = std::min<uint64_t>(RoundUpToPage(want), region_.reserved());
  const uint64_t add = want - have;
  if (scratch_ && !file_.valid()) return region_.Extend(add, -1, 0, false);
  const uint64_t file_at = scratch_ ? have : kMappedPage + have;
  // The file space first: running out of it is an error here, never a SIGBUS later.
  if (absl::Status s = env_->Allocate(file_.fd(), path_, file_at, add); !s.ok()) return s;
  if (scratch_) return region_.Extend(add, file_.fd(), file_at, /*shared=*/true);
  return region_.Extend(add, -1, 0, false);
}

absl::Status VectorStorage::Fail(absl::Status s) {
  failed_ = s;
  return s;
}

absl::Status VectorStorage::Sync(size_t size, size_t low_water, std::vector<uint64_t>& dirty) {
  if (scratch_) {
    std::fill(dirty.begin(), dirty.end(), 0);
    size_ = size;
    return absl::OkStatus();
  }
  if (!writable_) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": Sync on a read-only vector"));
  }
  if (!failed_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": an earlier sync failed (", failed_.message(),
                     "); reopen the vector to learn what is durable"));
  }
  // The changed pages that still hold elements: those marked, and those from the low water
  // mark up (written by push_back, which marks nothing).
  const uint64_t pages = RoundUpToPage(uint64_t{size} * elem_size_) / kPage;
  for (uint64_t p = uint64_t{low_water} * elem_size_ / kPage; low_water < size && p < pages; ++p) {
    dirty[p >> 6] |= uint64_t{1} << (p & 63);
  }
  std::vector<mapped::PageRun> runs;
  for (size_t w = 0; w < dirty.size(); ++w) {
    uint64_t bits = dirty[w];
    while (bits != 0) {
      const uint64_t p = w * 64 + static_cast<uint64_t>(__builtin_ctzll(bits));
      bits &= bits - 1;
      if (p >= pages) break;
      if (!runs.empty() && runs.back().first + runs.back().count == p) {
        ++runs.back().count;
      } else {
        runs.push_back({p, 1});
      }
    }
  }
  if (runs.empty() && size == size_) {
    std::fill(dirty.begin(), dirty.end(), 0);
    return absl::OkStatus();
  }
  const std::string header =
      format::EncodeMappedHeader({format::MappedKind::kVector, file_id_, seq_ + 1, size, schema_});
  // 1. The journal, made durable: the commit point. A failed write leaves the file as it was.
  absl::Status s = mapped::WriteJournal(env_, journal_.fd(), journal_path_, file_id_, seq_ + 1,
                                        header, region_.base(), runs);
  if (!s.ok()) return s;
  if (s = env_->SyncData(journal_.fd(), journal_path_); !s.ok()) return Fail(s);
  // 2. The same pages into the file, the header last. A failure from here on leaves a file
  // only the journal completes: final until a reopen redoes it.
  for (const mapped::PageRun& r : runs) {
    s = env_->PWrite(
        file_.fd(), path_,
        std::string_view(reinterpret_cast<const char*>(region_.base()) + r.first * kPage,
                         r.count * kPage),
        kMappedPage + r.first * kPage);
    if (!s.ok()) return Fail(s);
  }
  if (s = env_->PWrite(file_.fd(), path_, header, 0); !s.ok()) return Fail(s);
  if (s = env_->SyncData(file_.fd(), path_); !s.ok()) return Fail(s);
  // 3. A hint for the next open: the file holds this sync, nothing to redo. Losing it (an
  // error here, or a crash before the kernel writes it) costs a redo, never a wrong state.
  mapped::MarkJournalApplied(env_, journal_.fd(), journal_path_,
                             {.file_id = file_id_, .seq = seq_ + 1})
      .IgnoreError();
  ++seq_;
  size_ = size;
  std::fill(dirty.begin(), dirty.end(), 0);
  return absl::OkStatus();
}

absl::Status VectorStorage::Refresh() {
  if (writable_) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": Refresh is for read-only vectors"));
  }
  // Into a fresh region: a failed Refresh leaves the vector as it was.
  absl::StatusOr<mapped::VectorSnapshot> snap =
      mapped::ReadVectorSnapshot(env_, file_.fd(), path_, journal_.valid() ? journal_.fd() : -1,
                                 journal_path_, schema_, max_bytes_);
  if (!snap.ok()) return snap.status();
  file_id_ = snap->file_id;
  seq_ = snap->seq;
  size_ = snap->size;
  region_ = std::move(snap->region);
  return absl::OkStatus();
}

}  // namespace recstore::internal
