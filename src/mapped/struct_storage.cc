#include "src/mapped/struct_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/manifest.h"
#include "src/mapped/file_names.h"

namespace recstore::internal {
namespace {

using mapped::DirOf;
using mapped::NewFileId;

using format::kMappedPage;
using format::kSlotHeaderSize;

}  // namespace

absl::StatusOr<std::unique_ptr<StructStorage>> StructStorage::Open(
    std::string path, const MappedStructOptions& options, const RecordSchema& schema) {
  if (path.empty()) return absl::InvalidArgumentError("MappedStruct::Open: the path is empty");
  if (!format::MappedHeaderFits(schema)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the schema of '", schema.type_name,
                                                   "' does not fit a 4096-byte header page"));
  }
  std::unique_ptr<StructStorage> st(new StructStorage);
  st->env_ = options.env != nullptr ? options.env : Env::Default();
  st->path_ = std::move(path);
  st->read_only_ = options.read_only;
  st->shared_ = options.shared;
  st->size_ = schema.size;
  st->layout_ = format::StructLayoutFor(schema.size);
  absl::Status s = st->OpenFile(options, schema);
  if (!s.ok()) return s;
  return st;
}

absl::Status StructStorage::LockWithRetry(uint64_t byte, LockKind kind, int tries) {
  absl::Status s;
  for (int i = 0; i < tries; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    s = env_->Lock(file_.fd(), path_, byte, kind);
    if (!absl::IsUnavailable(s)) return s;
  }
  return s;
}

absl::Status StructStorage::OpenFile(const MappedStructOptions& options,
                                     const RecordSchema& schema) {
  bool created = false;
  const int mode = read_only_ ? O_RDONLY : O_RDWR;
  absl::StatusOr<os::LockFile> f = os::LockFile::Open(env_, path_, mode, 0);
  if (!f.ok() && absl::IsNotFound(f.status()) && options.create_if_missing && !read_only_) {
    f = os::LockFile::Open(env_, path_, O_RDWR | O_CREAT | O_EXCL, 0644);
    created = f.ok();
    if (!f.ok() && absl::IsAlreadyExists(f.status())) f = os::LockFile::Open(env_, path_, mode, 0);
  }
  if (!f.ok()) {
    if (absl::IsNotFound(f.status())) {
      return absl::NotFoundError(
          absl::StrCat(path_, ": no such struct file (open with create_if_missing to create it)"));
    }
    return f.status();
  }
  file_ = *std::move(f);
  if (read_only_) {
    if (absl::Status s = Validate(schema); !s.ok()) return s;
    absl::StatusOr<mapped::Region> copy = mapped::Region::Reserve(env_, size_, path_);
    if (!copy.ok()) return copy.status();
    copy_ = *std::move(copy);
    if (absl::Status s = copy_.Extend(copy_.reserved(), -1, 0, false); !s.ok()) return s;
    live_ = copy_.base();
    return Refresh();
  }
  // The creator holds the opener lock exclusively until the file is whole, so an opener that
  // finds a file being created waits (shared) or is refused (exclusive) instead of reading it.
  // The creator makes the file (O_EXCL) before it can lock it: an opener that gets the lock
  // first finds the file empty, lets the lock go and tries again, so that the creator (which
  // retries its lock as long as a shared opener would) goes first.
  const LockKind kind = created || !shared_ ? LockKind::kExclusive : LockKind::kShared;
  const int tries = created || shared_ ? 2500 : 1;
  absl::Status s = LockWithRetry(0, kind, tries);
  for (int i = 0; s.ok() && !created && i < 2500; ++i) {
    absl::StatusOr<uint64_t> size = env_->FileSize(file_.fd(), path_);
    if (!size.ok()) return size.status();
    if (*size != 0) break;
    if (absl::Status u = env_->Lock(file_.fd(), path_, 0, LockKind::kUnlock); !u.ok()) return u;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    s = LockWithRetry(0, kind, tries);
  }
  if (!s.ok()) {
    if (!absl::IsUnavailable(s)) return s;
    return absl::UnavailableError(absl::StrCat(
        path_, shared_ ? ": opened exclusively by another MappedStruct"
                       : ": open in another MappedStruct (in this process or another)"));
  }
  if (!created) {
    absl::StatusOr<bool> unfinished = UnfinishedCreation();
    if (!unfinished.ok()) return unfinished.status();
    if (*unfinished) {
      if (!options.create_if_missing) {
        return absl::DataLossError(
            absl::StrCat(path_,
                         ": has no header and no snapshot (an unfinished creation); open it with "
                         "create_if_missing to initialize it, or remove it"));
      }
      // Initializing needs the file to itself: an opener that holds it shared is refused.
      if (shared_) {
        absl::Status x = env_->Lock(file_.fd(), path_, 0, LockKind::kExclusive);
        if (!x.ok()) {
          if (!absl::IsUnavailable(x)) return x;
          return absl::UnavailableError(
              absl::StrCat(path_, ": an unfinished creation held open by another process"));
        }
      }
      created = true;
    }
  }
  if (created) {
    if (absl::Status s = Initialize(schema); !s.ok()) return s;
    if (shared_) {
      if (absl::Status s = env_->Lock(file_.fd(), path_, 0, LockKind::kShared); !s.ok()) return s;
    }
  }
  if (absl::Status s = Validate(schema); !s.ok()) return s;
  absl::StatusOr<mapped::Region> m = mapped::Region::Reserve(env_, layout_.file_size, path_);
  if (!m.ok()) return m.status();
  mapping_ = *std::move(m);
  if (absl::Status s = mapping_.Extend(layout_.file_size, file_.fd(), 0, /*shared=*/true);
      !s.ok()) {
    return s;
  }
  live_ = mapping_.base() + layout_.live;
  return JoinOrRestore();
}

