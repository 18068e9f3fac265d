// Env: the one seam through which recstore makes every file, mapping, lock, sync, directory
// and clock call. Applications normally never see it: StoreOptions::env defaults to
// Env::Default(), the POSIX and Linux implementation. Give a store another Env to observe or
// change what the library asks of the operating system, for example to inject faults in
// tests (as LevelDB's Env). Derive from EnvWrapper to override only the calls you change.
//
// Every call names the path it works on, so errors can name the file involved. Errors are the
// errno of the system call mapped to an absl::Status code (ENOENT NotFound, EEXIST
// AlreadyExists, EACCES/EPERM/EROFS PermissionDenied, ENOSPC/EDQUOT/EFBIG/ENOMEM/EMFILE/
// ENFILE ResourceExhausted, EAGAIN/EBUSY Unavailable, EINVAL InvalidArgument, ENOSYS/
// EOPNOTSUPP Unimplemented, anything else, EIO included, Internal), with a message naming the
// call, the path and the errno.
//
// Thread safety: an Env must be safe to call from several threads at once. It must outlive
// every Store opened with it and every handle opened from those.
#ifndef RECSTORE_ENV_H_
#define RECSTORE_ENV_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/config.h"  // first: fails clearly below C++20

#if __cplusplus < 202002L
#error "recstore needs C++20 (-std=c++20)"
#endif

namespace recstore {

// kUnlock releases the lock this open file description holds on the byte.
enum class LockKind { kShared, kExclusive, kUnlock };

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation. Never null; lives for the whole process.
  static Env* Default();

  // Files. Descriptors are plain ints; the caller owns them and closes them with Close.
  // Env::Default()'s Open hands out descriptors of 3 and above only (never stdin, stdout or
  // stderr, so a program's own writes to a closed 1 or 2 cannot reach a store file), always
  // close-on-exec. It opens regular files, or directories with O_DIRECTORY; anything else (a
  // FIFO, a device, a socket) is refused with FailedPrecondition naming the path, and with
  // O_NOFOLLOW a symbolic link is refused the same way.
  [[nodiscard]] virtual absl::StatusOr<int> Open(const std::string& path, int flags,
                                                 mode_t mode) = 0;
  // Releases `fd` even when it reports an error (as close(2) does).
  [[nodiscard]] virtual absl::Status Close(int fd, const std::string& path) = 0;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) = 0;
  // The file's identity (device and inode), to tell whether a name still refers to the
  // file that was opened.
  struct FileId {
    uint64_t device = 0;
    uint64_t inode = 0;
    friend bool operator==(const FileId&, const FileId&) = default;
  };
  [[nodiscard]] virtual absl::StatusOr<FileId> Identify(int fd, const std::string& path) = 0;
  // Allocates [offset, offset+len) so later writes cannot fail for lack of space.
  [[nodiscard]] virtual absl::Status Allocate(int fd, const std::string& path, uint64_t offset,
                                              uint64_t len) = 0;
  // Turns [offset, offset+len) into zeros. The range may be deallocated (the default Env
  // punches a hole where the file system can): a writer calls Allocate before it stores into
  // the range through a mapping again.
  [[nodiscard]] virtual absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset,
                                               uint64_t len) = 0;
  [[nodiscard]] virtual absl::Status Truncate(int fd, const std::string& path, uint64_t size) = 0;
  // Writes all of `data` at `offset` (short writes are continued).
  [[nodiscard]] virtual absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                                            uint64_t offset) = 0;
  // Reads up to `len` bytes at `offset`; fewer only at the end of the file.
  [[nodiscard]] virtual absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf,
                                                     size_t len, uint64_t offset) = 0;
  // fdatasync: file data, including pages dirtied through a shared mapping.
  [[nodiscard]] virtual absl::Status SyncData(int fd, const std::string& path) = 0;
  // fsync: data and metadata. On a directory descriptor: its entries.
  [[nodiscard]] virtual absl::Status SyncAll(int fd, const std::string& path) = 0;

  // Mappings (MAP_SHARED). Map never maps past the file size the caller read; the mapping
  // stays valid after the descriptor is closed.
  [[nodiscard]] virtual absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len,
                                                  bool writable) = 0;
  [[nodiscard]] virtual absl::Status Unmap(void* addr, size_t len, const std::string& path) = 0;
  // Pre-faults [addr, addr+len) of a writable mapping for writing (MADV_POPULATE_WRITE).
  // Best effort: an error only means the pages will fault on first store instead.
  [[nodiscard]] virtual absl::Status PopulateWrite(void* addr, size_t len,
                                                   const std::string& path) = 0;

  // Address space, for containers that grow in place. ReserveAddress reserves `len` bytes
  // (a multiple of the page size) of address space with no access and no memory (PROT_NONE,
  // MAP_NORESERVE); release it with Unmap. MapAt maps `len` bytes at `addr` (page-aligned,
  // inside a reservation), readable and writable, replacing what was mapped there
  // (MAP_FIXED): anonymous zero pages when `fd` < 0; otherwise the file's bytes from `offset`
  // (page-aligned), copy-on-write (MAP_PRIVATE: stores stay in this process's memory and
  // never reach the file) unless `shared` (MAP_SHARED). The caller keeps [offset,
  // offset+len) inside the file. `path` names the file (or the container) in errors.
  [[nodiscard]] virtual absl::StatusOr<void*> ReserveAddress(size_t len,
                                                             const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status MapAt(void* addr, size_t len, int fd, const std::string& path,
                                           uint64_t offset, bool shared) = 0;

  // Open-file-description locks (F_OFD_SETLK) on one byte of the file; non-blocking. A
  // conflicting lock yields Unavailable.
  [[nodiscard]] virtual absl::Status Lock(int fd, const std::string& path, uint64_t byte,
                                          LockKind kind) = 0;

  // Directories and names.
  [[nodiscard]] virtual absl::Status MakeDir(const std::string& path, mode_t mode) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual absl::Status Remove(const std::string& path) = 0;
  [[nodiscard]] virtual absl::Status RemoveDir(const std::string& path) = 0;
  // OK if `path` exists, NotFound if not, another error if it cannot be told.
  [[nodiscard]] virtual absl::Status Exists(const std::string& path) = 0;

  // Waiting on a 32-bit word of a shared file mapping, between processes (futex(2) without
  // FUTEX_PRIVATE_FLAG: a waiter in any process that maps the same file is woken). WaitWord
  // sleeps while *word == expected, until a WakeWord on the word, a signal, or `timeout`
  // (negative: none). It may return early for no reason; callers re-check what they wait for.
  // Returns OK (woken, interrupted, or the word did not hold `expected`), DeadlineExceeded
  // (the timeout passed), or the errno of the call.
  [[nodiscard]] virtual absl::Status WaitWord(const uint32_t* word, uint32_t expected,
                                              std::chrono::nanoseconds timeout) = 0;
  // Wakes every waiter of WaitWord on `word`.
  [[nodiscard]] virtual absl::Status WakeWord(const uint32_t* word) = 0;

  // The wall clock, in nanoseconds since the Unix epoch (record append times, retention by
  // age, checkpoint times). It may jump in either direction.
  virtual int64_t NowUnixNanos() = 0;
};

