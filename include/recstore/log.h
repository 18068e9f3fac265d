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
// Lifetimes of what reads return: a `const T&`, `const T*` or byte span points into the
// segment's memory mapping. Records are immutable once appended, so the bytes never change
// under the reader. What a scan yields stays valid while the ScanRange exists; what Get
// returns stays valid while a Pin() taken before the Get exists, and otherwise until its
// segment is retired: by a TruncateBefore, SetRetention, ApplyRetention, Compact or Merge of
// this process, by the retention a writer applies after an append that starts a segment, or
// (read-only handles) by a Refresh() that follows the writer's retention or compaction.
// Without those, everything stays valid while any handle to the collection is open.
#ifndef RECSTORE_LOG_H_
#define RECSTORE_LOG_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/compaction.h"
#include "recstore/options.h"
#include "recstore/schema.h"

namespace recstore {

namespace internal {
class Collection;
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
  int64_t time_base = 0;  // Unix seconds at creation: base of byte records' append times
  RetentionPolicy retention;
};

// Largest variable-size record: 256 MiB. Bigger appends fail with InvalidArgument. A record
// that does not fit in an empty segment of the collection's segment size gets a segment of
// its own, sized to fit.
inline constexpr uint64_t kMaxByteRecordSize = uint64_t{256} << 20;

// A run of consecutive valid records inside one segment (an implementation detail of the
// iterators; applications do not use it).
struct RecordRun {
  uint64_t first_seq = 0;
  uint64_t count = 0;                // 0: nothing more to read
  const std::byte* base = nullptr;   // fixed: first record; variable: segment start
  uint32_t stride = 0;               // fixed: bytes from one record to the next
  const std::byte* slots = nullptr;  // variable: one past the slot of the run's first record
  const uint64_t* seqs = nullptr;    // compacted segments: the records' sequence numbers
  uint64_t next_seq = 0;             // where the next run starts

  uint64_t SeqAt(uint64_t i) const { return seqs != nullptr ? seqs[i] : first_seq + i; }
};

// Keeps the segments a reader started on mapped (see Pin()).
using ReadPin = std::shared_ptr<const void>;

// The untyped core shared by all handles. Applications use Log<T>, ByteLog or UntypedLog.
class LogCore {
 public:
  LogCore() = default;
  explicit LogCore(std::shared_ptr<internal::Collection> c) : c_(std::move(c)) {}

  [[nodiscard]] absl::StatusOr<uint64_t> AppendFixed(const void* records, size_t n) const;
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBytes(const std::string_view* records,
                                                     size_t n) const;
  [[nodiscard]] absl::StatusOr<uint64_t> Sync() const;
  [[nodiscard]] absl::Status Refresh() const;
  [[nodiscard]] absl::StatusOr<const std::byte*> GetFixed(uint64_t seq) const;
  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> GetBytes(uint64_t seq) const;
  // Fills `run` with valid records at or after `seq`, none at or past `end`. Invalid
  // records are skipped (counted in *skipped) under RecoveryMode::kSalvage and are a
  // DataLoss error otherwise. Reads the segments `*pin` holds, taking a pin first if empty.
  [[nodiscard]] absl::Status NextRun(uint64_t seq, uint64_t end, RecordRun* run, uint64_t* skipped,
                                     ReadPin* pin) const;
  [[nodiscard]] absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq) const;
  [[nodiscard]] absl::StatusOr<CompactionStats> ApplyRetention() const;
  [[nodiscard]] absl::Status SetRetention(const RetentionPolicy& policy) const;
  [[nodiscard]] absl::StatusOr<CompactionStats> Compact(const CompactOptions& options) const;
  [[nodiscard]] absl::StatusOr<int64_t> AppendTime(uint64_t seq) const;
  ReadPin Pin() const;
  [[nodiscard]] absl::StatusOr<VerifyReport> Verify() const;
  uint64_t begin() const;
  uint64_t end() const;
  uint64_t durable() const;
  CollectionInfo info() const;
  // The parts of info() that never change while the collection is open: name, id, kind,
  // record size and alignment, schema, segment size.
  const CollectionInfo& shape() const;
  const std::string& name() const { return shape().name; }
  const RecoveryReport& recovery() const;
  bool read_only() const;
  const std::shared_ptr<internal::Collection>& collection() const { return c_; }

