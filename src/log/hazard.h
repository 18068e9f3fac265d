// Hazard pointers: how a reader uses the current SegmentSet without a reference count.
//
// A reader announces the pointer it is about to use in its thread's slot (one seq_cst store),
// checks that the pointer is still current, uses it, and clears the slot. A publisher that
// replaces a set keeps the old one alive until no slot announces it. A read thus costs an
// atomic store and two loads on a cache line of its own, where a shared_ptr copy costs two
// atomic read-modify-writes on a line every reader shares.
//
// The slots are process-wide: a thread takes one on its first read and gives it back when it
// exits. When every slot is taken, or a thread already holds its slot (a nested read), a
// guard reports !ok() and the caller falls back to a counted reference.
#ifndef RECSTORE_SRC_LOG_HAZARD_H_
#define RECSTORE_SRC_LOG_HAZARD_H_

#include <atomic>

namespace recstore::log {

class HazardGuard {
 public:
  HazardGuard();
  ~HazardGuard();
  HazardGuard(const HazardGuard&) = delete;
  HazardGuard& operator=(const HazardGuard&) = delete;

  // Whether this guard has a slot; Protect may only be called if so.
  bool ok() const { return slot_ != nullptr; }

  // Loads `src` and announces the value, until the announced value is still `src`'s: the
  // object it points to cannot be reclaimed while this guard exists.
  template <typename T>
  const T* Protect(const std::atomic<const T*>& src) {
    const T* p = src.load(std::memory_order_acquire);
    while (true) {
      slot_->store(p, std::memory_order_seq_cst);
      const T* q = src.load(std::memory_order_seq_cst);
      if (q == p) return p;
      p = q;
    }
  }

 private:
  std::atomic<const void*>* slot_;
};

// Whether any guard announces `p` now. A publisher that made `p` unreachable first (a
// seq_cst store of its replacement) and then sees false may reclaim it.
bool AnyGuardHolds(const void* p);

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_HAZARD_H_
