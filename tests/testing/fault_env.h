// An Env that forwards to the real one (or another Env) and fails chosen calls with chosen
// errno values.
//
//   FaultEnv env;
//   env.Fail("SyncData", EIO);                 // every later SyncData fails
//   env.Fail("Allocate", ENOSPC, /*skip=*/1);  // the second Allocate onwards fails
//   env.FailNth("PWrite", 3, EINTR);           // only the third PWrite from now fails
//   env.FailNth(FaultEnv::kAnyCall, 10, EIO);  // the tenth call of any kind fails
//   env.Clear();
//   env.BeforeEachCall([](std::string_view op, const std::string& path) { ... });
//
// Every Env method is counted and can be failed. A failed call does nothing, except Close and
// Unmap, which release the descriptor or mapping and then report the error (as the kernel
// does for close). An fsync of a directory (SyncAll on a descriptor opened with O_DIRECTORY)
// is named "SyncDir", so rules can fail directory flushes apart from file flushes.
#ifndef RECSTORE_TESTS_TESTING_FAULT_ENV_H_
#define RECSTORE_TESTS_TESTING_FAULT_ENV_H_

#include <fcntl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "recstore/env.h"
#include "src/base/errno_status.h"

namespace recstore::testing {

class FaultEnv : public EnvWrapper {
 public:
  // Forwards to `base` (by default the real Env), which must outlive this one.
  explicit FaultEnv(Env* base = Env::Default()) : EnvWrapper(base), real_(base) {}

  // The op name that matches calls of every kind (in Fail, FailNth and Calls).
  static constexpr char kAnyCall[] = "*";

  // Makes calls named `op` (the Env method name, or kAnyCall) whose path contains `path_part`
  // fail with `err`, after `skip` such calls have succeeded; then `times` calls fail (-1:
  // every later one). A rule for `op` replaces the previous rule for `op`; a kAnyCall rule
  // applies alongside the rule of the call's own kind.
  void Fail(std::string op, int err, int skip = 0, std::string path_part = "", int times = -1) {
    std::lock_guard<std::mutex> lock(mu_);
    rules_[std::move(op)] = Rule{err, skip, times, std::move(path_part)};
  }
  // Fails only the `nth` (1-based, counted from now) call named `op` with `err`.
  void FailNth(std::string op, int nth, int err, std::string path_part = "") {
    Fail(std::move(op), err, nth - 1, std::move(path_part), /*times=*/1);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    rules_.clear();
  }
  // Calls `hook` with the op name and path at the start of every call, before any rule is
  // applied and without holding the FaultEnv's lock, so the hook may block (a test pauses
  // the caller there to force an interleaving with another process). Replaces the previous
  // hook; an empty function removes it.
  using CallHook = std::function<void(std::string_view op, const std::string& path)>;
  void BeforeEachCall(CallHook hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::make_shared<const CallHook>(std::move(hook));
  }
  // How many times `op` was called (kAnyCall: calls of every kind), failed calls included.
  int Calls(std::string_view op) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(std::string(op));
    return it == calls_.end() ? 0 : it->second;
  }
  // How many calls an injected error failed.
  int Failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

