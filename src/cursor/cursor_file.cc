#include "src/cursor/cursor_file.h"

#include <fcntl.h>

#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/os/file.h"

namespace recstore::cursor {
namespace {

// Reads both slots through `fd` and returns the one in force.
absl::StatusOr<Slot> ReadSlots(Env* env, int fd, const std::string& path, uint32_t id) {
  std::string buf(kFileSize, '\0');
  RECSTORE_ASSIGN_OR_RETURN(size_t n, env->PRead(fd, path, buf.data(), buf.size(), 0));
  buf.resize(n);
  const std::string_view bytes(buf);
  std::optional<Slot> slots[2];
  for (int i = 0; i < 2; ++i) {
    const size_t at = static_cast<size_t>(i) * kBlockSize;
    const std::string_view block = at < bytes.size() ? bytes.substr(at, kSlotSize) : "";
    RECSTORE_ASSIGN_OR_RETURN(slots[i], DecodeSlot(block, i, id, path));
  }
  return ChooseSlot(slots[0], slots[1], path);
}

// Whether the name `path` still refers to the file open as `fd` (a cursor dropped, or a
// temporary file renamed, between the open and the lock does not).
absl::StatusOr<bool> SameFile(Env* env, int fd, const std::string& path) {
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId mine, env->Identify(fd, path));
  absl::StatusOr<os::File> now = os::File::Open(env, path, O_RDONLY | O_NOFOLLOW);
  if (!now.ok()) {
    if (now.status().code() == absl::StatusCode::kNotFound) return false;
    return now.status();
  }
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId theirs, env->Identify(now->fd(), path));
  return mine == theirs;
}

std::string Describe(const Place& place, std::string_view name) {
  return absl::StrCat("cursor '", std::string(name), "' of collection '", place.collection, "'");
}

// Takes the cursor's exclusive lock on `file`; Unavailable naming the cursor when another
// holder has it.
absl::Status LockCursor(const Place& place, std::string_view name, const os::LockFile& file,
                        std::string_view doing) {
  absl::Status s = place.env->Lock(file.fd(), file.path(), 0, LockKind::kExclusive);
  if (s.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(Describe(place, name), " is ", std::string(doing),
                                               " by another handle, in this or another process (",
                                               file.path(), ")"));
  }
  return s;
}

mode_t DirMode(uint32_t file_mode) {
  return static_cast<mode_t>(file_mode | ((file_mode & 0444) >> 2));
}

// Makes `path` if missing and flushes `parent`, also when it existed: a creation that failed
// after making it may not have flushed its entry.
absl::Status MakeDir(Env* env, const std::string& path, const std::string& parent, mode_t mode) {
  absl::Status s = env->MakeDir(path, mode);
  if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) return s;
  return os::SyncDir(env, parent);
}

// Creates the cursor file: both slots written under a temporary name and flushed, then
// renamed into place and the folder flushed; *out then holds it, locked. Returns false when
// another creator finished first (the caller opens that one).
absl::StatusOr<bool> Create(const Place& place, const std::string& name, os::LockFile* out) {
  Env* env = place.env;
  RECSTORE_RETURN_IF_ERROR(MakeDir(env, place.root, place.store, DirMode(place.file_mode)));
  RECSTORE_RETURN_IF_ERROR(MakeDir(env, place.dir, place.root, DirMode(place.file_mode)));
  const std::string path = place.FileOf(name);
  const std::string tmp = path + ".tmp";
  RECSTORE_ASSIGN_OR_RETURN(
      os::LockFile file,
      os::LockFile::Open(env, tmp, O_RDWR | O_CREAT | O_NOFOLLOW, place.file_mode));
  // The lock on the temporary file makes creators of one cursor take turns.
  RECSTORE_RETURN_IF_ERROR(LockCursor(place, name, file, "being created"));
  RECSTORE_ASSIGN_OR_RETURN(bool same, SameFile(env, file.fd(), tmp));
  if (!same) return false;
  if (absl::Status e = env->Exists(path); e.ok()) {
    env->Remove(tmp).IgnoreError();  // ours (checked above); a leftover is harmless
    return false;
  } else if (e.code() != absl::StatusCode::kNotFound) {
    return e;
  }
  const int64_t now = env->NowUnixNanos();
  const Slot first{.collection_id = place.collection_id,
                   .counter = 0,
                   .position = place.first_seq,
                   .time_ns = now};
  Slot second = first;
  second.counter = 1;
  std::string bytes(kFileSize, '\0');
  bytes.replace(0, kSlotSize, EncodeSlot(first));
  bytes.replace(kBlockSize, kSlotSize, EncodeSlot(second));
  RECSTORE_RETURN_IF_ERROR(env->Truncate(file.fd(), tmp, 0));
  RECSTORE_RETURN_IF_ERROR(env->PWrite(file.fd(), tmp, bytes, 0));
  RECSTORE_RETURN_IF_ERROR(env->SyncData(file.fd(), tmp));
  RECSTORE_RETURN_IF_ERROR(env->Rename(tmp, path));
  file.set_path(path);
  RECSTORE_RETURN_IF_ERROR(os::SyncDir(env, place.dir));
  *out = std::move(file);
  return true;
}

}  // namespace

