// The descriptor of a file that carries an open-file-description lock (a store's LOCK file),
// kept from children made by fork().
//
// A child made by fork() inherits every descriptor, and an OFD lock lasts as long as any
// descriptor refers to its open file description. Without care, a child that outlives its
// parent's Store keeps the store's writer lock (close-on-exec helps only once the child
// execs). So every LockFile descriptor is registered, and a pthread_atfork child handler
// points each registered descriptor at /dev/null in the child (dup2) before fork() returns
// there: the child holds no reference to the lock's open file description, and the lock goes
// when the parent closes its descriptor. The descriptor number stays open in the child, so a
// stray close of it there closes /dev/null, never a file of the child's own (if the child
// cannot open /dev/null, out of descriptors, the descriptor is closed instead).
//
// The registry's mutex is held across the open and the close of a LockFile and taken by the
// prepare handler, so a fork never copies a descriptor that is open but not yet registered.
#ifndef RECSTORE_SRC_OS_LOCK_FILE_H_
#define RECSTORE_SRC_OS_LOCK_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "src/os/file.h"

namespace recstore::os {

class LockFile {
 public:
  LockFile() = default;
  LockFile(LockFile&& o) noexcept = default;
  LockFile& operator=(LockFile&& o) noexcept;
  ~LockFile() { Reset(); }

  // Env::Open(path, flags, mode), registered for the fork handler.
  [[nodiscard]] static absl::StatusOr<LockFile> Open(Env* env, std::string path, int flags,
                                                     mode_t mode);

  bool valid() const { return file_.valid(); }
  int fd() const { return file_.fd(); }
  const std::string& path() const { return file_.path(); }
  // After the file was renamed: the path used in later error messages.
  void set_path(std::string path) { file_.set_path(std::move(path)); }

 private:
  explicit LockFile(File file) : file_(std::move(file)) {}
  // Unregisters and closes the descriptor, if any.
  void Reset();

  File file_;
};

}  // namespace recstore::os

#endif  // RECSTORE_SRC_OS_LOCK_FILE_H_
