// Observe, Matches and Tally (see observe.h).
#include "tests/corruption/observe.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/open_store.h"

namespace recstore::testing {
namespace {}  // namespace

const char* ModeName(RecoveryMode mode) {
  switch (mode) {
    case RecoveryMode::kTolerateTornTail:
      return "kTolerateTornTail";
    case RecoveryMode::kAbsoluteConsistency:
      return "kAbsoluteConsistency";
    case RecoveryMode::kSalvage:
      return "kSalvage";
  }
  return "?";
}

Observation Observe(HeapMapEnv* env, const StoreImage& image, const CollectionImage& c,
                    RecoveryMode mode, const std::vector<uint64_t>& focus, bool read_only) {
  Observation obs;
  const uint64_t n = c.size();
  absl::StatusOr<std::unique_ptr<Store>> store = ::recstore::testing::OpenStore(
      env, image.dir(), {.read_only = read_only, .recovery_mode = mode});
  if (!store.ok()) {
    obs.open = store.status();
    return obs;
  }
  absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(c.name);
  if (!log.ok()) {
    obs.open = log.status();
    return obs;
  }
  obs.report = log->recovery();
  obs.end = log->end();
  obs.verify = log->Verify();
  auto same = [&](uint64_t seq, std::span<const std::byte> bytes) {
    return seq < n && AsString(bytes) == c.payloads[seq];
  };
  {
    auto scan = log->Scan();
    for (const auto& [seq, bytes] : scan) {
      obs.scanned.push_back(seq);
      if (!same(seq, bytes)) ++obs.wrong_contents;
    }
    obs.scan_status = scan.status();
    obs.scan_skipped = scan.skipped();
  }
  std::set<uint64_t> probe;
  for (uint64_t f : focus) {
    for (uint64_t seq = f < 2 ? 0 : f - 2; seq <= f + 2 && seq <= n; ++seq) probe.insert(seq);
  }
  for (const SegmentImage& s : c.segments) {
    probe.insert(s.first_seq);
    probe.insert(s.first_seq + s.records - 1);
  }
  for (uint64_t seq = 0; seq <= n; seq += 16) probe.insert(seq);
  probe.insert(n);
  for (uint64_t seq : probe) {
    absl::StatusOr<std::span<const std::byte>> r = log->Get(seq);
    if (r.ok() && !same(seq, *r)) ++obs.wrong_contents;
    obs.gets.emplace(seq, r.status());
  }
  return obs;
}

#define RECSTORE_EXPECT(cond, what)                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      ADD_FAILURE() << trial << " [" << ModeName(mode) << "]: " << what; \
      return false;                                                      \
    }                                                                    \
  } while (0)

