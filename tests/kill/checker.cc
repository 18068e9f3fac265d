// Checking a store after a kill (see checker.h).
#include "tests/kill/checker.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <span>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "recstore/recstore.h"
#include "recstore/status_macros.h"

namespace recstore::kill {
namespace {

std::string Describe(const Identity& id) {
  return absl::StrCat("(epoch ", id.epoch, ", thread ", id.thread, ", counter ", id.counter, ")");
}

absl::Status Bad(int coll, uint64_t seq, std::string_view what) {
  return absl::InternalError(
      absl::StrCat("collection '", kCollNames[coll], "' record ", seq, ": ", std::string(what)));
}

// Reads every record of `log` in order, checking each one and its Get().
template <typename LogT, typename CheckFn>
absl::Status ReadAll(const LogT& log, int coll, CheckFn check, std::vector<Identity>* found) {
  const uint64_t end = log.end();
  if (log.begin() != 0) return Bad(coll, log.begin(), "begin() is not 0");
  found->clear();
  found->reserve(end);
  auto scan = log.Scan();
  for (const auto& [seq, value] : scan) {
    if (seq != found->size()) return Bad(coll, seq, absl::StrCat("scan skipped ", found->size()));
    Identity id;
    if (!check(value, &id)) return Bad(coll, seq, absl::StrCat("inconsistent ", Describe(id)));
    auto got = log.Get(seq);
    if (!got.ok()) return Bad(coll, seq, absl::StrCat("Get: ", got.status().ToString()));
    if constexpr (std::is_same_v<LogT, ByteLog>) {
      if (got->data() != value.data() || got->size() != value.size()) {
        return Bad(coll, seq, "Get and Scan disagree");
      }
    } else if (*got != &value) {
      return Bad(coll, seq, "Get and Scan disagree");
    }
    found->push_back(id);
  }
  if (!scan.status().ok()) return Bad(coll, found->size(), scan.status().ToString());
  if (found->size() != end) {
    return Bad(coll, found->size(), absl::StrCat("scan stopped before end() ", end));
  }
  auto verify = log.Verify();
  if (!verify.ok()) return Bad(coll, 0, absl::StrCat("Verify: ", verify.status().ToString()));
  if (!verify->ok || verify->records_checked != end) {
    return Bad(coll, verify->first_bad.seq,
               absl::StrCat("Verify: ", verify->first_bad.reason, " after ",
                            verify->records_checked, " of ", end, " records"));
  }
  return absl::OkStatus();
}

uint64_t CountTmpFiles(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".tmp" && it->path().filename() != "MANIFEST.tmp") ++n;
  }
  return n;
}

}  // namespace

void EpochAcks::Add(const Report& r) {
  if (r.coll >= kColls) return;
  switch (r.kind) {
    case ReportKind::kOpened:
      opened[r.coll] = true;
      opened_end[r.coll] = r.seq;
      break;
    case ReportKind::kAppended:
      appended[r.coll].push_back(r);
      appended_end[r.coll] = std::max(appended_end[r.coll], r.seq + r.count);
      break;
    case ReportKind::kDurable:
      durable[r.coll] = std::max(durable[r.coll], r.seq);
      break;
  }
}

void StoreChecker::Reset() {
  for (auto& k : known_) k.clear();
}

absl::Status StoreChecker::CheckCollection(int coll, uint32_t epoch, uint32_t threads,
                                           const EpochAcks& acks,
                                           const std::vector<Identity>& found,
                                           CheckStats* stats) const {
  const std::vector<Identity>& known = known_[coll];
  const uint64_t end = found.size();
  if (acks.opened[coll] && acks.opened_end[coll] != known.size()) {
    return Bad(coll, acks.opened_end[coll],
               absl::StrCat("the writer opened with end ", acks.opened_end[coll],
                            " but the previous check left ", known.size(), " records"));
  }
  if (end < known.size()) {
    return Bad(coll, end,
               absl::StrCat("lost records checked before: end ", end, " < ", known.size()));
  }
  if (end < acks.durable[coll]) {
    return Bad(
        coll, end,
        absl::StrCat("end ", end, " is below the acknowledged durable end ", acks.durable[coll]));
  }
  if (end < acks.appended_end[coll]) {
    return Bad(
        coll, end,
        absl::StrCat("end ", end, " is below the reported appends' end ", acks.appended_end[coll]));
  }
  for (uint64_t seq = 0; seq < known.size(); ++seq) {
    if (!(found[seq] == known[seq])) {
      return Bad(coll, seq,
                 absl::StrCat("changed from ", Describe(known[seq]), " to ", Describe(found[seq])));
    }
  }
  // The records after those of the earlier epochs are this epoch's, each thread's a prefix.
  std::vector<uint64_t> next(threads, 0);
  for (uint64_t seq = known.size(); seq < end; ++seq) {
    const Identity& id = found[seq];
    if (id.epoch != epoch || id.thread >= threads) {
      return Bad(coll, seq, absl::StrCat("unexpected writer ", Describe(id), " in epoch ", epoch));
    }
    if (id.counter != next[id.thread]) {
      return Bad(coll, seq, absl::StrCat(Describe(id), ": expected counter ", next[id.thread]));
    }
    ++next[id.thread];
  }
  uint64_t reported = 0;
  for (const Report& r : acks.appended[coll]) {
    for (uint64_t j = 0; j < r.count; ++j) {
      const Identity want{epoch, r.thread, r.counter + j};
      if (!(found[r.seq + j] == want)) {
        return Bad(coll, r.seq + j,
                   absl::StrCat("holds ", Describe(found[r.seq + j]), " but the writer reported ",
                                Describe(want)));
      }
    }
    reported += r.count;
  }
  stats->records_checked += end;
  stats->new_records += end - known.size();
  stats->acked_records += acks.durable[coll] > known.size() ? acks.durable[coll] - known.size() : 0;
  stats->reported_records += reported;
  return absl::OkStatus();
}