absl::StatusOr<bool> StructStorage::UnfinishedCreation() {
  std::string page(kMappedPage, '\0');
  absl::StatusOr<size_t> n = env_->PRead(file_.fd(), path_, page.data(), page.size(), 0);
  if (!n.ok()) return n.status();
  page.resize(*n);
  const bool zero = std::all_of(page.begin(), page.end(), [](char c) { return c == 0; });
  if (!zero && !(page.size() < kMappedPage && format::LooksLikeMappedFile(page))) return false;
  // No header. A snapshot that checks under its own file id means a header was written and
  // then damaged: never initialized over.
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::optional<Slot>> slot = ReadSlot(i, std::nullopt);
    if (!slot.ok()) return slot.status();
    if (slot->has_value()) return false;
  }
  return true;
}

absl::Status StructStorage::Initialize(const RecordSchema& schema) {
  file_id_ = NewFileId(env_, path_);
  std::string image =
      format::EncodeMappedHeader({format::MappedKind::kStruct, file_id_, 0, 1, schema});
  image.resize(layout_.file_size, '\0');
  if (absl::Status s = env_->Truncate(file_.fd(), path_, 0); !s.ok()) return s;
  const std::string slot = format::EncodeSlot(file_id_, 1, std::string(size_, '\0'));
  std::memcpy(image.data() + layout_.slot[0], slot.data(), slot.size());
  if (absl::Status s = env_->PWrite(file_.fd(), path_, image, 0); !s.ok()) return s;
  if (absl::Status s = env_->SyncData(file_.fd(), path_); !s.ok()) return s;
  return os::SyncDir(env_, DirOf(path_));
}

absl::Status StructStorage::Validate(const RecordSchema& schema) {
  std::string page(kMappedPage, '\0');
  absl::StatusOr<size_t> n = env_->PRead(file_.fd(), path_, page.data(), page.size(), 0);
  if (!n.ok()) return n.status();
  page.resize(*n);
  absl::StatusOr<format::MappedHeader> h = format::DecodeMappedHeader(page, path_);
  if (!h.ok()) return h.status();
  if (h->kind != format::MappedKind::kStruct) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": is a recstore ",
                                                      std::string(format::MappedKindName(h->kind)),
                                                      " file, not a struct file"));
  }
  absl::Status s = format::CompareSchemas(h->schema, schema, absl::StrCat("struct file ", path_));
  if (!s.ok()) return s;
  absl::StatusOr<uint64_t> size = env_->FileSize(file_.fd(), path_);
  if (!size.ok()) return size.status();
  if (*size != layout_.file_size) {
    return absl::DataLossError(absl::StrCat(path_, ": ", *size, " bytes where a struct of ", size_,
                                            " bytes takes ", layout_.file_size));
  }
  file_id_ = h->file_id;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StructStorage::Slot>> StructStorage::ReadSlot(
    int i, std::optional<uint64_t> file_id) const {
  std::string bytes(kSlotHeaderSize + size_, '\0');
  absl::StatusOr<size_t> n =
      env_->PRead(file_.fd(), path_, bytes.data(), bytes.size(), layout_.slot[i]);
  if (!n.ok()) return n.status();
  bytes.resize(*n);
  std::optional<format::Slot> slot =
      format::DecodeSlot(bytes, static_cast<uint32_t>(size_), file_id);
  if (!slot.has_value()) return std::nullopt;
  return Slot{slot->seq, std::string(slot->payload)};
}

