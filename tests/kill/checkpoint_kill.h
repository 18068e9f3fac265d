// Checkpoint kills: a child process saves checkpoint versions in a loop and reports each one
// after Save returns; the parent kills it with SIGKILL at a random moment, reopens the store
// (read-only, then as the writer) and checks that Load() returns the last acknowledged
// version or the one after it, byte for byte, and that List() is consistent.
#ifndef RECSTORE_TESTS_KILL_CHECKPOINT_KILL_H_
#define RECSTORE_TESTS_KILL_CHECKPOINT_KILL_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/statusor.h"

namespace recstore::kill {

struct CheckpointKillOptions {
  std::string root;  // the store is root/store
  uint64_t seed = 1;
  int kills = 100;
  int kills_per_store = 50;  // start a fresh store after this many kills
  // Kill between these delays after the child reported the set open. One kill in five is
  // instead timed 0-10 ms from the fork, to land while the child opens the store.
  int min_delay_us = 1000;
  int max_delay_us = 60000;
  uint64_t segment_size = 1 << 20;
  uint64_t min_size = 1 << 10;  // payload sizes, uniform in [min_size, max_size]
  uint64_t max_size = 200 << 10;
  uint32_t keep = 2;
  int progress_every = 0;  // a progress line every N kills (0: never)
};

struct CheckpointKillSummary {
  int kills = 0;
  int stores = 0;
  int open_kills = 0;             // kills before the child reported the set open
  uint64_t acked = 0;             // saves the children acknowledged
  uint64_t loads_checked = 0;     // Load() results checked (reader and writer)
  uint64_t versions_checked = 0;  // payloads compared (loads and listed versions)
  uint64_t unacked_found = 0;     // loads that returned the version after the last acknowledged
  uint64_t fallbacks = 0;         // loads that passed over a damaged newer record
  uint64_t torn_tails = 0;        // writer opens whose recovery cut a torn tail
  uint64_t max_segments = 0;      // most segment files seen in the set's folder
  uint64_t max_version = 0;
  double seconds = 0;

  std::string ToString() const;
};

// The payload of version v: its size and bytes depend on v (and the size range) alone; the
// first 8 bytes hold v.
std::string CheckpointPayload(uint64_t v, uint64_t min_size, uint64_t max_size);

// Runs the loop; the error of the first failed check names the seed and the kill.
absl::StatusOr<CheckpointKillSummary> RunCheckpointKills(const CheckpointKillOptions& options,
                                                         std::FILE* progress);

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_CHECKPOINT_KILL_H_
