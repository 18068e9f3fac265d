// The kill loop: start a writer child on a store, kill it with SIGKILL at a random moment,
// check the store against what the child reported, and go on with the next epoch on the
// same store (a fresh store every so many kills).
#ifndef RECSTORE_TESTS_KILL_HARNESS_H_
#define RECSTORE_TESTS_KILL_HARNESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "tests/kill/checker.h"

namespace recstore::kill {

enum class KillTiming {
  kRandom,      // after a random delay (see KillOptions)
  kAtRotation,  // soon after the fixed collection moves to its 1st-3rd new segment
  kMixed,       // alternate the two
};

struct KillOptions {
  std::string root;  // work folder: the store is root/store, the acknowledgement log root/acks.log
  uint64_t seed = 1;
  int kills = 50;
  int kills_per_store = 25;  // start a fresh store after this many kills
  // Kill between these delays after the writer reported its collections open. One kill in
  // five of kRandom is instead timed 0-10 ms from the fork, to land while the writer opens.
  int min_delay_us = 2000;
  int max_delay_us = 100000;
  int appenders = 3;
  int syncers = 1;
  uint64_t segment_size = 64 << 10;
  KillTiming timing = KillTiming::kMixed;
  int progress_every = 0;  // print a progress line every N kills (0: never)
};

struct KillSummary {
  int kills = 0;
  int stores = 0;
  int open_kills = 0;      // kills before the writer had opened both collections
  int rotation_kills = 0;  // kills triggered by a segment rotation
  uint64_t reports = 0;
  CheckStats stats;
  double seconds = 0;

  std::string ToString() const;
};

// Runs the loop; the error of the first failed check names the seed, the kill and the log.
absl::StatusOr<KillSummary> RunKills(const KillOptions& options, std::FILE* progress);

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_HARNESS_H_
