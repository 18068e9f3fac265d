#include "src/log/state_page.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "recstore/status_macros.h"
#include "src/base/checksum.h"

namespace recstore::log {

namespace {

// Offsets in the page (docs/format.md 3.7). Native byte order: the page never leaves the
// machine, and a page of the other byte order fails the magic check.
constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 8;
constexpr size_t kIdAt = 12;
constexpr size_t kEpochAt = 16;
constexpr size_t kHeaderCheckAt = 24;
constexpr size_t kEndAt = 64;
constexpr size_t kDurableAt = 72;
constexpr size_t kGenerationAt = 80;
constexpr size_t kFlagsAt = 88;
constexpr size_t kWakeAt = 128;
constexpr size_t kWantAt = 136;
constexpr size_t kDurableWantAt = 144;

// A registration: the low 16 bits of the wake word when it was made, and the lowest record a
// sleeper wants (clamped to 48 bits). Live while the wake word keeps those 16 bits: every wake
// moves the word, which makes all registrations stale at once (the woken sleepers register
// again if they still wait).
constexpr uint64_t kSeqMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t Registration(uint32_t wake, uint64_t seq) {
  return (uint64_t{wake & 0xFFFF} << 48) | std::min(seq, kSeqMask);
}
constexpr bool Live(uint64_t registration, uint32_t wake) {
  return (registration >> 48) == (wake & 0xFFFF);
}
// What a new page holds: stale (its 16 bits are those of wake word 0xFFFF, which a new page,
// whose wake word continues from the old one or starts at 0, does not hold for long) and
// wanting the last record, so it wakes nobody.
constexpr uint64_t kNoRegistration = ~uint64_t{0};

constexpr uint64_t kMagic = 0x3145544154535352;  // "RSSTATE1" read as little-endian bytes
constexpr uint32_t kVersion = 1;

uint64_t HeaderCheck(uint64_t magic, uint32_t version, uint32_t id, uint64_t epoch) {
  std::byte header[24];
  std::memcpy(header, &magic, 8);
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &id, 4);
  std::memcpy(header + 16, &epoch, 8);
  return base::Checksum64(header, sizeof(header));
}

}  // namespace

StatePage::~StatePage() = default;

absl::StatusOr<std::unique_ptr<StatePage>> StatePage::OpenForWriter(const Shape& shape) {
  Env* env = shape.env();
  RECSTORE_ASSIGN_OR_RETURN(os::File file,
                            os::File::Open(env, shape.FilePath(kStateFileName),
                                           O_RDWR | O_CREAT | O_NOFOLLOW, shape.file_mode()));
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file.fd(), file.path()));
  if (size < kStatePageSize) {
    RECSTORE_RETURN_IF_ERROR(env->Truncate(file.fd(), file.path(), kStatePageSize));
  }
  RECSTORE_ASSIGN_OR_RETURN(os::Mapping map, os::Mapping::Map(file, kStatePageSize, true));
  std::unique_ptr<StatePage> page(new StatePage(env, shape.id(), std::move(map)));
  page->previous_ = page->Read();
  // Readers see an invalid page (epoch 0) until Start has set every word.
  std::atomic_ref<uint64_t>(*page->Word64(kEpochAt)).store(0, std::memory_order_seq_cst);
  return page;
}

void StatePage::Start(uint64_t end, uint64_t durable) {
  const std::optional<Words>& old = previous_;
  const uint64_t epoch = std::max<uint64_t>(
      {old ? old->epoch + 1 : 1, static_cast<uint64_t>(env_->NowUnixNanos()), 1});
  std::atomic_ref<uint64_t>(*Word64(kMagicAt)).store(kMagic, std::memory_order_relaxed);
  std::atomic_ref<uint32_t>(*Word32(kVersionAt)).store(kVersion, std::memory_order_relaxed);
  std::atomic_ref<uint32_t>(*Word32(kIdAt)).store(id_, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kEndAt)).store(end, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kDurableAt)).store(durable, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kGenerationAt))
      .store(old ? old->generation + 1 : 1, std::memory_order_relaxed);
  std::atomic_ref<uint32_t>(*Word32(kFlagsAt)).store(0, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kWantAt)).store(kNoRegistration, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kDurableWantAt))
      .store(kNoRegistration, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kHeaderCheckAt))
      .store(HeaderCheck(kMagic, kVersion, id_, epoch), std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Word64(kEpochAt)).store(epoch, std::memory_order_seq_cst);
  // Sleepers of an earlier writer's page re-check against the new one.
  WakeAll();
}

std::unique_ptr<StatePage> StatePage::OpenForReader(const Shape& shape) {
  Env* env = shape.env();
  const std::string path = shape.FilePath(kStateFileName);
  bool writable = true;
  absl::StatusOr<os::File> file = os::File::Open(env, path, O_RDWR | O_NOFOLLOW);
  if (!file.ok()) {
    writable = false;
    file = os::File::Open(env, path, O_RDONLY | O_NOFOLLOW);
    if (!file.ok()) return nullptr;
  }
  absl::StatusOr<uint64_t> size = env->FileSize(file->fd(), file->path());
  if (!size.ok() || *size < kStatePageSize) return nullptr;
  absl::StatusOr<os::Mapping> map = os::Mapping::Map(*file, kStatePageSize, writable);
  if (!map.ok()) return nullptr;
  return std::unique_ptr<StatePage>(new StatePage(env, shape.id(), *std::move(map)));
}

