// MappedStruct<T>: one fixed-size record in a file, mapped into every process that opens it,
// updated in place (fields as atomics shared between processes), with durable snapshots.
//
//   struct Counters { uint64_t requests; uint64_t errors; char host[32]; };
//   RECSTORE_RECORD(Counters, requests, errors, host);
//
//   ASSIGN_OR_RETURN(auto c, MappedStruct<Counters>::Open("counters.rss",
//                                                         {.create_if_missing = true}));
//   c.Atomic(&Counters::requests).fetch_add(1, std::memory_order_relaxed);
//   RETURN_IF_ERROR(c.Sync());   // a snapshot is durable
//
// File: a header page, the live struct (mapped MAP_SHARED by every writable opener), and two
// checksummed snapshot slots (docs/format.md 10.4). Sync() copies the live struct, each
// naturally aligned 8-byte word with one atomic load (so every field of up to 8 bytes is
// read whole), into the older slot with the next sequence number and makes that slot durable
// (one pwrite, one fdatasync); the newer slot is never touched, so a crash during Sync()
// leaves the previous snapshot whole. Syncs of all processes are serialized by a lock on the
// file. The live struct itself is never trusted after a crash: the first process to open the
// file when no other process has it open copies the newest valid snapshot into the live
// struct. So Open shows exactly the last completed Sync() (or the one running at a crash, if
// its slot reached the disk), wherever the changes came from. Changes not synced when the
// last opener closes are dropped by the next first open.
//
// Sharing. Exclusive by default: a second opener (any process) gets Unavailable. With
// `shared`, any number of processes map it read-write at once, and an exclusive opener is
// kept out while they do. Fields changed by several processes (or threads) at once must go
// through Atomic(field); plain stores through mutable_get() are for exclusive opens (or for
// fields the caller otherwise owns). A snapshot holds, for each field of up to 8 bytes, a
// value the field had during the Sync(); wider fields (arrays, strings) may mix values
// written during the Sync(). Read-only opens take no lock and show a copy of the newest
// snapshot, Refresh() takes the newest again.
//
// Thread safety: Sync() and Atomic() may be called from any thread; Refresh() needs
// exclusive access. References from get() stay valid for the object's life (read-only: until
// Refresh()).
//
// Errors. Open: NotFound (no file, no create_if_missing), Unavailable (held exclusively, or
// held shared by others when opening exclusively), FailedPrecondition (not a struct file, a
// vector file, a newer format version, another record schema), DataLoss (a damaged header, a
// file of the wrong size, or no valid snapshot), and errno errors naming the file. Sync():
// FailedPrecondition when read-only; the errno of a failing write or flush.
#ifndef RECSTORE_MAPPED_STRUCT_H_
#define RECSTORE_MAPPED_STRUCT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/env.h"
#include "recstore/schema.h"

namespace recstore {

struct MappedStructOptions {
  // Create the file (zero-filled struct, synced) when it does not exist.
  bool create_if_missing = false;
  // Let other processes open it read-write at the same time (see the top of this file).
  bool shared = false;
  // No lock, a copy of the newest snapshot; Sync() fails.
  bool read_only = false;
  // The OS seam; nullptr: Env::Default().
  Env* env = nullptr;
};

namespace internal {
class StructStorage;
}  // namespace internal

// The part of MappedStruct<T> that does not depend on T. Not used directly.
class MappedStructBase {
 public:
  MappedStructBase(MappedStructBase&& o) noexcept;
  MappedStructBase& operator=(MappedStructBase&& o) noexcept;
  ~MappedStructBase();

  const std::string& path() const;
  bool read_only() const;
  // The sequence number of the newest snapshot this object made or opened.
  uint64_t sync_count() const;

  // Makes a snapshot of the live struct durable (see the top of this file).
  absl::Status Sync();
  // Read-only opens: loads the newest snapshot. FailedPrecondition otherwise.
  absl::Status Refresh();

 protected:
  MappedStructBase();
  absl::Status InitOpen(std::string path, const MappedStructOptions& options,
                        const RecordSchema& schema);
  // Copies the live struct as Sync() does (word by word, atomically).
  void LoadInto(void* out) const;

  std::byte* live_ = nullptr;
  std::unique_ptr<internal::StructStorage> storage_;
};

template <RecordType T>
class MappedStruct : public MappedStructBase {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  static absl::StatusOr<MappedStruct> Open(std::string path, MappedStructOptions options = {}) {
    MappedStruct m;
    absl::Status s = m.InitOpen(std::move(path), options, SchemaOf<T>());
    if (!s.ok()) return s;
    return m;
  }

  // The live struct (read-only opens: the copy of the snapshot).
  const T& get() const { return *reinterpret_cast<const T*>(live_); }
  const T& operator*() const { return get(); }
  const T* operator->() const { return &get(); }
  // The live struct, for plain stores (see "Sharing" at the top). On a read-only open the
  // private copy: changes vanish at Refresh() and are never written.
  T* mutable_get() { return reinterpret_cast<T*>(live_); }
  // Replaces the whole live struct with plain stores.
  void Set(const T& value) { *mutable_get() = value; }
  // A copy taken as Sync() takes its snapshot.
  T Load() const {
    T out;
    LoadInto(&out);
    return out;
  }

  // An atomic view of one field of the live struct, shared by every process that maps it.
  template <typename F>
  std::atomic_ref<F> Atomic(F T::*field) {
    static_assert(std::atomic_ref<F>::is_always_lock_free,
                  "recstore: Atomic() needs a field type whose atomics are lock-free (and so "
                  "address-free: usable between processes)");
    return std::atomic_ref<F>(mutable_get()->*field);
  }

 private:
  MappedStruct() = default;
};

}  // namespace recstore

#endif  // RECSTORE_MAPPED_STRUCT_H_
