// Handles to one collection: Log<T> (fixed-size typed records), ByteLog (variable-size byte
// records) and UntypedLog (either kind, described by the manifest schema, for tools).
//
// Handles are cheap to copy; copies share one open collection. A handle keeps the collection,
// its mappings and the store's lock alive until the last copy is destroyed, even after the
// Store that opened it is gone.
//
// Thread safety: every method may be called from several threads at once on the same or on
// copied handles. Appends are serialized inside; readers in the same process never see a
// partly written record: a record becomes visible (end(), Get, Scan) only once complete.
//
// Sequence numbers: the first record of a collection is 0, each append takes the next
// number, and a record keeps its number for ever. end() is one past the last visible record;
// begin() is the first live one (retention moves it up). Compaction removes records below the
// active segment, so [begin(), end()) may have gaps: scans skip them and Get of one returns
// NotFound.
//
// Snapshots: every read works on one snapshot of the collection, taken once when the read
// starts: the set of segment files with begin(), the compaction state, and end(). A read never
// mixes two moments, so a concurrent append, segment rotation, retention or compaction can
// neither make it fail nor make it return a wrong record: Get(seq) of a record below an end()
// the caller saw returns that record (or, if a retention or compaction removed it before the
// Get began, OutOfRange or NotFound).
//
// Lifetimes of what reads return: a `const T&`, `const T*` or byte span points into the
// segment's memory mapping. Records are immutable once appended, so the bytes never change
// under the reader. What a scan yields stays valid while the ScanRange exists. What Get
// returns stays valid while a Pin() taken before the Get exists (a pin keeps every segment of
// its snapshot and of every later one mapped), and otherwise until its segment is retired:
// by a TruncateBefore, SetRetention, ApplyRetention, Compact or Merge of this process, by the
// retention a writer applies after an append that starts a segment, or (read-only handles)
// by a Refresh() that follows the writer's retention or compaction. Without those, everything
// stays valid while any handle to the collection is open.
#ifndef RECSTORE_LOG_H_
#define RECSTORE_LOG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "recstore/compaction.h"
#include "recstore/config.h"  // first: fails clearly below C++20
#include "recstore/options.h"
#include "recstore/schema.h"

namespace recstore {

namespace internal {
class Collection;
class FollowState;
class Scanner;
}  // namespace internal

enum class CollectionKind : uint8_t {
  kFixed = 1,     // fixed-size typed records
  kVariable = 2,  // variable-size byte records
};

// What the manifest says about a collection.
struct CollectionInfo {
  std::string name;
  uint32_t id = 0;
  CollectionKind kind = CollectionKind::kFixed;
  uint32_t record_size = 0;   // fixed: sizeof(T); variable: 0
  uint32_t record_align = 0;  // fixed: alignof(T); variable: 0
  RecordSchema schema;        // fixed: the fields; variable: empty
  uint64_t segment_size = 0;
  uint64_t first_seq = 0;  // first live sequence number
  // Compaction: the generation of the compacted segments (0: never compacted) and the end
  // of the range they cover; records at and after compacted_end live in ordinary segments.
  uint64_t generation = 0;
  uint64_t compacted_end = 0;
  // The first record of the generation's first compacted segment file (compacted_end when it
  // has none); each compacted segment names the one after it, so a missing file is found.
  // kUnrecorded for a generation written by format version 2, which kept no such chain.
  uint64_t compacted_first = 0;
  static constexpr uint64_t kUnrecorded = UINT64_MAX;
  int64_t time_base = 0;  // Unix seconds at creation: base of byte records' append times
  RetentionPolicy retention;
};

// Largest variable-size record: 256 MiB. Bigger appends fail with InvalidArgument. A record
// that does not fit in an empty segment of the collection's segment size gets a segment of
// its own, sized to fit.
inline constexpr uint64_t kMaxByteRecordSize = uint64_t{256} << 20;

// Keeps the segments of a snapshot, and of every later snapshot, mapped (see Pin()).
using ReadPin = std::shared_ptr<const void>;

// Sequence numbers [from, to) that a reader asked for but retention (or TruncateBefore) had
// dropped before it could read them.
struct Gap {
  uint64_t from = 0;
  uint64_t to = 0;
  bool empty() const { return from >= to; }
  friend bool operator==(const Gap&, const Gap&) = default;
};

// One record as a scan yields it; use with structured bindings: `for (auto [seq, rec] : ...)`.
template <typename V>
struct Entry {
  uint64_t seq;
  V value;
};

// What every ScanRange shares; applications use ScanRange through Scan().
class ScanBase {
 public:
  ScanBase(ScanBase&&) noexcept;
  ScanBase& operator=(ScanBase&&) noexcept;
  ScanBase(const ScanBase&) = delete;
  ScanBase& operator=(const ScanBase&) = delete;
  ~ScanBase();

