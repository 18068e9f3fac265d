// The state page: one small mapped file per collection ("STATE" in its folder) that the writer
// and the readers of every process share, so that readers learn of new records without
// reading the manifest and sleep until they come (docs/format.md section 3.7 has the layout,
// docs/design.md section 9 the protocol).
//
// The page is a hint, never a source of truth. Nothing in it is flushed to disk, recovery
// never reads it, and a reader uses it only to decide when to look again: what a reader shows
// comes from the manifest and the segments, checked as always. A page that is missing, being
// initialized, damaged or lying costs a reader latency (it falls back to polling), never a
// wrong record.
//
// The words, each written by the writer only (except the two waiter flags):
//   end         published end: every record below it is complete in its segment
//   durable     durable end: every record below it was flushed
//   generation  changes after every change of the collection's set of segment files or of
//               its manifest state (rotation, retention, compaction): a reader that saw the
//               same generation before reading the manifest need not read it again
//   flags       kFailed: the writer's log failed (its flushes can no longer be trusted)
//   wake        the futex word: incremented whenever sleepers are woken
//   want / durable_want
//               the registration of the sleepers until end (durable) moves: the lowest record
//               one of them waits for, tagged with the wake word it read. The writer wakes
//               the sleepers only once the end passes that record, so an append pays no system
//               call while nobody sleeps, nor while the sleepers wait for later records.
//
// The waker and the sleeper follow the Dekker pattern with sequentially consistent atomics:
// the writer stores its word, then reads the registration; the reader registers (lowering
// `want` for the wake word it read), then checks the log again before it sleeps on `wake`.
// Whichever comes second sees the other, so a record published while a reader goes to sleep
// either is seen by its check or wakes it. Every wake moves the wake word, which makes every
// registration stale at once; the woken sleepers register again if they still wait.
#ifndef RECSTORE_SRC_LOG_STATE_PAGE_H_
#define RECSTORE_SRC_LOG_STATE_PAGE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "src/log/shape.h"
#include "src/os/file.h"

namespace recstore::log {

inline constexpr char kStateFileName[] = "STATE";
inline constexpr size_t kStatePageSize = 4096;

class StatePage {
 public:
  // The words a reader reads, at about one moment (each word is read once, atomically).
  struct Words {
    uint64_t epoch = 0;  // the writer open that initialized the page
    uint64_t end = 0;
    uint64_t durable = 0;
    uint64_t generation = 0;
    bool failed = false;
  };
  static constexpr uint32_t kFailed = 1;

  // The writer, before its recovery changes anything: creates the page (or takes over the
  // one a previous writer left) and marks it invalid, so that no reader trusts what an
  // earlier writer left in it. Errors: those of creating, sizing or mapping the file; the
  // writer's open then fails (a page it could not take over could mislead readers).
  static absl::StatusOr<std::unique_ptr<StatePage>> OpenForWriter(const Shape& shape);
  // The writer, once recovered: sets the words to `end` and `durable`, gives the page a new
  // epoch (which makes it valid), and wakes every sleeper.
  void Start(uint64_t end, uint64_t durable);
  // A reader: maps the page if it exists and is at least a page long (writable if the file
  // permissions allow, so the reader can register as a sleeper). Null when there is none.
  static std::unique_ptr<StatePage> OpenForReader(const Shape& shape);

  ~StatePage();
  StatePage(const StatePage&) = delete;
  StatePage& operator=(const StatePage&) = delete;

  // Writer. Each stores its word, then wakes registered sleepers.
  void PublishEnd(uint64_t end);
  void PublishDurable(uint64_t durable);
  void BumpGeneration();
  void SetFailed();

  // Readers (any thread, any process). The words, or nullopt while the page is not valid
  // (missing magic, another collection's, a bad header checksum, or being initialized).
  std::optional<Words> Read() const;
  // Whether this mapping may register sleepers (it is writable).
  bool can_sleep() const { return map_.writable(); }
  // Registers a sleeper waiting until the end (the durable end if `durable`) passes `seq`,
  // and returns the wake word to pass to Sleep. The caller must check what it waits for after
  // this and before Sleep.
  uint32_t Register(bool durable, uint64_t seq);
  // Sleeps until the wake word moves from `seen`, or `timeout`; may return early.
  void Sleep(uint32_t seen, std::chrono::nanoseconds timeout) const;
  // Moves the wake word and wakes every sleeper (of every process): for a reader stopping a
  // wait of its own, which then re-checks why it woke. Others wake spuriously and sleep again.
  void WakeAll();

 private:
  StatePage(Env* env, uint32_t id, os::Mapping map) : env_(env), id_(id), map_(std::move(map)) {}
  // What an earlier writer left (a valid page), read before the page was marked invalid.
  std::optional<Words> previous_;
  uint64_t* Word64(size_t offset) const {
    return reinterpret_cast<uint64_t*>(const_cast<std::byte*>(map_.data()) + offset);
  }
  uint32_t* Word32(size_t offset) const {
    return reinterpret_cast<uint32_t*>(const_cast<std::byte*>(map_.data()) + offset);
  }
  // Wakes every sleeper if the registration at `want_offset` is live and wants a record
  // below `reached`.
  void WakeIf(size_t want_offset, uint64_t reached);

  Env* const env_;
  const uint32_t id_;
  os::Mapping map_;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_STATE_PAGE_H_
