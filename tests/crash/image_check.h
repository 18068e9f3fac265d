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
#include <string>
#include <vector>

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
};

// Checks `image_root`/store. With `recovery_modes`, first copies the image and checks the
// copies under kSalvage and kAbsoluteConsistency. Returns the problems found (empty: none).
std::vector<std::string> CheckCrashImage(const std::string& image_root, const Oracle& oracle,
                                         bool recovery_modes, CheckStats* stats);

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_IMAGE_CHECK_H_