  // OK, or why the scan stopped before its end.
  const absl::Status& status() const;
  // Invalid records skipped (RecoveryMode::kSalvage only).
  uint64_t skipped() const;
  // The range the scan covers, [from(), end()), as of its snapshot. from() is the `from`
  // given to Scan, or begin() if that was higher.
  uint64_t from() const;
  uint64_t end() const;
  // The records asked for that retention had dropped when the scan began: [from given to
  // Scan, begin()) when begin() was higher, empty otherwise. A scan never skips them
  // silently: callers that must not miss records check this (Follow stops on it).
  Gap lost() const;

  // The next records the scan has verified, in order: an implementation detail of the
  // iterators below.
  struct Batch {
    uint64_t first_seq = 0;
    const uint64_t* seqs = nullptr;   // the records' sequence numbers; null: first_seq + i
    size_t count = 0;                 // 0: the scan is over
    const std::byte* base = nullptr;  // fixed-size records: the first one
    size_t stride = 0;                // fixed-size records: bytes from one to the next
    size_t record_size = 0;           // fixed-size records: payload bytes
    const std::span<const std::byte>* records = nullptr;  // byte records: their payloads

    uint64_t SeqAt(size_t i) const { return seqs != nullptr ? seqs[i] : first_seq + i; }
  };
  // Fills `batch` with the next verified records; count 0 once the scan is over.
  void Next(Batch* batch);
  // Tag of the newest-first constructor (the handles' ScanReverse).
  struct Reverse {};

 protected:
  // Takes the snapshot. Made by the handles' Scan().
  ScanBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from);
  // The same, for records [from, before) newest first (ScanReverse).
  ScanBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from, uint64_t before,
           Reverse);

 private:
  std::unique_ptr<internal::Scanner> scanner_;
};

namespace scan_detail {

// How each handle kind turns a batch position into a value.
template <typename T>
struct FixedRecords {
  using value_type = const T&;
  static const T& At(const ScanBase::Batch& b, size_t i) {
    return *reinterpret_cast<const T*>(b.base + i * b.stride);
  }
};

struct ByteRecords {
  using value_type = std::span<const std::byte>;
  static std::span<const std::byte> At(const ScanBase::Batch& b, size_t i) { return b.records[i]; }
};

struct AnyRecords {
  using value_type = std::span<const std::byte>;
  static std::span<const std::byte> At(const ScanBase::Batch& b, size_t i) {
    if (b.records != nullptr) return b.records[i];
    return {b.base + i * b.stride, b.record_size};
  }
};

}  // namespace scan_detail

namespace scan_detail {

// An input iterator over the batches of a ScanBase or FollowBase (`Source`), yielding
// Entry<View::value_type>.
template <typename Source, typename View>
class BatchIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using difference_type = std::ptrdiff_t;
  using value_type = Entry<typename View::value_type>;

  BatchIterator() = default;
  explicit BatchIterator(Source* source) : source_(source) { Advance(); }
  value_type operator*() const { return {batch_.SeqAt(i_), View::At(batch_, i_)}; }
  BatchIterator& operator++() {
    if (++i_ == batch_.count) Advance();
    return *this;
  }
  bool operator==(const BatchIterator& o) const { return done() == o.done(); }

 private:
  bool done() const { return source_ == nullptr; }
  void Advance() {
    i_ = 0;
    source_->Next(&batch_);
    if (batch_.count == 0) source_ = nullptr;
  }

  Source* source_ = nullptr;
  ScanBase::Batch batch_;
  size_t i_ = 0;
};

}  // namespace scan_detail

