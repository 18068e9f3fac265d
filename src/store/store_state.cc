#include "src/store/store_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "recstore/status_macros.h"
#include "src/cursor/cursor_dir.h"
#include "src/format/layout.h"
#include "src/store/manifest_file.h"

namespace recstore::internal {

namespace {

// Directories get an execute bit for every read bit of the file mode.
mode_t DirMode(uint32_t file_mode) {
  return static_cast<mode_t>(file_mode | ((file_mode & 0444) >> 2));
}

absl::Status CheckSegmentSize(uint64_t size) {
  if (size < format::kMinSegmentSize || size > format::kMaxSegmentSize ||
      size % format::kPageSize != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment size ", size, " must be a multiple of 4096 in [",
                     format::kMinSegmentSize, ", ", format::kMaxSegmentSize, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<StoreState>> StoreState::Open(const std::string& path,
                                                             const StoreOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("store path is empty");
  Env* env = options.env != nullptr ? options.env : Env::Default();
  RECSTORE_RETURN_IF_ERROR(CheckSegmentSize(options.segment_size));
  if (options.file_mode > 0777) {
    return absl::InvalidArgumentError(
        absl::StrFormat("file mode %o is not a permission mode", options.file_mode));
  }
  std::shared_ptr<StoreState> state(new StoreState(env, path, options));
  RECSTORE_RETURN_IF_ERROR(state->OpenLocked());
  return state;
}

// Opening decides nothing from what it saw before it held the lock that excludes every other
// writer: a creator that looked for MANIFEST, then waited, could otherwise write an empty
// manifest over a store another process created meanwhile. What happens before the lock is
// only making the directory (idempotent) and refusing (a directory that is not a store).
absl::Status StoreState::OpenLocked() {
  base::MutexLock lock(&mu_);
  const bool writer = !options_.read_only;
  const bool create = writer && options_.create_if_missing;
  if (absl::Status s = env_->Exists(path_); s.ok()) {
    RECSTORE_RETURN_IF_ERROR(RefuseNonDirectory(path_, false));
  } else {
    if (s.code() != absl::StatusCode::kNotFound) return s;
    if (!create) {
      RECSTORE_RETURN_IF_ERROR(ExplainMissing(/*creating=*/false));
      return absl::NotFoundError(absl::StrCat("store directory ", path_, " does not exist"));
    }
    if (absl::Status m = env_->MakeDir(path_, DirMode(options_.file_mode)); !m.ok()) {
      if (m.code() == absl::StatusCode::kNotFound) {
        RECSTORE_RETURN_IF_ERROR(ExplainMissing(/*creating=*/true));
      }
      if (m.code() != absl::StatusCode::kAlreadyExists) return m;
      // Made by another process meanwhile, or "file/" naming a file that is not a directory.
      RECSTORE_RETURN_IF_ERROR(RefuseNonDirectory(path_, false));
    }
    // The new directory's entry must survive a crash too.
    RECSTORE_RETURN_IF_ERROR(os::SyncDir(env_, ParentDir()));
  }
  if (!writer) return OpenReaderLocked();
  // Refusals before the lock, so that no LOCK file is left in a directory that is not a
  // store. Each is right at the moment it looked: a MANIFEST, once there, never goes away.
  RECSTORE_ASSIGN_OR_RETURN(bool has_manifest, HasManifest());
  if (!has_manifest) {
    // OK from either: MANIFEST appeared meanwhile, or nothing is in the way of creating it.
    RECSTORE_RETURN_IF_ERROR(create ? RefuseForeignFolder(/*locked=*/false, /*creating=*/true)
                                    : NoStore(/*locked=*/false));
  }
  RECSTORE_RETURN_IF_ERROR(LockWriter());
  // From here on no other writer runs: look again and decide.
  RECSTORE_ASSIGN_OR_RETURN(has_manifest, HasManifest());
  if (!has_manifest) {
    if (!create) return NoStore(/*locked=*/true);  // never OK under the lock
    RECSTORE_RETURN_IF_ERROR(RefuseForeignFolder(/*locked=*/true, /*creating=*/true));
    format::Manifest fresh;
    fresh.store_id = format::NewStoreId();
    RECSTORE_RETURN_IF_ERROR(store::WriteManifest(env_, path_, fresh, options_.file_mode));
  }
  RECSTORE_ASSIGN_OR_RETURN(manifest_, store::ReadManifest(env_, path_));
  if (format::StoreIdString(manifest_.store_id).empty()) {
    // A manifest of format version 4 or older: the store gets its id now, once.
    format::Manifest next = manifest_;
    next.store_id = format::NewStoreId();
    ++next.generation;
    bool replaced = false;
    absl::Status s = store::WriteManifest(env_, path_, next, options_.file_mode, &replaced);
    if (replaced) manifest_ = std::move(next);
    RECSTORE_RETURN_IF_ERROR(s);
  }
  return RemoveOrphansLocked();
}

absl::Status StoreState::OpenReaderLocked() {
  RECSTORE_ASSIGN_OR_RETURN(bool has_manifest, HasManifest());
  if (!has_manifest) RECSTORE_RETURN_IF_ERROR(NoStore(/*locked=*/false));
  // Readers take a shared lock on another byte: they never block the writer, and a future
  // compaction can tell whether readers are present. A store without a LOCK file (none of
  // its writers has opened it yet) is read without one.
  const std::string lock_path = absl::StrCat(path_, "/", store::kLockName);
  absl::StatusOr<os::LockFile> f = os::LockFile::Open(env_, lock_path, O_RDONLY | O_NOFOLLOW, 0);
  if (f.ok()) {
    lock_file_ = *std::move(f);
    RECSTORE_RETURN_IF_ERROR(env_->Lock(lock_file_.fd(), lock_path, 1, LockKind::kShared));
  } else if (f.status().code() != absl::StatusCode::kNotFound) {
    return f.status();
  }
  // The manifest appears whole (it is renamed into place): a reader sees no store or a
  // complete one.
  RECSTORE_ASSIGN_OR_RETURN(manifest_, store::ReadManifest(env_, path_));
  return absl::OkStatus();
}

std::string StoreState::id() {
  base::MutexLock l(&mu_);
  return format::StoreIdString(manifest_.store_id);
}

std::string StoreState::ParentDir() const {
  // "a/b/" names "a/b": its parent is "a", not "a/b" (which parent_path() would give).
  std::string self = path_;
  while (self.size() > 1 && self.back() == '/') self.pop_back();
  std::string parent = std::filesystem::path(self).parent_path().string();
  return parent.empty() ? "." : parent;
}

absl::Status StoreState::RefuseNonDirectory(const std::string& path, bool parent) const {
  // stat("<path>/.") fails with ENOTDIR (NotFound) when `path`, which exists, is not a
  // directory (a regular file, say); a symbolic link to a directory is a directory here.
  absl::Status s = env_->Exists(absl::StrCat(path, "/."));
  if (s.code() != absl::StatusCode::kNotFound) return s;
  if (parent) {
    return absl::FailedPreconditionError(
        absl::StrCat("store directory ", path_, ": its parent ", path, " is not a directory"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("store path ", path_,
                   " exists but is not a directory (a store is a directory; vector and struct "
                   "files are opened with MappedVector and MappedStruct)"));
}

absl::Status StoreState::ExplainMissing(bool creating) const {
  std::string self = path_;
  while (self.size() > 1 && self.back() == '/') self.pop_back();
  // "file/": the name exists, without the slash, as something other than a directory.
  if (self != path_ && env_->Exists(self).ok()) return RefuseNonDirectory(self, false);
  // An open that does not create reports the store directory missing, as its first look
  // found it: a later look at the parent could come after another process created the store,
  // and the open would then refuse a store that exists.
  if (!creating) return absl::OkStatus();
  const std::string parent = ParentDir();
  absl::Status p = env_->Exists(parent);
  if (p.code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(
        "cannot create store directory ", path_, ": its parent directory ", parent,
        " does not exist (create_if_missing creates the store directory only, not its parents)"));
  }
  RECSTORE_RETURN_IF_ERROR(p);
  return RefuseNonDirectory(parent, true);
}

absl::StatusOr<bool> StoreState::HasManifest() {
  const std::string manifest_path = absl::StrCat(path_, "/", store::kManifestName);
  absl::Status s = env_->Exists(manifest_path);
  if (s.ok()) return true;
  if (s.code() == absl::StatusCode::kNotFound) return false;
  return s;
}

absl::Status StoreState::NoStore(bool locked) {
  RECSTORE_RETURN_IF_ERROR(RefuseForeignFolder(locked, /*creating=*/false));
  // Nothing but what a creation makes before MANIFEST (or nothing at all): no store yet, as
  // when the directory is missing. Unless one was created since MANIFEST was looked for.
  if (!locked) {
    RECSTORE_ASSIGN_OR_RETURN(bool has_manifest, HasManifest());
    if (has_manifest) return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(
      "no recstore store in ", path_, ": ", path_, "/", store::kManifestName,
      " does not exist (the directory is empty, or a store's creation there did not complete)"));
}

absl::Status StoreState::RefuseForeignFolder(bool locked, bool creating) {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(path_));
  for (const std::string& n : names) {
    if (n == store::kLockName || n == std::string(store::kManifestName) + ".tmp") continue;
    // Without the lock, another process may have created the store since this one looked
    // for MANIFEST: a store then, not a foreign folder. (A store gets its MANIFEST before any
    // other entry but LOCK and MANIFEST.tmp, so an entry seen while MANIFEST is still absent
    // afterwards was not made by recstore.)
    if (!locked) {
      RECSTORE_ASSIGN_OR_RETURN(bool has_manifest, HasManifest());
      if (has_manifest) return absl::OkStatus();
    }
    // Collection folders without a manifest are most likely a store whose MANIFEST was lost:
    // say so, naming it, and never make a new store over them.
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " is not a recstore store: ", path_, "/", store::kManifestName,
                     " does not exist, but ", path_, " is not empty (it holds '", n,
                     "'): it is not a store, or one whose manifest is lost",
                     creating ? "; refusing to create a store over it" : ""));
  }
  return absl::OkStatus();
}

absl::Status StoreState::LockWriter() {
  const std::string lock_path = absl::StrCat(path_, "/", store::kLockName);
  RECSTORE_ASSIGN_OR_RETURN(
      lock_file_,
      os::LockFile::Open(env_, lock_path, O_RDWR | O_CREAT | O_NOFOLLOW, options_.file_mode));
  if (absl::Status s = env_->Lock(lock_file_.fd(), lock_path, 0, LockKind::kExclusive); !s.ok()) {
    if (s.code() != absl::StatusCode::kUnavailable) return s;
    char buf[32] = {};
    absl::StatusOr<size_t> n = env_->PRead(lock_file_.fd(), lock_path, buf, sizeof(buf) - 1, 0);
    uint64_t pid = 0;
    std::string who = "another writer";
    if (n.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(buf), &pid)) {
      who = absl::StrCat("a writer (pid ", pid, ")");
    }
    return absl::UnavailableError(
        absl::StrCat("store ", path_, " is locked by ", who, "; lock file ", lock_path));
  }
  RECSTORE_RETURN_IF_ERROR(env_->Truncate(lock_file_.fd(), lock_path, 0));
  return env_->PWrite(lock_file_.fd(), lock_path, absl::StrCat(getpid(), "\n"), 0);
}

bool StoreState::HandedOutFolderName(const std::string& name) const {
  uint32_t id = 0;
  return name.size() >= 8 && name[6] == '-' && absl::SimpleAtoi(name.substr(0, 6), &id) &&
         Store::ValidateName(name.substr(7)).ok() && id < manifest_.next_collection_id;
}

absl::Status StoreState::RemoveOrphansLocked() {
  // A crash during DropCollection (after the manifest forgot the collection) or during a
  // creation (before the manifest named it) leaves a folder no collection owns.
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(path_));
  bool removed = false;
  for (const std::string& name : names) {
    if (!HandedOutFolderName(name)) continue;
    bool owned = false;
    for (const CollectionInfo& c : manifest_.collections)
      owned |= CollectionDir(c) == path_ + "/" + name;
    if (owned) continue;
    const std::string dir = path_ + "/" + name;
    RECSTORE_RETURN_IF_ERROR(EmptyFolder(dir));
    RECSTORE_RETURN_IF_ERROR(env_->RemoveDir(dir));
    removed = true;
  }
  if (removed) RECSTORE_RETURN_IF_ERROR(os::SyncDir(env_, path_));
  return RemoveOrphanCursorsLocked();
}

absl::Status StoreState::RemoveOrphanCursorsLocked() {
  // A crash in DropCollection after the manifest forgot the collection, or a consumer that
  // created a cursor while the collection was dropped, leaves a cursor folder no collection
  // owns.
  const std::string root = path_ + "/" + cursor::kCursorsDirName;
  absl::StatusOr<std::vector<std::string>> names = env_->ListDir(root);
  if (!names.ok()) {
    return names.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : names.status();
  }
  bool removed = false;
  for (const std::string& name : *names) {
    if (!HandedOutFolderName(name)) continue;
    bool owned = false;
    for (const CollectionInfo& c : manifest_.collections)
      owned |= CursorDir(c.id, c.name) == root + "/" + name;
    if (owned) continue;
    RECSTORE_RETURN_IF_ERROR(cursor::RemoveFolder(env_, root + "/" + name));
    removed = true;
  }
  return removed ? os::SyncDir(env_, root) : absl::OkStatus();
}

absl::Status StoreState::EmptyFolder(const std::string& dir) {
  RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir));
  for (const std::string& n : names) RECSTORE_RETURN_IF_ERROR(env_->Remove(dir + "/" + n));
  return absl::OkStatus();
}