  absl::StatusOr<int> Open(const std::string& path, int flags, mode_t mode) override {
    if (absl::Status s = Check("Open", path); !s.ok()) return s;
    absl::StatusOr<int> fd = real_->Open(path, flags, mode);
    if (fd.ok() && (flags & O_DIRECTORY) != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      dirs_.insert(*fd);
    }
    return fd;
  }
  absl::Status Close(int fd, const std::string& path) override {
    absl::Status injected = Check("Close", path);
    {
      std::lock_guard<std::mutex> lock(mu_);
      dirs_.erase(fd);
    }
    absl::Status s = real_->Close(fd, path);
    return injected.ok() ? s : injected;
  }
  absl::StatusOr<FileId> Identify(int fd, const std::string& path) override {
    if (absl::Status s = Check("Identify", path); !s.ok()) return s;
    return real_->Identify(fd, path);
  }
  absl::StatusOr<uint64_t> FileSize(int fd, const std::string& path) override {
    if (absl::Status s = Check("FileSize", path); !s.ok()) return s;
    return real_->FileSize(fd, path);
  }
  absl::Status Allocate(int fd, const std::string& path, uint64_t off, uint64_t len) override {
    if (absl::Status s = Check("Allocate", path); !s.ok()) return s;
    return real_->Allocate(fd, path, off, len);
  }
  absl::Status ZeroRange(int fd, const std::string& path, uint64_t off, uint64_t len) override {
    if (absl::Status s = Check("ZeroRange", path); !s.ok()) return s;
    return real_->ZeroRange(fd, path, off, len);
  }
  absl::Status Truncate(int fd, const std::string& path, uint64_t size) override {
    if (absl::Status s = Check("Truncate", path); !s.ok()) return s;
    return real_->Truncate(fd, path, size);
  }
  absl::Status PWrite(int fd, const std::string& path, std::string_view data,
                      uint64_t off) override {
    if (absl::Status s = Check("PWrite", path); !s.ok()) return s;
    return real_->PWrite(fd, path, data, off);
  }
  absl::StatusOr<size_t> PRead(int fd, const std::string& path, void* buf, size_t len,
                               uint64_t off) override {
    if (absl::Status s = Check("PRead", path); !s.ok()) return s;
    return real_->PRead(fd, path, buf, len, off);
  }
  absl::Status SyncData(int fd, const std::string& path) override {
    if (absl::Status s = Check("SyncData", path); !s.ok()) return s;
    return real_->SyncData(fd, path);
  }
  absl::Status SyncAll(int fd, const std::string& path) override {
    bool dir;
    {
      std::lock_guard<std::mutex> lock(mu_);
      dir = dirs_.contains(fd);
    }
    if (absl::Status s = Check(dir ? "SyncDir" : "SyncAll", path); !s.ok()) return s;
    return real_->SyncAll(fd, path);
  }
  absl::StatusOr<void*> Map(int fd, const std::string& path, size_t len, bool writable) override {
    if (absl::Status s = Check("Map", path); !s.ok()) return s;
    return real_->Map(fd, path, len, writable);
  }
  absl::Status Unmap(void* addr, size_t len, const std::string& path) override {
    absl::Status injected = Check("Unmap", path);
    absl::Status s = real_->Unmap(addr, len, path);
    return injected.ok() ? s : injected;
  }
  absl::StatusOr<void*> ReserveAddress(size_t len, const std::string& path) override {
    if (absl::Status s = Check("ReserveAddress", path); !s.ok()) return s;
    return real_->ReserveAddress(len, path);
  }
  absl::Status MapAt(void* addr, size_t len, int fd, const std::string& path, uint64_t offset,
                     bool shared) override {
    if (absl::Status s = Check("MapAt", path); !s.ok()) return s;
    return real_->MapAt(addr, len, fd, path, offset, shared);
  }
  absl::Status PopulateWrite(void* addr, size_t len, const std::string& path) override {
    if (absl::Status s = Check("PopulateWrite", path); !s.ok()) return s;
    return real_->PopulateWrite(addr, len, path);
  }
  absl::Status Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) override {
    if (absl::Status s = Check("Lock", path); !s.ok()) return s;
    return real_->Lock(fd, path, byte, kind);
  }
  absl::Status MakeDir(const std::string& path, mode_t mode) override {
    if (absl::Status s = Check("MakeDir", path); !s.ok()) return s;
    return real_->MakeDir(path, mode);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    if (absl::Status s = Check("ListDir", path); !s.ok()) return s;
    return real_->ListDir(path);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (absl::Status s = Check("Rename", from); !s.ok()) return s;
    return real_->Rename(from, to);
  }
  absl::Status Remove(const std::string& path) override {
    if (absl::Status s = Check("Remove", path); !s.ok()) return s;
    return real_->Remove(path);
  }
  absl::Status RemoveDir(const std::string& path) override {
    if (absl::Status s = Check("RemoveDir", path); !s.ok()) return s;
    return real_->RemoveDir(path);
  }
  absl::Status Exists(const std::string& path) override {
    if (absl::Status s = Check("Exists", path); !s.ok()) return s;
    return real_->Exists(path);
  }
  int64_t NowUnixNanos() override { return real_->NowUnixNanos(); }

 private:
  struct Rule {
    int err;
    int skip;
    int times;  // failures left; -1: unlimited
    std::string path_part;
  };

  // Whether `rule` fails this call (and updates its counters).
  static bool Fires(Rule& r, const std::string& path) {
    if (r.times == 0) return false;
    if (!r.path_part.empty() && path.find(r.path_part) == std::string::npos) return false;
    if (r.skip > 0) {
      --r.skip;
      return false;
    }
    if (r.times > 0) --r.times;
    return true;
  }

  absl::Status Check(std::string_view op, const std::string& path) {
    std::shared_ptr<const CallHook> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = hook_;
    }
    if (hook != nullptr && *hook) (*hook)(op, path);
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[std::string(op)];
    ++calls_[std::string(kAnyCall)];
    // Both rules see the call, so each counts its own skips.
    int err = 0;
    for (std::string_view name : {op, std::string_view(kAnyCall)}) {
      auto it = rules_.find(std::string(name));
      if (it != rules_.end() && Fires(it->second, path) && err == 0) err = it->second.err;
    }
    if (err == 0) return absl::OkStatus();
    ++failures_;
    return base::ErrnoToStatus(err, op, path);
  }

  Env* const real_;
  std::mutex mu_;
  absl::flat_hash_set<int> dirs_ ABSL_GUARDED_BY(mu_);  // descriptors of directories
  absl::flat_hash_map<std::string, Rule> rules_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const CallHook> hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_FAULT_ENV_H_
