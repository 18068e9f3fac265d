// One segment file: preallocated, memory-mapped, with a checksummed header page.
#ifndef RECSTORE_SRC_LOG_SEGMENT_H_
#define RECSTORE_SRC_LOG_SEGMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/format/segment_header.h"
#include "src/os/env.h"
#include "src/os/file.h"

namespace recstore::log {

class Segment {
 public:
  // Creates `path` with header.capacity bytes allocated up front (so a full disk is an error
  // here, never a SIGBUS later), writes the header and maps it writable. The file appears
  // under `path` only once complete (it is built under path + ".tmp" and renamed); the caller
  // syncs the directory. Errors: ResourceExhausted when the disk is full, or the I/O error.
  static absl::StatusOr<std::unique_ptr<Segment>> Create(os::Env* env, const std::string& path,
                                                         const format::SegmentHeader& header,
                                                         mode_t mode);

  // Opens and maps an existing segment and checks its header against `expect` (every field).
  // Errors: DataLoss naming the file (bad magic/checksum, a header that does not match, or a
  // file shorter than its capacity); FailedPrecondition for a newer format version; or the
  // I/O error of the open, read or mapping.
  static absl::StatusOr<std::unique_ptr<Segment>> Open(os::Env* env, const std::string& path,
                                                       bool writable,
                                                       const format::SegmentHeader& expect);

  // Whether an error of Open says the file is not a valid segment of its collection (bad,
  // mismatched or short header, what a torn segment creation leaves), as opposed to an I/O
  // error, which says nothing about what the file holds (EIO is DataLoss too).
  static bool IsInvalid(const absl::Status& s);
  // Whether an error of Open says the header was never written: its 72 bytes (or the whole
  // file, if shorter) are zero. Only that is what a torn segment creation can leave; any other
  // invalid header, or a file shorter than its capacity, is damage.
  static bool IsUnwritten(const absl::Status& s);

  const format::SegmentHeader& header() const { return header_; }
  uint64_t first_seq() const { return header_.first_seq; }
  uint64_t capacity() const { return header_.capacity; }
  const std::string& path() const { return file_.path(); }
  const std::byte* data() const { return map_.data(); }
  std::byte* mutable_data() const { return map_.mutable_data(); }

  // fdatasync of the file: every store made through the mapping before the call is durable
  // when it returns OK.
  [[nodiscard]] absl::Status SyncData() const;
  // Pre-faults [offset, offset+len) for writing; best effort.
  void Populate(uint64_t offset, uint64_t len) const;
  // Zeros [offset, offset+len) of the file (and so of the mapping).
  [[nodiscard]] absl::Status ZeroRange(uint64_t offset, uint64_t len) const;

  bool ReadCommit(format::CommitBlock* out) const;
  void WriteCommit(const format::CommitBlock& c) const;

 private:
  Segment(os::File file, os::Mapping map, format::SegmentHeader header)
      : file_(std::move(file)), map_(std::move(map)), header_(header) {}

  os::File file_;
  os::Mapping map_;
  format::SegmentHeader header_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SEGMENT_H_
