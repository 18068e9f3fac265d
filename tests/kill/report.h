// What the writer child tells the parent through a pipe: each report is one fixed-size
// message, written with a single write() (atomic for pipes, so threads may share the pipe).
// The parent keeps every report in its acknowledgement log and checks the store against it
// after the kill.
#ifndef RECSTORE_TESTS_KILL_REPORT_H_
#define RECSTORE_TESTS_KILL_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace recstore::kill {

// The two collections every writer uses.
enum Coll : uint8_t { kFixedColl = 0, kByteColl = 1 };
inline constexpr int kColls = 2;
inline const char* const kCollNames[kColls] = {"fixed", "bytes"};

enum class ReportKind : uint8_t {
  kOpened = 1,    // the collection is open; `seq` is its end()
  kAppended = 2,  // `count` records from `seq` by `thread`, counters from `counter`
  kDurable = 3,   // Sync() returned `seq` as the durable end
};

struct Report {
  ReportKind kind;
  uint8_t coll;
  uint16_t reserved = 0;
  uint32_t thread = 0;
  uint64_t seq = 0;
  uint64_t counter = 0;
  uint64_t count = 0;
};
static_assert(sizeof(Report) == 32);

// Writes `r` to `fd` in one call; false if the parent is gone.
bool SendReport(int fd, const Report& r);

// One line of text for the acknowledgement log.
std::string FormatReport(uint32_t epoch, const Report& r);

// Collects reports from the read end of the pipe.
class ReportReader {
 public:
  explicit ReportReader(int fd) : fd_(fd) {}
  // Waits up to `timeout_ms` (0: do not wait) for data, then appends every complete report
  // read to *out. Returns false once the pipe is at end of file (every writer is gone).
  bool Poll(int timeout_ms, std::vector<Report>* out);

 private:
  int fd_;
  char partial_[sizeof(Report)];
  size_t partial_len_ = 0;
};

}  // namespace recstore::kill

#endif  // RECSTORE_TESTS_KILL_REPORT_H_
