// What a collection of the compaction case holds, and the check of a store left by an
// interrupted retention or compaction call: each collection must hold exactly its state before
// the call or exactly its state after it (records, begin, end, generation, compacted_end,
// retention), Get must agree for every sequence number, the folder must hold only the files
// that state names, Verify must pass, and an append, sync and reopen must work.
#ifndef RECSTORE_TESTS_CRASH_COMPACTION_CHECK_H_
#define RECSTORE_TESTS_CRASH_COMPACTION_CHECK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recstore/recstore.h"
#include "tests/crash/compaction_case.h"

namespace recstore::crash {

struct CollectionState {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t generation = 0;
  uint64_t compacted_end = 0;
  RetentionPolicy retention;
  std::vector<std::pair<uint64_t, std::string>> records;  // a full scan: (seq, bytes)
  std::vector<std::string> files;                         // the folder, sorted

  // Equal in everything but the files.
  bool SameContent(const CollectionState& o) const {
    return begin == o.begin && end == o.end && generation == o.generation &&
           compacted_end == o.compacted_end && retention == o.retention && records == o.records;
  }
  std::string Summary() const;
};

// The state of collection `c` of `h` (whose store lies at `store_dir`) as its handle shows it
// now. A scan error is added to `problems`.
CollectionState Capture(const CaseHandles& h, int c, const std::string& store_dir,
                        std::vector<std::string>* problems);

// The two states each collection may be in; the collection the operation does not touch has
// the same state in both.
struct CaseExpectation {
  CollectionState before[2];
  CollectionState after[2];
};

enum class Match { kNone, kBefore, kAfter };

// Which of `before` and `after` `got` equals in content; for kNone, `why` says how it differs.
Match MatchState(const CollectionState& got, const CollectionState& before,
                 const CollectionState& after, std::string* why);

// Opens the store at `store_dir` with the real Env as a writer and checks both collections.
// Returns the problems found; `*target` (when not null) gets the match of collection
// `target_collection`.
std::vector<std::string> CheckReopened(const std::string& store_dir, const CaseExpectation& want,
                                       int target_collection, Match* target);

// CheckReopened in a forked child, so that a crash of the engine is reported as a problem
// (with its signal) instead of ending the test.
std::vector<std::string> CheckReopenedInChild(const std::string& store_dir,
                                              const CaseExpectation& want, int target_collection,
                                              Match* target);

// How many Get calls the checks made (for the totals; CheckReopenedInChild adds its child's).
uint64_t GetsChecked();

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_COMPACTION_CHECK_H_
