// The checks of a crash image (see image_check.h).
#include "tests/crash/image_check.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace recstore::crash {

namespace {

namespace fs = std::filesystem;

using Opened = OpenedLog;

// Whether the refusal "<file>: offset <N>: record <seq> ... is followed by data" is true of the
// untouched image: a byte from the invalid record on (up to the slots of the records before it,
// in a byte segment) is non-zero, or a later segment exists.
bool DataFollows(const std::string& message, bool fixed, uint64_t* seq_out) {
  const size_t colon = message.find(": offset ");
  if (colon == std::string::npos) return false;
  const fs::path file = message.substr(0, colon);
  uint64_t offset = 0, seq = 0, first = 0;
  if (sscanf(message.c_str() + colon, ": offset %" SCNu64 ": record %" SCNu64, &offset, &seq) !=
          2 ||
      sscanf(file.filename().c_str(), "%" SCNu64 ".seg", &first) != 1 || seq < first) {
    return false;
  }
  *seq_out = seq;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(file.parent_path(), ec)) {
    if (e.path().extension() == ".seg" && e.path().filename() > file.filename()) return true;
  }
  std::ifstream f(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), {});
  const uint64_t slots = fixed ? 0 : 4 * (seq - first);
  const uint64_t region_end = bytes.size() > slots ? bytes.size() - slots : 0;
  for (uint64_t i = offset; i < region_end; ++i) {
    if (bytes[i] != 0) return true;
  }
  return false;
}

class Checker {
 public:
  Checker(const Oracle& oracle, CheckStats* stats) : oracle_(oracle), stats_(stats) {}

  std::vector<std::string> TakeProblems() { return std::move(problems_); }

