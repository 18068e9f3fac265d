// CrashEnv: an Env over a real directory that models what a power loss would keep.
//
// Every file and directory under a root is tracked by an id of its own (inode numbers are
// reused after unlink, ids are not). The model keeps, per id:
//   * files: the durable content, snapshotted (read back with pread) when SyncData or
//     SyncAll on one of its descriptors returns. Records reach files through shared
//     mappings, not Env calls, so contents are read back rather than replayed.
//   * directories: the current entries {name -> id}, followed through Open(O_CREAT of a new
//     name), Rename, Remove, MakeDir and RemoveDir, and the durable entries, snapshotted by
//     SyncDir. A name never made durable does not survive; a rename or remove whose directory
//     was not synced is undone. The root itself always exists. A directory's entries are
//     made durable by an fsync of it (SyncAll on a descriptor of the directory, counted as
//     the call "SyncDir").
// WriteCrashImage builds the tree a crash would leave, treating the bytes that differ between
// a file's current and durable content as the CrashMode says (crash_image.h).
//
// The real syncs are not made: the model decides what is durable, and the files under the
// root are scratch copies. Everything else is forwarded to Env::Default(). Only what lies
// under the root is modelled; calls on other paths are forwarded and counted.
//
//   CrashEnv env(root);
//   env.CrashAfterCall(n, {{CrashEnv::Mode::kDropUnsynced, seed, image_dir}});
//   ... run a workload through env; after its n-th Env call the image is written and every
//   later call but Close and Unmap fails with EIO ...
//
// Thread safety: calls are serialized by one mutex.
#ifndef RECSTORE_TESTS_CRASH_CRASH_ENV_H_
#define RECSTORE_TESTS_CRASH_CRASH_ENV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "tests/crash/crash_image.h"

namespace recstore::crash {

class CrashEnv : public EnvWrapper {
 public:
  using Mode = CrashMode;

  struct Image {
    Mode mode;
    uint64_t seed;
    std::string dir;
  };

  // Tracks everything under `root` (an existing directory); what is already there counts as
  // durable.
  explicit CrashEnv(std::string root);

  // Writes, into a fresh directory `out_dir`, the tree of durable names as a crash now would
  // leave it (`seed` picks the random choices of the mode).
  absl::Status WriteCrashImage(const std::string& out_dir, Mode mode, uint64_t seed);

  // After the n-th Env call (1-based, counting every call of every kind since construction or
  // Reset) completes: runs `on_crash` (if set), writes each image, then fails every later
  // call except Close and Unmap with EIO. `on_crash` runs with the Env's lock held (the
  // workload's thread is inside that call) and must not call the Env.
  void CrashAfterCall(uint64_t n, std::vector<Image> images,
                      std::function<void()> on_crash = nullptr);
  void CrashAfterCall(uint64_t n, Mode mode, uint64_t seed, const std::string& out_dir) {
    CrashAfterCall(n, {Image{mode, seed, out_dir}});
  }
  // Restarts the call count and disarms the crash (the model of the files is kept).
  void Reset();

  uint64_t calls() const;
  // Whether the crash happened, and whether its images were written.
  bool crashed() const;
  absl::Status image_status() const;
  // The call after which the crash happened ("Rename /path/a"), for messages.
  std::string crash_call() const;

  // Env.
  absl::StatusOr<int> Open(const std::string& path, int flags, mode_t mode) override;
  absl::Status Close(int fd, const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) override;
  absl::Status Allocate(int fd, const std::string& path, uint64_t offset, uint64_t len) override;
  absl::Status ZeroRange(int fd, const std::string& path, uint64_t offset, uint64_t len) override;
  absl::Status Truncate(int fd, const std::string& path, uint64_t size) override;
  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t offset) override;
  absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf, size_t len,
                               uint64_t offset) override;
  absl::Status SyncData(int fd, const std::string& path) override;
  absl::Status SyncAll(int fd, const std::string& path) override;
  absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len, bool writable) override;
  absl::Status Unmap(void* addr, size_t len, const std::string& path) override;
  absl::Status PopulateWrite(void* addr, size_t len, const std::string& path) override;
  absl::Status Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) override;
  absl::Status MakeDir(const std::string& path, mode_t mode) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Remove(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status Exists(const std::string& path) override;

 private:
  class CallGuard;
  static constexpr uint64_t kNone = ~uint64_t{0};

  struct Node {
    bool dir = false;
    std::string path;  // current name; empty once unlinked
    // Files.
    std::string durable;     // durable content (its size is the durable size)
    std::string last_known;  // content when it lost its last name and descriptor
    std::vector<int> fds;    // open descriptors (to read it once unlinked)
    // Directories.
    std::map<std::string, uint64_t> entries;
    std::map<std::string, uint64_t> durable_entries;
  };

  // Completes a call (CallGuard): crashes when it was the n-th.
  void AfterCall(std::string_view op, const std::string& path);
  absl::Status WriteImageLocked(const std::string& out_dir, Mode mode, uint64_t seed);
  absl::Status WriteTree(uint64_t dir_id, const std::string& out, Mode mode, uint64_t seed,
                         int depth);

  std::string Normalize(const std::string& path) const;
  bool InRoot(const std::string& norm) const;
  uint64_t Lookup(const std::string& norm) const;
  uint64_t AddNode(bool dir, const std::string& norm, std::string durable);
  // Gives node `id` the current name `norm` (and its entries theirs, for a directory).
  void Link(uint64_t id, const std::string& norm);
  // Node `id` loses its current name.
  void Unlink(uint64_t id);
  void ScanExisting(uint64_t dir_id);
  absl::StatusOr<std::string> ReadFd(int fd, const std::string& path) const;
  absl::StatusOr<std::string> ReadOwnFd(int fd, const std::string& path) const;
  absl::StatusOr<std::string> ReadPath(const std::string& path) const;
  // What the file holds now (read back from the real file while it can be).
  absl::StatusOr<std::string> CurrentContent(const Node& n) const;
  absl::Status SnapshotDurable(int fd, const std::string& path);

  Env* const real_;
  const std::string root_;

  mutable std::mutex mu_;
  std::vector<Node> nodes_;  // index: id; 0 is the root
  absl::flat_hash_map<std::string, uint64_t> by_path_;
  absl::flat_hash_map<int, uint64_t> by_fd_;

  uint64_t calls_ = 0;
  uint64_t crash_after_ = 0;  // 0: not armed
  std::vector<Image> images_;
  std::function<void()> on_crash_;
  bool crashed_ = false;
  absl::Status image_status_;
  std::string crash_call_;
};

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_CRASH_ENV_H_
