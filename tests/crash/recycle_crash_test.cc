// Power loss while a writer recycles segments (StoreOptions::recycle_segments): a workload whose
// retention retires segment files into the pool (renamed to `<old first>.recycle`) and whose
// rotations make new segments out of them (the old records stay in the file's data area) runs
// over a CrashEnv and is crashed after its n-th Env call, for every n of an uninterrupted run.
// Each crash image is reopened as a writer with the real Env and checked against the oracle
// taken at the crash: every record a returned Sync() promised is there, nothing lies past what
// was appended, and every record in [begin(), end()) (read by a scan and by Get) is the one
// appended under its sequence number -- never one of a recycled file's earlier use. Verify
// passes, and an append, sync, close and reopen keep the new record and nothing after it (no
// record the recovery did not keep comes back when a file is reused), with a clean recovery.
//
// The workload: a store with 64 KiB segments and recycle_segments = 2, a fixed collection and
// a byte collection, each with retention of about two segments, batches and single appends,
// syncs every few rounds, and a clean close and reopen midway (the writer's open adopts the
// pool's files, and its recovery of a recycled newest segment is crashed too).
//
// Every crash point is checked in the drop and torn modes, one in two in keep-part mode and one
// in four in the zero and garbage modes; one image in four is also reopened (on copies) under
// kSalvage and kAbsoluteConsistency. RECSTORE_CRASH_EXHAUSTIVE=1 checks every point in every
// mode and recovery mode; RECSTORE_CRASH_POINT=n checks point n alone, in every mode;
// RECSTORE_CRASH_SEED=s varies the modes' random choices. The points are split into kSlices
// test instances (runs of consecutive points), which Bazel spreads over its shards.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/crash_records.h"
#include "tests/crash/crash_sweep.h"
#include "tests/crash/image_check.h"
#include "tests/crash/scratch.h"
#include "tests/crash/workload.h"

