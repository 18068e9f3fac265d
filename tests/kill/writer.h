// The writer child of the kill harness: opens the store with the real Env, and runs threads
// that append self-checking records to a fixed-record and a byte collection (single and
// batch appends) and call Sync(), reporting each append and each returned durable end to the
// parent. It runs until it is killed.
#ifndef RECSTORE_TESTS_KILL_WRITER_H_
#define RECSTORE_TESTS_KILL_WRITER_H_

#include <cstdint>
#include <string>

namespace recstore::kill {

struct WriterConfig {
  std::string dir;  // the store
  uint32_t epoch = 0;
  uint64_t seed = 0;
  int report_fd = -1;  // write end of the report pipe
  int appenders = 3;   // threads that append (and sometimes sync)
  int syncers = 1;     // threads that only sync
  uint64_t segment_size = 64 << 10;
};

// Runs the writer in this (freshly forked) process; never returns. Exits with status 2-6
// (after a message on stderr) if an operation fails, or 7 if it is still alive after 120 s.
[[noreturn]] void RunWriter(const WriterConfig& config);

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_WRITER_H_