absl::Status StoreChecker::ReadOnly(std::vector<Identity> (&seen)[kColls], bool (&read)[kColls]) {
  read[0] = read[1] = false;
  if (!std::filesystem::exists(dir_ + "/MANIFEST")) return absl::OkStatus();  // never created
  auto store = Store::Open(dir_, {.read_only = true});
  if (!store.ok()) {
    return absl::InternalError(absl::StrCat("read-only Store::Open: ", store.status().ToString()));
  }
  for (int c = 0; c < kColls; ++c) {
    absl::Status s;
    if (c == kFixedColl) {
      auto log = (*store)->OpenLog<KillRecord>(kCollNames[c]);
      s = log.status();
      if (log.ok()) {
        s = ReadAll(
            *log, c, [](const KillRecord& r, Identity* id) { return CheckFixedRecord(r, id); },
            &seen[c]);
      }
    } else {
      auto log = (*store)->OpenByteLog(kCollNames[c]);
      s = log.status();
      if (log.ok()) {
        s = ReadAll(
            *log, c,
            [](std::span<const std::byte> b, Identity* id) { return CheckByteRecord(b, id); },
            &seen[c]);
      }
    }
    // A collection the killed writer had not created yet.
    if (s.code() == absl::StatusCode::kNotFound && known_[c].empty()) continue;
    if (!s.ok()) return absl::InternalError(absl::StrCat("read-only: ", s.ToString()));
    read[c] = true;
  }
  return absl::OkStatus();
}

absl::Status StoreChecker::Check(uint32_t epoch, uint32_t threads, const EpochAcks& acks,
                                 CheckStats* stats) {
  stats->tmp_files += CountTmpFiles(dir_);
  // A reader first, while the store is as the kill left it.
  std::vector<Identity> seen[kColls];
  bool read[kColls];
  RETURN_IF_ERROR(ReadOnly(seen, read));
  const auto start = std::chrono::steady_clock::now();
  auto store = Store::Open(dir_, {.create_if_missing = true});
  if (!store.ok())
    return absl::InternalError(absl::StrCat("Store::Open: ", store.status().ToString()));
  auto fixed = (*store)->OpenLog<KillRecord>(kCollNames[kFixedColl]);
  if (!fixed.ok()) return absl::InternalError(absl::StrCat("OpenLog: ", fixed.status().ToString()));
  auto bytes = (*store)->OpenByteLog(kCollNames[kByteColl]);
  if (!bytes.ok())
    return absl::InternalError(absl::StrCat("OpenByteLog: ", bytes.status().ToString()));
  const uint64_t us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count());
  stats->max_recovery_us = std::max(stats->max_recovery_us, us);
  stats->total_recovery_us += us;
  ++stats->checks;
  for (const RecoveryReport* r : {&fixed->recovery(), &bytes->recovery()}) {
    if (r->truncated) ++stats->torn_tails;
    stats->bytes_dropped += r->bytes_dropped;
    stats->segments_removed += r->segments_removed;
  }

  std::vector<Identity> found[kColls];
  absl::Status s = ReadAll(
      *fixed, kFixedColl, [](const KillRecord& r, Identity* id) { return CheckFixedRecord(r, id); },
      &found[0]);
  if (s.ok()) {
    s = ReadAll(
        *bytes, kByteColl,
        [](std::span<const std::byte> b, Identity* id) { return CheckByteRecord(b, id); },
        &found[1]);
  }
  for (int c = 0; c < kColls && s.ok(); ++c) {
    s = CheckCollection(c, epoch, threads, acks, found[c], stats);
    if (s.ok() && read[c] && seen[c] != found[c]) {
      s = Bad(c, std::min(seen[c].size(), found[c].size()),
              absl::StrCat("a reader before recovery saw ", seen[c].size(),
                           " records, the writer's recovery kept ", found[c].size()));
    }
    if (read[c]) ++stats->reader_checks;
  }
  if (!s.ok()) return s;
  for (int c = 0; c < kColls; ++c) known_[c] = std::move(found[c]);
  return absl::OkStatus();
}

}  // namespace recstore::kill