namespace recstore::crash {
namespace {

namespace fs = std::filesystem;
using Mode = CrashEnv::Mode;

constexpr int kSlices = 8;

constexpr uint64_t kSegment = 64 << 10;
constexpr uint32_t kRecycle = 2;
constexpr uint64_t kFixedPerSegment = (kSegment - 4096) / 40;  // CrashRecord slots

enum : size_t { kFixed = 0, kBytes = 1, kNum = 2 };
constexpr const char* kNames[kNum] = {"ticks", "blobs"};
// Retention: about two segments' worth (byte records average ~1.9 KiB: ~30 a segment).
constexpr uint64_t kKeep[kNum] = {2 * kFixedPerSegment, 60};
// The collection numbers the expected contents are derived from.
constexpr uint32_t kContentId[kNum] = {7, 8};

// The expected bytes of record `seq` of collection `c`, from a per-thread cache (valid until
// the next call on the same thread that grows the cache).
const std::string& Payload(size_t c, uint64_t seq) {
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

StoreOptions Options(Env* env, bool create, RecoveryMode mode) {
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
    if (s.ok() && from.ends_with(".recycle")) ++recycled_[fs::path(from).parent_path().string()];
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

// ---------------------------------------------------------------------------------------------
// The check of a crash image.

absl::Status OpenTyped(Store& store, size_t c, OpenedLog* h) {
  return OpenTypedLog(store, kNames[c], c == kFixed, h);
}

class Checker {
 public:
  Checker(const RecycleOracle& oracle, CheckStats* stats) : oracle_(oracle), stats_(stats) {}
  std::vector<std::string> TakeProblems() { return std::move(problems_); }

  void Default(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kTolerateTornTail, "default");
    if (store == nullptr) return;
    for (size_t c = 0; c < kNum; ++c) {
      OpenedLog h;
      if (!OpenCollection(*store, c, &h, "default")) continue;
      exists_[c] = true;
      const RecoveryReport& r = h.base().recovery();
      stats_->tails_cut += r.truncated ? 1 : 0;
      begin_[c] = h.base().begin();
      end_[c] = h.base().end();
      stats_->begins_above_zero += begin_[c] > 0 ? 1 : 0;
      Bounds(c, h, "default");
      stats_->records_verified += Records(c, h, {}, "default");
      absl::StatusOr<VerifyReport> v = VerifyLog(h);
      if (!v.ok() || !v->ok) {
        Problem(
            c, "default",
            absl::StrCat("Verify: ", v.ok() ? v->first_bad.reason : v.status().ToString(),
                         v.ok() ? absl::StrCat(" at record ", v->first_bad.seq, " in ",
                                               v->first_bad.file, " offset ", v->first_bad.offset)
                                : ""));
      }
      // One more record, synced, survives a close and reopen.
      const uint64_t e = end_[c];
      absl::StatusOr<uint64_t> seq = h.fixed.has_value()
                                         ? h.fixed->Append(ExpectedRecord(kContentId[c], e))
                                         : h.bytes->Append(Payload(c, e));
      if (!seq.ok() || *seq != e) {
        Problem(c, "append",
                absl::StrCat("Append: ", seq.ok() ? absl::StrCat("got seq ", *seq, " not ", e)
                                                  : seq.status().ToString()));
        continue;
      }
      absl::StatusOr<uint64_t> synced = h.base().Sync();
      if (!synced.ok() || *synced != e + 1) {
        Problem(c, "append",
                absl::StrCat("Sync: ", synced.ok() ? absl::StrCat("durable end ", *synced)
                                                   : synced.status().ToString()));
      }
      appended_one_[c] = true;
    }
    store.reset();
    store = OpenStore(dir, RecoveryMode::kTolerateTornTail, "reopen");
    if (store == nullptr) return;
    for (size_t c = 0; c < kNum; ++c) {
      if (!appended_one_[c]) continue;
      OpenedLog h;
      if (!OpenCollection(*store, c, &h, "reopen")) continue;
      const RecoveryReport& r = h.base().recovery();
      if (!r.clean()) {
        Problem(c, "reopen",
                absl::StrCat("recovery not clean after a clean close: truncated ", r.truncated,
                             " in ", r.truncated_file, " at ", r.truncated_offset, ", dropped ",
                             r.bytes_dropped, " bytes, segments removed ", r.segments_removed));
      }
      if (h.base().end() != end_[c] + 1) {
        // Records past the one appended: which of them are records appended before the crash
        // (that the recovery had cut) coming back?
        uint64_t old = 0;
        for (uint64_t seq = end_[c] + 1; seq < h.base().end(); ++seq) {
          absl::StatusOr<std::string_view> got = GetPayload(h, seq);
          old += got.ok() && *got == Payload(c, seq) ? 1 : 0;
        }
        Problem(c, "reopen",
                absl::StrCat("end ", h.base().end(), ", expected ", end_[c] + 1, ": records [",
                             end_[c] + 1, ", ", h.base().end(), ") appear, ", old,
                             " of them records appended before the crash that the recovery "
                             "after it had not kept"));
        continue;
      }
      absl::StatusOr<std::string_view> got = GetPayload(h, end_[c]);
      if (!got.ok() || *got != Payload(c, end_[c])) {
        Problem(c, "reopen",
                absl::StrCat("the record appended after recovery (", end_[c], ") reads as ",
                             got.ok() ? "other bytes" : got.status().ToString()));
      }
    }
  }

  void Salvage(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kSalvage, "salvage");
    if (store == nullptr) return;
    for (size_t c = 0; c < kNum; ++c) {
      if (!exists_[c]) continue;
      OpenedLog h;
      if (!OpenCollection(*store, c, &h, "salvage")) continue;
      const std::set<uint64_t> holes = SalvageHoles(
          h, oracle_.c[c].durable, [&](std::string what) { Problem(c, "salvage", what); });
      stats_->salvage_holes += holes.size();
      Bounds(c, h, "salvage");
      Records(c, h, holes, "salvage");
    }
  }

  void Absolute(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kAbsoluteConsistency, "absolute");
    if (store == nullptr) return;
    for (size_t c = 0; c < kNum; ++c) {
      if (!exists_[c]) continue;
      OpenedLog h;
      absl::Status s = OpenTyped(*store, c, &h);
      if (!s.ok()) {
        // Documented (options.h): data after the last valid record fails the open. It must be
        // past every durable record.
        uint64_t bad = 0;
        const size_t at = s.message().find(": record ");
        const bool parsed =
            at != std::string_view::npos && std::sscanf(std::string(s.message().substr(at)).c_str(),
                                                        ": record %" SCNu64, &bad) == 1;
        if (s.code() == absl::StatusCode::kDataLoss &&
            absl::StrContains(s.message(), "absolute consistency refuses to truncate") &&
            (!parsed || bad >= oracle_.c[c].durable)) {
          ++stats_->absolute_refusals;
        } else {
          Problem(c, "absolute", absl::StrCat("open failed: ", s.ToString()));
        }
        continue;
      }
      if (h.base().end() != end_[c]) {
        Problem(c, "absolute",
                absl::StrCat("end ", h.base().end(), " but the default recovery kept ", end_[c]));
      }
      Bounds(c, h, "absolute");
      Records(c, h, {}, "absolute");
    }
  }

 private:
  void Problem(size_t c, const char* phase, std::string what) {
    if (problems_.size() < 20) {
      problems_.push_back(
          absl::StrCat("[", phase, "] ", c < kNum ? kNames[c] : "store", ": ", what));
    }
  }

