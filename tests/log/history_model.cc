#include "tests/log/history_model.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/testing/records.h"

namespace recstore::testing::history {

namespace {

constexpr uint64_t kByteKey = 0x62797465734c6f67;  // "bytesLog"
constexpr uint64_t kCheckpointKey = 0x636b70744c6f6764;
constexpr size_t kMessagesPerKind = 3;

// Bytes of record `key`: 8-byte words of Mix(key, word index).
void FillBytes(uint64_t key, char* out, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t w = Mix(key * 0x9e3779b97f4a7c15ULL + i);
    std::memcpy(out + i, &w, std::min<size_t>(8, n - i));
  }
}

bool BytesAre(uint64_t key, const std::byte* p, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t w = Mix(key * 0x9e3779b97f4a7c15ULL + i);
    if (std::memcmp(p + i, &w, std::min<size_t>(8, n - i)) != 0) return false;
  }
  return true;
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\t', ' ');
  return s;
}

std::string BoundsText(const char* what, const Bounds& b) {
  return absl::StrCat(what, " {begin ", b.begin, ", removed ", b.removed, ", end ", b.end, "}");
}

}  // namespace

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string FixedRecord(uint64_t seq) {
  const Trade t = MakeTrade(seq);
  return std::string(reinterpret_cast<const char*>(&t), sizeof(t));
}

uint32_t ByteRecordSize(uint64_t seq) {
  if (seq < 16) return static_cast<uint32_t>(1 + seq);  // a small first record (issue 12, bug 8)
  const uint64_t h = Mix(seq ^ kByteKey);
  if (h % 400 == 7) return static_cast<uint32_t>(65536 + (h >> 16) % 40000);
  if (h % 10 == 3) return static_cast<uint32_t>(256 + (h >> 16) % 8000);
  return static_cast<uint32_t>(1 + (h >> 16) % 255);
}

std::string ByteRecord(uint64_t seq) {
  std::string s(ByteRecordSize(seq), '\0');
  FillBytes(seq ^ kByteKey, s.data(), s.size());
  return s;
}

bool Droppable(bool fixed, uint64_t seq) {
  return Mix(seq ^ (fixed ? 0xf1f1f1f1u : 0xb2b2b2b2u)) % 3 == 0;
}

uint64_t CheckpointSize(uint64_t version) {
  const uint64_t h = Mix(version ^ kCheckpointKey);
  return h % 11 == 5 ? 70000 + (h >> 16) % 8000 : 8 + (h >> 16) % 4000;
}

std::string CheckpointPayload(uint64_t version) {
  std::string s(CheckpointSize(version), '\0');
  FillBytes(version ^ kCheckpointKey, s.data(), s.size());
  return s;
}

bool CheckpointPayloadIs(uint64_t version, std::string_view payload) {
  return payload.size() == CheckpointSize(version) &&
         BytesAre(version ^ kCheckpointKey, reinterpret_cast<const std::byte*>(payload.data()),
                  payload.size());
}

bool LogModel::RecordIs(uint64_t seq, std::span<const std::byte> bytes) const {
  if (fixed) {
    const Trade t = MakeTrade(seq);
    return bytes.size() == sizeof(t) && std::memcmp(bytes.data(), &t, sizeof(t)) == 0;
  }
  return bytes.size() == ByteRecordSize(seq) &&
         BytesAre(seq ^ kByteKey, bytes.data(), bytes.size());
}

Bounds LogModel::Floor() const {
  Bounds b;
  b.begin = trunc_done.load();
  b.removed = removed_below.load();
  b.end = acked_end.load();
  return b;
}

Bounds LogModel::Ceiling() const {
  Bounds b;
  // compacting before removed_below: a compaction that ends in between has stored its
  // removed_below before clearing compacting.
  const bool busy = compacting.load();
  b.removed = removed_below.load();
  b.end = started_end.load();
  if (busy) b.removed = b.end;
  b.begin = trunc_target.load();
  if (b.end > retention_floor) b.begin = std::max(b.begin, b.end - retention_floor);
  return b;
}

void Tally::Count(const std::string& what, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_[what] += n;
}

void Tally::Fail(const std::string& kind, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  Kind& k = failures_[kind];
  if (k.count == 0) {
    // At once, the first of each kind: a later crash must not take the evidence with it.
    std::fprintf(stderr, "history: FAILED %s: %s\n", kind.c_str(), OneLine(detail).c_str());
  }
  if (k.first.size() < kMessagesPerKind) k.first.push_back(OneLine(detail));
  ++k.count;
}

void Tally::Merge(const std::map<std::string, uint64_t>& counts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, n] : counts) counts_[name] += n;
}

uint64_t Tally::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [kind, k] : failures_) n += k.count;
  return n;
}

std::map<std::string, uint64_t> Tally::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

std::string Tally::FailureReport() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [kind, k] : failures_) {
    absl::StrAppend(&out, "  ", k.count, " x ", kind, "\n");
    for (const std::string& m : k.first) absl::StrAppend(&out, "      e.g. ", m, "\n");
  }
  return out;
}