 private:
  std::shared_ptr<internal::Collection> c_;
};

namespace log_internal {

inline uint32_t LoadLE32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// How each handle kind turns a run position into a value.
template <typename T>
struct FixedView {
  using value_type = const T&;
  const T& operator()(const RecordRun& run, uint64_t i) const {
    return *reinterpret_cast<const T*>(run.base + i * run.stride);
  }
};

struct BytesView {
  using value_type = std::span<const std::byte>;
  static std::span<const std::byte> At(const RecordRun& run, uint64_t i) {
    // Variable-size record frame: u32 length, u32 flags, u64 checksum, payload.
    const std::byte* frame = run.base + LoadLE32(run.slots - 4 * (i + 1));
    return {frame + 16, LoadLE32(frame)};
  }
  std::span<const std::byte> operator()(const RecordRun& run, uint64_t i) const {
    return At(run, i);
  }
};

struct UntypedView {
  using value_type = std::span<const std::byte>;
  uint32_t record_size = 0;
  std::span<const std::byte> operator()(const RecordRun& run, uint64_t i) const {
    if (run.slots != nullptr) return BytesView::At(run, i);
    return {run.base + i * run.stride, record_size};
  }
};

}  // namespace log_internal

// One record as a scan yields it; use with structured bindings: `for (auto [seq, rec] : ...)`.
template <typename V>
struct Entry {
  uint64_t seq;
  V value;
};

// The records [from, end) of a collection, where `end` is end() when the scan was made. A scan
// verifies each record's checksum before yielding it. It stops early at an invalid record
// (except under RecoveryMode::kSalvage, where it skips it) or when a segment cannot be read;
// status() then says why. The scan holds the collection open while it exists, and from its
// first record on it reads the segments as they were then: a compaction or retention call
// that runs meanwhile does not change what it yields.
template <typename View>
class ScanRange {
 public:
  using value_type = Entry<typename View::value_type>;

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using difference_type = std::ptrdiff_t;
    using value_type = ScanRange::value_type;

    iterator() = default;
    value_type operator*() const { return {run_.SeqAt(i_), scan_->view_(run_, i_)}; }
    iterator& operator++() {
      if (++i_ == run_.count) Advance(run_.next_seq);
      return *this;
    }
    bool operator==(const iterator& o) const { return done() == o.done(); }

   private:
    friend class ScanRange;
    explicit iterator(ScanRange* scan) : scan_(scan) { Advance(scan->from_); }
    bool done() const { return scan_ == nullptr; }
    void Advance(uint64_t seq) {
      i_ = 0;
      if (seq < scan_->end_) {
        absl::Status s =
            scan_->core_.NextRun(seq, scan_->end_, &run_, &scan_->skipped_, &scan_->pin_);
        if (s.ok() && run_.count > 0) return;
        scan_->status_ = std::move(s);
      }
      scan_ = nullptr;
    }

    ScanRange* scan_ = nullptr;
    RecordRun run_;
    uint64_t i_ = 0;
  };

  ScanRange(LogCore core, uint64_t from, View view = {})
      : core_(std::move(core)), view_(view), from_(from), end_(core_.end()) {
    if (from_ < core_.begin()) from_ = core_.begin();
  }
  // A scan is a range over its own state: iterate it once, in place.
  ScanRange(const ScanRange&) = delete;
  ScanRange& operator=(const ScanRange&) = delete;

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  // OK, or why the scan stopped before `end`.
  const absl::Status& status() const { return status_; }
  // Invalid records skipped (RecoveryMode::kSalvage only).
  uint64_t skipped() const { return skipped_; }

 private:
  LogCore core_;
  View view_;
  uint64_t from_;
  uint64_t end_;
  absl::Status status_;
  uint64_t skipped_ = 0;
  ReadPin pin_;
};