// The records [from, end) of a collection as of one snapshot taken when the scan was made:
// `end` is end() at that moment, and the scan reads the segments as they were then, so a
// compaction or retention that runs meanwhile (in this process or, for a read-only handle,
// in the writer) does not change what it yields. A scan verifies each record's checksum
// before yielding it. It stops early at an invalid record (except under RecoveryMode::kSalvage,
// where it skips it); status() then says why. Gaps left by compaction are skipped; records
// retention dropped before the scan began are reported by lost(). The scan keeps the
// segments of its snapshot mapped while it exists.
//
// A scan is a range over its own state: iterate it once, in place. What it yields stays valid
// while the ScanRange exists.
//
// Prefer ForEach, which returns why the scan ended: a range-for loop ends the same way at the
// end of the records and at an invalid one, so after one, check status().
template <typename View>
class ScanRange : public ScanBase {
 public:
  using value_type = Entry<typename View::value_type>;
  using iterator = scan_detail::BatchIterator<ScanBase, View>;

  // Made by the handles' Scan(); `collection` is a handle's collection.
  ScanRange(const std::shared_ptr<internal::Collection>& collection, uint64_t from)
      : ScanBase(collection, from) {}
  // Made by the handles' ScanReverse().
  ScanRange(const std::shared_ptr<internal::Collection>& collection, uint64_t from, uint64_t before,
            Reverse r)
      : ScanBase(collection, from, before, r) {}

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  // Calls fn(seq, record) for each record, in order, and returns why the scan ended: OK once
  // every record of [from(), end()) was passed to fn (under RecoveryMode::kSalvage, all but
  // skipped() invalid ones); the scan's error (status(), DataLoss for an invalid record) when
  // it stopped early; or the first non-OK status fn returned, which stops the scan. fn returns
  // void or absl::Status. Records retention had dropped before the scan began are not an error
  // here: lost() names them. Call it once, on a scan not iterated otherwise.
  template <typename Fn>
  absl::Status ForEach(Fn&& fn) {
    using Result = std::invoke_result_t<Fn&, uint64_t, typename View::value_type>;
    static_assert(std::is_void_v<Result> || std::is_convertible_v<Result, absl::Status>,
                  "ForEach: fn(seq, record) must return void or absl::Status");
    for (auto [seq, value] : *this) {
      if constexpr (std::is_void_v<Result>) {
        fn(seq, value);
      } else {
        absl::Status s = fn(seq, value);
        if (!s.ok()) return s;
      }
    }
    return status();
  }
};

// What to wait for (LogBase::WaitFor, Follow).
struct WaitOptions {
  enum class Until {
    kVisible,  // the record is appended: readers can read it (it may not be durable yet)
    kDurable,  // the record is durable too: a Sync() (or the sync policy) flushed it
  };
  Until until = Until::kVisible;
  // Before sleeping, check for this long without sleeping (for callers with a spare core:
  // it shortens the hand-off, at the price of that core while it spins). 0: sleep at once.
  std::chrono::microseconds spin{0};
};

struct FollowOptions {
  WaitOptions wait{};
  // When records the follow has not yielded yet were dropped by retention or TruncateBefore
  // (its position fell below begin()): kStop ends the follow with OutOfRange naming the
  // range lost (gaps() has it); kSkip goes on from begin() and records the range in gaps().
  enum class OnGap { kStop, kSkip };
  OnGap on_gap = OnGap::kStop;
};

// What every FollowRange shares; applications use FollowRange through the handles' Follow().
class FollowBase {
 public:
  FollowBase(FollowBase&&) noexcept;
  FollowBase& operator=(FollowBase&&) noexcept;
  FollowBase(const FollowBase&) = delete;
  FollowBase& operator=(const FollowBase&) = delete;
  ~FollowBase();

  // Ends the follow; callable from any thread while another iterates: a wait in progress
  // returns promptly, and the iteration ends with status() Cancelled.
  void Stop() const;
  // Whether the follow is over (stopped, or an error); status() says why.
  bool done() const;
  // OK while the follow goes on; once done(): Cancelled after Stop(), OutOfRange for a gap
  // under OnGap::kStop, DataLoss for an invalid record, FailedPrecondition when the log
  // failed, or the error of a refresh.
  const absl::Status& status() const;
  // The next sequence number the follow will yield (or look for).
  uint64_t position() const;
  // The ranges retention dropped before the follow could yield them, in order.
  const std::vector<Gap>& gaps() const;

