// CrashEnv: the call forwarding and the tracking of names and descriptors. The crash image
// (what survives of each file) is built in crash_image.cc.
#include "tests/crash/crash_env.h"

#include <fcntl.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/base/errno_status.h"

namespace recstore::crash {

namespace fs = std::filesystem;

namespace {

std::string ParentOf(const std::string& norm) { return fs::path(norm).parent_path().string(); }
std::string NameOf(const std::string& norm) { return fs::path(norm).filename().string(); }

}  // namespace

// Counts one Env call for its whole duration: the crash, when armed for this call, happens
// once the call is complete (when the guard goes, still under the lock).
class CrashEnv::CallGuard {
 public:
  CallGuard(CrashEnv* env, std::string_view op, const std::string& path)
      : env_(env), op_(op), path_(path) {
    ++env_->calls_;
    const bool exempt = op == "Close" || op == "Unmap";
    if (env_->crashed_ && !exempt) status_ = base::ErrnoToStatus(EIO, op, path);
  }
  ~CallGuard() { env_->AfterCall(op_, path_); }
  CallGuard(const CallGuard&) = delete;
  CallGuard& operator=(const CallGuard&) = delete;

  const absl::Status& status() const { return status_; }

 private:
  CrashEnv* env_;
  std::string_view op_;
  const std::string& path_;
  absl::Status status_;
};

CrashEnv::CrashEnv(std::string root)
    : EnvWrapper(Env::Default()), real_(Env::Default()), root_(Normalize(root)) {
  nodes_.push_back(Node{.dir = true, .path = root_});
  by_path_[root_] = 0;
  ScanExisting(0);
}

void CrashEnv::ScanExisting(uint64_t dir_id) {
  std::vector<std::pair<std::string, bool>> children;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(nodes_[dir_id].path, ec)) {
    children.emplace_back(e.path().string(), e.is_directory());
  }
  for (const auto& [path, dir] : children) {
    std::string content;
    if (!dir) {
      absl::StatusOr<std::string> c = ReadPath(path);
      if (c.ok()) content = *std::move(c);
    }
    const uint64_t id = AddNode(dir, path, content);
    if (dir) ScanExisting(id);
  }
  // What was there before counts as durable.
  nodes_[dir_id].durable_entries = nodes_[dir_id].entries;
}

void CrashEnv::CrashAfterCall(uint64_t n, std::vector<Image> images,
                              std::function<void()> on_crash) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = n;
  images_ = std::move(images);
  on_crash_ = std::move(on_crash);
}

void CrashEnv::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_ = 0;
  crash_after_ = 0;
  images_.clear();
  on_crash_ = nullptr;
  crashed_ = false;
  image_status_ = absl::OkStatus();
  crash_call_.clear();
}

uint64_t CrashEnv::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

bool CrashEnv::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

std::string CrashEnv::crash_call() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crash_call_;
}

absl::Status CrashEnv::image_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return image_status_;
}

absl::Status CrashEnv::WriteCrashImage(const std::string& out_dir, Mode mode, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteImageLocked(out_dir, mode, seed);
}

void CrashEnv::AfterCall(std::string_view op, const std::string& path) {
  if (crashed_ || crash_after_ == 0 || calls_ != crash_after_) return;
  crashed_ = true;
  crash_call_ = std::string(op) + " " + path;
  if (on_crash_) on_crash_();
  for (const Image& image : images_) {
    absl::Status s = WriteImageLocked(image.dir, image.mode, image.seed);
    if (!s.ok() && image_status_.ok()) image_status_ = s;
  }
}