// Operations every handle has.
class LogBase {
 public:
  // Makes every record appended (by any thread) before the call durable: segment data, and
  // the directory when segments were created. Concurrent calls share one flush. Returns the
  // durable end: every record with a smaller sequence number is durable.
  // Errors: FailedPrecondition (read-only handle, or the log has failed before); the error of
  // a failed fdatasync/fsync naming the file and errno, after which the log refuses all
  // writes (reads keep working; reopening recovers what was durable).
  [[nodiscard]] absl::StatusOr<uint64_t> Sync() const { return core_.Sync(); }

  // Read-only handles: picks up records another process has appended since the last
  // refresh. Writer handles see their own appends at once; Refresh is a no-op for them.
  // Errors: DataLoss when a new segment's header is invalid.
  [[nodiscard]] absl::Status Refresh() const { return core_.Refresh(); }

  // Checks every segment header and record checksum. Returns the report (ok == false names
  // the first bad record's file and offset); an error only when a file cannot be read.
  [[nodiscard]] absl::StatusOr<VerifyReport> Verify() const { return core_.Verify(); }

  uint64_t begin() const { return core_.begin(); }      // first live sequence number
  uint64_t end() const { return core_.end(); }          // one past the last visible record
  uint64_t size() const { return end() - begin(); }     // visible records
  uint64_t durable() const { return core_.durable(); }  // durable end known to this process
  // The manifest's description as this process sees it now.
  CollectionInfo info() const { return core_.info(); }
  const std::string& name() const { return core_.name(); }
  // What opening found after the last durable point.
  const RecoveryReport& recovery() const { return core_.recovery(); }
  bool read_only() const { return core_.read_only(); }

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
  [[nodiscard]] absl::StatusOr<CompactionStats> TruncateBefore(uint64_t seq) const {
    return core_.TruncateBefore(seq);
  }
  // Stores `policy` in the manifest and applies it at once (see RetentionPolicy). Errors
  // also: InvalidArgument for a time_field that is not an 8-byte integer field of the schema.
  [[nodiscard]] absl::Status SetRetention(const RetentionPolicy& policy) const {
    return core_.SetRetention(policy);
  }
  // Applies the stored retention policy now.
  [[nodiscard]] absl::StatusOr<CompactionStats> ApplyRetention() const {
    return core_.ApplyRetention();
  }
  // Syncs, then rewrites the records below the active segment that `options` keeps (by key,
  // by predicate, or all of them) into new full segments of a new compaction generation. A
  // record's sequence number and bytes never change. Errors also: InvalidArgument for a key
  // or tombstone field that the schema lacks or a key spec of the wrong kind; DataLoss naming
  // a record it cannot read (in every recovery mode), with the collection unchanged.
  [[nodiscard]] absl::StatusOr<CompactionStats> Compact(const CompactOptions& options = {}) const {
    return core_.Compact(options);
  }
  // Folds the segments below the active one (small, partly dropped or earlier compacted
  // ones) into full segments, keeping every live record: Compact with default options.
  [[nodiscard]] absl::StatusOr<CompactionStats> Merge() const { return core_.Compact({}); }

  // Keeps the segments as they are now mapped in this process while the pin exists, so
  // pointers from Get stay valid across compaction and retention.
  ReadPin Pin() const { return core_.Pin(); }

 protected:
  LogBase() = default;
  explicit LogBase(LogCore core) : core_(std::move(core)) {}
  LogCore core_;
};

// A log of fixed-size records of type T (declared with RECSTORE_RECORD).
template <RecordType T>
class Log : public LogBase {
 public:
  Log() = default;
  explicit Log(LogCore core) : LogBase(std::move(core)) {}