  // Fills `batch` with the next records at or after position(), waiting for them until
  // `deadline`. count 0: the deadline passed (done() false: call again) or the follow is over.
  void Next(ScanBase::Batch* batch, absl::Time deadline);
  // As Next with no deadline: returns records, or count 0 once the follow is over.
  void Next(ScanBase::Batch* batch) { Next(batch, absl::InfiniteFuture()); }

 protected:
  FollowBase(const std::shared_ptr<internal::Collection>& collection, uint64_t from,
             const FollowOptions& options);

 private:
  std::unique_ptr<internal::FollowState> state_;
};

// The records of a collection from `from` on, as they arrive: a range that never ends by
// itself. Iterating it yields every record (in order, checksums verified) already in the log,
// then waits for more and yields them as the writer appends them (or, with
// WaitOptions::kDurable, as they become durable), across segment rotations, retention and
// compaction (compaction gaps are skipped, as in scans), in this process or from another one.
// The iteration ends only when Stop() is called (from any thread), on an error, or on a gap
// under OnGap::kStop; status() then says which. It sleeps while it waits (docs/design.md
// section 9): an idle follower costs no CPU.
//
// What it yields stays valid until the iterator is incremented (copy what you keep): a
// follow does not keep every segment it passed mapped. Iterate it once, in one thread.
template <typename View>
class FollowRange : public FollowBase {
 public:
  using value_type = Entry<typename View::value_type>;
  using iterator = scan_detail::BatchIterator<FollowBase, View>;

  FollowRange(const std::shared_ptr<internal::Collection>& collection, uint64_t from,
              const FollowOptions& options)
      : FollowBase(collection, from, options) {}

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }
};

// Operations every handle has. A default-constructed handle is not open: its calls return
// FailedPrecondition (accessors return 0 or empty values).
class LogBase {
 public:
  // Makes every record appended (by any thread) before the call durable: segment data, and
  // the directory when segments were created. Concurrent calls share one flush. Returns the
  // durable end: one past the last durable sequence number, not the number of a record.
  // Every record with a smaller sequence number is durable; the last durable record is
  // durable end - 1 (there is none while the durable end is begin()); after Append returned
  // `s`, Sync() returns at least s + 1. For a log that starts at 0 it is the count of durable
  // records. `recstore info` and `recstore append --print-durable` print this number.
  // Errors: FailedPrecondition (read-only handle; or the log has failed before, the message
  // carrying the original cause); the error of a failed fdatasync/fsync naming the file and
  // errno, after which the log refuses all writes (reads keep working; reopening recovers
  // what was durable); the error of opening the collection folder for its fsync (for example
  // ResourceExhausted when the process is out of descriptors), which is not final: nothing
  // was made durable, and a later Sync() tries again.
  [[nodiscard]] absl::StatusOr<uint64_t> Sync() const;

  // Read-only handles: picks up what the writer has published since the last refresh:
  // appended records, new segments, retention and compaction. Once it returns, the handle
  // shows every record appended before the call began, except those the writer's retention
  // or compaction dropped meanwhile (begin() then says where the log starts). Writer handles
  // see their own appends at once; Refresh is a no-op for them. Errors: DataLoss when a new
  // segment's header is invalid; Unavailable when the writer changed the collection on every
  // one of several attempts to read a consistent state (try again).
  // Cost: when the writer's state page says no segment file and no manifest state changed
  // since the last refresh, a refresh reads no file: it looks for new records in the mapped
  // tail segment only (docs/design.md section 9).
  [[nodiscard]] absl::Status Refresh() const;

  // Waits until record `seq` is visible in this handle (end() > seq) and, with
  // WaitOptions::Until::kDurable, durable (durable() > seq), or until `deadline`. Returns
  // end() at that moment (> seq). Works on writer and read-only handles alike, in the
  // writer's process or another: a read-only handle refreshes itself as records arrive. It
  // sleeps without spinning (beyond WaitOptions::spin) on the collection's state page
  // (docs/design.md section 9); an append pays no system call while nobody waits. It keeps
  // waiting across the exit and restart of the writer process: the next writer wakes it.
  // Thread safety: any number of threads and processes may wait at once.
  // Errors: DeadlineExceeded when the deadline passes first; FailedPrecondition when the log
  // failed (a writer handle's failed state; for a read-only handle, the writer reported a
  // failed flush) or the handle is not open; the errors of Refresh().
  [[nodiscard]] absl::StatusOr<uint64_t> WaitFor(uint64_t seq, absl::Time deadline,
                                                 const WaitOptions& options = {}) const;

