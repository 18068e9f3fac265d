// The uninterrupted run of one retention or compaction call of the compaction case: builds the
// template the call starts from and records the state of both collections before and after
// the call, and how many Env calls the call makes.
#ifndef RECSTORE_TESTS_CRASH_COMPACTION_REFERENCE_H_
#define RECSTORE_TESTS_CRASH_COMPACTION_REFERENCE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "tests/crash/compaction_case.h"
#include "tests/crash/compaction_check.h"

namespace recstore::crash {

struct CaseReference {
  CaseOpSpec spec;
  uint64_t arg = 0;    // OpArgument
  uint64_t calls = 0;  // Env calls the operation makes
  CaseExpectation want;
  std::string template_store;  // the template's store directory
};

// Builds the template of `spec` under `work_dir` (an empty directory) and runs the operation
// there on copies. Fails when the operation fails, when it changes nothing, when it changes
// the other collection, or when a reopen does not show what the handle showed.
absl::Status PrepareCase(const CaseOpSpec& spec, const std::string& work_dir, CaseReference* ref);

// Replaces `to` with a copy of the directory tree `from`.
void CopyTree(const std::string& from, const std::string& to);

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_COMPACTION_REFERENCE_H_