  // Appends one record; returns its sequence number. The record is visible to readers when
  // this returns and durable after a later Sync() returns (or per the sync policy).
  // Errors: FailedPrecondition (read-only, or failed log); ResourceExhausted when a new
  // segment cannot be allocated (earlier records stay intact).
  [[nodiscard]] absl::StatusOr<uint64_t> Append(const T& record) const {
    return core_.AppendFixed(&record, 1);
  }
  // Appends records in order, atomically with respect to other appenders (they get
  // consecutive numbers); returns the first one's sequence number (end() if empty).
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBatch(std::span<const T> records) const {
    return core_.AppendFixed(records.data(), records.size());
  }

  // The record `seq`, zero-copy, after checking its checksum. O(1) (O(log n) below a
  // compaction). Errors: OutOfRange outside [begin(), end()); NotFound when compaction
  // removed it; DataLoss if its checksum fails.
  [[nodiscard]] absl::StatusOr<const T*> Get(uint64_t seq) const {
    absl::StatusOr<const std::byte*> p = core_.GetFixed(seq);
    if (!p.ok()) return p.status();
    return reinterpret_cast<const T*>(*p);
  }

  // Records [from, end()) in order; see ScanRange.
  ScanRange<log_internal::FixedView<T>> Scan(uint64_t from = 0) const { return {core_, from}; }
};

// A log of variable-size byte records, each up to kMaxByteRecordSize.
class ByteLog : public LogBase {
 public:
  ByteLog() = default;
  explicit ByteLog(LogCore core) : LogBase(std::move(core)) {}

  // As Log<T>::Append. Errors also: InvalidArgument when larger than kMaxByteRecordSize.
  [[nodiscard]] absl::StatusOr<uint64_t> Append(std::string_view record) const {
    return core_.AppendBytes(&record, 1);
  }
  [[nodiscard]] absl::StatusOr<uint64_t> Append(std::span<const std::byte> record) const {
    std::string_view s(reinterpret_cast<const char*>(record.data()), record.size());
    return core_.AppendBytes(&s, 1);
  }
  [[nodiscard]] absl::StatusOr<uint64_t> AppendBatch(std::span<const std::string_view> rs) const {
    return core_.AppendBytes(rs.data(), rs.size());
  }

  // The record `seq`, zero-copy, after checking its checksum. O(log segments).
  // Errors: OutOfRange outside [begin(), end()); NotFound when compaction removed it;
  // DataLoss if its checksum fails.
  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq) const {
    return core_.GetBytes(seq);
  }
  // When record `seq` was appended, in Unix seconds (the store records it with second
  // resolution). Errors as Get.
  [[nodiscard]] absl::StatusOr<int64_t> AppendTime(uint64_t seq) const {
    return core_.AppendTime(seq);
  }

  ScanRange<log_internal::BytesView> Scan(uint64_t from = 0) const { return {core_, from}; }
};

// Any collection, read as byte spans (fixed records: record_size bytes each), with the
// manifest's schema in info(). For tools that have no C++ type at hand.
class UntypedLog : public LogBase {
 public:
  UntypedLog() = default;
  explicit UntypedLog(LogCore core) : LogBase(std::move(core)) {}

  [[nodiscard]] absl::StatusOr<std::span<const std::byte>> Get(uint64_t seq) const {
    if (core_.shape().kind == CollectionKind::kVariable) return core_.GetBytes(seq);
    absl::StatusOr<const std::byte*> p = core_.GetFixed(seq);
    if (!p.ok()) return p.status();
    return std::span<const std::byte>(*p, core_.shape().record_size);
  }

  ScanRange<log_internal::UntypedView> Scan(uint64_t from = 0) const {
    return {core_, from, log_internal::UntypedView{core_.shape().record_size}};
  }
};

// The bytes of a record as a string_view.
inline std::string_view AsString(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace recstore

#endif  // RECSTORE_LOG_H_
