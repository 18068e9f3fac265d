// MappedVector<T>: a std::vector-like array of fixed-size records over a memory-mapped file,
// mutable in place, crash-consistent at explicit sync points.
//
//   struct Point { double x, y, z; };
//   RECSTORE_RECORD(Point, x, y, z);
//
//   ASSIGN_OR_RETURN(auto pts, MappedVector<Point>::Open("points.rsv",
//                                                        {.create_if_missing = true}));
//   RETURN_IF_ERROR(pts.push_back({1, 2, 3}));
//   RETURN_IF_ERROR(pts.Set(0, {4, 5, 6}));
//   const Point& p = pts[0];         // zero-copy
//   RETURN_IF_ERROR(pts.Sync());     // durable: after a crash, Open shows exactly this state
//
// Durability. Mutations change this process's memory only (the file is mapped copy-on-write,
// new pages are anonymous memory); nothing reaches the file before Sync(). Sync() writes the
// pages changed since the last sync, with the new header, to the journal "<path>-journal",
// makes it durable (fdatasync: the commit point), then writes the same pages into the file and
// makes that durable. Open redoes a committed journal the file does not fully hold. So after a
// crash (process or machine) Open restores exactly the state of the last Sync() that returned
// OK, or of the one that was running, if it had reached its commit point: never a mix, never a
// torn record. Changes not synced when the vector is destroyed are dropped. A sync writes each
// changed 4 KiB page twice (journal and file) plus two header pages and makes two fdatasync
// calls; docs/performance.md has measurements. Once the file holds the sync, a word in the
// journal says so (not flushed), so the next open has nothing to redo. A Sync() that fails
// before its commit point (writing the journal) can be retried. One that fails at or after it
// (an fdatasync, or a write into the file) is final for the handle: the kernel may have
// dropped pages it could not write, so later syncs return FailedPrecondition and only a
// reopen (which redoes the journal) knows what is on disk.
//
// Processes. One writer per file, held by an open-file-description lock (a second writer,
// in this process or another, gets Unavailable). Any number of read-only opens, in any
// process, without a lock: each shows the state of the last sync when it was opened, copied
// into its own memory (a read-only open reads the whole file, reserving address space for what
// it holds when that is more than max_bytes), and Refresh() moves it to the newest sync; a
// failed Refresh() leaves the vector as it was.
//
// References, pointers and iterators: the vector's elements live in one address range
// reserved at Open (options.max_bytes of address space, no memory), so growth never moves
// them. A reference to element i stays valid until an operation removes or shifts element i:
// erase/insert at or before i, pop_back, resize or clear below i+1. Growth, push_back, Set,
// reserve and Sync never invalidate anything. Refresh() (read-only) may change every element
// and invalidates everything. Destroying or moving from the vector invalidates everything.
//
// Thread safety: as std::vector. Const methods may run concurrently with each other; anything
// that mutates (including Sync and Refresh) needs exclusive access.
//
// Errors. Checked operations (at, Set, insert, erase, Mutable) return OutOfRange for a bad
// index; operator[] is unchecked. Mutating a read-only vector is FailedPrecondition. Growth
// first allocates file space (fallocate): ENOSPC is ResourceExhausted with the vector
// unchanged; growing past options.max_bytes is ResourceExhausted too. Open: NotFound (no file
// and no create_if_missing), Unavailable (another writer), FailedPrecondition (not a vector
// file, a struct file, a newer format version, or a record type whose schema differs, naming
// the first difference), DataLoss (a damaged header with no journal to restore it, or a file
// shorter than its header says), and the errno of any failing call as env.h maps it. Every
// error names the file.
#ifndef RECSTORE_MAPPED_VECTOR_H_
#define RECSTORE_MAPPED_VECTOR_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/env.h"
#include "recstore/schema.h"

