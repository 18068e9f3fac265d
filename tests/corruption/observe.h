// Reopening a damaged store and comparing what the engine does with what the documents say it
// must do (docs/format.md, docs/design.md section 5, RecoveryMode and VerifyReport in
// include/recstore/options.h).
//
//   Observation obs = Observe(&env, image, c, RecoveryMode::kSalvage);
//   Expectation want = ...;   // derived from the damage and the documents
//   if (!Matches(obs, want, c, "trial 17: ...")) ...   // gtest failures name the trial
#ifndef RECSTORE_TESTS_CORRUPTION_OBSERVE_H_
#define RECSTORE_TESTS_CORRUPTION_OBSERVE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/recstore.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/corruption/store_image.h"

namespace recstore::testing {

const char* ModeName(RecoveryMode mode);

// Everything a user can see after reopening: the open's status, the recovery report, Verify(),
// a full scan, and Get() of a sample of records (see Observe).
struct Observation {
  absl::Status open;  // Store::Open, then OpenUntyped
  RecoveryReport report;
  uint64_t end = 0;
  absl::StatusOr<VerifyReport> verify = VerifyReport{};
  std::vector<uint64_t> scanned;  // sequence numbers a scan from 0 yielded
  absl::Status scan_status;
  uint64_t scan_skipped = 0;
  std::map<uint64_t, absl::Status> gets;  // Get(seq) of the probed records
  uint64_t wrong_contents = 0;            // records returned (scan or Get) whose bytes differ
};

// Opens the store in `image.dir()` through `env` in `mode` (as the writer unless `read_only`)
// and observes collection `c`. Get() probes the records within 2 of each of `focus`, the
// first and last record of every segment, one past the pristine end, and every 16th record
// (a full scan checks the contents of every record it yields anyway). Handles are closed
// before it returns.
Observation Observe(HeapMapEnv* env, const StoreImage& image, const CollectionImage& c,
                    RecoveryMode mode, const std::vector<uint64_t>& focus = {},
                    bool read_only = false);

// What the documents require after a given damage.
struct Expectation {
  // The open's outcome; on failure, its message must contain `error_names` (a file name).
  absl::StatusCode open = absl::StatusCode::kOk;
  std::string error_names;
  uint64_t end = 0;
  std::set<uint64_t> bad_records;  // each: Get is DataLoss; scans stop there (salvage: skip)
  std::set<size_t> bad_segments;   // all their records: Get is DataLoss; every scan stops there
  // Verify's first_bad.offset, when known.
  std::optional<uint64_t> first_bad_offset;
  // Recovery report.
  uint64_t durable_point = 0;
  bool truncated = false;
  std::string truncated_file;  // segment file name, when truncated
  std::optional<uint64_t> truncated_offset;
  uint64_t segments_removed = 0;
  std::vector<uint64_t> skipped;  // kSalvage: records recovery kept as holes
};

// Checks `obs` against `want` with gtest assertions whose messages start with `trial`. Returns
// false if anything differed.
bool Matches(const Observation& obs, const Expectation& want, const CollectionImage& c,
             RecoveryMode mode, const std::string& trial);

// The expectation for a store whose damage nobody can see: everything intact.
Expectation Intact(const CollectionImage& c);

// Named counters printed at the end of a test ("detections by kind").
class Tally {
 public:
  void Add(const std::string& what, uint64_t n = 1) { counts_[what] += n; }
  // Counts the outcome of `obs` under `mode` (open refused, Verify flagged, ...).
  void AddOutcome(const Observation& obs, RecoveryMode mode);
  void Print(const std::string& title) const;

 private:
  std::map<std::string, uint64_t> counts_;
};

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_CORRUPTION_OBSERVE_H_
