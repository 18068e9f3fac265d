// Printing rendered records on standard output: what dump and tail share. The flags that
// choose the rendering (--format, --max-bytes), a printer that renders into a buffer and
// writes it in blocks, and the loop that prints a scan.
#ifndef RECSTORE_TOOLS_CLI_PRINT_H_
#define RECSTORE_TOOLS_CLI_PRINT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "recstore/recstore.h"
#include "tools/cli/cli.h"
#include "tools/cli/render.h"

namespace recstore::cli {

using UntypedScan = ScanRange<scan_detail::AnyRecords>;
using UntypedFollow = FollowRange<scan_detail::AnyRecords>;

// --format json|csv (default json) and --max-bytes N (default kDefaultMaxBytes, 0: no cap).
std::vector<FlagSpec> RenderFlags();

struct RenderChoice {
  Format format = Format::kJson;
  uint64_t max_bytes = kDefaultMaxBytes;
};
// The rendering the flags ask for; nullopt after printing why they are wrong.
std::optional<RenderChoice> ParseRenderFlags(std::string_view command, const Args& args);

// Renders records into a buffer and writes it to standard output in blocks of about 64 KiB,
// and on Flush(). Starts with the renderer's header.
class RecordPrinter {
 public:
  // Prints at most `limit` records.
  RecordPrinter(RecordRenderer renderer, uint64_t limit);

  // Renders record `seq`. Returns false when no more may be printed: the limit is reached
  // (this record was the last) or a write failed (write_error()).
  [[nodiscard]] bool Print(uint64_t seq, std::span<const std::byte> record);
  // Writes what is buffered and flushes standard output; false if that failed.
  [[nodiscard]] bool Flush();

  bool full() const { return printed_ >= limit_; }
  uint64_t printed() const { return printed_; }
  // One past the last record printed; 0 before the first.
  uint64_t next() const { return next_; }
  // The errno of the failed write (EPIPE: the reader closed the pipe), 0 while none failed.
  int write_error() const { return write_error_; }

 private:
  [[nodiscard]] bool Write();

  RecordRenderer renderer_;
  uint64_t limit_;
  uint64_t printed_ = 0;
  uint64_t next_ = 0;
  int write_error_ = 0;
  std::string buffer_;
};

// Prints the records of `scan` below `until` until the scan ends or the printer is full or
// fails. It stops before the scan moves past the last record printed, so the scan checks no
// record nobody asked for; scan.status() says whether the scan ended early.
void PrintScan(UntypedScan& scan, uint64_t until, RecordPrinter& printer);

}  // namespace recstore::cli

#endif  // RECSTORE_TOOLS_CLI_PRINT_H_