  // Checks every segment header and record checksum of one snapshot. Returns the report
  // (ok == false names the first bad record's file and offset); an error only when a file
  // cannot be read.
  [[nodiscard]] absl::StatusOr<VerifyReport> Verify() const;

  uint64_t begin() const;  // first live sequence number
  uint64_t end() const;    // one past the last visible record
  // Two counts, each of one snapshot. size(): the records a scan from begin() would yield
  // now, the live records. seq_count(): the sequence numbers in [begin(), end()), which also
  // counts those compaction removed (it never renumbers), so it equals size() until a
  // Compact() drops records. O(compacted segments) and O(1).
  uint64_t size() const;
  uint64_t seq_count() const;
  // Durable end known to this process, as Sync() returns it (one past the last durable
  // sequence number): a writer's own; for a read-only handle, what the writer last reported
  // in the state page (capped at end()), or the recovery durable point.
  uint64_t durable() const;
  // The manifest's description as this process sees it now.
  CollectionInfo info() const;
  const std::string& name() const;
  // What opening found after the last durable point.
  const RecoveryReport& recovery() const;
  bool read_only() const;

  // Retention and compaction (writer handles; include/recstore/compaction.h). Each waits for
  // any other one on the collection, then switches the collection in one atomic manifest
  // rewrite: a crash at any point leaves the collection as it was before or after the call,
  // and the next open removes files either state left behind. Appends, syncs and reads go on
  // while they run. Errors: FailedPrecondition (read-only handle, or the log has failed);
  // the I/O error of a write or sync, after which the collection is unchanged (or, when the
  // manifest was replaced but its folder not synced, changed and not yet durable).

  // Drops every record below `seq`: begin() becomes `seq`. Whole segments below it are
  // deleted; a segment holding records on both sides stays as it is (its dropped records
  // are no longer readable). Errors also: OutOfRange when seq > end().
  [[nodiscard]] absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq) const;
  // Stores `policy` in the manifest and applies it at once (see RetentionPolicy). Errors
  // also: InvalidArgument for a time_field that is not an 8-byte integer field of the schema.
  [[nodiscard]] absl::Status SetRetention(const RetentionPolicy& policy) const;
  // Applies the stored retention policy now.
  [[nodiscard]] absl::StatusOr<CompactionStats> ApplyRetention() const;
  // Syncs, then rewrites the records below the active segment that `options` keeps (by key,
  // by predicate, or all of them) into new full segments of a new compaction generation. A
  // record's sequence number and bytes never change. Errors also: InvalidArgument for a key
  // or tombstone field that the schema lacks or a key spec of the wrong kind; DataLoss naming
  // the record when a record in the rewritten range is invalid (the collection is unchanged:
  // compaction never turns damage into a gap).
  [[nodiscard]] absl::StatusOr<CompactionStats> Compact(const CompactOptions& options = {}) const;
  // Folds the segments below the active one (small, partly dropped or earlier compacted
  // ones) into full segments, keeping every live record: Compact with default options.
  [[nodiscard]] absl::StatusOr<CompactionStats> Merge() const { return Compact({}); }

  // Keeps the segments of the current snapshot, and of every later one, mapped in this
  // process while the pin exists, so pointers from Get stay valid across compaction and
  // retention.
  ReadPin Pin() const;

 protected:
  LogBase() = default;
  explicit LogBase(std::shared_ptr<internal::Collection> c) : c_(std::move(c)) {}

  // The payload of record `seq` (either kind), checked against its checksum.
  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> GetRecord(uint64_t seq) const;
  [[nodiscard]] absl::StatusOr<uint64_t> AppendFixed(const void* records, size_t n) const;
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBytes(const std::string_view* records,
                                                     size_t n) const;
  // The first record of one snapshot at which pred(seq, payload) holds, by binary search
  // (see Log<T>::Seek).
  [[nodiscard]] absl::StatusOr<uint64_t> LowerBoundRecords(
      const std::function<bool(uint64_t, std::span<const std::byte>)>& pred) const;

  std::shared_ptr<internal::Collection> c_;
};