  // The default recovery, then a second open that must find nothing to recover.
  void Default(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kTolerateTornTail, "default");
    if (store == nullptr) return;
    exists_ = Existing(*store, "default");
    for (size_t c = 0; c < kNumCollections; ++c) {
      if (!exists_[c]) continue;
      Opened h;
      if (!OpenCollection(*store, c, &h, "default")) continue;
      const RecoveryReport& r = h.base().recovery();
      stats_->tails_cut += r.truncated ? 1 : 0;
      cut_[c] = r.truncated;
      end_[c] = h.base().end();
      stats_->records_verified += Records(c, h, {}, "default", /*full=*/true);
    }
    store.reset();
    store = OpenStore(dir, RecoveryMode::kTolerateTornTail, "second open");
    if (store == nullptr) return;
    for (size_t c = 0; c < kNumCollections; ++c) {
      if (!exists_[c]) continue;
      Opened h;
      if (!OpenCollection(*store, c, &h, "second open")) continue;
      const RecoveryReport& r = h.base().recovery();
      if (!r.clean() || h.base().end() != end_[c]) {
        Problem(c, "second open",
                absl::StrCat("recovery not clean (truncated ", r.truncated, ", segments removed ",
                             r.segments_removed, ") or end ", h.base().end(), " != ", end_[c]));
      }
    }
  }

  void Salvage(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kSalvage, "salvage");
    if (store == nullptr) return;
    Existing(*store, "salvage");
    for (size_t c = 0; c < kNumCollections; ++c) {
      if (!exists_[c]) continue;
      Opened h;
      if (!OpenCollection(*store, c, &h, "salvage")) continue;
      const std::set<uint64_t> holes = SalvageHoles(
          h, oracle_.c[c].durable, [&](std::string what) { Problem(c, "salvage", what); });
      stats_->salvage_holes += holes.size();
      Records(c, h, holes, "salvage", /*full=*/false);
    }
  }

  // Runs after Default, whose results it compares with.
  void Absolute(const std::string& dir) {
    std::unique_ptr<Store> store = OpenStore(dir, RecoveryMode::kAbsoluteConsistency, "absolute");
    if (store == nullptr) return;
    Existing(*store, "absolute");
    for (size_t c = 0; c < kNumCollections; ++c) {
      if (!exists_[c]) continue;
      Opened h;
      absl::Status s = OpenTyped(*store, c, &h);
      if (!s.ok()) {
        // Documented (options.h): any non-zero byte after the last valid record, or a later
        // segment, fails the open. The refusal must be true of the untouched copy.
        uint64_t bad = 0;
        if (s.code() == absl::StatusCode::kDataLoss &&
            absl::StrContains(s.message(), "absolute consistency refuses to truncate") &&
            DataFollows(std::string(s.message()), kCollections[c].fixed, &bad) &&
            bad >= oracle_.c[c].durable) {
          ++stats_->absolute_refusals;
          if (!cut_[c]) ++stats_->absolute_refusals_unreported;
        } else {
          Problem(c, "absolute", absl::StrCat("open failed: ", s.ToString()));
        }
        continue;
      }
      if (h.base().end() != end_[c]) {
        Problem(c, "absolute",
                absl::StrCat("end ", h.base().end(),
                             " but the default recovery "
                             "kept ",
                             end_[c]));
      }
      Records(c, h, {}, "absolute", /*full=*/false);
    }
  }

 private:
  void Problem(size_t c, const char* phase, std::string what) {
    if (problems_.size() < 20) {
      problems_.push_back(absl::StrCat(
          "[", phase, "] ", c < kNumCollections ? kCollections[c].name : "store", ": ", what));
    }
  }

  std::unique_ptr<Store> OpenStore(const std::string& dir, RecoveryMode mode, const char* phase) {
    // Before its creation returned, the store may be missing or half made: an application
    // creates it then.
    absl::StatusOr<std::unique_ptr<Store>> s =
        Store::Open(dir, {.create_if_missing = !oracle_.store_ok,
                          .segment_size = kSegmentSize,
                          .recovery_mode = mode});
    if (!s.ok()) {
      Problem(kNumCollections, phase, absl::StrCat("open failed: ", s.status().ToString()));
      return nullptr;
    }
    return *std::move(s);
  }

  // Which collections the manifest names; checks that against the oracle.
  std::array<bool, kNumCollections> Existing(const Store& store, const char* phase) {
    std::array<bool, kNumCollections> exists{};
    for (const CollectionInfo& info : store.ListCollections()) {
      auto it = std::find_if(kCollections.begin(), kCollections.end(),
                             [&](const CollectionSpec& s) { return info.name == s.name; });
      if (it == kCollections.end()) {
        Problem(kNumCollections, phase, absl::StrCat("unknown collection '", info.name, "'"));
        continue;
      }
      exists[it - kCollections.begin()] = true;
    }
    for (size_t c = 0; c < kNumCollections; ++c) {
      const CollectionOracle& o = oracle_.c[c];
      if (o.create_ok && !o.drop_started && !exists[c]) {
        Problem(c, phase, "created (creation returned OK) but missing");
      }
      if ((o.drop_ok || !o.create_started) && exists[c]) {
        Problem(c, phase,
                o.drop_ok ? "dropped (drop returned OK) but present" : "never created but present");
      }
    }
    return exists;
  }

  absl::Status OpenTyped(Store& store, size_t c, Opened* h) {
    return OpenTypedLog(store, kCollections[c].name, kCollections[c].fixed, h);
  }

  bool OpenCollection(Store& store, size_t c, Opened* h, const char* phase) {
    absl::Status s = OpenTyped(store, c, h);
    if (!s.ok()) Problem(c, phase, absl::StrCat("open failed: ", s.ToString()));
    return s.ok();
  }

  // Reads the records back and compares them with what was appended: all with a scan; with
  // Get, all of them (`full`) or those from the durable end on; with Verify when `full`.
  // `holes`: salvage's skipped records, which must read as DataLoss. Returns the number of
  // records compared by Get.
  uint64_t Records(size_t c, const Opened& h, const std::set<uint64_t>& holes, const char* phase,
                   bool full) {
    const CollectionOracle& o = oracle_.c[c];
    const uint64_t end = h.base().end();
    if (h.base().begin() != 0) Problem(c, phase, absl::StrCat("begin ", h.base().begin()));
    if (end < o.durable) {
      Problem(
          c, phase,
          absl::StrCat("end ", end, " < durable end ", o.durable, " a returned Sync() reported"));
    }
    if (end > o.appended + o.pending) {
      Problem(c, phase,
              absl::StrCat("end ", end, " > records appended ", o.appended, " (+", o.pending,
                           " being appended)"));
    }
    uint64_t compared = 0;
    if (!CompareByGet(
            h, full ? 0 : std::min(o.durable, end), end, holes,
            [c](uint64_t seq) -> const std::string& { return ExpectedPayload(c, seq); },
            [](uint64_t seq, std::string_view) {
              return absl::StrCat("record ", seq, " differs from the one appended");
            },
            [&](std::string what) { Problem(c, phase, what); }, &compared)) {
      return compared;
    }
    Scan(c, h, holes, end, phase);
    if (full && holes.empty()) {
      absl::StatusOr<VerifyReport> v = VerifyLog(h);
      if (!v.ok() || !v->ok || v->records_checked != end) {
        Problem(c, phase,
                absl::StrCat("Verify: ", v.ok() ? v->first_bad.reason : v.status().ToString(),
                             v.ok() ? absl::StrCat(" at ", v->first_bad.seq, ", checked ",
                                                   v->records_checked)
                                    : ""));
      }
    }
    return compared;
  }

  void Scan(size_t c, const Opened& h, const std::set<uint64_t>& holes, uint64_t end,
            const char* phase) {
    uint64_t expect = 0, seen = 0;
    auto next = [&](uint64_t seq, std::string_view payload) {
      while (holes.contains(expect)) ++expect;
      if (seq != expect || payload != ExpectedPayload(c, seq)) {
        if (seen != ~uint64_t{0}) {
          Problem(c, phase, absl::StrCat("scan yields ", seq, " where ", expect, " was due"));
        }
        seen = ~uint64_t{0};
        return;
      }
      ++expect;
      ++seen;
    };
    uint64_t skipped = 0;
    const absl::Status status = ScanPayloads(h, next, &skipped);
    if (seen == ~uint64_t{0}) return;
    if (!status.ok() || seen + holes.size() != end || skipped != holes.size()) {
      Problem(c, phase,
              absl::StrCat("scan read ", seen, " records and skipped ", skipped, " of ", end, " (",
                           holes.size(), " holes): ", status.ToString()));
    }
  }

  const Oracle& oracle_;
  CheckStats* stats_;
  std::vector<std::string> problems_;
  std::array<bool, kNumCollections> exists_{};
  std::array<uint64_t, kNumCollections> end_{};
  std::array<bool, kNumCollections> cut_{};  // the default recovery reported a cut
};

}  // namespace

