// Reads of a history, checked against its model (history_model.h): Get, Scan and Verify on
// either log kind, and a read-only reader (a read-only Store of its own) that Refreshes and
// reads, used by a thread of the writer's process and by a forked reader process.
#ifndef RECSTORE_TESTS_LOG_HISTORY_READS_H_
#define RECSTORE_TESTS_LOG_HISTORY_READS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"
#include "tests/log/history_env.h"
#include "tests/log/history_model.h"
#include "tests/testing/records.h"

namespace recstore::testing::history {

using Counts = std::map<std::string, uint64_t>;

inline constexpr char kFixedLog[] = "fixed";
inline constexpr char kByteLog[] = "bytes";
inline constexpr char kCheckpointSet[] = "state";

// What a thread is doing, for the crash report (all arguments are string literals).
void SetOp(const char* op, const char* log, uint64_t seq);
// On SIGSEGV or SIGBUS, prints the operation of the crashing thread, then lets the handler
// that was there before (the default one, or a sanitizer's) take over.
void InstallCrashReporter();

inline absl::StatusOr<std::span<const std::byte>> GetBytes(const Log<Trade>& log, uint64_t seq) {
  absl::StatusOr<const Trade*> p = log.Get(seq);
  if (!p.ok()) return p.status();
  return std::as_bytes(std::span<const Trade>(*p, 1));
}
inline absl::StatusOr<std::span<const std::byte>> GetBytes(const ByteLog& log, uint64_t seq) {
  return log.Get(seq);
}
inline std::span<const std::byte> ValueBytes(const Trade& t) {
  return std::as_bytes(std::span<const Trade>(&t, 1));
}
inline std::span<const std::byte> ValueBytes(std::span<const std::byte> b) { return b; }

// Get(seq) checked (see CheckGet); `pin`: hold a Pin() across the Get and the check. True if
// the record was read.
template <typename LogT>
bool CheckedGet(const LogT& log, const LogModel& m, const std::string& who, uint64_t seq,
                const Bounds& floor, uint64_t known_end, bool pin, Counts* counts, Tally* tally) {
  ReadPin p;
  if (pin) p = log.Pin();
  SetOp("Get", m.name(), seq);
  const bool read = CheckGet(m, who, seq, floor, known_end, GetBytes(log, seq), tally);
  SetOp("", m.name(), 0);
  if (read) ++(*counts)["records checked"];
  return read;
}

// A scan from `from` to its end, checked. `pause_after_first` runs after the first record.
template <typename LogT, typename Fn>
void CheckedScan(const LogT& log, const LogModel& m, const std::string& who, uint64_t from,
                 const Bounds& floor, Counts* counts, Tally* tally, Fn pause_after_first) {
  const uint64_t end_before = log.end();
  auto scan = log.Scan(from);
  ScanCheck check(m, who, from, end_before, floor, tally);
  SetOp("Scan", m.name(), from);
  bool first = true;
  for (auto it = scan.begin(); it != scan.end(); ++it) {
    const auto& [seq, value] = *it;
    check.Yield(seq, ValueBytes(value));
    if (first) {
      first = false;
      pause_after_first();
    }
  }
  if (first) pause_after_first();
  check.Finish(scan.status());
  SetOp("", m.name(), 0);
  (*counts)["records checked"] += check.records();
}

template <typename LogT>
void CheckedScan(const LogT& log, const LogModel& m, const std::string& who, uint64_t from,
                 const Bounds& floor, Counts* counts, Tally* tally) {
  CheckedScan(log, m, who, from, floor, counts, tally, [] {});
}

template <typename LogT>
void CheckedVerify(const LogT& log, const LogModel& m, const std::string& who, const Bounds& floor,
                   Tally* tally) {
  const uint64_t end_before = log.end();
  SetOp("Verify", m.name(), end_before);
  CheckVerify(m, who, floor, end_before, log.Verify(), tally);
  SetOp("", m.name(), 0);
}

// A read-only Store of its own on the history's store: each Step refreshes both logs, checks
// begin() and end(), reads the newest and random records, scans from a random point, sometimes
// verifies, and loads or lists the checkpoints.
class ReadOnlyReader {
 public:
  ReadOnlyReader(std::string dir, SharedHistory* shared, uint64_t seed, std::string who,
                 EnvTiming timing);
  // Opens the store and its collections; false (and a failure) if it cannot.
  bool Open(Tally* tally);
  void Step(Counts* counts, Tally* tally);

 private:
  template <typename LogT>
  void StepLog(const LogT& log, LogModel& m, HandleWatch* watch, Counts* counts, Tally* tally);

  HistoryEnv env_;  // outlives the store and its handles
  const std::string dir_;
  SharedHistory* const shared_;
  const std::string who_;
  std::mt19937_64 rng_;
  std::unique_ptr<Store> store_;
  Log<Trade> fixed_;
  ByteLog bytes_;
  Checkpoints checkpoints_;
  std::unique_ptr<HandleWatch> fixed_watch_, bytes_watch_;
};

// The forked reader process: a ReadOnlyReader, reopened at each round, stepping until
// shared->stop; writes its serialized Tally to `fd`. Returns the exit code.
int ReaderProcessMain(const std::string& dir, SharedHistory* shared, uint64_t seed,
                      EnvTiming timing, int fd);

}  // namespace recstore::testing::history

#endif  // RECSTORE_TESTS_LOG_HISTORY_READS_H_