std::string Tally::Serialize() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, n] : counts_)
    absl::StrAppend(&out, "count\t", OneLine(name), "\t", n, "\n");
  for (const auto& [kind, k] : failures_) {
    // The count, then the kept messages.
    absl::StrAppend(&out, "failn\t", OneLine(kind), "\t", k.count, "\n");
    for (const std::string& m : k.first)
      absl::StrAppend(&out, "fail\t", OneLine(kind), "\t", m, "\n");
  }
  return out;
}

void Tally::Absorb(std::string_view serialized, std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string text(serialized);
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 2));
    if (f.size() != 3) continue;
    const std::string name = absl::StrCat(std::string(prefix), f[1]);
    if (f[0] == "count") {
      counts_[name] += std::strtoull(f[2].c_str(), nullptr, 10);
    } else if (f[0] == "failn") {
      failures_[name].count += std::strtoull(f[2].c_str(), nullptr, 10);
    } else if (f[0] == "fail") {
      Kind& k = failures_[name];
      if (k.first.size() < kMessagesPerKind) k.first.emplace_back(f[2]);
    }
  }
}

std::string CodeName(const absl::Status& s) { return absl::StatusCodeToString(s.code()); }

void HandleWatch::Observe(uint64_t begin, uint64_t end, const Bounds& floor, Tally* tally) {
  const Bounds ceiling = model_.Ceiling();
  const std::string at =
      absl::StrCat("begin ", begin, ", end ", end, " after begin ", begin_, ", end ", end_, "; ",
                   BoundsText("floor", floor), ", ", BoundsText("ceiling", ceiling));
  if (begin < begin_) tally->Fail(who_ + ": begin() went down", at);
  if (end < end_) tally->Fail(who_ + ": end() went down", at);
  if (begin > end) tally->Fail(who_ + ": begin() above end()", at);
  if (end < floor.end) tally->Fail(who_ + ": end() below an append that had returned", at);
  if (begin < floor.begin) tally->Fail(who_ + ": begin() below a truncation that had returned", at);
  if (end > ceiling.end) tally->Fail(who_ + ": end() past every append begun", at);
  if (begin > ceiling.begin) tally->Fail(who_ + ": begin() past every truncation begun", at);
  begin_ = std::max(begin_, begin);
  end_ = std::max(end_, end);
}

bool CheckGet(const LogModel& model, const std::string& who, uint64_t seq, const Bounds& floor,
              uint64_t known_end, const absl::StatusOr<std::span<const std::byte>>& got,
              Tally* tally) {
  if (got.ok()) {
    if (!model.RecordIs(seq, *got)) {
      tally->Fail(who + ": wrong bytes",
                  absl::StrCat("record ", seq, ": ", got->size(), " bytes, expected ",
                               model.Expected(seq).size()));
    } else if (model.MustBeGone(seq, floor)) {
      tally->Fail(who + ": returned a removed record",
                  absl::StrCat("record ", seq, "; ", BoundsText("floor", floor)));
    }
    return true;
  }
  const Bounds ceiling = model.Ceiling();
  const absl::StatusCode code = got.status().code();
  if (code == absl::StatusCode::kOutOfRange && (seq < ceiling.begin || seq >= known_end)) {
    return false;
  }
  if (code == absl::StatusCode::kNotFound && seq < ceiling.removed && Droppable(model.fixed, seq)) {
    return false;
  }
  tally->Fail(absl::StrCat(who, ": ", CodeName(got.status())),
              absl::StrCat("record ", seq, " (droppable ", Droppable(model.fixed, seq),
                           ", known end ", known_end, "); ", BoundsText("ceiling", ceiling), ": ",
                           got.status().ToString()));
  return false;
}

ScanCheck::ScanCheck(const LogModel& model, std::string who, uint64_t from, uint64_t end_before,
                     const Bounds& floor, Tally* tally)
    : model_(model),
      who_(std::move(who)),
      next_(from),
      end_before_(end_before),
      floor_(floor),
      tally_(tally) {}

void ScanCheck::Yield(uint64_t seq, std::span<const std::byte> bytes) {
  if (!any_) {
    ceiling_ = model_.Ceiling();  // the scan's view is fixed from its first record on
    any_ = true;
  }
  ++records_;
  if (seq < next_) {
    tally_->Fail(who_ + ": sequence numbers not increasing",
                 absl::StrCat("record ", seq, " after ", next_ - 1));
  } else {
    Missing(next_, std::min(seq, end_before_));
  }
  next_ = std::max(next_, seq + 1);
  if (!model_.RecordIs(seq, bytes)) {
    tally_->Fail(who_ + ": wrong bytes",
                 absl::StrCat("record ", seq, ": ", bytes.size(), " bytes, expected ",
                              model_.Expected(seq).size()));
  } else if (model_.MustBeGone(seq, floor_)) {
    tally_->Fail(who_ + ": yielded a removed record",
                 absl::StrCat("record ", seq, "; ", BoundsText("floor", floor_)));
  }
  if (seq >= ceiling_.end) {
    tally_->Fail(who_ + ": yielded a record never appended",
                 absl::StrCat("record ", seq, "; ", BoundsText("ceiling", ceiling_)));
  }
}

