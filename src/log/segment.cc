#include "src/log/segment.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"

namespace recstore::log {

using format::SegmentHeader;

namespace {

// Marks the errors of Open that judge the file's content (see IsInvalid).
constexpr char kInvalidSegment[] = "recstore/invalid-segment";

absl::Status Invalid(absl::Status s) {
  s.SetPayload(kInvalidSegment, absl::Cord());
  return s;
}

absl::Status InvalidAt(const std::string& path, uint64_t offset, std::string_view what) {
  return Invalid(
      absl::DataLossError(absl::StrCat(path, ": offset ", offset, ": ", std::string(what))));
}

}  // namespace

bool Segment::IsInvalid(const absl::Status& s) {
  return s.code() == absl::StatusCode::kDataLoss && s.GetPayload(kInvalidSegment).has_value();
}

absl::StatusOr<Segment::Created> Segment::Create(Env* env, const std::string& path,
                                                 const SegmentHeader& header, mode_t mode,
                                                 uint64_t front_end, uint64_t back_begin) {
  const std::string tmp = path + ".tmp";
  RECSTORE_ASSIGN_OR_RETURN(
      os::File file, os::File::Open(env, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, mode));
  absl::StatusOr<os::Mapping> map = absl::UnknownError("not mapped");
  absl::StatusOr<Env::FileId> id = absl::UnknownError("not identified");
  // The whole length at once (sparse), then the space the first writes need.
  Segment space(env, tmp, Env::FileId{}, os::Mapping(), header);
  absl::Status s = env->Truncate(file.fd(), tmp, header.capacity);
  if (s.ok()) {
    s = space.ReserveThrough(file.fd(), tmp, std::max(front_end, format::kDataStart), back_begin);
  }
  if (s.ok()) {
    std::byte page[format::kEncodedSegmentHeaderSize];
    format::EncodeSegmentHeader(header, page);
    s = env->PWrite(file.fd(), tmp,
                    std::string_view(reinterpret_cast<const char*>(page), sizeof(page)), 0);
  }
  // The file gets its name only once its header and allocation are on disk, so a named
  // segment always has a valid header, whatever crash follows.
  if (s.ok()) s = env->SyncData(file.fd(), tmp);
  if (s.ok()) {
    id = env->Identify(file.fd(), tmp);
    s = id.status();
  }
  if (s.ok()) {
    map = os::Mapping::Map(file, header.capacity, true);
    s = map.status();
  }
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) {
    map = absl::UnknownError("not mapped");
    file = os::File();
    env->Remove(tmp).IgnoreError();  // best effort: do not leave a half-made segment
    return s;
  }
  file.set_path(path);
  Created c;
  auto segment = std::shared_ptr<Segment>(new Segment(env, path, *id, *std::move(map), header));
  segment->reserved_front_ = space.reserved_front_;
  segment->reserved_back_ = space.reserved_back_;
  c.segment = std::move(segment);
  c.file = std::move(file);
  return c;
}

absl::StatusOr<Segment::Created> Segment::Recycle(Env* env, const std::string& from,
                                                  const std::string& path, SegmentHeader header) {
  header.recycled = true;
  RECSTORE_ASSIGN_OR_RETURN(os::File file, os::File::Open(env, from, O_RDWR | O_NOFOLLOW));
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file.fd(), from));
  if (size != header.capacity) {
    return absl::FailedPreconditionError(absl::StrCat(
        from, ": a retired segment of ", size, " bytes cannot become one of ", header.capacity));
  }
  // The whole header page: the new header, and zeros over the old commit block, so that
  // nothing of the earlier segment's durable point survives.
  std::string page(format::kPageSize, '\0');
  format::EncodeSegmentHeader(header, reinterpret_cast<std::byte*>(page.data()));
  RECSTORE_RETURN_IF_ERROR(env->PWrite(file.fd(), from, page, 0));
  // As in Create: the file gets its name only once its new header is on disk.
  RECSTORE_RETURN_IF_ERROR(env->SyncData(file.fd(), from));
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId id, env->Identify(file.fd(), from));
  RECSTORE_ASSIGN_OR_RETURN(os::Mapping map, os::Mapping::Map(file, header.capacity, true));
  RECSTORE_RETURN_IF_ERROR(env->Rename(from, path));
  file.set_path(path);
  Created c;
  c.segment = std::shared_ptr<Segment>(new Segment(env, path, id, std::move(map), header));
  c.file = std::move(file);
  return c;
}