absl::StatusOr<std::optional<int>> StructStorage::NewestSlot(Slot* newest) const {
  std::optional<int> best;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::optional<Slot>> slot = ReadSlot(i, file_id_);
    if (!slot.ok()) return slot.status();
    if (slot->has_value() && (!best.has_value() || (*slot)->seq > newest->seq)) {
      *newest = **std::move(slot);
      best = i;
    }
  }
  return best;
}

absl::Status StructStorage::JoinOrRestore() {
  for (int attempt = 0; attempt < 25000; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    absl::Status s = env_->Lock(file_.fd(), path_, 1, LockKind::kExclusive);
    if (s.ok()) {
      // No other opener: the live struct may be anything a crash left; the newest snapshot
      // is the truth.
      if (absl::Status r = LoadNewestSnapshot(); !r.ok()) return r;
      if (!shared_) return absl::OkStatus();
      return env_->Lock(file_.fd(), path_, 1, LockKind::kShared);
    }
    if (!absl::IsUnavailable(s)) return s;
    s = env_->Lock(file_.fd(), path_, 1, LockKind::kShared);
    if (s.ok()) {
      Slot newest;
      absl::StatusOr<std::optional<int>> best = NewestSlot(&newest);
      if (!best.ok()) return best.status();
      if (best->has_value()) seq_ = newest.seq;
      return absl::OkStatus();
    }
    if (!absl::IsUnavailable(s)) return s;
  }
  return absl::UnavailableError(
      absl::StrCat(path_, ": another opener kept restoring the struct for 5 seconds"));
}

void StructStorage::Snapshot(void* out) const {
  auto* dst = static_cast<std::byte*>(out);
  size_t i = 0;
  for (; i + 8 <= size_; i += 8) {
    const uint64_t w =
        __atomic_load_n(reinterpret_cast<const uint64_t*>(live_ + i), __ATOMIC_RELAXED);
    std::memcpy(dst + i, &w, 8);
  }
  for (; i < size_; ++i) {
    const uint8_t b =
        __atomic_load_n(reinterpret_cast<const uint8_t*>(live_ + i), __ATOMIC_RELAXED);
    std::memcpy(dst + i, &b, 1);
  }
}

absl::Status StructStorage::Sync() {
  if (read_only_) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": Sync on a read-only struct"));
  }
  std::lock_guard<std::mutex> lock(sync_mu_);
  if (!failed_.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": an earlier sync failed to flush (",
                                                      failed_.message(), "); reopen the struct"));
  }
  if (absl::Status s = LockWithRetry(2, LockKind::kExclusive, 50000); !s.ok()) {
    if (!absl::IsUnavailable(s)) return s;
    return absl::UnavailableError(absl::StrCat(path_, ": another process kept syncing for 10 s"));
  }
  Slot newest;
  absl::StatusOr<std::optional<int>> best = NewestSlot(&newest);
  absl::Status s = best.status();
  if (s.ok()) {
    // The older (or an invalid) slot: the newest one stays whole whatever happens to this write.
    const int target = best->has_value() ? 1 - **best : 0;
    const uint64_t seq = best->has_value() ? newest.seq + 1 : seq_ + 1;
    std::string payload(size_, '\0');
    Snapshot(payload.data());
    s = env_->PWrite(file_.fd(), path_, format::EncodeSlot(file_id_, seq, payload),
                     layout_.slot[target]);
    if (s.ok()) {
      s = env_->SyncData(file_.fd(), path_);
      // A failed flush is final here (the kernel may have dropped the page it could not
      // write): later syncs of this open are refused; other openers, and a reopen, go on.
      if (!s.ok()) failed_ = s;
    }
    if (s.ok()) seq_ = seq;
  }
  absl::Status unlock = env_->Lock(file_.fd(), path_, 2, LockKind::kUnlock);
  return s.ok() ? unlock : s;
}

absl::Status StructStorage::Refresh() {
  if (!read_only_) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": Refresh is for read-only structs"));
  }
  return LoadNewestSnapshot();
}

absl::Status StructStorage::LoadNewestSnapshot() {
  Slot newest;
  absl::StatusOr<std::optional<int>> best = NewestSlot(&newest);
  if (!best.ok()) return best.status();
  if (!best->has_value()) {
    return absl::DataLossError(
        absl::StrCat(path_, ": neither snapshot slot holds a valid snapshot"));
  }
  std::memcpy(live_, newest.payload.data(), size_);
  seq_ = newest.seq;
  return absl::OkStatus();
}

}  // namespace recstore::internal