// A log of fixed-size records of type T (declared with RECSTORE_RECORD).
template <RecordType T>
class Log : public LogBase {
 public:
  Log() = default;
  explicit Log(std::shared_ptr<internal::Collection> c) : LogBase(std::move(c)) {}

  // Appends one record; returns its sequence number. The record is visible to readers when
  // this returns and durable after a later Sync() returns (or per the sync policy).
  // Errors: FailedPrecondition (read-only, or failed log); ResourceExhausted when a new
  // segment cannot be allocated (earlier records stay intact).
  [[nodiscard]] absl::StatusOr<uint64_t> Append(const T& record) const {
    return AppendFixed(&record, 1);
  }
  // Appends records in order, atomically with respect to other appenders (they get
  // consecutive numbers); returns the first one's sequence number (end() if empty).
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBatch(std::span<const T> records) const {
    return AppendFixed(records.data(), records.size());
  }

  // The record `seq`, zero-copy, after checking its checksum. O(1) (O(log n) below a
  // compaction). Errors: OutOfRange outside [begin(), end()); NotFound when compaction
  // removed it; DataLoss if its checksum fails.
  [[nodiscard]] absl::StatusOr<const T*> Get(uint64_t seq) const {
    absl::StatusOr<std::span<const std::byte>> p = GetRecord(seq);
    if (!p.ok()) return p.status();
    return reinterpret_cast<const T*>(p->data());
  }

  // Records [from, end()) in order; see ScanRange.
  ScanRange<scan_detail::FixedRecords<T>> Scan(uint64_t from = 0) const { return {c_, from}; }
  // Records [from, before) of one snapshot (before capped at end() then), newest first: as
  // Scan, with each record checked as Get checks it. O(1) per record (O(log n) below a
  // compaction, whose gaps it skips).
  ScanRange<scan_detail::FixedRecords<T>> ScanReverse(uint64_t from = 0,
                                                      uint64_t before = UINT64_MAX) const {
    return {c_, from, before, ScanBase::Reverse{}};
  }
  // Scan(from).ForEach(fn): fn(uint64_t seq, const T& record) for each record, in order;
  // returns OK only when it saw them all (see ScanRange::ForEach).
  template <typename Fn>
  absl::Status ForEach(Fn&& fn, uint64_t from = 0) const {
    return Scan(from).ForEach(std::forward<Fn>(fn));
  }
  // The first record of one snapshot for which pred(const T&) is true, assuming it is false
  // for a prefix of the log and true for the rest: for example `r.ts_ns >= t` in a log whose
  // ts_ns never decreases, which is how a fixed log seeks by time (its records carry no
  // append time; they carry their own time fields). A binary search: O(log n) records read,
  // each checked as Get checks it; compaction gaps are skipped. Returns end() of that
  // snapshot when pred holds for no record. With a pred that is not monotone it returns some
  // record where pred holds and the record before does not. Errors: DataLoss for an invalid
  // record it reads; FailedPrecondition for a handle that is not open.
  template <typename Pred>
  [[nodiscard]] absl::StatusOr<uint64_t> Seek(Pred pred) const {
    return LowerBoundRecords([&](uint64_t, std::span<const std::byte> r) {
      return static_cast<bool>(pred(*reinterpret_cast<const T*>(r.data())));
    });
  }
  // Records from `from` on, as they arrive; see FollowRange.
  FollowRange<scan_detail::FixedRecords<T>> Follow(uint64_t from,
                                                   const FollowOptions& options = {}) const {
    return {c_, from, options};
  }
};

// A log of variable-size byte records, each up to kMaxByteRecordSize.
class ByteLog : public LogBase {
 public:
  ByteLog() = default;
  explicit ByteLog(std::shared_ptr<internal::Collection> c) : LogBase(std::move(c)) {}