std::string StoreState::CollectionDir(const CollectionInfo& info) const {
  return absl::StrFormat("%s/%06u-%s", path_, info.id, info.name);
}

std::string StoreState::CursorDir(uint32_t id, std::string_view name) const {
  return absl::StrFormat("%s/%s/%06u-%s", path_, cursor::kCursorsDirName, id, name);
}

absl::StatusOr<cursor::Place> StoreState::CursorPlace(std::string_view name) {
  RECSTORE_RETURN_IF_ERROR(Store::ValidateName(name));
  base::MutexLock lock(&mu_);
  if (options_.read_only) {
    // The writer may have created or dropped it since this store was opened.
    RECSTORE_ASSIGN_OR_RETURN(manifest_, store::ReadManifest(env_, path_));
  }
  const CollectionInfo* found = manifest_.Find(name);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("collection '", std::string(name), "' does not exist in store ", path_));
  }
  return cursor::Place{.env = env_,
                       .store = path_,
                       .root = absl::StrCat(path_, "/", cursor::kCursorsDirName),
                       .dir = CursorDir(found->id, found->name),
                       .collection = found->name,
                       .collection_id = found->id,
                       .first_seq = found->first_seq,
                       .file_mode = options_.file_mode};
}

absl::StatusOr<std::optional<uint64_t>> StoreState::LowestCursorPosition(uint32_t id,
                                                                         const std::string& name) {
  return cursor::LowestPosition(env_, CursorDir(id, name), id);
}

