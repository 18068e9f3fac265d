#include "src/log/hazard.h"

#include <cstddef>

namespace recstore::log {
namespace {

constexpr size_t kSlots = 256;

struct alignas(64) Slot {
  std::atomic<const void*> ptr{nullptr};
  std::atomic<bool> taken{false};
};

Slot* Slots() {
  static Slot* slots = new Slot[kSlots];  // never freed: threads may outlive static data
  return slots;
}

// This thread's slot, taken on first use and given back when the thread exits.
class ThreadSlot {
 public:
  ~ThreadSlot() {
    if (slot_ != nullptr) {
      slot_->ptr.store(nullptr, std::memory_order_release);
      slot_->taken.store(false, std::memory_order_release);
    }
  }
  Slot* Get() {
    if (slot_ == nullptr) {  // a thread that found none tries again on its next read
      Slot* slots = Slots();
      for (size_t i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (!slots[i].taken.load(std::memory_order_relaxed) &&
            slots[i].taken.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
          slot_ = &slots[i];
          break;
        }
      }
    }
    return slot_;
  }
  bool busy = false;  // a guard of this thread holds the slot

 private:
  Slot* slot_ = nullptr;
};

thread_local ThreadSlot this_thread_slot;

}  // namespace

HazardGuard::HazardGuard() : slot_(nullptr) {
  ThreadSlot& t = this_thread_slot;
  if (t.busy) return;
  Slot* s = t.Get();
  if (s == nullptr) return;
  t.busy = true;
  slot_ = &s->ptr;
}

HazardGuard::~HazardGuard() {
  if (slot_ == nullptr) return;
  slot_->store(nullptr, std::memory_order_release);
  this_thread_slot.busy = false;
}

bool AnyGuardHolds(const void* p) {
  const Slot* slots = Slots();
  for (size_t i = 0; i < kSlots; ++i) {
    if (slots[i].ptr.load(std::memory_order_seq_cst) == p) return true;
  }
  return false;
}

}  // namespace recstore::log
