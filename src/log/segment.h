// One segment file: memory-mapped, with a checksummed header page. A Segment is its mapping:
// it keeps no descriptor (a mapping stays valid once the descriptor is closed), so a
// collection of any number of segments needs no more descriptors than the writer's unsynced
// segments. It is never changed once shared, except through the mapping by the one writer
// (records, slots, commit blocks).
//
// Space: the file is `capacity` bytes long from its creation but sparse. Disk space is
// allocated (posix_fallocate) ahead of the writer, from the front for records and frames and
// from the back for the slot index of variable segments, each area at least doubling when it
// grows (Reserve). A store through the mapping only ever lands in allocated space, so a full
// disk is an error of Reserve, never a SIGBUS; and an empty collection, or a checkpoint of a
// few bytes, costs a few dozen KiB of disk rather than a whole segment.
#ifndef RECSTORE_SRC_LOG_SEGMENT_H_
#define RECSTORE_SRC_LOG_SEGMENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/env.h"
#include "src/format/segment_header.h"
#include "src/os/file.h"

namespace recstore::log {

class Segment {
 public:
  // A segment just made, and the open descriptor its writer flushes it through.
  struct Created {
    std::shared_ptr<const Segment> segment;
    os::File file;
  };

  // Creates `path`, header.capacity bytes long, with the space writes to [0, front_end) and
  // [back_begin, capacity) need allocated (at least the first reservation unit of the front;
  // see Reserve), writes and syncs the header and maps it writable. The file appears under
  // `path` only once its header is durable (it is built under path + ".tmp" and renamed), so
  // a named segment always has a valid header; the caller syncs the directory. Errors:
  // ResourceExhausted when the disk is full, or the I/O error.
  static absl::StatusOr<Created> Create(Env* env, const std::string& path,
                                        const format::SegmentHeader& header, mode_t mode,
                                        uint64_t front_end = 0, uint64_t back_begin = UINT64_MAX);

  // Makes `from` (a retired segment of the same collection and capacity, recycle.h) the
  // segment `header` describes, under `path`: writes its header page (the header, marked
  // recycled, and zeros over the old commit block) and syncs it, maps the file writable and
  // renames it. The old records stay where they are: seeded by their own sequence numbers,
  // none of them validates as a record of the new segment. Nothing is reserved (Reserve
  // allocates what the old use did not). The caller syncs the directory. Errors:
  // FailedPrecondition when the file's size is not header.capacity, or the I/O error (then
  // `from` may hold the new header under its old name: it is still only a retired file).
  static absl::StatusOr<Created> Recycle(Env* env, const std::string& from, const std::string& path,
                                         format::SegmentHeader header);

  // Opens and maps an existing segment and checks its header against `expect`: every field,
  // except the capacity when expect.capacity is 0 (then the header's capacity is taken, and it
  // must still equal the file's size), and except `recycled` for an ordinary segment (either is
  // accepted). `hold` is kept as long as the segment (a reader's pin on the file, recycle.h). A
  // symbolic link is refused (O_NOFOLLOW). With `file`, the open descriptor is handed over;
  // otherwise it is closed once the file is mapped. Errors: DataLoss naming the file (bad magic or
  // checksum, a zeroed header, a header that does not match, a file shorter than its capacity) for
  // which IsInvalid() is true; FailedPrecondition for a newer format version; or the I/O error of
  // the open, read or mapping.
  static absl::StatusOr<std::shared_ptr<const Segment>> Open(Env* env, const std::string& path,
                                                             bool writable,
                                                             const format::SegmentHeader& expect,
                                                             os::File* file = nullptr,
                                                             std::shared_ptr<const void> hold = {});

  // Whether an error of Open says the file is not a valid segment of its collection, as
  // opposed to an I/O error, which says nothing about what the file holds.
  static bool IsInvalid(const absl::Status& s);

  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const format::SegmentHeader& header() const { return header_; }
  uint64_t first_seq() const { return header_.first_seq; }
  uint64_t capacity() const { return header_.capacity; }
  // Whether the file held an earlier segment (bytes past the records may be its records).
  bool recycled() const { return header_.recycled; }
  const std::string& path() const { return path_; }
  // The file this segment maps (device and inode).
  const Env::FileId& id() const { return id_; }
  const std::byte* data() const { return map_.data(); }
  // Null unless mapped writable.
  std::byte* mutable_data() const { return map_.mutable_data(); }

  // Opens the segment's file again for writing (to flush or zero it), checking that the name
  // still refers to the mapped file. Errors: FailedPrecondition when it does not, or the I/O
  // error.
  absl::StatusOr<os::File> Reopen() const;

  // Allocates the disk space writes to [0, front_end) and [back_begin, capacity) need, if not
  // yet allocated: an area that grows at least doubles, in units of kReserveUnit (so a page
  // of any size up to 64 KiB is wholly allocated or not at all). Only the collection's one
  // writer calls it, under its append lock (or recovery, before appends start). Errors:
  // ResourceExhausted when the disk is full (nothing is written: the appender returns it),
  // or the I/O error of reopening the file.
  absl::Status Reserve(uint64_t front_end, uint64_t back_begin) const {
    if (front_end <= reserved_front_ && back_begin >= reserved_back_) [[likely]] {
      return absl::OkStatus();  // every append but one in thousands: inline, no call
    }
    return ReserveMore(front_end, back_begin);
  }
  static constexpr uint64_t kReserveUnit = 64 << 10;

  // Turns [from, to) into zeros through `fd` (Env::ZeroRange, which may deallocate it) and
  // forgets what was reserved, so that the next Reserve allocates again whatever a write
  // needs. Recovery only, before appends start.
  absl::Status Zero(int fd, uint64_t from, uint64_t to) const;

  // Pre-faults [offset, offset+len) for writing, within the reserved front; best effort.
  void Populate(uint64_t offset, uint64_t len) const;

  bool ReadCommit(format::CommitBlock* out) const;
  void WriteCommit(const format::CommitBlock& c) const;

 private:
  Segment(Env* env, std::string path, Env::FileId id, os::Mapping map, format::SegmentHeader header)
      : env_(env),
        path_(std::move(path)),
        id_(id),
        map_(std::move(map)),
        header_(header),
        reserved_back_(header.capacity) {}

  // Reserve, when the areas must grow: reopens the file and allocates through it.
  absl::Status ReserveMore(uint64_t front_end, uint64_t back_begin) const;
  // Allocates through `fd` what Reserve(front_end, back_begin) needs.
  absl::Status ReserveThrough(int fd, const std::string& path, uint64_t front_end,
                              uint64_t back_begin) const;

  Env* const env_;
  const std::string path_;
  const Env::FileId id_;
  // Open's `hold`: declared before the mapping, so released only once it is unmapped.
  std::shared_ptr<const void> hold_;
  const os::Mapping map_;
  const format::SegmentHeader header_;
  // Allocated: [0, reserved_front_) and [reserved_back_, capacity) (reserved_front_ ==
  // capacity: all of it, and reserved_back_ is then 0). Touched only by the
  // writer under its append lock (see Reserve); readers never look at them. A segment opened
  // rather than created starts with none known and reserves again (allocating space that is
  // already allocated changes nothing).
  mutable uint64_t reserved_front_ = 0;
  mutable uint64_t reserved_back_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_SEGMENT_H_