absl::StatusOr<CollectionInfo> StoreState::CreateLocked(std::string_view name, CollectionKind kind,
                                                        const RecordSchema* schema,
                                                        const CollectionOptions& options) {
  CollectionInfo info;
  info.name = std::string(name);
  info.id = manifest_.next_collection_id;
  info.kind = kind;
  info.segment_size = options.segment_size != 0 ? options.segment_size : options_.segment_size;
  info.time_base = env_->NowUnixNanos() / 1000000000;
  RECSTORE_RETURN_IF_ERROR(CheckSegmentSize(info.segment_size));
  if (kind == CollectionKind::kFixed) {
    info.schema = *schema;
    info.record_size = schema->size;
    info.record_align = schema->align;
    if (format::kDataStart + format::FixedStride(schema->size, schema->align) > info.segment_size) {
      return absl::InvalidArgumentError(
          absl::StrCat("record type '", schema->type_name, "' of ", schema->size,
                       " bytes does not fit in a segment of ", info.segment_size, " bytes"));
    }
  }
  const std::string dir = CollectionDir(info);
  if (absl::Status s = env_->MakeDir(dir, DirMode(options_.file_mode)); !s.ok()) {
    if (s.code() != absl::StatusCode::kAlreadyExists) return s;
    // A creation that stopped before the manifest named the collection leaves its folder
    // empty: a collection's first segment is made only once the manifest names it. A folder
    // that holds files is something else (the files of a collection whose manifest entry was
    // lost, or put there by hand): it is never emptied, and the creation is refused.
    RECSTORE_ASSIGN_OR_RETURN(std::vector<std::string> left, env_->ListDir(dir));
    if (!left.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create collection '", info.name, "': its folder ", dir,
                       " already exists and holds files (such as '", left.front(),
                       "') although the manifest names no collection ", info.id,
                       "; recstore does not delete them: move the folder away"));
    }
  }
  RECSTORE_RETURN_IF_ERROR(os::SyncDir(env_, path_));
  format::Manifest next = manifest_;
  next.generation++;
  next.next_collection_id++;
  next.collections.push_back(info);
  // Once renamed into place, the new manifest is the store's, even if its flush failed.
  bool replaced = false;
  absl::Status s = store::WriteManifest(env_, path_, next, options_.file_mode, &replaced);
  if (replaced) manifest_ = std::move(next);
  RECSTORE_RETURN_IF_ERROR(s);
  return info;
}