std::string CrashEnv::Normalize(const std::string& path) const {
  std::string s = fs::absolute(fs::path(path)).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool CrashEnv::InRoot(const std::string& norm) const {
  return norm == root_ ||
         (norm.size() > root_.size() && norm.starts_with(root_) && norm[root_.size()] == '/');
}

uint64_t CrashEnv::Lookup(const std::string& norm) const {
  auto it = by_path_.find(norm);
  return it == by_path_.end() ? kNone : it->second;
}

uint64_t CrashEnv::AddNode(bool dir, const std::string& norm, std::string durable) {
  const uint64_t id = nodes_.size();
  nodes_.push_back(Node{.dir = dir, .durable = std::move(durable)});
  Link(id, norm);
  return id;
}

void CrashEnv::Link(uint64_t id, const std::string& norm) {
  nodes_[id].path = norm;
  by_path_[norm] = id;
  const uint64_t parent = Lookup(ParentOf(norm));
  if (parent != kNone) nodes_[parent].entries[NameOf(norm)] = id;
  if (!nodes_[id].dir) return;
  // A renamed directory takes its current entries along.
  for (const auto& [name, child] : nodes_[id].entries) {
    by_path_.erase(nodes_[child].path);
    Link(child, norm + "/" + name);
  }
}

void CrashEnv::Unlink(uint64_t id) {
  Node& n = nodes_[id];
  const uint64_t parent = Lookup(ParentOf(n.path));
  if (parent != kNone) {
    auto it = nodes_[parent].entries.find(NameOf(n.path));
    if (it != nodes_[parent].entries.end() && it->second == id) nodes_[parent].entries.erase(it);
  }
  auto it = by_path_.find(n.path);
  if (it != by_path_.end() && it->second == id) by_path_.erase(it);
  n.path.clear();
}

absl::StatusOr<std::string> CrashEnv::ReadFd(int fd, const std::string& path) const {
  // Through a descriptor of its own: `fd` may be write-only, and the file unlinked.
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  RECSTORE_ASSIGN_OR_RETURN(int own, real_->Open(self, O_RDONLY, 0));
  absl::StatusOr<std::string> bytes = ReadOwnFd(own, path);
  real_->Close(own, path).IgnoreError();
  return bytes;
}

absl::StatusOr<std::string> CrashEnv::ReadOwnFd(int fd, const std::string& path) const {
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, real_->FileSize(fd, path));
  std::string bytes(size, '\0');
  RECSTORE_ASSIGN_OR_RETURN(size_t got, real_->PRead(fd, path, bytes.data(), size, 0));
  bytes.resize(got);
  return bytes;
}

absl::StatusOr<std::string> CrashEnv::ReadPath(const std::string& path) const {
  RECSTORE_ASSIGN_OR_RETURN(int fd, real_->Open(path, O_RDONLY, 0));
  absl::StatusOr<std::string> bytes = ReadOwnFd(fd, path);
  real_->Close(fd, path).IgnoreError();
  return bytes;
}

absl::StatusOr<std::string> CrashEnv::CurrentContent(const Node& n) const {
  if (!n.path.empty()) return ReadPath(n.path);
  if (!n.fds.empty()) return ReadFd(n.fds.front(), "(unlinked)");
  return n.last_known;
}

// --- Files ---

absl::StatusOr<int> CrashEnv::Open(const std::string& path, int flags, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Open", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  const std::string norm = Normalize(path);
  const bool existed = Lookup(norm) != kNone;
  RECSTORE_ASSIGN_OR_RETURN(int fd, real_->Open(path, flags, mode));
  if (!InRoot(norm)) return fd;
  uint64_t id = Lookup(norm);
  if (!existed) {
    // A new name starts with nothing durable; a name the model had not seen (made behind its
    // back) counts as durable, like what was there at construction.
    std::string content;
    if ((flags & O_CREAT) == 0) {
      absl::StatusOr<std::string> c = ReadFd(fd, path);
      if (c.ok()) content = *std::move(c);
    }
    id = AddNode(false, norm, std::move(content));
  }
  by_fd_[fd] = id;
  nodes_[id].fds.push_back(fd);
  return fd;
}

absl::Status CrashEnv::Close(int fd, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Close", path);
  if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
    std::vector<int>& fds = nodes_[it->second].fds;
    std::erase(fds, fd);
    if (fds.empty() && nodes_[it->second].path.empty()) {
      // The last way to read an unlinked file goes: keep what it held.
      absl::StatusOr<std::string> c = ReadFd(fd, path);
      if (c.ok()) nodes_[it->second].last_known = *std::move(c);
    }
    by_fd_.erase(it);
  }
  return real_->Close(fd, path);
}

absl::StatusOr<uint64_t> CrashEnv::FileSize(int fd, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "FileSize", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->FileSize(fd, path);
}

absl::Status CrashEnv::Allocate(int fd, const std::string& path, uint64_t offset, uint64_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Allocate", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->Allocate(fd, path, offset, len);
}

absl::Status CrashEnv::ZeroRange(int fd, const std::string& path, uint64_t offset, uint64_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "ZeroRange", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->ZeroRange(fd, path, offset, len);
}

absl::Status CrashEnv::Truncate(int fd, const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Truncate", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->Truncate(fd, path, size);
}

