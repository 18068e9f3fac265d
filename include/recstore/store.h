// A store: a directory holding a manifest, a lock file and one folder per collection.
//
//   ASSIGN_OR_RETURN(auto store, recstore::Store::Open("data", {.create_if_missing = true}));
//   ASSIGN_OR_RETURN(auto trades, store->OpenLog<Trade>("trades"));
//
// One process at a time may open a store for writing: Open takes an open-file-description
// lock (F_OFD_SETLK) on the store's LOCK file, so a second writer, in another process or in
// the same one, gets Unavailable. Read-only opens (StoreOptions::read_only) take no writer
// lock and may run alongside the writer; they see what the writer has published and pick up
// more with Refresh(). Do not put a store on NFS.
//
// Thread safety: all methods may be called from several threads at once.
// Lifetime: the lock is released when the Store and every handle opened from it are gone.
//
// fork(): a child made by fork() must not use its parent's Store or any handle opened from
// it, nor destroy them (destroying a writable handle would sync and stop threads that exist
// only in the parent): the child leaves them alone until it calls exec or _exit, and opens
// the store itself if it needs it (read-only at once, as the writer once the parent's Store
// and handles are gone). This is LMDB's rule. The child never holds the parent's lock: as
// fork() returns in the child, recstore points the child's copy of the lock file descriptor
// at /dev/null, so the lock goes when the parent lets it go, whether or not the child still
// runs. Descriptors are close-on-exec.
#ifndef RECSTORE_STORE_H_
#define RECSTORE_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/checkpoint.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/cursor.h"
#include "recstore/log.h"
#include "recstore/options.h"
#include "recstore/schema.h"

namespace recstore {

namespace internal {
class Collection;
class StoreState;
}  // namespace internal

struct CollectionOptions {
  // Create the collection if it does not exist (writers only).
  bool create_if_missing = true;
  // Segment capacity for a new collection; 0 means StoreOptions::segment_size.
  uint64_t segment_size = 0;
};

class Store {
 public:
  // Opens (or with create_if_missing, creates) the store at `path`, a directory.
  // create_if_missing makes the store directory only, never its parents.
  // Errors, each message naming the path:
  //   InvalidArgument: `path` is empty ("store path is empty"), or bad options.
  //   NotFound: no create_if_missing, and no store there yet: no such directory, or one
  //     without MANIFEST holding nothing else than an interrupted creation leaves (LOCK,
  //     MANIFEST.tmp), or nothing; or, with create_if_missing, the directory's parent does
  //     not exist (the message says so).
  //   FailedPrecondition: `path` exists but is not a directory (a regular file, for example:
  //     "store path <path> exists but is not a directory"), or, with create_if_missing, its
  //     parent is not a directory; the directory has no MANIFEST but holds other entries
  //     ("<path> is not a recstore store", naming one: not a store, or one whose manifest is
  //     lost); its manifest is from a newer format version or the other endianness.
  //   DataLoss (corrupt manifest: names file and offset), Unavailable (another writer holds
  //   the store; names its pid), or the I/O error.
  // A directory that holds collection folders but no MANIFEST is refused naming MANIFEST,
  // with create_if_missing too: a new store is never made over existing collections.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(
      const std::string& path, const StoreOptions& options = {});

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens the fixed-size collection `name` of record type T, creating it if allowed. The
  // first open of a collection in this process runs recovery (see RecoveryMode); later opens
  // share it. Errors: InvalidArgument (bad name), NotFound (missing and not created),
  // FailedPrecondition (the collection holds another kind or a different schema; the message
  // names the first differing field), DataLoss (recovery found corruption it may not fix).
  template <RecordType T>
  [[nodiscard]] absl::StatusOr<Log<T>> OpenLog(std::string_view name,
                                               const CollectionOptions& options = {}) {
    absl::StatusOr<std::shared_ptr<internal::Collection>> c =
        OpenCollection(name, CollectionKind::kFixed, &SchemaOf<T>(), options);
    if (!c.ok()) return c.status();
    return Log<T>(*std::move(c));
  }

  // Opens the variable-size collection `name`; errors as OpenLog.
  [[nodiscard]] absl::StatusOr<ByteLog> OpenByteLog(std::string_view name,
                                                    const CollectionOptions& options = {});

  // Opens an existing collection of either kind without a C++ type. Errors as OpenLog, but
  // never creates and never fails on schema.
  [[nodiscard]] absl::StatusOr<UntypedLog> OpenUntyped(std::string_view name);