namespace recstore {

struct MappedVectorOptions {
  // Create the file (and its journal) when it does not exist.
  bool create_if_missing = false;
  // Open without the writer lock: a copy of the last synced state (see the top of this file).
  bool read_only = false;
  // The most bytes the elements may take: the address space reserved at Open (at most 64 TiB;
  // more is InvalidArgument). Growing past it fails with ResourceExhausted; nothing moves in
  // memory below it. A writer open of a file larger than this fails with ResourceExhausted
  // (after redoing a committed journal, which any open does).
  uint64_t max_bytes = uint64_t{64} << 30;
  // The OS seam; nullptr: Env::Default().
  Env* env = nullptr;
};

struct ScratchOptions {
  // Elements to reserve at creation.
  size_t reserve = 0;
  // Empty: anonymous memory. A directory: the elements live in an unlinked file created there
  // (O_TMPFILE), so the kernel pages them out to that file rather than to swap. Either way
  // nothing remains when the vector is destroyed, and Sync() does nothing.
  std::string dir{};
  uint64_t max_bytes = uint64_t{64} << 30;
  Env* env = nullptr;
};

namespace internal {
class VectorStorage;
}  // namespace internal

// The part of MappedVector<T> that does not depend on T. Not used directly.
class MappedVectorBase {
 public:
  MappedVectorBase(MappedVectorBase&& o) noexcept;
  MappedVectorBase& operator=(MappedVectorBase&& o) noexcept;
  ~MappedVectorBase();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Elements the vector holds without growing.
  size_t capacity() const { return capacity_; }
  bool read_only() const { return !writable_; }
  // The file ("" for anonymous scratch memory).
  const std::string& path() const;
  // Syncs applied to the file so far (0 for a new file), as the file's header counts them.
  uint64_t sync_count() const;
  // Whether anything changed since the last Sync() (or since Open).
  bool has_unsynced_changes() const;

  // Makes the current contents durable (see the top of this file). OK at once when nothing
  // changed; OK and nothing done for scratch vectors. FailedPrecondition on a read-only vector
  // or after an earlier failed fdatasync; otherwise the errno of the failing call, with the
  // contents unchanged in memory (a later Sync retries).
  absl::Status Sync();
  // Read-only vectors: moves to the state of the newest sync (invalidates every reference).
  // FailedPrecondition on a writable vector; Unavailable when the writer kept syncing while
  // the state was read, a hundred times in a row.
  absl::Status Refresh();

  // Ensures capacity() >= n (allocating file space first).
  absl::Status reserve(size_t n);
  // Removes every element (size 0; capacity stays). No-op on a read-only vector.
  void clear();
  // Removes the last element; no-op when empty or read-only.
  void pop_back();

 protected:
  MappedVectorBase();
  absl::Status InitOpen(std::string path, const MappedVectorOptions& options,
                        const RecordSchema& schema);
  absl::Status InitScratch(const ScratchOptions& options, const RecordSchema& schema);
  absl::Status Init(absl::StatusOr<std::unique_ptr<internal::VectorStorage>> storage);

  // Capacity for n elements; FailedPrecondition when read-only.
  absl::Status Grow(size_t n);
  absl::Status CheckWritable() const;
  absl::Status IndexError(const char* op, size_t index, size_t limit) const;
  absl::Status ResizeBytes(size_t n);
  absl::Status InsertBytes(size_t index, const void* src, size_t count);
  absl::Status EraseBytes(size_t first, size_t last);

  // Marks bytes [offset, offset+len) of the elements below low_water_ as changed (above it,
  // everything counts as changed). len > 0.
  void MarkDirty(size_t offset, size_t len) {
    const size_t first = offset >> kPageShift;
    const size_t last = (offset + len - 1) >> kPageShift;
    if (first == last && first == last_dirty_page_) return;
    for (size_t p = first; p <= last; ++p) dirty_[p >> 6] |= uint64_t{1} << (p & 63);
    last_dirty_page_ = last;
  }

  // After an operation that shrinks the vector.
  void Shrunk() {
    if (size_ < low_water_) low_water_ = size_;
  }

