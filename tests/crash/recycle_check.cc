// The check of a crash image of recycle_workload.h's store (see recycle_check.h).
#include "tests/crash/recycle_check.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "recstore/recstore.h"
#include "tests/crash/crash_records.h"

namespace recstore::crash::recycle {
namespace {

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

}  // namespace

std::vector<std::string> CheckImage(const std::string& image_root, const RecycleOracle& oracle,
                                    bool recovery_modes, CheckStats* stats) {
  return CheckImageWith(image_root, recovery_modes, stats, Checker(oracle, stats));
}

}  // namespace recstore::crash::recycle