absl::Status OpenTypedLog(Store& store, const char* name, bool fixed, OpenedLog* h) {
  const CollectionOptions options{.create_if_missing = false};
  if (fixed) {
    absl::StatusOr<Log<CrashRecord>> log = store.OpenLog<CrashRecord>(name, options);
    if (!log.ok()) return log.status();
    h->fixed.emplace(*std::move(log));
  } else {
    absl::StatusOr<ByteLog> log = store.OpenByteLog(name, options);
    if (!log.ok()) return log.status();
    h->bytes.emplace(*std::move(log));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> GetPayload(const OpenedLog& h, uint64_t seq) {
  if (h.fixed.has_value()) {
    absl::StatusOr<const CrashRecord*> r = h.fixed->Get(seq);
    if (!r.ok()) return r.status();
    return std::string_view(reinterpret_cast<const char*>(*r), sizeof(CrashRecord));
  }
  absl::StatusOr<std::span<const std::byte>> r = h.bytes->Get(seq);
  if (!r.ok()) return r.status();
  return AsString(*r);
}

absl::StatusOr<VerifyReport> VerifyLog(const OpenedLog& h) {
  return h.fixed.has_value() ? h.fixed->Verify() : h.bytes->Verify();
}

bool CompareByGet(const OpenedLog& h, uint64_t from, uint64_t end, const std::set<uint64_t>& holes,
                  const std::function<const std::string&(uint64_t)>& expected,
                  const std::function<std::string(uint64_t, std::string_view)>& differs,
                  const std::function<void(std::string)>& report, uint64_t* compared) {
  for (uint64_t seq = from; seq < end; ++seq) {
    absl::StatusOr<std::string_view> got = GetPayload(h, seq);
    if (holes.contains(seq)) {
      if (got.ok() || got.status().code() != absl::StatusCode::kDataLoss) {
        report(absl::StrCat("hole ", seq, " reads as ", got.status().ToString()));
      }
      continue;
    }
    if (!got.ok()) {
      report(absl::StrCat("Get(", seq, "): ", got.status().ToString()));
      return false;
    }
    if (*got != expected(seq)) {
      report(differs(seq, *got));
      return false;
    }
    ++*compared;
  }
  return true;
}

std::set<uint64_t> SalvageHoles(const OpenedLog& h, uint64_t durable,
                                const std::function<void(std::string)>& report) {
  std::set<uint64_t> holes;
  for (const BadRecord& b : h.base().recovery().skipped) {
    holes.insert(b.seq);
    if (b.seq < durable)
      report(absl::StrCat("hole at durable record ", b.seq, " (", b.reason, ")"));
  }
  return holes;
}

std::string CopyForRecoveryModes(const std::string& image_root) {
  const std::string dir = image_root + "/store";
  std::error_code ec;
  for (const std::string& copy : {image_root + ".salvage", image_root + ".absolute"}) {
    fs::remove_all(copy, ec);
    fs::create_directories(copy, ec);
    if (fs::exists(dir)) fs::copy(dir, copy + "/store", fs::copy_options::recursive, ec);
    if (ec) return absl::StrCat("copying the image: ", ec.message());
  }
  return "";
}

std::vector<std::string> CheckCrashImage(const std::string& image_root, const Oracle& oracle,
                                         bool recovery_modes, CheckStats* stats) {
  return CheckImageWith(image_root, recovery_modes, stats, Checker(oracle, stats));
}

}  // namespace recstore::crash
