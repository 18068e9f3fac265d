#include "src/log/group_commit.h"

#include <algorithm>

#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/log/record_check.h"

namespace recstore::log {

GroupCommit::GroupCommit(const Shape& shape, const Published* published, FailState* fail)
    : shape_(shape), published_(published), fail_(fail) {}

void GroupCommit::Start(uint64_t durable, std::vector<std::shared_ptr<const Segment>> flushed,
                        os::File file) {
  std::vector<std::shared_ptr<Tracked>> files;
  for (auto& s : flushed) {
    files.push_back(std::make_shared<Tracked>());
    files.back()->segment = std::move(s);
  }
  files.back()->file = std::make_shared<os::File>(std::move(file));
  base::MutexLock lock(&mu_);
  durable_.store(durable, std::memory_order_release);
  WriteCommits(files, durable);
  pending_.assign(1, files.back());
}

void GroupCommit::Track(std::shared_ptr<const Segment> segment, os::File file, bool created) {
  auto t = std::make_shared<Tracked>();
  t->segment = std::move(segment);
  t->file = std::make_shared<os::File>(std::move(file));
  base::MutexLock lock(&mu_);
  // The segment before is full: a flush reopens it (a flush in progress keeps its copy).
  if (!pending_.empty()) pending_.back()->file = nullptr;
  pending_.push_back(std::move(t));
  dir_dirty_ |= created;
}

void GroupCommit::Untrack(const Segment* segment) {
  base::MutexLock lock(&mu_);
  std::erase_if(pending_, [&](const auto& t) { return t->segment.get() == segment; });
}

absl::StatusOr<uint64_t> GroupCommit::Sync() {
  const uint64_t target = published_->end();
  uint64_t end;
  std::vector<std::shared_ptr<Tracked>> files;
  std::vector<std::shared_ptr<os::File>> fds;  // files' descriptors as of the copy
  bool dir_dirty;
  {
    base::MutexLock lock(&mu_);
    // One caller (the leader) flushes while the others wait, and each returns as soon as a
    // flush has covered its records.
    while (true) {
      if (absl::Status failed = fail_->status(); !failed.ok()) return failed;
      if (durable() >= target) return durable();
      if (!flushing_) break;
      flushed_.Wait(&mu_);
    }
    flushing_ = true;
    // The end first, then the segments: a segment is tracked before its records are
    // published, so every segment holding a record below `end` is in `files`.
    end = published_->end();
    files = pending_;
    for (const auto& f : files) fds.push_back(f->file);
    dir_dirty = std::exchange(dir_dirty_, false);
  }
  // Appends and new callers go on during the flush.
  absl::Status st;
  bool final_failure = true;
  for (size_t i = 0; i < files.size() && st.ok(); ++i) {
    const Segment& seg = *files[i]->segment;
    if (fds[i] != nullptr) {
      st = shape_.env()->SyncData(fds[i]->fd(), seg.path());
      continue;
    }
    absl::StatusOr<os::File> f = seg.Reopen();
    if (!f.ok()) {
      // Nothing was flushed for certain: like a folder that cannot be opened, an error to
      // return, not a failed flush.
      final_failure = false;
      st = f.status();
      break;
    }
    st = shape_.env()->SyncData(f->fd(), seg.path());
  }
  if (st.ok() && dir_dirty) st = os::SyncDir(shape_.env(), shape_.dir(), &final_failure);
  if (!st.ok() && final_failure) {
    fail_->Fail(st);
    if (published_->mirror() != nullptr) published_->mirror()->SetFailed();
  }
  base::MutexLock lock(&mu_);
  flushing_ = false;
  if (st.ok()) {
    durable_.store(end, std::memory_order_release);
    if (published_->mirror() != nullptr) published_->mirror()->PublishDurable(end);
    // Commit blocks record durable points so recovery need not scan what is known good. They
    // are written after the flush that made them true and reach the disk with a later flush
    // (or by write-back); until then recovery starts from an older point.
    WriteCommits(files, end);
    DropSealedLocked(files, end);
  } else if (!final_failure) {
    dir_dirty_ = true;  // the folder was not flushed: the next Sync tries again
  }
  flushed_.SignalAll();
  if (!st.ok()) return st;
  return end;
}

void GroupCommit::WriteCommits(const std::vector<std::shared_ptr<Tracked>>& files,
                               uint64_t end) const {
  for (size_t i = 0; i < files.size(); ++i) {
    const Segment& s = *files[i]->segment;
    const uint64_t first = s.first_seq();
    if (end <= first) break;
    const uint64_t next_first =
        i + 1 < files.size() ? files[i + 1]->segment->first_seq() : UINT64_MAX;
    const bool sealed = next_first <= end;
    const uint64_t records = (sealed ? next_first : end) - first;
    // Variable-size records: the data end is just past the last durable frame. A block that
    // already records these records keeps its data end: the last of them may be one recovery
    // trusted without reading, so its slot and length are not to be trusted here.
    uint64_t data_end = format::kDataStart;
    format::CommitBlock old;
    if (s.ReadCommit(&old) && old.records == records) {
      if (old.sealed == sealed) continue;
      data_end = old.data_end;
    } else if (!shape_.fixed() && records <= MaxSlots(s)) {
      const uint64_t off = SlotOffset(s, records - 1);
      data_end = off + format::FrameSpace(base::DecodeFixed32(s.data() + off)) - format::kSlotSize;
    }
    s.WriteCommit({.records = records, .data_end = data_end, .sealed = sealed});
  }
}

void GroupCommit::DropSealedLocked(const std::vector<std::shared_ptr<Tracked>>& files,
                                   uint64_t end) {
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    if (files[i + 1]->segment->first_seq() > end) break;
    std::erase(pending_, files[i]);  // closes its descriptor
  }
}

}  // namespace recstore::log
