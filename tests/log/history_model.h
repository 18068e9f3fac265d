// The model a concurrent history on one store is checked against (tests/log/history_test.cc).
//
// Records are generated from their sequence number alone, so any thread or process can tell
// the bytes a record must have. What the writer has published is kept as monotonic bounds:
// a *floor*, sampled before an operation, says what must already be gone (truncations and
// compactions that had returned), and a *ceiling*, sampled after it, says what may be gone
// and how far the log may reach. Every result of a read is checked against both.
//
// The bounds live in memory shared with a forked reader process (SharedHistory), so they are
// lock-free atomics only.
#ifndef RECSTORE_TESTS_LOG_HISTORY_MODEL_H_
#define RECSTORE_TESTS_LOG_HISTORY_MODEL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/recstore.h"

namespace recstore::testing::history {

uint64_t Mix(uint64_t x);

// Records of the fixed log (a testing::Trade) and of the byte log, by sequence number. Byte
// records run from 1 byte to more than a 64 KiB segment (about 1 in 400).
std::string FixedRecord(uint64_t seq);
uint32_t ByteRecordSize(uint64_t seq);
std::string ByteRecord(uint64_t seq);
// Whether the compaction predicate of the history drops record `seq` (about 1 in 3).
bool Droppable(bool fixed, uint64_t seq);

// Checkpoint version v (1, 2, ...) is record v - 1 of the checkpoint log; its payload follows
// from v (some larger than a segment).
uint64_t CheckpointSize(uint64_t version);
std::string CheckpointPayload(uint64_t version);
bool CheckpointPayloadIs(uint64_t version, std::string_view payload);

// A range of sequence numbers as bounds of one log.
struct Bounds {
  uint64_t begin = 0;    // records below are (floor: must be; ceiling: may be) truncated
  uint64_t removed = 0;  // droppable records below are (must be / may be) compacted away
  uint64_t end = 0;      // floor: end() is at least this; ceiling: at most this
};

// What has been published to one log.
struct LogModel {
  bool fixed = true;
  // No retention policy of the history keeps fewer records than this.
  uint64_t retention_floor = 0;
  std::atomic<uint64_t> started_end{0};    // end once the append under way returns
  std::atomic<uint64_t> acked_end{0};      // end after the last append that returned
  std::atomic<uint64_t> trunc_target{0};   // highest target of a TruncateBefore begun
  std::atomic<uint64_t> trunc_done{0};     // begin() the writer had reached after a call
  std::atomic<uint64_t> removed_below{0};  // compacted_end after the last predicate Compact
  std::atomic<bool> compacting{false};     // a predicate Compact is under way

  const char* name() const { return fixed ? "fixed" : "bytes"; }
  bool RecordIs(uint64_t seq, std::span<const std::byte> bytes) const;
  std::string Expected(uint64_t seq) const { return fixed ? FixedRecord(seq) : ByteRecord(seq); }
  Bounds Floor() const;
  Bounds Ceiling() const;
  bool MustBeGone(uint64_t seq, const Bounds& floor) const {
    return seq < floor.begin || (seq < floor.removed && Droppable(fixed, seq));
  }
  bool MayBeGone(uint64_t seq, const Bounds& ceiling) const {
    return seq < ceiling.begin || (seq < ceiling.removed && Droppable(fixed, seq));
  }
};

// Checkpoint versions saved: in shared memory too.
struct CheckpointModel {
  uint32_t keep = 2;
  std::atomic<uint64_t> started{0};  // newest version whose Save has begun
  std::atomic<uint64_t> saved{0};    // newest version whose Save returned
};

// Everything the processes of a history share (placed in a MAP_SHARED mapping).
struct SharedHistory {
  LogModel fixed, bytes;
  CheckpointModel checkpoints;
  std::atomic<int> round{0};
  std::atomic<bool> stop{false};
  LogModel& log(bool is_fixed) { return is_fixed ? fixed : bytes; }
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// Operation counts (per thread, merged at the end) and failures by kind.
class Tally {
 public:
  void Count(const std::string& what, uint64_t n = 1);
  // `kind` names the operation and symptom ("bytes Get: DataLoss"); `detail` the instance.
  void Fail(const std::string& kind, const std::string& detail);
  void Merge(const std::map<std::string, uint64_t>& counts);
  uint64_t failures() const;
  std::map<std::string, uint64_t> counts() const;
  // One line per failure kind: count and the first messages.
  std::string FailureReport() const;
  // Lines "count\t<name>\t<n>" and "fail\t<kind>\t<detail>", and back (the forked reader).
  std::string Serialize() const;
  void Absorb(std::string_view serialized, std::string_view prefix);

 private:
  struct Kind {
    uint64_t count = 0;
    std::vector<std::string> first;
  };
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> counts_;
  std::map<std::string, Kind> failures_;
};

// One thread's view of a handle: begin() and end() never go down.
class HandleWatch {
 public:
  HandleWatch(const LogModel& model, std::string who) : model_(model), who_(std::move(who)) {}
  // begin and end read from the handle; `floor` sampled before reading them.
  void Observe(uint64_t begin, uint64_t end, const Bounds& floor, Tally* tally);

 private:
  const LogModel& model_;
  std::string who_;
  uint64_t begin_ = 0, end_ = 0;
};

// Checks the result of Get(seq). `known_end`: an end() the reader saw before the Get, or the
// floor's end (the appends that had returned); OutOfRange at or above it means "not yet".
// The bytes are compared at once (the caller keeps them valid). True if the record was read.
bool CheckGet(const LogModel& model, const std::string& who, uint64_t seq, const Bounds& floor,
              uint64_t known_end, const absl::StatusOr<std::span<const std::byte>>& got,
              Tally* tally);

// Checks a scan as it yields: increasing sequence numbers, exact bytes, nothing the floor
// says is gone, and nothing missing below `end_before` (end() read before the scan was made)
// that the ceiling at the first record (the scan's view is fixed from then) keeps.
class ScanCheck {
 public:
  ScanCheck(const LogModel& model, std::string who, uint64_t from, uint64_t end_before,
            const Bounds& floor, Tally* tally);
  void Yield(uint64_t seq, std::span<const std::byte> bytes);
  // After the last record: the scan's status.
  void Finish(const absl::Status& status);
  uint64_t records() const { return records_; }

 private:
  void Missing(uint64_t from, uint64_t to);
  const LogModel& model_;
  std::string who_;
  uint64_t next_;  // no record below this may come any more
  const uint64_t end_before_;
  const Bounds floor_;
  Bounds ceiling_;
  bool any_ = false;
  uint64_t records_ = 0;
  Tally* tally_;
};

// Checks Verify(): ok, and a record count between what must and what may be there.
void CheckVerify(const LogModel& model, const std::string& who, const Bounds& floor,
                 uint64_t end_before, const absl::StatusOr<VerifyReport>& report, Tally* tally);

// Checks Load(): a complete version at least as new as `saved_before` (the last Save that
// returned before the Load began).
void CheckLoad(const CheckpointModel& model, const std::string& who, uint64_t saved_before,
               const absl::StatusOr<Checkpoint>& got, Tally* tally);
void CheckList(const CheckpointModel& model, const std::string& who, uint64_t saved_before,
               const absl::StatusOr<std::vector<CheckpointInfo>>& got, Tally* tally);

// The name of a status code as the failure kinds use it ("DataLoss").
std::string CodeName(const absl::Status& s);

}  // namespace recstore::testing::history

#endif  // RECSTORE_TESTS_LOG_HISTORY_MODEL_H_