std::optional<StatePage::Words> StatePage::Read() const {
  Words w;
  w.epoch = std::atomic_ref<uint64_t>(*Word64(kEpochAt)).load(std::memory_order_seq_cst);
  if (w.epoch == 0) return std::nullopt;
  const uint64_t magic =
      std::atomic_ref<uint64_t>(*Word64(kMagicAt)).load(std::memory_order_relaxed);
  const uint32_t version =
      std::atomic_ref<uint32_t>(*Word32(kVersionAt)).load(std::memory_order_relaxed);
  const uint32_t id = std::atomic_ref<uint32_t>(*Word32(kIdAt)).load(std::memory_order_relaxed);
  const uint64_t check =
      std::atomic_ref<uint64_t>(*Word64(kHeaderCheckAt)).load(std::memory_order_relaxed);
  if (magic != kMagic || version != kVersion || id != id_ ||
      check != HeaderCheck(magic, version, id, w.epoch)) {
    return std::nullopt;
  }
  w.end = std::atomic_ref<uint64_t>(*Word64(kEndAt)).load(std::memory_order_seq_cst);
  w.durable = std::atomic_ref<uint64_t>(*Word64(kDurableAt)).load(std::memory_order_seq_cst);
  w.generation = std::atomic_ref<uint64_t>(*Word64(kGenerationAt)).load(std::memory_order_seq_cst);
  w.failed =
      (std::atomic_ref<uint32_t>(*Word32(kFlagsAt)).load(std::memory_order_seq_cst) & kFailed) != 0;
  // A writer that re-initialized the page meanwhile may have mixed its words with these.
  if (std::atomic_ref<uint64_t>(*Word64(kEpochAt)).load(std::memory_order_seq_cst) != w.epoch) {
    return std::nullopt;
  }
  return w;
}

void StatePage::WakeIf(size_t want_offset, uint64_t reached) {
  // Loaded after the caller's store of its word (both sequentially consistent): a sleeper
  // that registered before that store is seen here; one that registers after sees the word.
  const uint64_t want =
      std::atomic_ref<uint64_t>(*Word64(want_offset)).load(std::memory_order_seq_cst);
  const uint32_t wake = std::atomic_ref<uint32_t>(*Word32(kWakeAt)).load(std::memory_order_seq_cst);
  if (Live(want, wake) && (want & kSeqMask) < reached) WakeAll();
}

void StatePage::PublishEnd(uint64_t end) {
  std::atomic_ref<uint64_t>(*Word64(kEndAt)).store(end, std::memory_order_seq_cst);
  WakeIf(kWantAt, end);
}

void StatePage::PublishDurable(uint64_t durable) {
  std::atomic_ref<uint64_t>(*Word64(kDurableAt)).store(durable, std::memory_order_seq_cst);
  WakeIf(kDurableWantAt, durable);
}

void StatePage::BumpGeneration() {
  std::atomic_ref<uint64_t>(*Word64(kGenerationAt)).fetch_add(1, std::memory_order_seq_cst);
}

void StatePage::SetFailed() {
  std::atomic_ref<uint32_t>(*Word32(kFlagsAt)).fetch_or(kFailed, std::memory_order_seq_cst);
  WakeAll();
}

uint32_t StatePage::Register(bool durable, uint64_t seq) {
  if (!map_.writable()) return 0;  // cannot register: callers sleep with a short timeout
  std::atomic_ref<uint64_t> want(*Word64(durable ? kDurableWantAt : kWantAt));
  std::atomic_ref<uint32_t> wake(*Word32(kWakeAt));
  while (true) {
    const uint32_t seen = wake.load(std::memory_order_seq_cst);
    uint64_t cur = want.load(std::memory_order_seq_cst);
    // A registration of a newer wake word than `seen` must not be replaced: read again.
    if (wake.load(std::memory_order_seq_cst) != seen) continue;
    const uint64_t mine =
        Live(cur, seen) ? std::min(cur, Registration(seen, seq)) : Registration(seen, seq);
    if (mine == cur || want.compare_exchange_strong(cur, mine, std::memory_order_seq_cst)) {
      // If the wake word moved since `seen`, Sleep(seen) returns at once and the caller
      // registers again.
      return seen;
    }
  }
}

void StatePage::Sleep(uint32_t seen, std::chrono::nanoseconds timeout) const {
  env_->WaitWord(Word32(kWakeAt), seen, timeout).IgnoreError();  // callers re-check anyway
}

void StatePage::WakeAll() {
  if (!map_.writable()) return;
  std::atomic_ref<uint32_t>(*Word32(kWakeAt)).fetch_add(1, std::memory_order_seq_cst);
  env_->WakeWord(Word32(kWakeAt)).IgnoreError();  // sleepers time out and re-check
}

}  // namespace recstore::log