absl::StatusOr<std::shared_ptr<Collection>> StoreState::OpenCollection(
    std::string_view name, CollectionKind kind, const RecordSchema* schema,
    const CollectionOptions& options, std::shared_ptr<StoreState> self) {
  RECSTORE_RETURN_IF_ERROR(Store::ValidateName(name));
  base::MutexLock lock(&mu_);
  if (options_.read_only) {
    // The writer may have created, truncated or compacted it since this store was opened.
    RECSTORE_ASSIGN_OR_RETURN(manifest_, store::ReadManifest(env_, path_));
  }
  const CollectionInfo* found = manifest_.Find(name);
  CollectionInfo info;
  if (found == nullptr) {
    if (options_.read_only || (schema == nullptr && kind == CollectionKind::kFixed) ||
        !options.create_if_missing) {
      return absl::NotFoundError(
          absl::StrCat("collection '", std::string(name), "' does not exist in store ", path_));
    }
    RECSTORE_ASSIGN_OR_RETURN(info, CreateLocked(name, kind, schema, options));
  } else {
    info = *found;
  }
  const bool typed = schema != nullptr || kind == CollectionKind::kVariable;
  if (typed && info.kind != kind) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collection '", info.name, "' holds ",
        info.kind == CollectionKind::kFixed ? "fixed-size records; open it with OpenLog<T>"
                                            : "variable-size records; open it with OpenByteLog"));
  }
  if (schema != nullptr) {
    RECSTORE_RETURN_IF_ERROR(
        format::CompareSchemas(info.schema, *schema, absl::StrCat("collection '", info.name, "'")));
  }
  auto it = open_.find(info.name);
  if (it != open_.end()) {
    if (std::shared_ptr<Collection> c = it->second.lock()) return c;
  }
  CollectionConfig config{.env = env_,
                          .dir = CollectionDir(info),
                          .info = info,
                          .read_only = options_.read_only,
                          .file_mode = options_.file_mode,
                          .sync = options_.sync_policy,
                          .recovery = options_.recovery_mode,
                          .prefault = options_.prefault,
                          .recycle_segments = options_.recycle_segments,
                          .keep_alive = self,
                          .manifest = this};
  // A reader's open follows the writer if it moves on meanwhile (log/follower.h).
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<Collection> c, Collection::Open(std::move(config)));
  open_[info.name] = c;
  return c;
}