// Forwards every call to another Env. Derive from it and override only what you change.
class EnvWrapper : public Env {
 public:
  // `target` must outlive the wrapper.
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  absl::StatusOr<int> Open(const std::string& path, int flags, mode_t mode) override {
    return target_->Open(path, flags, mode);
  }
  absl::Status Close(int fd, const std::string& path) override { return target_->Close(fd, path); }
  absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) override {
    return target_->FileSize(fd, path);
  }
  absl::StatusOr<FileId> Identify(int fd, const std::string& path) override {
    return target_->Identify(fd, path);
  }
  absl::Status Allocate(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    return target_->Allocate(fd, path, offset, len);
  }
  absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset, uint64_t len) override {
    return target_->ZeroRange(fd, path, offset, len);
  }
  absl::Status Truncate(int fd, const std::string& path, uint64_t size) override {
    return target_->Truncate(fd, path, size);
  }
  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t offset) override {
    return target_->PWrite(fd, path, data, offset);
  }
  absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf, size_t len,
                               uint64_t offset) override {
    return target_->PRead(fd, path, buf, len, offset);
  }
  absl::Status SyncData(int fd, const std::string& path) override {
    return target_->SyncData(fd, path);
  }
  absl::Status SyncAll(int fd, const std::string& path) override {
    return target_->SyncAll(fd, path);
  }
  absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len, bool writable) override {
    return target_->Map(fd, path, len, writable);
  }
  absl::Status Unmap(void* addr, size_t len, const std::string& path) override {
    return target_->Unmap(addr, len, path);
  }
  absl::Status PopulateWrite(void* addr, size_t len, const std::string& path) override {
    return target_->PopulateWrite(addr, len, path);
  }
  absl::StatusOr<void*> ReserveAddress(size_t len, const std::string& path) override {
    return target_->ReserveAddress(len, path);
  }
  absl::Status MapAt(void* addr, size_t len, int fd, const std::string& path, uint64_t offset,
                     bool shared) override {
    return target_->MapAt(addr, len, fd, path, offset, shared);
  }
  absl::Status Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) override {
    return target_->Lock(fd, path, byte, kind);
  }
  absl::Status MakeDir(const std::string& path, mode_t mode) override {
    return target_->MakeDir(path, mode);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_->ListDir(path);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  absl::Status Remove(const std::string& path) override { return target_->Remove(path); }
  absl::Status RemoveDir(const std::string& path) override { return target_->RemoveDir(path); }
  absl::Status Exists(const std::string& path) override { return target_->Exists(path); }
  absl::Status WaitWord(const uint32_t* word, uint32_t expected,
                        std::chrono::nanoseconds timeout) override {
    return target_->WaitWord(word, expected, timeout);
  }
  absl::Status WakeWord(const uint32_t* word) override { return target_->WakeWord(word); }
  int64_t NowUnixNanos() override { return target_->NowUnixNanos(); }

 private:
  Env* const target_;
};

}  // namespace recstore

#endif  // RECSTORE_ENV_H_
