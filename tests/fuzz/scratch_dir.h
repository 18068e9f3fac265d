// A scratch directory for one fuzz or replay process: under $TEST_TMPDIR when Bazel runs a
// test, else a fresh directory under $TMPDIR (or /tmp). Removed when the process exits.
#ifndef RECSTORE_TESTS_FUZZ_SCRATCH_DIR_H_
#define RECSTORE_TESTS_FUZZ_SCRATCH_DIR_H_

#include <string>

namespace recstore::fuzz {

// The directory; created on first use.
const std::string& ScratchDir();

// Removes everything inside `dir` (the directory stays).
void EmptyDir(const std::string& dir);

}  // namespace recstore::fuzz

#endif  // RECSTORE_TESTS_FUZZ_SCRATCH_DIR_H_