std::vector<CollectionInfo> StoreState::ListCollections() {
  base::MutexLock lock(&mu_);
  if (options_.read_only) {
    if (absl::StatusOr<format::Manifest> m = store::ReadManifest(env_, path_); m.ok()) {
      manifest_ = *std::move(m);
    }
  }
  return manifest_.collections;
}

absl::Status StoreState::Commit(const CollectionInfo& info, bool* replaced) {
  base::MutexLock lock(&mu_);
  format::Manifest next = manifest_;
  next.generation++;
  auto it = std::find_if(next.collections.begin(), next.collections.end(),
                         [&](const CollectionInfo& c) { return c.id == info.id; });
  if (it == next.collections.end()) {
    return absl::NotFoundError(
        absl::StrCat("collection '", info.name, "' is no longer in store ", path_));
  }
  *it = info;
  absl::Status s = store::WriteManifest(env_, path_, next, options_.file_mode, replaced);
  if (*replaced) manifest_ = std::move(next);
  return s;
}

absl::StatusOr<CollectionInfo> StoreState::Reload(const std::string& name) {
  RECSTORE_ASSIGN_OR_RETURN(format::Manifest m, store::ReadManifest(env_, path_));
  const CollectionInfo* found = m.Find(name);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("collection '", name, "' was dropped from store ", path_));
  }
  return *found;
}