  std::unique_ptr<Store> OpenStore(const std::string& dir, RecoveryMode mode, const char* phase) {
    // Before its creation returned, the store may be missing or half made: an application
    // creates it then.
    absl::StatusOr<std::unique_ptr<Store>> s =
        Store::Open(dir, Options(nullptr, !oracle_.store_ok, mode));
    if (!s.ok()) {
      Problem(kNum, phase, absl::StrCat("open failed: ", s.status().ToString()));
      return nullptr;
    }
    return *std::move(s);
  }

  bool OpenCollection(Store& store, size_t c, OpenedLog* h, const char* phase) {
    absl::Status s = OpenTyped(store, c, h);
    if (s.ok()) return true;
    // A collection whose creation had not returned may be missing.
    if (!oracle_.c[c].create_ok && s.code() == absl::StatusCode::kNotFound) return false;
    Problem(c, phase, absl::StrCat("open failed: ", s.ToString()));
    return false;
  }

  void Bounds(size_t c, const OpenedLog& h, const char* phase) {
    const CollectionOracle& o = oracle_.c[c];
    const uint64_t b = h.base().begin(), e = h.base().end();
    if (e < o.durable) {
      Problem(c, phase,
              absl::StrCat("end ", e, " < durable end ", o.durable, " a returned Sync() reported"));
    }
    if (e > o.appended + o.pending) {
      Problem(c, phase,
              absl::StrCat("end ", e, " > records appended ", o.appended, " (+", o.pending,
                           " being appended)"));
    }
    if (b > e) Problem(c, phase, absl::StrCat("begin ", b, " > end ", e));
    // Retention keeps the newest kKeep records of an end no larger than what was appended.
    if (b > 0 && b + kKeep[c] > o.appended + o.pending) {
      Problem(c, phase,
              absl::StrCat("begin ", b, ": retention keeps ", kKeep[c], " records, only ",
                           o.appended + o.pending, " were appended"));
    }
  }

  // Every record of [begin(), end()) by Get and by a scan; `holes` (salvage's skipped records)
  // must read as DataLoss. Returns the records compared by Get.
  uint64_t Records(size_t c, const OpenedLog& h, const std::set<uint64_t>& holes,
                   const char* phase) {
    const uint64_t b = h.base().begin(), e = h.base().end();
    uint64_t compared = 0;
    CompareByGet(
        h, b, e, holes, [c](uint64_t seq) -> const std::string& { return Payload(c, seq); },
        [c](uint64_t seq, std::string_view got) {
          return absl::StrCat("Get(", seq, ") differs from the record appended", Stale(c, got));
        },
        [&](std::string what) { Problem(c, phase, what); }, &compared);
    // The scan.
    uint64_t expect = b, seen = 0;
    bool bad = false;
    auto next = [&](uint64_t seq, std::string_view payload) {
      if (bad) return;
      while (holes.contains(expect)) ++expect;
      if (seq != expect || payload != Payload(c, seq)) {
        Problem(
            c, phase,
            absl::StrCat("scan yields ", seq, " where ", expect, " was due",
                         seq == expect ? absl::StrCat(", other bytes", Stale(c, payload)) : ""));
        bad = true;
        return;
      }
      ++expect;
      ++seen;
    };
    uint64_t skipped = 0;
    const absl::Status status = ScanPayloads(h, next, &skipped);
    if (!bad && (!status.ok() || seen + holes.size() != e - b || skipped != holes.size())) {
      Problem(c, phase,
              absl::StrCat("scan read ", seen, " records and skipped ", skipped, " of [", b, ", ",
                           e, ") (", holes.size(), " holes): ", status.ToString()));
    }
    return compared;
  }

  // For a fixed record that differs: which record it is (a recycled file's earlier use shows
  // an older sequence number).
  static std::string Stale(size_t c, std::string_view got) {
    if (c != kFixed || got.size() != sizeof(CrashRecord)) return "";
    CrashRecord r;
    std::memcpy(&r, got.data(), sizeof(r));
    if (r == ExpectedRecord(kContentId[c], r.seq)) {
      return absl::StrCat(" (it is record ", r.seq, ": stale)");
    }
    return " (not any record appended)";
  }

