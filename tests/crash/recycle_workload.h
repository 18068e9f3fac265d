// The workload of recycle_crash_test: a store with 64 KiB segments and recycle_segments = 2, a
// fixed collection and a byte collection, each with retention of about two segments (so that
// retention retires segment files into the pool, renamed to `<old first>.recycle`, and rotations
// make new segments out of them, the old records staying in the file's data area), batches and
// single appends, syncs every few rounds, and a clean close and reopen midway (the writer's open
// adopts the pool's files, and its recovery of a recycled newest segment is crashed too). As it
// runs it keeps an oracle of what each collection was promised (workload.h's CollectionOracle).
#ifndef RECSTORE_TESTS_CRASH_RECYCLE_WORKLOAD_H_
#define RECSTORE_TESTS_CRASH_RECYCLE_WORKLOAD_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "recstore/recstore.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_records.h"
#include "tests/crash/workload.h"

namespace recstore::crash::recycle {

inline constexpr uint64_t kSegment = 64 << 10;
inline constexpr uint32_t kRecycle = 2;
inline constexpr uint64_t kFixedPerSegment = (kSegment - 4096) / 40;  // CrashRecord slots

enum : size_t { kFixed = 0, kBytes = 1, kNum = 2 };
inline constexpr const char* kNames[kNum] = {"ticks", "blobs"};
// Retention: about two segments' worth (byte records average ~1.9 KiB: ~30 a segment).
inline constexpr uint64_t kKeep[kNum] = {2 * kFixedPerSegment, 60};
// The collection numbers the expected contents are derived from.
inline constexpr uint32_t kContentId[kNum] = {7, 8};

// The expected bytes of record `seq` of collection `c`, from a per-thread cache (valid until
// the next call on the same thread that grows the cache).
inline const std::string& Payload(size_t c, uint64_t seq) {
  thread_local std::vector<std::string> cache[kNum];
  std::vector<std::string>& v = cache[c];
  while (v.size() <= seq) {
    const uint64_t s = v.size();
    if (c == kFixed) {
      const CrashRecord r = ExpectedRecord(kContentId[c], s);
      v.emplace_back(reinterpret_cast<const char*>(&r), sizeof(r));
    } else {
      v.push_back(ExpectedBytes(kContentId[c], s, 0));
    }
  }
  return v[seq];
}

inline StoreOptions Options(Env* env, bool create, RecoveryMode mode) {
  return {.create_if_missing = create,
          .segment_size = kSegment,
          .recovery_mode = mode,
          .recycle_segments = kRecycle,
          .env = env};
}

// A CrashEnv with a fixed clock (byte records' append times are the same on every run, so equal
// images hash equal), counting the renames of retired files into new segments per folder.
class RecycleEnv : public CrashEnv {
 public:
  using CrashEnv::CrashEnv;
  int64_t NowUnixNanos() override { return int64_t{1'700'000'000} * 1'000'000'000; }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    absl::Status s = CrashEnv::Rename(from, to);
    if (s.ok() && from.ends_with(".recycle"))
      ++recycled_[std::filesystem::path(from).parent_path().string()];
    return s;
  }
  const std::map<std::string, uint64_t>& recycled() const { return recycled_; }

 private:
  std::map<std::string, uint64_t> recycled_;
};

// Collections' oracles as the crash workload's (workload.h), without its creations and drops.
struct RecycleOracle {
  bool store_ok = false;
  CollectionOracle c[kNum];
  friend bool operator==(const RecycleOracle&, const RecycleOracle&) = default;
};

// The workload: the same script, so the same Env calls, on every run. Errors do not stop it
// (after a crash every call fails).
class RecycleWorkload {
 public:
  enum class Kind { kOpenStore, kOpen, kRetention, kAppend, kBatch, kSync, kReopen };
  struct Op {
    Kind kind;
    size_t c = 0;
    uint32_t n = 0;
  };

  static constexpr int kRounds = 36;

  static const std::vector<Op>& Script() {
    static const std::vector<Op>* script = [] {
      auto* ops = new std::vector<Op>;
      ops->push_back({Kind::kOpenStore});
      for (size_t c : {kFixed, kBytes}) ops->push_back({Kind::kOpen, c});
      for (size_t c : {kFixed, kBytes}) ops->push_back({Kind::kRetention, c});
      for (int i = 0; i < kRounds; ++i) {
        const uint64_t x = Mix(1000 + i);
        ops->push_back({Kind::kBatch, kFixed, static_cast<uint32_t>(250 + x % 350)});
        ops->push_back({Kind::kAppend, kFixed, 1});
        ops->push_back({Kind::kBatch, kBytes, static_cast<uint32_t>(3 + (x >> 20) % 8)});
        ops->push_back({Kind::kAppend, kBytes, 1});
        if (i % 3 == 2) {
          for (size_t c : {kFixed, kBytes}) ops->push_back({Kind::kSync, c});
        }
        // A clean close and reopen midway, with unsynced records in both collections.
        if (i == kRounds / 2) ops->push_back({Kind::kReopen});
      }
      for (size_t c : {kFixed, kBytes}) ops->push_back({Kind::kSync, c});
      return ops;
    }();
    return *script;
  }

