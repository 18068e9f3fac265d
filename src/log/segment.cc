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

// Marks the errors of Open that judge the file's content (see IsInvalid, IsUnwritten).
constexpr char kInvalidSegment[] = "recstore/invalid-segment";
constexpr char kUnwrittenSegment[] = "recstore/unwritten-segment";

absl::Status Invalid(absl::Status s) {
  s.SetPayload(kInvalidSegment, absl::Cord());
  return s;
}

}  // namespace

bool Segment::IsInvalid(const absl::Status& s) {
  return s.code() == absl::StatusCode::kDataLoss && s.GetPayload(kInvalidSegment).has_value();
}

bool Segment::IsUnwritten(const absl::Status& s) {
  return IsInvalid(s) && s.GetPayload(kUnwrittenSegment).has_value();
}

absl::StatusOr<std::unique_ptr<Segment>> Segment::Create(os::Env* env, const std::string& path,
                                                         const SegmentHeader& header, mode_t mode) {
  const std::string tmp = path + ".tmp";
  RECSTORE_ASSIGN_OR_RETURN(os::File file,
                            os::File::Open(env, tmp, O_RDWR | O_CREAT | O_TRUNC, mode));
  absl::StatusOr<os::Mapping> map = absl::UnknownError("not mapped");
  absl::Status s = env->Allocate(file.fd(), tmp, 0, header.capacity);
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
  return std::unique_ptr<Segment>(new Segment(std::move(file), *std::move(map), header));
}

absl::StatusOr<std::unique_ptr<Segment>> Segment::Open(os::Env* env, const std::string& path,
                                                       bool writable, const SegmentHeader& expect) {
  RECSTORE_ASSIGN_OR_RETURN(os::File file, os::File::Open(env, path, writable ? O_RDWR : O_RDONLY));
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file.fd(), path));
  std::byte buf[format::kEncodedSegmentHeaderSize] = {};
  RECSTORE_ASSIGN_OR_RETURN(size_t got, env->PRead(file.fd(), path, buf, sizeof(buf), 0));
  if (std::all_of(buf, buf + sizeof(buf), [](std::byte b) { return b == std::byte{0}; })) {
    absl::Status s = Invalid(absl::DataLossError(
        absl::StrCat(path, ": offset 0: segment header was never written (", size, " bytes)")));
    s.SetPayload(kUnwrittenSegment, absl::Cord());
    return s;
  }
  if (got < sizeof(buf)) {
    return Invalid(absl::DataLossError(absl::StrCat(path, ": offset 0: segment file is ", size,
                                                    " bytes, shorter than its header")));
  }
  absl::StatusOr<SegmentHeader> decoded = format::DecodeSegmentHeader(buf, path);
  if (!decoded.ok()) return Invalid(decoded.status());
  const SegmentHeader& h = *decoded;
  if (!(h == expect)) {
    return Invalid(absl::DataLossError(absl::StrCat(
        path, ": offset 0: segment header does not match its collection (collection id ",
        h.collection_id, " vs ", expect.collection_id, ", first seq ", h.first_seq, " vs ",
        expect.first_seq, ", record size ", h.record_size, " vs ", expect.record_size,
        ", schema hash ", absl::Hex(h.schema_hash), " vs ", absl::Hex(expect.schema_hash), ")")));
  }
  if (h.capacity != size || h.capacity < format::kDataStart) {
    return Invalid(
        absl::DataLossError(absl::StrCat(path, ": offset 48: segment capacity ", h.capacity,
                                         " but the file holds ", size, " bytes")));
  }
  RECSTORE_ASSIGN_OR_RETURN(os::Mapping map, os::Mapping::Map(file, h.capacity, writable));
  return std::unique_ptr<Segment>(new Segment(std::move(file), std::move(map), h));
}

absl::Status Segment::SyncData() const { return file_.env()->SyncData(file_.fd(), path()); }

void Segment::Populate(uint64_t offset, uint64_t len) const {
  if (offset >= capacity() || map_.mutable_data() == nullptr) return;
  if (len > capacity() - offset) len = capacity() - offset;
  file_.env()->PopulateWrite(map_.mutable_data() + offset, len, path()).IgnoreError();
}

absl::Status Segment::ZeroRange(uint64_t offset, uint64_t len) const {
  return file_.env()->ZeroRange(file_.fd(), path(), offset, len);
}

bool Segment::ReadCommit(format::CommitBlock* out) const {
  return format::DecodeCommitBlock(data() + format::kCommitBlockOffset, first_seq(), out);
}

void Segment::WriteCommit(const format::CommitBlock& c) const {
  format::EncodeCommitBlock(c, first_seq(), mutable_data() + format::kCommitBlockOffset);
}

}  // namespace recstore::log