void ScanCheck::Finish(const absl::Status& status) {
  if (!any_) ceiling_ = model_.Ceiling();
  if (!status.ok()) {
    tally_->Fail(absl::StrCat(who_, ": scan stopped with ", CodeName(status)),
                 absl::StrCat("after ", records_, " records, at ", next_, " of ", end_before_, ": ",
                              status.ToString()));
    return;
  }
  Missing(next_, end_before_);
}

void ScanCheck::Missing(uint64_t from, uint64_t to) {
  uint64_t first = 0, n = 0;
  for (uint64_t s = from; s < to; ++s) {
    if (model_.MayBeGone(s, ceiling_)) continue;
    if (n++ == 0) first = s;
  }
  if (n > 0) {
    tally_->Fail(
        who_ + ": missing records",
        absl::StrCat(n, " records from ", first, " not yielded (scan of [.., ", end_before_, ")); ",
                     BoundsText("ceiling at first record", ceiling_)));
  }
}

void CheckVerify(const LogModel& model, const std::string& who, const Bounds& floor,
                 uint64_t end_before, const absl::StatusOr<VerifyReport>& report, Tally* tally) {
  if (!report.ok()) {
    tally->Fail(absl::StrCat(who, ": Verify ", CodeName(report.status())),
                report.status().ToString());
    return;
  }
  if (!report->ok) {
    const BadRecord& b = report->first_bad;
    tally->Fail(who + ": Verify reports a bad record",
                absl::StrCat("record ", b.seq, " at ", b.file, " offset ", b.offset, ": ", b.reason,
                             " (end was ", end_before, ")"));
    return;
  }
  const Bounds ceiling = model.Ceiling();
  uint64_t lo = 0, hi = 0;
  for (uint64_t s = ceiling.begin; s < end_before; ++s) lo += model.MayBeGone(s, ceiling) ? 0 : 1;
  for (uint64_t s = floor.begin; s < ceiling.end; ++s) hi += model.MustBeGone(s, floor) ? 0 : 1;
  if (report->records_checked < lo || report->records_checked > hi) {
    tally->Fail(
        who + ": Verify record count",
        absl::StrCat(report->records_checked, " records checked, expected ", lo, " to ", hi));
  }
}

void CheckLoad(const CheckpointModel& model, const std::string& who, uint64_t saved_before,
               const absl::StatusOr<Checkpoint>& got, Tally* tally) {
  const uint64_t started = model.started.load();
  if (!got.ok()) {
    if (got.status().code() == absl::StatusCode::kNotFound && saved_before == 0) return;
    tally->Fail(
        absl::StrCat(who, ": Load ", CodeName(got.status())),
        absl::StrCat("saved before: version ", saved_before, ": ", got.status().ToString()));
    return;
  }
  const uint64_t v = got->info.seq + 1;
  const std::string at =
      absl::StrCat("version ", v, ", saved before: ", saved_before, ", begun: ", started);
  if (v < saved_before) tally->Fail(who + ": Load older than a Save that had returned", at);
  if (v > started) tally->Fail(who + ": Load newer than every Save begun", at);
  if (!CheckpointPayloadIs(v, got->data) || got->info.size != got->data.size()) {
    tally->Fail(who + ": Load wrong payload",
                absl::StrCat(at, ": ", got->data.size(), " bytes, expected ", CheckpointSize(v)));
  }
  if (got->skipped != 0) tally->Fail(who + ": Load skipped versions", at);
}

void CheckList(const CheckpointModel& model, const std::string& who, uint64_t saved_before,
               const absl::StatusOr<std::vector<CheckpointInfo>>& got, Tally* tally) {
  const uint64_t started = model.started.load();
  if (!got.ok()) {
    tally->Fail(absl::StrCat(who, ": List ", CodeName(got.status())), got.status().ToString());
    return;
  }
  const std::vector<CheckpointInfo>& v = *got;
  if (v.empty()) {
    if (saved_before > 0) tally->Fail(who + ": List empty", absl::StrCat("saved: ", saved_before));
    return;
  }
  std::string at = absl::StrCat(v.size(), " versions, newest ", v[0].seq + 1,
                                ", saved before: ", saved_before, ", begun: ", started);
  if (v.size() > model.keep) tally->Fail(who + ": List longer than keep", at);
  if (v[0].seq + 1 < saved_before)
    tally->Fail(who + ": List older than a Save that had returned", at);
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0 && v[i].seq >= v[i - 1].seq) tally->Fail(who + ": List not newest first", at);
    if (v[i].seq + 1 > started) tally->Fail(who + ": List newer than every Save begun", at);
    if (v[i].size != CheckpointSize(v[i].seq + 1)) tally->Fail(who + ": List wrong size", at);
  }
}

}  // namespace recstore::testing::history