  RecycleWorkload(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  void Run() {
    for (const Op& op : Script()) Do(op);
    CloseAll();
  }

  const RecycleOracle& oracle() const { return oracle_; }
  const std::vector<std::string>& violations() const { return violations_; }
  const absl::Status& first_error() const { return first_error_; }

 private:
  void CloseAll() {
    fixed_.reset();
    bytes_.reset();
    store_.reset();
  }

  void Error(const absl::Status& s) {
    if (first_error_.ok()) first_error_ = s.ok() ? absl::UnknownError("?") : s;
  }

  LogBase* Handle(size_t c) {
    if (c == kFixed) return fixed_.has_value() ? &*fixed_ : nullptr;
    return bytes_.has_value() ? &*bytes_ : nullptr;
  }

  void OpenStore() {
    absl::StatusOr<std::unique_ptr<Store>> s =
        Store::Open(dir_, Options(env_, true, RecoveryMode::kTolerateTornTail));
    if (!s.ok()) return Error(s.status());
    store_ = *std::move(s);
  }

  void Open(size_t c, bool create) {
    if (store_ == nullptr) return Error(absl::FailedPreconditionError("no store"));
    const CollectionOptions options{.create_if_missing = create};
    const LogBase* h = nullptr;
    if (c == kFixed) {
      absl::StatusOr<Log<CrashRecord>> log = store_->OpenLog<CrashRecord>(kNames[c], options);
      if (!log.ok()) return Error(log.status());
      h = &fixed_.emplace(*std::move(log));
    } else {
      absl::StatusOr<ByteLog> log = store_->OpenByteLog(kNames[c], options);
      if (!log.ok()) return Error(log.status());
      h = &bytes_.emplace(*std::move(log));
    }
    CollectionOracle& o = oracle_.c[c];
    o.create_ok = true;
    if (h->end() < o.durable || h->end() < o.appended) {
      violations_.push_back(absl::StrCat(kNames[c], ": reopened with ", h->end(), " records, but ",
                                         o.appended, " were appended and ", o.durable,
                                         " durable before a clean close"));
    }
    if (h->durable() != h->end()) {
      violations_.push_back(absl::StrCat(kNames[c], ": durable() ", h->durable(), " != end() ",
                                         h->end(), " after open"));
    }
    o.appended = h->end();
    o.durable = std::max(o.durable, h->durable());
  }

  void Append(size_t c, uint32_t n) {
    if (Handle(c) == nullptr) return Error(absl::FailedPreconditionError("not open"));
    CollectionOracle& o = oracle_.c[c];
    const uint64_t first = o.appended;
    o.pending = n;
    absl::StatusOr<uint64_t> seq;
    if (c == kFixed) {
      std::vector<CrashRecord> records;
      for (uint64_t s = first; s < first + n; ++s) {
        records.push_back(ExpectedRecord(kContentId[c], s));
      }
      seq = n == 1 ? fixed_->Append(records[0]) : fixed_->AppendBatch(records);
    } else {
      std::vector<std::string> payloads;
      for (uint64_t s = first; s < first + n; ++s) payloads.push_back(Payload(c, s));
      std::vector<std::string_view> views(payloads.begin(), payloads.end());
      seq = n == 1 ? bytes_->Append(views[0]) : bytes_->AppendBatch(views);
    }
    o.pending = 0;
    if (!seq.ok()) return Error(seq.status());
    if (*seq != first) {
      violations_.push_back(
          absl::StrCat(kNames[c], ": append got sequence number ", *seq, ", expected ", first));
    }
    o.appended = first + n;
  }

  void Sync(size_t c) {
    LogBase* h = Handle(c);
    if (h == nullptr) return Error(absl::FailedPreconditionError("not open"));
    if (absl::Status s = SyncAndTrack(*h, kNames[c], &oracle_.c[c], &violations_); !s.ok()) {
      Error(s);
    }
  }

  void Do(const Op& op) {
    switch (op.kind) {
      case Kind::kOpenStore:
        OpenStore();
        oracle_.store_ok = store_ != nullptr;
        return;
      case Kind::kOpen:
        return Open(op.c, true);
      case Kind::kRetention: {
        LogBase* h = Handle(op.c);
        if (h == nullptr) return Error(absl::FailedPreconditionError("not open"));
        if (absl::Status s = h->SetRetention({.max_records = kKeep[op.c]}); !s.ok()) Error(s);
        return;
      }
      case Kind::kAppend:
      case Kind::kBatch:
        return Append(op.c, op.n);
      case Kind::kSync:
        return Sync(op.c);
      case Kind::kReopen:
        CloseAll();
        OpenStore();
        for (size_t c : {kFixed, kBytes}) {
          if (oracle_.c[c].create_ok) Open(c, false);
        }
        return;
    }
  }

  Env* const env_;
  const std::string dir_;
  std::unique_ptr<Store> store_;
  std::optional<Log<CrashRecord>> fixed_;
  std::optional<ByteLog> bytes_;
  RecycleOracle oracle_;
  std::vector<std::string> violations_;
  absl::Status first_error_;
};

}  // namespace recstore::crash::recycle

#endif  // RECSTORE_TESTS_CRASH_RECYCLE_WORKLOAD_H_