  const RecycleOracle& oracle_;
  CheckStats* stats_;
  std::vector<std::string> problems_;
  bool exists_[kNum] = {};
  bool appended_one_[kNum] = {};
  uint64_t begin_[kNum] = {};
  uint64_t end_[kNum] = {};
};

std::vector<std::string> CheckImage(const std::string& image_root, const RecycleOracle& oracle,
                                    bool recovery_modes, CheckStats* stats) {
  return CheckImageWith(image_root, recovery_modes, stats, Checker(oracle, stats));
}

// ---------------------------------------------------------------------------------------------

struct FullRunResult {
  uint64_t calls = 0;
  RecycleOracle oracle;
  std::vector<std::string> violations;
  absl::Status first_error;
  std::map<std::string, uint64_t> recycled;
};

FullRunResult FullRun(const std::string& root) {
  fs::remove_all(root);
  fs::create_directories(root);
  RecycleEnv env(root);
  RecycleWorkload w(&env, root + "/store");
  w.Run();
  return {env.calls(), w.oracle(), w.violations(), w.first_error(), env.recycled()};
}

SliceTotals<CheckStats>& totals() { return ProcessTotals<CheckStats>(); }

const bool kPrintTotals = PrintAtEnd([] {
  const SliceTotals<CheckStats>& t = totals();
  if (t.sweep.points == 0) return std::string();
  return absl::StrCat("recycle crash points: ", SweepSummary(t.sweep), "; images reopened ",
                      t.stats.images, ", also in salvage and absolute modes ",
                      t.stats.recovery_mode_images, "; records verified ", t.stats.records_verified,
                      "; tails cut ", t.stats.tails_cut, "; begins above 0 ",
                      t.stats.begins_above_zero, "; salvage holes ", t.stats.salvage_holes,
                      "; absolute-consistency refusals ", t.stats.absolute_refusals);
});

TEST(RecycleCrashWorkloadTest, FullRunRecyclesIsRepeatableAndLeavesEverythingDurable) {
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const FullRunResult full = FullRun(base + "/root");
  EXPECT_TRUE(full.violations.empty()) << absl::StrJoin(full.violations, "\n");
  EXPECT_TRUE(full.first_error.ok()) << full.first_error;
  printf("workload: %zu operations, %llu Env calls\n", RecycleWorkload::Script().size(),
         static_cast<unsigned long long>(full.calls));
  for (size_t c = 0; c < kNum; ++c) {
    const CollectionOracle& o = full.oracle.c[c];
    printf("  %-6s appended %llu durable %llu\n", kNames[c],
           static_cast<unsigned long long>(o.appended), static_cast<unsigned long long>(o.durable));
    EXPECT_TRUE(o.create_ok);
    EXPECT_EQ(o.durable, o.appended);  // the script ends with syncs
  }
  EXPECT_GE(full.oracle.c[kFixed].appended, 8 * kFixedPerSegment);
  // Recycling really happened: each collection made new segments out of retired files.
  ASSERT_EQ(full.recycled.size(), kNum) << "folders that recycled a file";
  for (const auto& [folder, n] : full.recycled) {
    printf("  recycled into a new segment in %s: %llu\n", fs::path(folder).filename().c_str(),
           static_cast<unsigned long long>(n));
    EXPECT_GE(n, 3u) << folder;
  }
  // Same Env calls, same oracle, same recycling on every run.
  const FullRunResult again = FullRun(base + "/root");
  EXPECT_EQ(again.calls, full.calls);
  EXPECT_TRUE(again.oracle == full.oracle);
  EXPECT_EQ(again.recycled, full.recycled);
  // After the final syncs and a clean close even the drop image holds every record.
  {
    CrashEnv env(base + "/root");
    ASSERT_TRUE(env.WriteCrashImage(base + "/image", Mode::kDropUnsynced, 1).ok());
  }
  CheckStats stats;
  std::vector<std::string> problems = CheckImage(base + "/image", full.oracle, true, &stats);
  EXPECT_TRUE(problems.empty()) << absl::StrJoin(problems, "\n");
  EXPECT_EQ(stats.absolute_refusals, 0u);
}

class RecycleCrashTest : public ::testing::TestWithParam<int> {};

TEST_P(RecycleCrashTest, EveryCrashPointRecovers) {
  const int slice = GetParam();
  ScratchDir scratch;
  const std::string& base = scratch.path();
  const std::string root = base + "/root";
  const FullRunResult full = FullRun(root);
  ASSERT_TRUE(full.violations.empty()) << absl::StrJoin(full.violations, "\n");
  SweepSlice<RecycleEnv, RecycleWorkload>(
      base, full.calls, slice, kSlices,
      [](uint64_t n, size_t m) { return CrashSeedFor(n, m, /*offset=*/77); },
      [](const std::string& dir, const RecycleOracle& oracle, bool recovery_modes) {
        return CheckImage(dir, oracle, recovery_modes, &totals().stats);
      },
      &totals().sweep);
}

INSTANTIATE_TEST_SUITE_P(Slices, RecycleCrashTest, ::testing::Range(0, kSlices));

}  // namespace
}  // namespace recstore::crash