absl::Status CrashEnv::PWrite(int fd, const std::string& path, std::string_view data,
                              uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "PWrite", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->PWrite(fd, path, data, offset);
}

absl::StatusOr<size_t> CrashEnv::PRead(int fd, const std::string& path, void* buf, size_t len,
                                       uint64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "PRead", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->PRead(fd, path, buf, len, offset);
}

absl::Status CrashEnv::SnapshotDurable(int fd, const std::string& path) {
  // The model is what makes data durable; the real fdatasync would only cost time.
  RECSTORE_ASSIGN_OR_RETURN(std::string content, ReadFd(fd, path));
  if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
    nodes_[it->second].durable = std::move(content);
  }
  return absl::OkStatus();
}

absl::Status CrashEnv::SyncData(int fd, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "SyncData", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return SnapshotDurable(fd, path);
}

absl::Status CrashEnv::SyncAll(int fd, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_fd_.find(fd);
  const bool dir = it != by_fd_.end() && nodes_[it->second].dir;
  CallGuard call(this, dir ? "SyncDir" : "SyncAll", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  if (!dir) return SnapshotDurable(fd, path);
  // A directory's fsync: its current entries become its durable ones.
  nodes_[it->second].durable_entries = nodes_[it->second].entries;
  return absl::OkStatus();
}

// --- Mappings and locks: forwarded ---

absl::StatusOr<void*> CrashEnv::Map(int fd, const std::string& path, size_t len, bool writable) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Map", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->Map(fd, path, len, writable);
}

absl::Status CrashEnv::Unmap(void* addr, size_t len, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Unmap", path);
  return real_->Unmap(addr, len, path);
}

absl::Status CrashEnv::PopulateWrite(void* addr, size_t len, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "PopulateWrite", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->PopulateWrite(addr, len, path);
}

absl::Status CrashEnv::Lock(int fd, const std::string& path, uint64_t byte, LockKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Lock", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->Lock(fd, path, byte, kind);
}

// --- Directories and names ---

absl::Status CrashEnv::MakeDir(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "MakeDir", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  RECSTORE_RETURN_IF_ERROR(real_->MakeDir(path, mode));
  const std::string norm = Normalize(path);
  if (InRoot(norm) && Lookup(norm) == kNone) AddNode(true, norm, "");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CrashEnv::ListDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "ListDir", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->ListDir(path);
}

absl::Status CrashEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Rename", from);
  RECSTORE_RETURN_IF_ERROR(call.status());
  const std::string nf = Normalize(from), nt = Normalize(to);
  const uint64_t id = Lookup(nf);
  const uint64_t replaced = Lookup(nt);
  // The file a rename replaces loses its name: keep what it holds.
  std::string replaced_content;
  if (replaced != kNone && replaced != id && !nodes_[replaced].dir) {
    absl::StatusOr<std::string> c = CurrentContent(nodes_[replaced]);
    if (c.ok()) replaced_content = *std::move(c);
  }
  RECSTORE_RETURN_IF_ERROR(real_->Rename(from, to));
  if (replaced != kNone && replaced != id) {
    Unlink(replaced);
    nodes_[replaced].last_known = std::move(replaced_content);
  }
  if (id != kNone) {
    Unlink(id);
    if (InRoot(nt)) Link(id, nt);
  } else if (InRoot(nt)) {
    AddNode(fs::is_directory(nt), nt, "");  // moved in from outside: nothing durable
  }
  return absl::OkStatus();
}

absl::Status CrashEnv::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Remove", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  const uint64_t id = Lookup(Normalize(path));
  std::string content;
  if (id != kNone) {
    absl::StatusOr<std::string> c = CurrentContent(nodes_[id]);
    if (c.ok()) content = *std::move(c);
  }
  RECSTORE_RETURN_IF_ERROR(real_->Remove(path));
  if (id != kNone) {
    Unlink(id);
    nodes_[id].last_known = std::move(content);
  }
  return absl::OkStatus();
}

absl::Status CrashEnv::RemoveDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "RemoveDir", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  RECSTORE_RETURN_IF_ERROR(real_->RemoveDir(path));
  const std::string norm = Normalize(path);
  if (const uint64_t id = Lookup(norm); id != kNone && norm != root_) Unlink(id);
  return absl::OkStatus();
}

absl::Status CrashEnv::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  CallGuard call(this, "Exists", path);
  RECSTORE_RETURN_IF_ERROR(call.status());
  return real_->Exists(path);
}

}  // namespace recstore::crash
