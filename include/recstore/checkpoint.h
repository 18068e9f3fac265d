// Checkpoints: "save the latest state, durably, and get it back after any crash".
//
//   ASSIGN_OR_RETURN(auto ckpt, store->OpenCheckpoints("model"));
//   ASSIGN_OR_RETURN(CheckpointInfo saved, ckpt.Save(state));  // durable when it returns
//   ASSIGN_OR_RETURN(State restored, ckpt.Load<State>());      // after a restart
//
// A checkpoint set named N is the byte log "checkpoint.N" of the store: each Save appends one
// record (a 24-byte header and the payload; layout in docs/checkpoints.md) and syncs the log.
// The record checksum of the log covers header and payload, so a torn or damaged version is
// never returned: Load() walks back from the newest record to the newest intact one. The set
// keeps the last `keep` versions; older ones are dropped a whole segment at a time with
// TruncateBefore (see Save).
//
// Thread safety: all methods may be called from several threads at once; Saves on one
// Checkpoints handle and its copies are serialized. Copies share one state. Open a set once
// per process and copy the handle (two handles opened separately still work, but each drops
// old segments by its own bookkeeping).
#ifndef RECSTORE_CHECKPOINT_H_
#define RECSTORE_CHECKPOINT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/log.h"

namespace recstore {

namespace internal {
class CheckpointState;
}  // namespace internal

// The keep of a set that records none (created with keep 0 and never saved to, or saved to
// only by a version before keep was recorded), and the largest keep a set can record.
inline constexpr uint32_t kDefaultCheckpointKeep = 2;
inline constexpr uint32_t kMaxCheckpointKeep = 65535;

struct CheckpointOptions {
  // Versions kept, 1 to kMaxCheckpointKeep. Load falls back only among these; List shows
  // them. Each Save records the keep in force with its version, so 0 (the default) means the
  // keep recorded with the newest version (kDefaultCheckpointKeep for a set without one):
  // readers and tools open a set with keep 0 and use the writer's.
  uint32_t keep = 0;
  // Create the set (its byte log) if it does not exist (writers only).
  bool create_if_missing = true;
  // Segment capacity of the set's log when this call creates it (an existing set keeps its
  // own), as StoreOptions::segment_size. 0: kDefaultCheckpointSegmentSize, or the store's
  // segment size when that is smaller. A set holds a few versions, so its segments are small
  // by default; a version larger than a segment gets a segment of its own size.
  uint64_t segment_size = 0;
};

inline constexpr uint64_t kDefaultCheckpointSegmentSize = uint64_t{1} << 20;

// One saved version.
struct CheckpointInfo {
  uint64_t seq = 0;     // sequence number of its record in the log: grows with every Save
  int64_t time_ns = 0;  // when it was saved, Unix nanoseconds (the store's clock)
  uint64_t size = 0;    // payload bytes
  uint32_t keep = 0;    // the set's keep when it was saved (0: not recorded)
};

// A loaded version: its description and a copy of its payload.
struct Checkpoint {
  CheckpointInfo info;
  std::string data;
  // Newer versions passed over because their record failed its checksum, was removed, or
  // had an invalid checkpoint header.
  uint64_t skipped = 0;

  std::span<const std::byte> bytes() const {
    return {reinterpret_cast<const std::byte*>(data.data()), data.size()};
  }
};

// Layout of a checkpoint record's header (little-endian; docs/checkpoints.md).
inline constexpr uint32_t kCheckpointMagic = 0x4B435352;  // bytes "RSCK"
inline constexpr uint16_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointHeaderSize = 24;
// Largest payload: the byte log's record limit less the header.
inline constexpr uint64_t kMaxCheckpointSize = kMaxByteRecordSize - kCheckpointHeaderSize;

class Checkpoints {
 public:
  Checkpoints() = default;

  // Appends a new version and syncs the log; returns once the version is durable. Then, when
  // the dropped versions (all but the last `keep`) fill at least one whole segment, drops them
  // with TruncateBefore (the check is bookkeeping of record sizes in memory, so most Saves
  // make no extra I/O). Errors: FailedPrecondition (read-only store, or the log failed
  // before), InvalidArgument (payload above kMaxCheckpointSize), ResourceExhausted (no space
  // for a new segment), or the I/O error of the sync: the version is then not durable, and
  // the log refuses further writes until it is reopened. An error of the TruncateBefore after
  // a durable save is returned too, though the version is saved.
  [[nodiscard]] absl::StatusOr<CheckpointInfo> Save(std::span<const std::byte> payload) const;
  [[nodiscard]] absl::StatusOr<CheckpointInfo> Save(std::string_view payload) const {
    return Save(std::span<const std::byte>(reinterpret_cast<const std::byte*>(payload.data()),
                                           payload.size()));
  }
  // Saves the bytes of a trivially copyable value (host byte order, padding included).
  template <typename T>
  requires(std::is_trivially_copyable_v<T> && !std::is_convertible_v<const T&, std::string_view> &&
           !std::is_convertible_v<const T&, std::span<const std::byte>>)
      [[nodiscard]] absl::StatusOr<CheckpointInfo> Save(const T& value) const {
    return Save(std::span<const std::byte>(reinterpret_cast<const std::byte*>(&value), sizeof(T)));
  }

  // The newest intact version among the last `keep`: a record that fails its checksum
  // (DataLoss), was removed (NotFound) or has an invalid checkpoint header is passed over for
  // the one before it (counted in Checkpoint::skipped). A read-only handle first picks up
  // what the writer has published (Refresh). Errors: NotFound (nothing saved), DataLoss (none
  // of the kept versions is intact; names the newest one's error), or a read error.
  [[nodiscard]] absl::StatusOr<Checkpoint> Load() const;
  // As Load(), then copies the payload into a T. Errors also: InvalidArgument when the
  // version's size is not sizeof(T).
  template <typename T>
  requires std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>
  [[nodiscard]] absl::StatusOr<T> Load() const {
    absl::StatusOr<Checkpoint> c = Load();
    if (!c.ok()) return c.status();
    if (c->data.size() != sizeof(T)) return SizeMismatch(c->info, sizeof(T));
    T value;
    std::memcpy(&value, c->data.data(), sizeof(T));
    return value;
  }
  // The version saved as record `seq`. Errors: OutOfRange (not one of the kept versions),
  // DataLoss (its record or header is damaged), NotFound (removed).
  [[nodiscard]] absl::StatusOr<Checkpoint> LoadAt(uint64_t seq) const;

  // The intact versions among the last `keep`, newest first (damaged ones are left out).
  [[nodiscard]] absl::StatusOr<std::vector<CheckpointInfo>> List() const;

  // The keep in force: CheckpointOptions::keep, or the one recorded with the newest version
  // when that was 0 (fixed at open).
  uint32_t keep() const;
  // The byte log underneath (for tools and tests).
  const ByteLog& log() const;

 private:
  friend class Store;
  explicit Checkpoints(std::shared_ptr<internal::CheckpointState> state)
      : state_(std::move(state)) {}
  static absl::Status SizeMismatch(const CheckpointInfo& info, size_t want);

  std::shared_ptr<internal::CheckpointState> state_;
};

}  // namespace recstore

#endif  // RECSTORE_CHECKPOINT_H_
