// Reopening a store some of whose files were damaged whole, and judging what a user sees
// against docs/durability.md 1.2 ("damage is never silently dropped") and RecoveryMode in
// include/recstore/options.h.
//
// Every record of the FileSet was synced and the store was closed cleanly, so no record may
// be missing for a reason a crash explains: each one must, after the damage, be
//   * returned by Get and by a scan with its exact bytes, or
//   * reported: the collection's open is refused with an error naming a damaged file, or Get
//     returns DataLoss naming a damaged file (and then a scan stops there with an error, or
//     under kSalvage skips it and counts it), and Verify() does not say ok.
// Anything else is a broken promise: end() shrinking below the synced end (a cut, even one
// the recovery report mentions), Get answering OutOfRange, NotFound ("removed by compaction")
// or wrong bytes, a scan passing over a record with status OK, Verify() ok over a hole, an
// open that fails naming no damaged file, a refused writer open that changed a file, a
// read-only open that changed anything, and of course a crash.
#ifndef RECSTORE_TESTS_CORRUPTION_DAMAGE_CHECK_H_
#define RECSTORE_TESTS_CORRUPTION_DAMAGE_CHECK_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "recstore/recstore.h"
#include "tests/corruption/file_set.h"

namespace recstore::testing {

// How one observation opens the store.
struct Observer {
  RecoveryMode mode = RecoveryMode::kTolerateTornTail;
  bool read_only = false;
  bool create_if_missing = false;
};
std::string ObserverName(const Observer& o);

// What an observation found.
struct Findings {
  std::vector<std::string> problems;  // broken promises, one sentence each
  std::vector<std::string> outcomes;  // what happened to each damaged collection, for tallies
  bool store_refused = false;         // Store::Open failed
  std::set<std::string> refused;      // folders of the collections whose open failed
  uint64_t records_checked = 0;       // Get and scan results compared with the truth
};

// Opens the store in `set.dir()` as `o` says and checks each collection with a damaged file
// (see the file comment): the open, begin()/end(), recovery(), Get of every record, a full
// scan, Verify(), and for the checkpoint set Load(). The other collections must open with
// the right ends and a clean Verify(); they get the full check too when MANIFEST or LOCK is
// damaged. `damaged`: the damaged files, relative to the store. Problems start with `prefix`.
Findings Observe(const FileSet& set, const std::set<std::string>& damaged, const Observer& o,
                 const std::string& prefix = "");

// Observe in a forked child: a crash, a sanitizer report or a hang (killed after `timeout_s`)
// becomes a problem of the observation.
Findings ObserveInChild(const FileSet& set, const std::set<std::string>& damaged, const Observer& o,
                        int timeout_s, const std::string& prefix = "");

// Runs `recstore verify DIR` and `recstore info DIR` (the tool at `cli`) and checks them: no
// crash; verify exits non-zero naming a damaged file whenever a data file is damaged, and 0
// otherwise; info names the damage of every damaged collection (an open failure naming a
// damaged file, or a recovery that is not "clean"). Returns the problems; adds to *runs.
std::vector<std::string> CheckCli(const std::string& cli, const FileSet& set,
                                  const std::set<std::string>& damaged, int timeout_s,
                                  uint64_t* runs);

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_CORRUPTION_DAMAGE_CHECK_H_