absl::StatusOr<std::shared_ptr<const Segment>> Segment::Open(Env* env, const std::string& path,
                                                             bool writable,
                                                             const SegmentHeader& expect,
                                                             os::File* file_out,
                                                             std::shared_ptr<const void> hold) {
  // O_NOFOLLOW: a segment replaced by a symbolic link is refused (ELOOP), never written
  // through.
  RECSTORE_ASSIGN_OR_RETURN(os::File file,
                            os::File::Open(env, path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW));
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file.fd(), path));
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId id, env->Identify(file.fd(), path));
  std::byte buf[format::kEncodedSegmentHeaderSize] = {};
  RECSTORE_ASSIGN_OR_RETURN(size_t got, env->PRead(file.fd(), path, buf, sizeof(buf), 0));
  if (got < sizeof(buf)) {
    return InvalidAt(path, 0,
                     absl::StrCat("segment file is ", size, " bytes, shorter than its header"));
  }
  if (std::all_of(buf, buf + sizeof(buf), [](std::byte b) { return b == std::byte{0}; })) {
    // Segment::Create names a file only once its header is durable: zeros here are damage.
    return InvalidAt(path, 0, absl::StrCat("segment header is all zeros (", size, " bytes)"));
  }
  absl::StatusOr<SegmentHeader> decoded = format::DecodeSegmentHeader(buf, path);
  if (!decoded.ok()) {
    if (decoded.status().code() == absl::StatusCode::kDataLoss) return Invalid(decoded.status());
    return decoded.status();
  }
  const SegmentHeader& h = *decoded;
  SegmentHeader want = expect;
  if (want.capacity == 0) want.capacity = h.capacity;
  if (!want.compacted) want.recycled = h.recycled;  // an ordinary segment may be either
  if (!(h == want)) {
    return InvalidAt(
        path, 0,
        absl::StrCat("segment header does not match its collection (collection id ",
                     h.collection_id, " vs ", want.collection_id, ", first seq ", h.first_seq,
                     " vs ", want.first_seq, ", record size ", h.record_size, " vs ",
                     want.record_size, ", capacity ", h.capacity, " vs ", want.capacity,
                     ", schema hash ", absl::Hex(h.schema_hash), " vs ",
                     absl::Hex(want.schema_hash), ")"));
  }
  if (h.capacity != size || h.capacity < format::kDataStart + format::kPageSize ||
      h.capacity > format::kMaxSegmentSize) {
    return InvalidAt(
        path, 48,
        absl::StrCat("segment capacity ", h.capacity, " but the file holds ", size, " bytes"));
  }
  RECSTORE_ASSIGN_OR_RETURN(os::Mapping map, os::Mapping::Map(file, h.capacity, writable));
  if (file_out != nullptr) *file_out = std::move(file);
  auto seg = std::shared_ptr<Segment>(new Segment(env, path, id, std::move(map), h));
  seg->hold_ = std::move(hold);
  return std::shared_ptr<const Segment>(std::move(seg));
}

absl::StatusOr<os::File> Segment::Reopen() const {
  RECSTORE_ASSIGN_OR_RETURN(os::File file, os::File::Open(env_, path_, O_RDWR | O_NOFOLLOW));
  RECSTORE_ASSIGN_OR_RETURN(Env::FileId id, env_->Identify(file.fd(), path_));
  if (!(id == id_)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": the name now refers to another file than the segment mapped"));
  }
  return file;
}

absl::Status Segment::ReserveMore(uint64_t front_end, uint64_t back_begin) const {
  RECSTORE_ASSIGN_OR_RETURN(os::File file, Reopen());
  return ReserveThrough(file.fd(), path_, front_end, back_begin);
}

absl::Status Segment::ReserveThrough(int fd, const std::string& path, uint64_t front_end,
                                     uint64_t back_begin) const {
  const uint64_t cap = capacity();
  uint64_t front = reserved_front_, back = reserved_back_;
  if (front_end > front) {
    front = std::max({front_end, 2 * front, kReserveUnit});
    front = std::min(format::RoundUp(front, kReserveUnit), cap);
  }
  if (back_begin < back) {
    const uint64_t grow = std::max({cap - back_begin, 2 * (cap - back), kReserveUnit});
    back = grow >= cap ? 0 : (cap - grow) / kReserveUnit * kReserveUnit;
  }
  if (front >= back) {
    // The areas meet: allocate the gap between them, and the whole file is allocated.
    if (reserved_back_ > reserved_front_) {
      RECSTORE_RETURN_IF_ERROR(
          env_->Allocate(fd, path, reserved_front_, reserved_back_ - reserved_front_));
    }
    reserved_front_ = cap;
    reserved_back_ = 0;
    return absl::OkStatus();
  }
  if (front > reserved_front_) {
    RECSTORE_RETURN_IF_ERROR(env_->Allocate(fd, path, reserved_front_, front - reserved_front_));
    reserved_front_ = front;
  }
  if (back < reserved_back_) {
    RECSTORE_RETURN_IF_ERROR(env_->Allocate(fd, path, back, reserved_back_ - back));
    reserved_back_ = back;
  }
  return absl::OkStatus();
}

void Segment::Populate(uint64_t offset, uint64_t len) const {
  const uint64_t limit = std::min(capacity(), reserved_front_);
  if (offset >= limit || map_.mutable_data() == nullptr) return;
  if (len > limit - offset) len = limit - offset;
  env_->PopulateWrite(map_.mutable_data() + offset, len, path_).IgnoreError();
}

absl::Status Segment::Zero(int fd, uint64_t from, uint64_t to) const {
  if (to <= from) return absl::OkStatus();
  RECSTORE_RETURN_IF_ERROR(env_->ZeroRange(fd, path_, from, to - from));
  reserved_front_ = 0;
  reserved_back_ = capacity();
  return absl::OkStatus();
}

bool Segment::ReadCommit(format::CommitBlock* out) const {
  return format::DecodeCommitBlock(data() + format::kCommitBlockOffset, first_seq(), out);
}

void Segment::WriteCommit(const format::CommitBlock& c) const {
  format::EncodeCommitBlock(c, first_seq(), mutable_data() + format::kCommitBlockOffset);
}

}  // namespace recstore::log