absl::Status StoreState::Drop(std::string_view name) {
  RECSTORE_RETURN_IF_ERROR(Store::ValidateName(name));
  base::MutexLock lock(&mu_);
  if (options_.read_only) {
    return absl::FailedPreconditionError(absl::StrCat("store ", path_, " is open read-only"));
  }
  const CollectionInfo* found = manifest_.Find(name);
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("collection '", std::string(name), "' does not exist in store ", path_));
  }
  auto it = open_.find(found->name);
  if (it != open_.end() && !it->second.expired()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection '", found->name, "' is open; close every handle first"));
  }
  const std::string dir = CollectionDir(*found);
  const std::string cursors = CursorDir(found->id, found->name);
  format::Manifest next = manifest_;
  next.generation++;
  std::erase_if(next.collections, [&](const CollectionInfo& c) { return c.name == name; });
  // The manifest forgets the collection first; a folder left by a crash after this is an
  // orphan that the next writer open removes (RemoveOrphansLocked).
  bool replaced = false;
  absl::Status s = store::WriteManifest(env_, path_, next, options_.file_mode, &replaced);
  if (replaced) {
    manifest_ = std::move(next);
    open_.erase(std::string(name));
  }
  RECSTORE_RETURN_IF_ERROR(s);
  // Its cursors go with it, so that a collection created again under this name (with
  // another id) starts without any. A handle still open elsewhere keeps its unlinked file.
  RECSTORE_RETURN_IF_ERROR(cursor::RemoveFolder(env_, cursors));
  RECSTORE_RETURN_IF_ERROR(EmptyFolder(dir));
  RECSTORE_RETURN_IF_ERROR(env_->RemoveDir(dir));
  if (absl::Status e = env_->Exists(path_ + "/" + cursor::kCursorsDirName); e.ok()) {
    RECSTORE_RETURN_IF_ERROR(os::SyncDir(env_, path_ + "/" + cursor::kCursorsDirName));
  }
  return os::SyncDir(env_, path_);
}

}  // namespace recstore::internal
