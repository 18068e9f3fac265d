#include "src/cursor/cursor_dir.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/os/file.h"
#include "src/os/lock_file.h"

namespace recstore::cursor {
namespace {

constexpr char kSuffix[] = ".cursor";
constexpr size_t kSuffixSize = sizeof(kSuffix) - 1;

// The cursor names in `dir`, sorted; empty when the folder does not exist.
absl::StatusOr<std::vector<std::string>> Names(Env* env, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> files = env->ListDir(dir);
  if (!files.ok()) {
    if (files.status().code() == absl::StatusCode::kNotFound) return std::vector<std::string>();
    return files.status();
  }
  std::vector<std::string> names;
  for (const std::string& f : *files) {
    std::string name;
    if (ParseCursorFileName(f, &name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

bool ParseCursorFileName(const std::string& file, std::string* name) {
  if (file.size() <= kSuffixSize || !absl::EndsWith(file, kSuffix)) return false;
  *name = file.substr(0, file.size() - kSuffixSize);
  return true;
}

absl::StatusOr<std::vector<CursorInfo>> List(const Place& place) {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(place.env, place.dir));
  std::vector<CursorInfo> out;
  for (const std::string& name : names) {
    absl::StatusOr<Slot> slot = ReadUnlocked(place.env, place.FileOf(name), place.collection_id);
    if (!slot.ok()) {
      if (slot.status().code() == absl::StatusCode::kNotFound) continue;  // dropped meanwhile
      return slot.status();
    }
    out.push_back(CursorInfo{.collection = place.collection,
                             .name = name,
                             .position = slot->position,
                             .commits = slot->counter > 0 ? slot->counter - 1 : 0,
                             .time_ns = slot->time_ns});
  }
  return out;
}

absl::StatusOr<std::optional<uint64_t>> LowestPosition(Env* env, const std::string& dir,
                                                       uint32_t collection_id) {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, Names(env, dir));
  std::optional<uint64_t> lowest;
  for (const std::string& name : names) {
    absl::StatusOr<Slot> slot =
        ReadUnlocked(env, absl::StrCat(dir, "/", name, kSuffix), collection_id);
    if (!slot.ok() && slot.status().code() == absl::StatusCode::kNotFound) continue;
    const uint64_t position = slot.ok() ? slot->position : 0;
    lowest = std::min(lowest.value_or(position), position);
  }
  return lowest;
}

absl::Status Drop(const Place& place, const std::string& name) {
  const std::string path = place.FileOf(name);
  absl::StatusOr<os::LockFile> file = os::LockFile::Open(place.env, path, O_RDWR | O_NOFOLLOW, 0);
  if (!file.ok()) {
    if (file.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("cursor '", name, "' of collection '",
                                              place.collection, "' does not exist (", path, ")"));
    }
    return file.status();
  }
  absl::Status s = place.env->Lock(file->fd(), path, 0, LockKind::kExclusive);
  if (s.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat("cursor '", name, "' of collection '",
                                               place.collection,
                                               "' is held by a handle, in this or another "
                                               "process; close it before dropping it (",
                                               path, ")"));
  }
  RECSTORE_RETURN_IF_ERROR(s);
  // An opener that opened the file before the removal finds, once it has the lock, that the
  // name no longer refers to it, and looks again.
  RECSTORE_RETURN_IF_ERROR(place.env->Remove(path));
  return os::SyncDir(place.env, place.dir);
}

absl::Status RemoveFolder(Env* env, const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> files = env->ListDir(dir);
  if (!files.ok()) {
    if (files.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
    return files.status();
  }
  for (const std::string& f : *files) {
    absl::Status s = env->Remove(dir + "/" + f);
    if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
  }
  absl::Status s = env->RemoveDir(dir);
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
  return absl::OkStatus();
}

}  // namespace recstore::cursor
