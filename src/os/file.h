// RAII owners for what Env hands out, a descriptor (File) and a mapping (Mapping), and the
// directory flush every durable name change needs.
#ifndef RECSTORE_SRC_OS_FILE_H_
#define RECSTORE_SRC_OS_FILE_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "recstore/env.h"

namespace recstore::os {

// An open descriptor and the path it was opened with. Move-only; closes on destruction.
class File {
 public:
  File() = default;
  File(Env* env, int fd, std::string path) : env_(env), fd_(fd), path_(std::move(path)) {}
  File(File&& o) noexcept { *this = std::move(o); }
  File& operator=(File&& o) noexcept;
  ~File() { Reset(); }

  [[nodiscard]] static absl::StatusOr<File> Open(Env* env, std::string path, int flags,
                                                 mode_t mode = 0644);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  Env* env() const { return env_; }
  // After the file was renamed: the path used in later error messages.
  void set_path(std::string path) { path_ = std::move(path); }

 private:
  void Reset();

  Env* env_ = nullptr;
  int fd_ = -1;
  std::string path_;
};

// A shared mapping of a whole file. Move-only; unmaps on destruction. Only a writable mapping
// hands out mutable bytes.
class Mapping {
 public:
  Mapping() = default;
  Mapping(Mapping&& o) noexcept { *this = std::move(o); }
  Mapping& operator=(Mapping&& o) noexcept;
  ~Mapping() { Reset(); }

  // Maps the first `len` bytes of `file`; `len` must not exceed the file's size.
  [[nodiscard]] static absl::StatusOr<Mapping> Map(const File& file, size_t len, bool writable);

  const std::byte* data() const { return data_; }
  std::byte* mutable_data() const { return writable_ ? data_ : nullptr; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }

 private:
  void Reset();

  Env* env_ = nullptr;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
  std::string path_;
};

// Makes the entries of directory `path` durable: opens it and fsyncs it. When it fails,
// `*flush_failed` (if given) says whether the fsync itself failed, which is final (the
// kernel may have dropped what it could not write), or only the open (for example EMFILE),
// after which nothing was flushed and the caller may try again.
[[nodiscard]] absl::Status SyncDir(Env* env, const std::string& path,
                                   bool* flush_failed = nullptr);

}  // namespace recstore::os

#endif  // RECSTORE_SRC_OS_FILE_H_
