// What one open store shares with every handle opened from it: the lock, the manifest and the
// registry of open collections. Handles keep it alive through their collections.
#ifndef RECSTORE_SRC_STORE_STORE_STATE_H_
#define RECSTORE_SRC_STORE_STORE_STATE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "recstore/options.h"
#include "recstore/store.h"
#include "src/base/mutex.h"
#include "src/cursor/cursor_file.h"
#include "src/format/manifest.h"
#include "src/log/collection.h"
#include "src/log/manifest_hook.h"
#include "src/os/file.h"
#include "src/os/lock_file.h"

namespace recstore::internal {

// Store::ValidateName's rules, the error naming what the name is for ("collection", "cursor",
// "checkpoint set"): InvalidArgument "<what> name is empty", or "invalid <what> name '<name,
// C-escaped>': <reason>".
absl::Status ValidateNameOf(std::string_view what, std::string_view name);

class StoreState : public log::ManifestHook {
 public:
  // Opens the store at `path` through options.env (Env::Default() if null).
  static absl::StatusOr<std::shared_ptr<StoreState>> Open(const std::string& path,
                                                          const StoreOptions& options);

  Env* env() const { return env_; }
  const std::string& path() const { return path_; }
  const StoreOptions& options() const { return options_; }
  // The store id as 32 hex digits ("" for a store of an older format not yet opened by a
  // writer of this version). Never changes while the store exists.
  std::string id() ABSL_LOCKS_EXCLUDED(mu_);

  // Opens (creating when allowed) a collection; `schema` is null for untyped opens, which
  // skip the kind and schema checks and never create.
  absl::StatusOr<std::shared_ptr<Collection>> OpenCollection(
      std::string_view name, CollectionKind kind, const RecordSchema* schema,
      const CollectionOptions& options, std::shared_ptr<StoreState> self) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<CollectionInfo> ListCollections() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Drop(std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // Where the cursors of collection `name` live (a read-only store reads the manifest again
  // first). Errors: InvalidArgument (bad name), NotFound (no such collection), or the error of
  // reading the manifest.
  absl::StatusOr<cursor::Place> CursorPlace(std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);

  // ManifestHook: what collections ask of the manifest.
  absl::Status Commit(const CollectionInfo& info, bool* replaced) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<CollectionInfo> Reload(const std::string& name) override;
  absl::StatusOr<std::optional<uint64_t>> LowestCursorPosition(uint32_t id,
                                                               const std::string& name) override;

 private:
  StoreState(Env* env, std::string path, StoreOptions options)
      : env_(env), path_(std::move(path)), options_(options) {}
  absl::Status OpenLocked() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status OpenReaderLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The directory holding the store directory ("." for a relative name without one).
  std::string ParentDir() const;
  // OK when `path` (which exists) is a directory; otherwise FailedPrecondition saying so:
  // about the store path itself, or, when `parent`, about the store directory's parent.
  absl::Status RefuseNonDirectory(const std::string& path, bool parent) const;
  // Called when the store directory was not found, or could not be made (NotFound): the
  // error that names the cause when it lies elsewhere. "dir/" naming something that is not
  // a directory: FailedPrecondition. While `creating` (mkdir failed): a missing parent,
  // NotFound saying create_if_missing makes one level only; a parent that is not a
  // directory, FailedPrecondition. OK otherwise (the caller reports the store directory as
  // missing, or the mkdir error).
  absl::Status ExplainMissing(bool creating) const;
  // Whether MANIFEST exists (an error if that cannot be told).
  absl::StatusOr<bool> HasManifest();
  // For an open that does not create, once MANIFEST was found missing: NotFound if the
  // directory holds nothing but LOCK and MANIFEST.tmp (empty, or a creation that did not
  // complete), FailedPrecondition if it holds anything else; OK if, without the writer lock
  // (`locked` false), MANIFEST has appeared since (the open goes on).
  absl::Status NoStore(bool locked);
  // FailedPrecondition if the store directory, which has no MANIFEST, holds anything but LOCK
  // and MANIFEST.tmp. `locked`: whether this process holds the writer lock; `creating`: the
  // message says the open refuses to create a store there.
  absl::Status RefuseForeignFolder(bool locked, bool creating);
  // Opens LOCK, takes the writer lock (Unavailable, naming the holder's pid, if another
  // has it) and writes this process's pid.
  absl::Status LockWriter();
  absl::Status RemoveOrphansLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `name` is a folder name "<id, 6+ digits>-<valid name>" of an id the manifest has
  // handed out (a collection's, or a dropped one's).
  bool HandedOutFolderName(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the cursor folders of collections the manifest no longer names.
  absl::Status RemoveOrphanCursorsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string CollectionDir(const CollectionInfo& info) const;
  // <store>/cursors/<id>-<name>: the collection's cursor folder.
  std::string CursorDir(uint32_t id, std::string_view name) const;
  // Removes every file in a collection folder (folders hold files only).
  absl::Status EmptyFolder(const std::string& dir);
  absl::StatusOr<CollectionInfo> CreateLocked(std::string_view name, CollectionKind kind,
                                              const RecordSchema* schema,
                                              const CollectionOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const env_;
  const std::string path_;
  const StoreOptions options_;
  os::LockFile lock_file_;

  base::Mutex mu_;
  format::Manifest manifest_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::weak_ptr<Collection>> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_STORE_STORE_STATE_H_