bool Matches(const Observation& obs, const Expectation& want, const CollectionImage& c,
             RecoveryMode mode, const std::string& trial) {
  if (want.open != absl::StatusCode::kOk) {
    RECSTORE_EXPECT(
        obs.open.code() == want.open && absl::StrContains(obs.open.message(), want.error_names),
        "open should fail with " << absl::StatusCodeToString(want.open) << " naming "
                                 << want.error_names << ", got " << obs.open);
    return true;
  }
  RECSTORE_EXPECT(obs.open.ok(), "open failed: " << obs.open);
  RECSTORE_EXPECT(obs.wrong_contents == 0,
                  obs.wrong_contents << " records came back with wrong contents");
  RECSTORE_EXPECT(obs.end == want.end, "end() is " << obs.end << ", expected " << want.end);
  // What each record should be: 0 readable, 1 a bad record, 2 in a bad segment.
  std::vector<uint8_t> state(want.end, 0);
  for (uint64_t seq : want.bad_records) {
    if (seq < want.end) state[seq] = 1;
  }
  for (size_t k : want.bad_segments) {
    const SegmentImage& s = c.segments[k];
    for (uint64_t seq = s.first_seq; seq < s.first_seq + s.records && seq < want.end; ++seq) {
      state[seq] = 2;
    }
  }
  uint64_t first_bad = want.end;
  for (uint64_t seq = 0; seq < want.end; ++seq) {
    if (state[seq] != 0) {
      first_bad = seq;
      break;
    }
  }
  // Get of the probed records; Verify and the scan see all of them.
  for (const auto& [seq, s] : obs.gets) {
    if (seq >= want.end) {
      RECSTORE_EXPECT(s.code() == absl::StatusCode::kOutOfRange,
                      "Get(" << seq << ") past the end: " << s);
    } else if (state[seq] != 0) {
      const std::string& file = c.segments[c.records[seq].segment].file;
      RECSTORE_EXPECT(
          s.code() == absl::StatusCode::kDataLoss && absl::StrContains(s.message(), file),
          "Get(" << seq << ") should be DataLoss naming " << file << ": " << s);
    } else {
      RECSTORE_EXPECT(s.ok(), "Get(" << seq << ") failed: " << s);
    }
  }
  // Verify: the first unreadable record.
  RECSTORE_EXPECT(obs.verify.ok(), "Verify failed: " << obs.verify.status());
  const VerifyReport& v = *obs.verify;
  RECSTORE_EXPECT(v.ok == (first_bad == want.end),
                  "Verify ok=" << v.ok << " but the first bad record is " << first_bad);
  if (!v.ok) {
    const RecordLoc& r = c.records[first_bad];
    RECSTORE_EXPECT(v.first_bad.seq == first_bad &&
                        absl::EndsWith(v.first_bad.file, c.segments[r.segment].file),
                    "Verify names record " << v.first_bad.seq << " in " << v.first_bad.file
                                           << " at " << v.first_bad.offset << ", expected "
                                           << first_bad);
    if (want.first_bad_offset) {
      RECSTORE_EXPECT(
          v.first_bad.offset == *want.first_bad_offset,
          "Verify names offset " << v.first_bad.offset << ", expected " << *want.first_bad_offset);
    }
  }
  // A full scan: stops at the first unreadable record; salvage skips bad records but stops
  // at a segment it cannot open.
  std::vector<uint64_t> scan;
  uint64_t skipped = 0;
  bool stopped = false;
  for (uint64_t seq = 0; seq < want.end; ++seq) {
    if (state[seq] == 2 || (state[seq] == 1 && mode != RecoveryMode::kSalvage)) {
      stopped = true;
      break;
    }
    if (state[seq] == 1) {
      ++skipped;
      continue;
    }
    scan.push_back(seq);
  }
  RECSTORE_EXPECT(obs.scanned == scan,
                  "scan yielded " << obs.scanned.size() << " records, expected " << scan.size());
  RECSTORE_EXPECT(obs.scan_skipped == skipped,
                  "scan skipped " << obs.scan_skipped << ", expected " << skipped);
  RECSTORE_EXPECT(
      stopped ? obs.scan_status.code() == absl::StatusCode::kDataLoss : obs.scan_status.ok(),
      "scan status " << obs.scan_status);
  // The recovery report.
  const RecoveryReport& rep = obs.report;
  RECSTORE_EXPECT(rep.records == want.end && rep.durable_point == want.durable_point &&
                      rep.tail_records_kept == want.end - want.durable_point,
                  "report: records " << rep.records << ", durable point " << rep.durable_point
                                     << ", tail kept " << rep.tail_records_kept
                                     << "; expected durable point " << want.durable_point);
  RECSTORE_EXPECT(rep.truncated == want.truncated && rep.segments_removed == want.segments_removed,
                  "report: truncated " << rep.truncated << " (" << rep.truncated_file << " at "
                                       << rep.truncated_offset << ", " << rep.bytes_dropped
                                       << " bytes), segments removed " << rep.segments_removed
                                       << "; expected truncated " << want.truncated << ", removed "
                                       << want.segments_removed);
  if (want.truncated) {
    RECSTORE_EXPECT(absl::EndsWith(rep.truncated_file, want.truncated_file),
                    "truncated in " << rep.truncated_file << ", expected " << want.truncated_file);
    if (want.truncated_offset) {
      RECSTORE_EXPECT(
          rep.truncated_offset == *want.truncated_offset,
          "truncated at " << rep.truncated_offset << ", expected " << *want.truncated_offset);
    }
  }
  RECSTORE_EXPECT(rep.skipped.size() == want.skipped.size(),
                  "report lists " << rep.skipped.size() << " skipped records, expected "
                                  << want.skipped.size());
  for (size_t i = 0; i < rep.skipped.size(); ++i) {
    const RecordLoc& r = c.records[want.skipped[i]];
    RECSTORE_EXPECT(rep.skipped[i].seq == r.seq && rep.skipped[i].offset == r.offset &&
                        absl::EndsWith(rep.skipped[i].file, c.segments[r.segment].file),
                    "skipped record " << rep.skipped[i].seq << " at " << rep.skipped[i].offset
                                      << ", expected " << r.seq << " at " << r.offset);
  }
  return true;
}

#undef RECSTORE_EXPECT

Expectation Intact(const CollectionImage& c) {
  Expectation e;
  e.end = c.size();
  e.durable_point = c.commit_blocks ? c.size() : 0;
  return e;
}

void Tally::AddOutcome(const Observation& obs, RecoveryMode mode) {
  const std::string m = absl::StrCat(ModeName(mode), ": ");
  if (!obs.open.ok()) {
    Add(m + "open refused (" + absl::StatusCodeToString(obs.open.code()) + ")");
    return;
  }
  bool seen = false;
  if (obs.report.truncated) Add(m + "recovery truncated"), seen = true;
  if (!obs.report.skipped.empty()) Add(m + "recovery kept holes (skipped)"), seen = true;
  if (obs.verify.ok() && !obs.verify->ok) Add(m + "Verify flagged"), seen = true;
  for (const auto& [seq, s] : obs.gets) {
    if (s.code() == absl::StatusCode::kDataLoss) {
      Add(m + "Get returned DataLoss"), seen = true;
      break;
    }
  }
  if (!seen) Add(m + "no damage visible");
}

void Tally::Print(const std::string& title) const {
  for (const auto& [what, n] : counts_) {
    std::cout << "corruption: " << title << ": " << what << " = " << n << "\n";
  }
  std::cout.flush();
}

}  // namespace recstore::testing