  static constexpr size_t kPageShift = 12;
  std::byte* base_ = nullptr;
  size_t size_ = 0;
  // The smallest size since the last Sync (or Open): every element at or above it may have
  // been written since (push_back marks nothing), so Sync writes their pages.
  size_t low_water_ = 0;
  size_t capacity_ = 0;
  size_t elem_size_ = 0;
  bool writable_ = false;
  size_t last_dirty_page_ = ~size_t{0};
  std::vector<uint64_t> dirty_;  // one bit per 4 KiB page of the element bytes
  std::unique_ptr<internal::VectorStorage> storage_;
};

template <RecordType T>
class MappedVector : public MappedVectorBase {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  using value_type = T;
  using const_iterator = const T*;

  // Opens (or with create_if_missing creates) the vector file at `path`. Errors: see the top.
  static absl::StatusOr<MappedVector> Open(std::string path, MappedVectorOptions options = {}) {
    MappedVector v;
    absl::Status s = v.InitOpen(std::move(path), options, SchemaOf<T>());
    if (!s.ok()) return s;
    return v;
  }
  // A vector with no file behind it (see ScratchOptions).
  static absl::StatusOr<MappedVector> Scratch(ScratchOptions options = {}) {
    MappedVector v;
    absl::Status s = v.InitScratch(options, SchemaOf<T>());
    if (!s.ok()) return s;
    return v;
  }

  // Unchecked: i < size() is the caller's duty.
  const T& operator[](size_t i) const { return data()[i]; }
  // Checked copy of element i: OutOfRange when i >= size().
  absl::StatusOr<T> at(size_t i) const {
    if (i >= size_) return IndexError("at", i, size_);
    return data()[i];
  }
  const T* data() const { return reinterpret_cast<const T*>(base_); }
  std::span<const T> span() const { return {data(), size_}; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  const T& front() const { return data()[0]; }
  const T& back() const { return data()[size_ - 1]; }

  absl::Status push_back(const T& value) {
    const size_t n = size_;
    if (n == capacity_) [[unlikely]] {
      if (absl::Status s = Grow(n + 1); !s.ok()) return s;
    }
    // A typed store: a byte copy could alias every member, and the compiler would reload them
    // all for each element. Nothing to mark: elements at and above low_water_ count as
    // changed at the next Sync.
    mutable_data()[n] = value;
    size_ = n + 1;
    return absl::OkStatus();
  }
  // Appends every element of `values` (all or none).
  absl::Status append(std::span<const T> values) {
    return InsertBytes(size_, values.data(), values.size());
  }
  // Inserts `value` before element `index` (index == size() appends); OutOfRange past size().
  absl::Status insert(size_t index, const T& value) { return InsertBytes(index, &value, 1); }
  // Removes element `index`, shifting the later ones down; OutOfRange when index >= size().
  absl::Status erase(size_t index) {
    if (index >= size_) return IndexError("erase", index, size_);
    return EraseBytes(index, index + 1);
  }
  // Removes elements [first, last); OutOfRange unless first <= last <= size().
  absl::Status erase(size_t first, size_t last) {
    if (last > size_ || first > last) return IndexError("erase", last, size_);
    return EraseBytes(first, last);
  }
  // Replaces element `index`; OutOfRange when index >= size().
  absl::Status Set(size_t index, const T& value) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    if (index >= size_) return IndexError("Set", index, size_);
    mutable_data()[index] = value;
    MarkDirty(index * sizeof(T), sizeof(T));
    return absl::OkStatus();
  }
  // A pointer for changing element `index` in place; the element counts as changed (for the
  // next Sync) now, so make the changes before calling Sync(). Valid as a reference is (see
  // the top of this file).
  absl::StatusOr<T*> Mutable(size_t index) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    if (index >= size_) return IndexError("Mutable", index, size_);
    MarkDirty(index * sizeof(T), sizeof(T));
    return mutable_data() + index;
  }
  // Grows with zero-filled elements or shrinks to n.
  absl::Status resize(size_t n) { return ResizeBytes(n); }

 private:
  MappedVector() { elem_size_ = sizeof(T); }
  T* mutable_data() { return reinterpret_cast<T*>(base_); }
};

}  // namespace recstore

#endif  // RECSTORE_MAPPED_VECTOR_H_