std::string Place::FileOf(std::string_view name) const {
  return absl::StrCat(dir, "/", std::string(name), ".cursor");
}

absl::StatusOr<Slot> ReadUnlocked(Env* env, const std::string& path, uint32_t collection_id) {
  RECSTORE_ASSIGN_OR_RETURN(os::File file, os::File::Open(env, path, O_RDONLY | O_NOFOLLOW));
  absl::StatusOr<Slot> slot;
  // The holder may commit while this reads: a slot caught halfway fails its checksum, and
  // two reads of the blocks far apart may see commits that are not consecutive. Neither
  // lasts: read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    slot = ReadSlots(env, file.fd(), path, collection_id);
    if (slot.ok() || slot.status().code() != absl::StatusCode::kDataLoss) break;
  }
  return slot;
}

}  // namespace recstore::cursor

namespace recstore::internal {

absl::StatusOr<std::unique_ptr<CursorFile>> CursorFile::Open(const cursor::Place& place,
                                                             const std::string& name, bool create) {
  Env* env = place.env;
  const std::string path = place.FileOf(name);
  // Each turn sees the cursor exist or not; a drop or a creation by another process between
  // looking and locking makes it look again.
  for (int attempt = 0; attempt < 16; ++attempt) {
    absl::StatusOr<os::LockFile> file = os::LockFile::Open(env, path, O_RDWR | O_NOFOLLOW, 0);
    if (file.ok()) {
      RECSTORE_RETURN_IF_ERROR(cursor::LockCursor(place, name, *file, "held"));
      RECSTORE_ASSIGN_OR_RETURN(bool same, cursor::SameFile(env, file->fd(), path));
      if (!same) continue;
      RECSTORE_ASSIGN_OR_RETURN(cursor::Slot slot,
                                cursor::ReadSlots(env, file->fd(), path, place.collection_id));
      return std::unique_ptr<CursorFile>(
          new CursorFile(env, *std::move(file), place.collection, name, slot));
    }
    if (file.status().code() != absl::StatusCode::kNotFound) return file.status();
    if (!create) {
      return absl::NotFoundError(
          absl::StrCat(cursor::Describe(place, name), " does not exist (", path, ")"));
    }
    os::LockFile made;
    RECSTORE_ASSIGN_OR_RETURN(bool created, cursor::Create(place, name, &made));
    if (!created) continue;  // another creator finished first
    RECSTORE_ASSIGN_OR_RETURN(cursor::Slot written,
                              cursor::ReadSlots(env, made.fd(), path, place.collection_id));
    return std::unique_ptr<CursorFile>(
        new CursorFile(env, std::move(made), place.collection, name, written));
  }
  return absl::UnavailableError(absl::StrCat(cursor::Describe(place, name),
                                             " was created and dropped by others while it was "
                                             "opened; try again"));
}

uint64_t CursorFile::position() const {
  base::MutexLock lock(&mu_);
  return slot_.position;
}

CursorInfo CursorFile::info() const {
  base::MutexLock lock(&mu_);
  return CursorInfo{.collection = collection_,
                    .name = name_,
                    .position = slot_.position,
                    .commits = slot_.counter > 0 ? slot_.counter - 1 : 0,
                    .time_ns = slot_.time_ns};
}

absl::Status CursorFile::Commit(uint64_t next) {
  base::MutexLock lock(&mu_);
  if (next < slot_.position) {
    return absl::InvalidArgumentError(absl::StrCat("cursor '", name_, "' of collection '",
                                                   collection_, "' cannot move back from ",
                                                   slot_.position, " to ", next));
  }
  if (next > format::kMaxSequence) {
    return absl::InvalidArgumentError(absl::StrCat("cursor '", name_, "' of collection '",
                                                   collection_, "': position ", next,
                                                   " is above 2^62"));
  }
  if (slot_.counter >= format::kMaxSequence) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cursor '", name_, "' has reached its 2^62 commits (", path(), ")"));
  }
  cursor::Slot s = slot_;
  s.counter++;
  s.position = next;
  s.time_ns = env_->NowUnixNanos();
  // The older slot is overwritten: a torn write leaves the newer one, the committed state.
  RECSTORE_RETURN_IF_ERROR(env_->PWrite(file_.fd(), path(), cursor::EncodeSlot(s),
                                        (s.counter % 2) * cursor::kBlockSize));
  RECSTORE_RETURN_IF_ERROR(env_->SyncData(file_.fd(), path()));
  slot_ = s;
  return absl::OkStatus();
}

}  // namespace recstore::internal