  // As Log<T>::Append. Errors also: InvalidArgument when larger than kMaxByteRecordSize.
  [[nodiscard]] absl::StatusOr<uint64_t> Append(std::string_view record) const {
    return AppendBytes(&record, 1);
  }
  [[nodiscard]] absl::StatusOr<uint64_t> Append(std::span<const std::byte> record) const {
    std::string_view s(reinterpret_cast<const char*>(record.data()), record.size());
    return AppendBytes(&s, 1);
  }
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBatch(std::span<const std::string_view> rs) const {
    return AppendBytes(rs.data(), rs.size());
  }

  // The record `seq`, zero-copy, after checking its checksum. O(log segments).
  // Errors: OutOfRange outside [begin(), end()); NotFound when compaction removed it;
  // DataLoss if its checksum fails.
  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq) const {
    return GetRecord(seq);
  }
  // When record `seq` was appended, in Unix seconds, as the store's clock said then (second
  // resolution; docs/format.md 3.4 says what a clock that jumps does). Errors as Get.
  [[nodiscard]] absl::StatusOr<int64_t> AppendTime(uint64_t seq) const;
  // The first record of one snapshot appended at or after `t` by its append time, in whole
  // seconds: records stamped with the second that holds t count (so the first may have been
  // appended up to a second before t; none after t is left out). Found
  // by binary search (O(log n) records read, each checked). Assumes append times never
  // decrease; after the store's clock was set back it returns some record whose time is at
  // or after t while the one before it is earlier (docs/format.md 3.4). end() of that
  // snapshot when every record is older. Errors: DataLoss for an invalid record it reads.
  [[nodiscard]] absl::StatusOr<uint64_t> SeekTime(absl::Time t) const;

  ScanRange<scan_detail::ByteRecords> Scan(uint64_t from = 0) const { return {c_, from}; }
  // As Log<T>::ScanReverse; O(log segments) per record.
  ScanRange<scan_detail::ByteRecords> ScanReverse(uint64_t from = 0,
                                                  uint64_t before = UINT64_MAX) const {
    return {c_, from, before, ScanBase::Reverse{}};
  }
  // fn(uint64_t seq, std::span<const std::byte> record); see Log<T>::ForEach.
  template <typename Fn>
  absl::Status ForEach(Fn&& fn, uint64_t from = 0) const {
    return Scan(from).ForEach(std::forward<Fn>(fn));
  }
  FollowRange<scan_detail::ByteRecords> Follow(uint64_t from,
                                               const FollowOptions& options = {}) const {
    return {c_, from, options};
  }
};

// Any collection, read as byte spans (fixed records: record_size bytes each), with the
// manifest's schema in info(). For tools that have no C++ type at hand.
class UntypedLog : public LogBase {
 public:
  UntypedLog() = default;
  explicit UntypedLog(std::shared_ptr<internal::Collection> c) : LogBase(std::move(c)) {}

  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq) const {
    return GetRecord(seq);
  }

  ScanRange<scan_detail::AnyRecords> Scan(uint64_t from = 0) const { return {c_, from}; }
  ScanRange<scan_detail::AnyRecords> ScanReverse(uint64_t from = 0,
                                                 uint64_t before = UINT64_MAX) const {
    return {c_, from, before, ScanBase::Reverse{}};
  }
  // fn(uint64_t seq, std::span<const std::byte> record); see Log<T>::ForEach.
  template <typename Fn>
  absl::Status ForEach(Fn&& fn, uint64_t from = 0) const {
    return Scan(from).ForEach(std::forward<Fn>(fn));
  }
  FollowRange<scan_detail::AnyRecords> Follow(uint64_t from,
                                              const FollowOptions& options = {}) const {
    return {c_, from, options};
  }

  // Appends records given as bytes, in order and atomically as the typed AppendBatch does;
  // returns the first one's sequence number (end() for an empty batch). For a fixed-size
  // collection each record must be exactly info().record_size bytes, its bytes laid out as
  // the schema says (they are copied as they are); for a byte collection, any size up to
  // kMaxByteRecordSize. Errors: InvalidArgument (a record of the wrong size, or too large;
  // nothing is appended), and the errors of the typed appends.
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBatch(
      std::span<const std::string_view> records) const;
};

// The bytes of a record as a string_view.
inline std::string_view AsString(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace recstore

#endif  // RECSTORE_LOG_H_