  // Opens the collection `name` of a kind and schema known only at run time (tools,
  // replication: include/recstore/ship.h), creating it when missing if allowed, as OpenLog
  // and OpenByteLog would for a type of that schema. `schema` is ignored for kVariable.
  // Errors as OpenLog; also InvalidArgument for a kFixed schema that no C++ type could have
  // (a field outside the record, a record size outside 1..2^20, an alignment that is not a
  // power of two up to 4096 dividing the size; the message says which).
  [[nodiscard]] absl::StatusOr<UntypedLog> OpenUntyped(std::string_view name, CollectionKind kind,
                                                       const RecordSchema& schema,
                                                       const CollectionOptions& options = {});

  // Opens the checkpoint set `name` (include/recstore/checkpoint.h): the byte log
  // "checkpoint.<name>", created when missing if options.create_if_missing (writers only).
  // Errors: InvalidArgument (bad name: as ValidateName, "checkpoint set name is empty" for
  // an empty one, and the log name "checkpoint.<name>" must be valid too; keep above
  // kMaxCheckpointKeep), NotFound (missing and not created), FailedPrecondition (a collection
  // of that name holds fixed-size records), DataLoss (recovery found corruption it may not
  // fix), or the I/O error of opening the log.
  [[nodiscard]] absl::StatusOr<Checkpoints> OpenCheckpoints(std::string_view name,
                                                            const CheckpointOptions& options = {});

  // Opens the consumer cursor `name` of collection `collection` (include/recstore/cursor.h),
  // creating it when missing if options.create_if_missing, at the collection's begin() as
  // the manifest has it now. Works from read-only stores, which is where consumers run: it
  // needs no writer lock (a read-only store reads the manifest again to find the
  // collection). The Cursor holds the cursor's lock until it is destroyed; it may outlive
  // the Store. Errors: InvalidArgument (a collection or cursor name ValidateName refuses;
  // the message says which: "cursor name is empty"),
  // NotFound (no such collection; or no such cursor and no create_if_missing), Unavailable
  // (another handle, in this or another process, holds or is creating the cursor; names
  // it), DataLoss (both slots of the cursor file damaged, or a field out of range: names the
  // file), FailedPrecondition (a cursor file of a newer format), or the I/O error.
  [[nodiscard]] absl::StatusOr<Cursor> OpenCursor(std::string_view collection,
                                                  std::string_view name,
                                                  const CursorOptions& options = {});

  // The cursors of `collection` as committed on disk, sorted by name, read without their
  // locks (any process, held or not). Errors: InvalidArgument (bad name), NotFound (no such
  // collection), DataLoss naming a damaged cursor file, or the I/O error.
  [[nodiscard]] absl::StatusOr<std::vector<CursorInfo>> ListCursors(
      std::string_view collection) const;

  // Removes the cursor `name` of `collection` (from read-only stores too). Errors:
  // InvalidArgument (bad name), NotFound (no such collection or cursor), Unavailable (a
  // handle holds it; close it first), or the I/O error.
  [[nodiscard]] absl::Status DropCursor(std::string_view collection, std::string_view name);

  // The collections in the manifest (as of open, plus those created through this Store).
  [[nodiscard]] std::vector<CollectionInfo> ListCollections() const;

  // Removes a collection, its files and its cursors. Errors: NotFound; FailedPrecondition if
  // it is open in this process or the store is read-only.
  [[nodiscard]] absl::Status DropCollection(std::string_view name);

  const std::string& path() const;
  const StoreOptions& options() const;

  // The store's identity: 32 lowercase hex digits, random, chosen when the store is created
  // and kept in its manifest; it never changes while the store exists (a copy of the
  // directory keeps it, so copies share an id). Shipping names messages by it
  // (include/recstore/ship.h). A store made by a version older than manifest format 5 gets
  // its id the first time a writer of this version opens it; until then a read-only open
  // returns "".
  std::string id() const;

  // Valid collection names: 1 to 128 bytes, no '/', no NUL or other control character, and
  // neither "." nor "..", nor containing "..". InvalidArgument otherwise: "collection name is
  // empty", or "invalid collection name '<name, C-escaped>': <reason>". Cursor and checkpoint
  // set names follow the same rules, their errors saying "cursor name" or "checkpoint set
  // name".
  [[nodiscard]] static absl::Status ValidateName(std::string_view name);

 private:
  explicit Store(std::shared_ptr<internal::StoreState> state);
  absl::StatusOr<std::shared_ptr<internal::Collection>> OpenCollection(
      std::string_view name, CollectionKind kind, const RecordSchema* schema,
      const CollectionOptions& options);

  std::shared_ptr<internal::StoreState> state_;
};

}  // namespace recstore

#endif  // RECSTORE_STORE_H_
