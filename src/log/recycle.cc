#include "src/log/recycle.h"

#include <fcntl.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/format/layout.h"
#include "src/log/state_page.h"

namespace recstore::log {

namespace {

constexpr char kSuffix[] = ".recycle";
constexpr size_t kDigits = 20;

}  // namespace

std::string RecycleFileName(uint64_t old_first) {
  return format::SegmentFileName(old_first).substr(0, kDigits) + kSuffix;
}

bool ParseRecycleFileName(const std::string& name, uint64_t* old_first) {
  if (name.size() != kDigits + sizeof(kSuffix) - 1 || !name.ends_with(kSuffix)) return false;
  return format::ParseSegmentFileName(name.substr(0, kDigits) + ".seg", old_first);
}

absl::StatusOr<std::shared_ptr<ReaderPins>> ReaderPins::Open(const Shape& shape) {
  const std::string path = shape.FilePath(kStateFileName);
  absl::StatusOr<os::File> f = os::File::Open(shape.env(), path, O_RDONLY | O_NOFOLLOW);
  if (f.status().code() == absl::StatusCode::kNotFound) {
    // No writer of this version opened the collection yet: an empty file to lock is enough
    // (a writer sizes it at its open; readers take a short file for no page).
    f = os::File::Open(shape.env(), path, O_RDONLY | O_CREAT | O_NOFOLLOW, shape.file_mode());
  }
  if (f.status().code() == absl::StatusCode::kPermissionDenied) return nullptr;
  if (!f.ok()) return f.status();
  return std::make_shared<ReaderPins>(shape.env(), *std::move(f));
}

absl::StatusOr<std::shared_ptr<const void>> ReaderPins::Hold(uint64_t first_seq) {
  {
    base::MutexLock lock(&mu_);
    uint64_t& n = holds_[first_seq];
    // One open file description: the kernel keeps one lock per byte, so the handle counts.
    if (n == 0) {
      absl::Status s = env_->Lock(file_.fd(), file_.path(), first_seq, LockKind::kShared);
      if (!s.ok()) {
        holds_.erase(first_seq);
        if (s.code() != absl::StatusCode::kUnavailable) return s;
        // The writer holds the byte for its reuse test: the segment's name is already gone.
        return absl::NotFoundError(absl::StrCat("segment ", first_seq, " of ", file_.path(),
                                                " is being reused by the writer"));
      }
    }
    ++n;
  }
  std::shared_ptr<ReaderPins> self = shared_from_this();
  return std::shared_ptr<const void>(nullptr,
                                     [self, first_seq](const void*) { self->Release(first_seq); });
}

void ReaderPins::Release(uint64_t first_seq) {
  base::MutexLock lock(&mu_);
  auto it = holds_.find(first_seq);
  if (it == holds_.end() || --it->second > 0) return;
  holds_.erase(it);
  env_->Lock(file_.fd(), file_.path(), first_seq, LockKind::kUnlock).IgnoreError();
}

std::string RecyclePool::PathOf(uint64_t old_first) const {
  return shape_.FilePath(RecycleFileName(old_first));
}

bool RecyclePool::HeaderIsOwn(uint64_t old_first) const {
  // Segment::Open's checks: a regular file (no symbolic link), of the segment size, whose
  // header is the one a segment of this collection starting at `old_first` has.
  absl::StatusOr<std::shared_ptr<const Segment>> seg =
      Segment::Open(shape_.env(), PathOf(old_first), /*writable=*/false,
                    shape_.HeaderFor(old_first, shape_.segment_size()));
  return seg.ok();
}

void RecyclePool::Adopt(const std::vector<uint64_t>& old_firsts) {
  base::MutexLock lock(&mu_);
  for (uint64_t old_first : old_firsts) {
    // A header naming another first record means a reuse wrote it and a crash undid the
    // rename that followed: the file may hold records of that first record's segment, which
    // would validate if the file were reused for it again. It goes.
    if (entries_.size() < limit_ && HeaderIsOwn(old_first)) {
      entries_.push_back({old_first, {}});
    } else {
      // Not worth failing the open over: a name this cannot remove (a directory) is ignored,
      // as every unknown name in the folder is.
      shape_.env()->Remove(PathOf(old_first)).IgnoreError();
    }
  }
}

bool RecyclePool::Retire(const std::shared_ptr<const Segment>& seg) {
  base::MutexLock lock(&mu_);
  if (entries_.size() >= limit_ || seg->capacity() != shape_.segment_size()) return false;
  const uint64_t old_first = seg->first_seq();
  if (!shape_.env()->Rename(seg->path(), PathOf(old_first)).ok()) return false;
  entries_.push_back({old_first, seg});
  return true;
}

bool RecyclePool::ReadersHold(uint64_t old_first) {
  Env* env = shape_.env();
  if (!state_.has_value()) {
    absl::StatusOr<os::File> f =
        os::File::Open(env, shape_.FilePath(kStateFileName), O_RDWR | O_NOFOLLOW);
    if (!f.ok()) return true;
    state_ = *std::move(f);
  }
  if (!env->Lock(state_->fd(), state_->path(), old_first, LockKind::kExclusive).ok()) return true;
  // Nobody maps it now, and nobody can map it again: its name is gone.
  return !env->Lock(state_->fd(), state_->path(), old_first, LockKind::kUnlock).ok();
}

std::optional<Segment::Created> RecyclePool::Take(const format::SegmentHeader& header,
                                                  const std::string& path) {
  base::MutexLock lock(&mu_);
  if (header.capacity != shape_.segment_size()) return std::nullopt;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!it->segment.expired() || ReadersHold(it->old_first)) continue;
    const std::string from = PathOf(it->old_first);
    entries_.erase(it);
    absl::StatusOr<Segment::Created> c = Segment::Recycle(shape_.env(), from, path, header);
    if (c.ok()) return *std::move(c);
    // Whatever went wrong, the file is not worth keeping; the caller creates a new one.
    shape_.env()->Remove(from).IgnoreError();
    return std::nullopt;
  }
  return std::nullopt;
}

size_t RecyclePool::size() const {
  base::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace recstore::log
