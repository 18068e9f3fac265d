// Appending in the history (history_test.cc): an appender that keeps the model's bounds, and
// the tail race that starts each round.
#ifndef RECSTORE_TESTS_LOG_HISTORY_APPEND_H_
#define RECSTORE_TESTS_LOG_HISTORY_APPEND_H_

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/log/history_actors.h"
#include "tests/log/history_model.h"
#include "tests/log/history_reads.h"
#include "tests/testing/records.h"

namespace recstore::testing::history {

// Appends the records the model generates to one of the round's logs, one call at a time,
// raising started_end before the call and acked_end after it.
class Appender {
 public:
  Appender(Round* r, bool fixed);
  // Appends records [acked_end, acked_end + n) in one call (Append or AppendBatch). False
  // (and a failure) if the append failed or returned another sequence number.
  bool Append(uint64_t n, Counts* c);
  // Records the segment files now in the folder; returns how many were new.
  uint64_t ObserveSegments();
  // First sequence numbers of the segment files seen so far.
  const std::set<uint64_t>& segments() const { return segments_; }

 private:
  Round* const r_;
  const bool fixed_;
  LogModel& m_;
  const std::string folder_;
  std::set<uint64_t> segments_;
  std::vector<Trade> trades_;
  std::vector<std::string> records_;
  std::vector<std::string_view> views_;
};

// First sequence numbers of the ordinary segment files in `folder`.
void ListOrdinary(const std::string& folder, std::set<uint64_t>* out);

// The tail race: for each log, an appender and a follower alone on one CPU, the follower at
// idle priority, polling Get() of the next record, the app-log pattern. The follower runs
// only while the appender waits, which is mostly while it creates a segment (the new
// segment's sync), and loses the CPU at a random point when the appender wakes, which then
// publishes the segment's first records before the follower runs again. If that point lies
// inside a Get, the Get straddles the rotation (issue 12, bug 1). Runs until each log has
// rotated `rotations` times.
void RunTailRace(Round* r, uint64_t rotations);

}  // namespace recstore::testing::history

#endif  // RECSTORE_TESTS_LOG_HISTORY_APPEND_H_
