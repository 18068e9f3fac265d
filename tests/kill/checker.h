// Checks a store after its writer was killed, against what the writer reported (the
// acknowledgement log), and remembers what it found so the next epoch is checked against it.
#ifndef RECSTORE_TESTS_KILL_CHECKER_H_
#define RECSTORE_TESTS_KILL_CHECKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/kill/kill_records.h"
#include "tests/kill/report.h"

namespace recstore::kill {

// What one writer epoch reported, per collection.
struct EpochAcks {
  bool opened[kColls] = {false, false};
  uint64_t opened_end[kColls] = {0, 0};
  uint64_t durable[kColls] = {0, 0};       // largest durable end returned by Sync()
  uint64_t appended_end[kColls] = {0, 0};  // one past the last reported append
  std::vector<Report> appended[kColls];    // every reported append

  void Add(const Report& r);
};

// Totals over every check.
struct CheckStats {
  uint64_t checks = 0;
  uint64_t reader_checks = 0;     // collections also read by a reader before recovery
  uint64_t records_checked = 0;   // records read back (scan, Get, identity), all epochs
  uint64_t new_records = 0;       // records of the killed epochs
  uint64_t acked_records = 0;     // of those, below an acknowledged durable end
  uint64_t reported_records = 0;  // of those, whose append was reported
  uint64_t torn_tails = 0;        // recoveries that cut an invalid tail
  uint64_t bytes_dropped = 0;
  uint64_t segments_removed = 0;
  uint64_t tmp_files = 0;        // interrupted segment creations found before reopening
  uint64_t max_recovery_us = 0;  // Store::Open plus opening both collections
  uint64_t total_recovery_us = 0;
};

class StoreChecker {
 public:
  explicit StoreChecker(std::string dir) : dir_(std::move(dir)) {}

  // Forgets what earlier checks found (the store was removed).
  void Reset();

  // First opens the store read-only, as the kill left it, and reads every record (a reader
  // must see exactly what the writer's recovery then keeps). Then opens it as a writer
  // (running recovery) and checks, for each collection: the open succeeds;
  // the records are dense (scan count, Get of each, Verify); each record is self-consistent;
  // records found by earlier checks are unchanged; the records after them are all of
  // `epoch`, from threads below `threads`, with each thread's counters 0, 1, 2, ... in
  // sequence order; nothing below a reported durable end or a reported append is missing;
  // each reported append has the reported identity. Closes the store before returning.
  absl::Status Check(uint32_t epoch, uint32_t threads, const EpochAcks& acks, CheckStats* stats);

 private:
  // Opens the store read-only as the kill left it and reads every record of each
  // collection (read[c] false: the collection or the store did not exist yet).
  absl::Status ReadOnly(std::vector<Identity> (&seen)[kColls], bool (&read)[kColls]);
  absl::Status CheckCollection(int coll, uint32_t epoch, uint32_t threads, const EpochAcks& acks,
                               const std::vector<Identity>& found, CheckStats* stats) const;

  const std::string dir_;
  std::vector<Identity> known_[kColls];
};

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_CHECKER_H_
