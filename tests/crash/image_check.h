// Checks a crash image of the workload's store against the oracle taken at the crash, with
// the real Env, as an application reopening after a power loss would:
//   * the store opens, and so does every collection it names;
//   * a collection whose creation returned OK (and whose drop had not begun) exists, one
//     whose drop returned OK does not, one never created does not;
//   * every record below the durable end a returned Sync() reported is present and intact;
//   * every record present is the one appended under its sequence number, and none lies past
//     what was appended (or was being appended) at the crash;
//   * sequence numbers are dense: Get and a scan read [0, end()) and nothing else, and
//     Verify() finds every record good;
//   * a second open reports a clean recovery;
//   * on copies of the image (a scan compares every record, Get those after the durable end):
//     kSalvage opens and keeps every durable record, with holes only
//     after the durable end; kAbsoluteConsistency opens with the same records, or refuses
//     with the documented DataLoss only where the default recovery cut a tail.
#ifndef RECSTORE_TESTS_CRASH_IMAGE_CHECK_H_
#define RECSTORE_TESTS_CRASH_IMAGE_CHECK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/recstore.h"
#include "tests/crash/crash_records.h"
#include "tests/crash/workload.h"

namespace recstore::crash {

struct CheckStats {
  uint64_t images = 0;
  uint64_t recovery_mode_images = 0;  // also checked under kSalvage and kAbsoluteConsistency
  uint64_t records_verified = 0;      // records read back and compared (default recovery)
  uint64_t tails_cut = 0;             // collections whose default recovery cut a tail
  uint64_t salvage_holes = 0;         // invalid records kSalvage kept as holes
  uint64_t absolute_refusals = 0;     // collections kAbsoluteConsistency refused to open
  // ... of which the default recovery reported nothing cut: data lay only past an all-zero
  // page, which the default recovery zeroes without counting it (design.md, section 5)
  uint64_t absolute_refusals_unreported = 0;
  uint64_t begins_above_zero = 0;  // collections whose begin() was above 0 (retention)
};

// Checks `image_root`/store. With `recovery_modes`, first copies the image and checks the
// copies under kSalvage and kAbsoluteConsistency. Returns the problems found (empty: none).
std::vector<std::string> CheckCrashImage(const std::string& image_root, const Oracle& oracle,
                                         bool recovery_modes, CheckStats* stats);

// The frame of a crash image check, for a checker with Default(dir), Salvage(dir),
// Absolute(dir) and TakeProblems(): counts the image; with `recovery_modes`, copies the image
// (CopyForRecoveryModes) and counts it; runs Default on `image_root`/store, then Salvage and
// Absolute on the copies; returns the problems found.
std::string CopyForRecoveryModes(const std::string& image_root);  // "" or the error
template <typename Checker>
std::vector<std::string> CheckImageWith(const std::string& image_root, bool recovery_modes,
                                        CheckStats* stats, Checker&& checker) {
  ++stats->images;
  if (recovery_modes) {
    ++stats->recovery_mode_images;
    if (std::string error = CopyForRecoveryModes(image_root); !error.empty()) return {error};
  }
  checker.Default(image_root + "/store");
  if (recovery_modes) {
    checker.Salvage(image_root + ".salvage/store");
    checker.Absolute(image_root + ".absolute/store");
  }
  return checker.TakeProblems();
}

// One collection of CrashRecords (`fixed`) or of bytes, opened with its own type.
struct OpenedLog {
  std::optional<Log<CrashRecord>> fixed;
  std::optional<ByteLog> bytes;

  const LogBase& base() const {
    if (fixed.has_value()) return *fixed;
    return *bytes;
  }
};

// Opens the existing collection `name` as a CrashRecord log or a byte log.
absl::Status OpenTypedLog(Store& store, const char* name, bool fixed, OpenedLog* h);
// Record `seq`'s bytes in the mapping (valid while `h` is open).
absl::StatusOr<std::string_view> GetPayload(const OpenedLog& h, uint64_t seq);
absl::StatusOr<VerifyReport> VerifyLog(const OpenedLog& h);
// Reads records [from, end) of `h` with Get and compares each with expected(seq); a record in
// `holes` must read as DataLoss instead. Calls report(what) for a hole that does not, and for
// the first record that fails or differs (what: differs(seq, bytes read)), and stops there
// (returns false). Adds the records compared to `compared`.
bool CompareByGet(const OpenedLog& h, uint64_t from, uint64_t end, const std::set<uint64_t>& holes,
                  const std::function<const std::string&(uint64_t)>& expected,
                  const std::function<std::string(uint64_t, std::string_view)>& differs,
                  const std::function<void(std::string)>& report, uint64_t* compared);
// The records a kSalvage recovery of `h` skipped (its holes); report(what) for each hole below
// `durable`, where none may be.
std::set<uint64_t> SalvageHoles(const OpenedLog& h, uint64_t durable,
                                const std::function<void(std::string)>& report);

// Scans `h`, calling next(seq, payload bytes) for each record; returns the scan's status and
// sets `skipped` to the records it skipped.
template <typename Next>
absl::Status ScanPayloads(const OpenedLog& h, Next&& next, uint64_t* skipped) {
  if (h.fixed.has_value()) {
    auto scan = h.fixed->Scan();
    for (const auto& [seq, r] : scan) {
      next(seq, std::string_view(reinterpret_cast<const char*>(&r), sizeof(r)));
    }
    *skipped = scan.skipped();
    return scan.status();
  }
  auto scan = h.bytes->Scan();
  for (const auto& [seq, r] : scan) next(seq, AsString(r));
  *skipped = scan.skipped();
  return scan.status();
}

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_IMAGE_CHECK_H_
