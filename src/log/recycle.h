// Recycled segments: a writer keeps the files that retention and compaction retire, and
// makes its next segments out of them instead of new files (as RocksDB's
// recycle_log_file_num does for its log files). A reused file is already allocated and
// mostly still in the page cache: appends overwrite resident pages instead of the kernel
// zeroing fresh ones, and a flush writes over allocated blocks instead of converting
// unwritten extents (docs/design.md section 8.10).
//
// The retired files wait in the collection's folder as `<old first seq, 20 digits>.recycle`.
// Nothing reads them: a crash at any moment leaves at most such a file, which the next
// writer open takes over or removes. A file is reused only when no process can still read it:
//   * this process: the retired Segment object is gone (no set, pin or scan holds it);
//   * other processes (and other handles of this one): each read-only handle holds a shared
//     open-file-description lock on the byte at offset `first seq` of the collection's STATE
//     file for as long as it maps the segment starting there, taken before the segment is
//     mapped (ReaderPins). The writer reuses a file only if it can take an exclusive lock on
//     the byte of the file's old first seq, which it then releases. A reader maps a segment by
//     its name, and the name is gone before the writer tests the lock, so a reader that maps
//     the file at all holds its lock before the test.
#ifndef RECSTORE_SRC_LOG_RECYCLE_H_
#define RECSTORE_SRC_LOG_RECYCLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "src/base/mutex.h"
#include "src/log/segment.h"
#include "src/log/shape.h"
#include "src/os/file.h"

namespace recstore::log {

// `<old_first, 20 digits>.recycle`, and its parse (false for any other name).
std::string RecycleFileName(uint64_t old_first);
bool ParseRecycleFileName(const std::string& name, uint64_t* old_first);

// A read-only handle's locks on the STATE file (see above). Thread-safe.
class ReaderPins : public std::enable_shared_from_this<ReaderPins> {
 public:
  // Opens the collection's STATE file for reading, creating it empty if there is none (a
  // collection no writer of this version has opened yet). Null when it can be neither opened
  // nor created (a folder the reader may not write to); the handle then maps segments
  // without pins, and a recycling writer could reuse a file it maps: its reads of that
  // segment then fail their checks (DataLoss; a scan stops), never returning a wrong record.
  // Errors: the I/O error of the open (PermissionDenied gives null instead).
  static absl::StatusOr<std::shared_ptr<ReaderPins>> Open(const Shape& shape);

  // Takes (or shares, within this handle) the shared lock on byte `first_seq`, held until the
  // returned token and every copy of it is gone. Errors: NotFound when the writer holds the
  // byte (it is testing a retired file of that first record, whose name is gone: read the
  // manifest again), or the I/O error of the lock.
  absl::StatusOr<std::shared_ptr<const void>> Hold(uint64_t first_seq);

  ReaderPins(Env* env, os::File file) : env_(env), file_(std::move(file)) {}

 private:
  void Release(uint64_t first_seq);

  Env* const env_;
  const os::File file_;
  base::Mutex mu_;
  absl::flat_hash_map<uint64_t, uint64_t> holds_ ABSL_GUARDED_BY(mu_);  // first seq -> tokens
};

// A writer's retired files. Thread-safe (retention retires, the appender takes).
class RecyclePool {
 public:
  // Keeps at most `limit` files (0: recycling off, every retired file is removed).
  RecyclePool(const Shape& shape, uint32_t limit) : shape_(shape), limit_(limit) {}

  // At the writer's open: takes over the retired files the folder holds (their old first
  // seqs), as many as the limit allows, and removes the others, and any whose header does
  // not name its old first record (a reuse whose rename a crash undid: the file may hold
  // records of the segment it was becoming), or that is not a segment file of this
  // collection (another collection's, a symbolic link, another size: its records could
  // validate in a segment of this one). A name it cannot remove is left, ignored.
  void Adopt(const std::vector<uint64_t>& old_firsts);

  // Retention or compaction retired `seg` (the manifest no longer names it, and that is
  // durable): renames its file into the pool and returns true, or returns false (the pool is
  // full, the segment is not of the collection's segment size, or the rename failed) and the
  // caller removes it. The caller syncs the folder.
  bool Retire(const std::shared_ptr<const Segment>& seg);

  // A new segment `header` under `path`, made from a retired file that nothing reads any
  // more (Segment::Recycle), or nullopt: none is free (or reusing one failed, and it was
  // removed), and the caller creates a file.
  std::optional<Segment::Created> Take(const format::SegmentHeader& header,
                                       const std::string& path);

  // Files in the pool now.
  size_t size() const;

 private:
  struct Entry {
    uint64_t old_first = 0;
    std::weak_ptr<const Segment> segment;  // expired once this process reads it no more
  };
  // Whether another handle holds the STATE lock on `old_first` (true when it cannot tell).
  bool ReadersHold(uint64_t old_first) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the retired file of `old_first` opens as this collection's segment starting at
  // `old_first` (Segment::Open's checks).
  bool HeaderIsOwn(uint64_t old_first) const;
  std::string PathOf(uint64_t old_first) const;

  const Shape& shape_;
  const uint32_t limit_;
  mutable base::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::optional<os::File> state_ ABSL_GUARDED_BY(mu_);  // STATE, opened on first need
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_RECYCLE_H_
