// The check of a crash image of recycle_workload.h's store against the oracle taken at the
// crash, reopened as a writer with the real Env: every record a returned Sync() promised is
// there, nothing lies past what was appended, and every record in [begin(), end()) (read by a
// scan and by Get) is the one appended under its sequence number -- never one of a recycled
// file's earlier use. Verify passes, and an append, sync, close and reopen keep the new record
// and nothing after it (no record the recovery did not keep comes back when a file is reused),
// with a clean recovery. With `recovery_modes`, copies of the image are also checked under
// kSalvage and kAbsoluteConsistency (image_check.h's CheckImageWith).
#ifndef RECSTORE_TESTS_CRASH_RECYCLE_CHECK_H_
#define RECSTORE_TESTS_CRASH_RECYCLE_CHECK_H_

#include <string>
#include <vector>

#include "tests/crash/image_check.h"
#include "tests/crash/recycle_workload.h"

namespace recstore::crash::recycle {

// Checks `image_root`/store; returns the problems found (empty: none).
std::vector<std::string> CheckImage(const std::string& image_root, const RecycleOracle& oracle,
                                    bool recovery_modes, CheckStats* stats);

}  // namespace recstore::crash::recycle

#endif  // RECSTORE_TESTS_CRASH_RECYCLE_CHECK_H_
