// One cursor file (docs/format.md section 9): opening or creating it under its lock, reading
// its committed state, and committing a new position. The public Cursor (cursor.cc) is a
// handle to one CursorFile.
#ifndef RECSTORE_SRC_CURSOR_CURSOR_FILE_H_
#define RECSTORE_SRC_CURSOR_CURSOR_FILE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "recstore/cursor.h"
#include "recstore/env.h"
#include "src/base/mutex.h"
#include "src/cursor/slot.h"
#include "src/os/lock_file.h"

namespace recstore::cursor {

// Where a collection's cursors live and what a new one starts from.
struct Place {
  Env* env = nullptr;
  std::string store;       // the store directory
  std::string root;        // <store>/cursors
  std::string dir;         // <store>/cursors/<id>-<name>
  std::string collection;  // the collection's name
  uint32_t collection_id = 0;
  uint64_t first_seq = 0;  // a new cursor's position: the collection's begin() in the manifest
  uint32_t file_mode = 0644;

  std::string FileOf(std::string_view name) const;
};

// Reads the committed state of the cursor file `path` without its lock (any process): both
// slots, read again a few times when a commit running meanwhile makes them disagree. Errors:
// NotFound (no such cursor), DataLoss (both slots damaged, or a checked field out of range:
// names the file), FailedPrecondition (a newer cursor format), or the I/O error.
absl::StatusOr<Slot> ReadUnlocked(Env* env, const std::string& path, uint32_t collection_id);

}  // namespace recstore::cursor

namespace recstore::internal {

class CursorFile {
 public:
  // Opens the cursor `name` of `place`, creating it when missing if `create`. Errors:
  // Unavailable (another handle holds it, or is creating it), NotFound (missing and not
  // created), DataLoss and FailedPrecondition as cursor::ReadUnlocked, or the I/O error.
  static absl::StatusOr<std::unique_ptr<CursorFile>> Open(const cursor::Place& place,
                                                          const std::string& name, bool create);

  uint64_t position() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Commit(uint64_t next) ABSL_LOCKS_EXCLUDED(mu_);
  CursorInfo info() const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& name() const { return name_; }
  const std::string& collection() const { return collection_; }
  const std::string& path() const { return file_.path(); }

 private:
  CursorFile(Env* env, os::LockFile file, std::string collection, std::string name,
             const cursor::Slot& slot)
      : env_(env),
        file_(std::move(file)),
        collection_(std::move(collection)),
        name_(std::move(name)),
        slot_(slot) {}

  Env* const env_;
  const os::LockFile file_;  // holds the lock for the CursorFile's lifetime
  const std::string collection_;
  const std::string name_;
  mutable base::Mutex mu_;
  cursor::Slot slot_ ABSL_GUARDED_BY(mu_);  // the committed state
};

}  // namespace recstore::internal

#endif  // RECSTORE_SRC_CURSOR_CURSOR_FILE_H_
