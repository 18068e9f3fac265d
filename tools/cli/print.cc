#include "tools/cli/print.h"

#include <cerrno>
#include <cstdio>
#include <utility>

namespace recstore::cli {

namespace {

// The buffer is written once it holds about this much.
constexpr size_t kFlushBytes = 64 << 10;

}  // namespace

std::vector<FlagSpec> RenderFlags() { return {{"format", true}, {"max-bytes", true}}; }

std::optional<RenderChoice> ParseRenderFlags(std::string_view command, const Args& args) {
  RenderChoice choice;
  const std::string format = args.Str("format", "json");
  if (format == "json") {
    choice.format = Format::kJson;
  } else if (format == "csv") {
    choice.format = Format::kCsv;
  } else {
    Fail(kExitError, "{}: --format must be json or csv, not '{}'", command, format);
    return std::nullopt;
  }
  const std::optional<uint64_t> max_bytes = args.UInt("max-bytes", kDefaultMaxBytes);
  if (!max_bytes) return std::nullopt;
  choice.max_bytes = *max_bytes;
  return choice;
}

RecordPrinter::RecordPrinter(RecordRenderer renderer, uint64_t limit)
    : renderer_(std::move(renderer)), limit_(limit), buffer_(renderer_.Header()) {
  buffer_.reserve(kFlushBytes * 2);
}

bool RecordPrinter::Print(uint64_t seq, std::span<const std::byte> record) {
  if (full() || write_error_ != 0) return false;
  renderer_.Render(seq, record, &buffer_);
  ++printed_;
  next_ = seq + 1;
  if (buffer_.size() >= kFlushBytes && !Write()) return false;
  return !full();
}

bool RecordPrinter::Write() {
  if (write_error_ != 0) return false;
  errno = 0;
  if (!buffer_.empty() &&
      std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size()) {
    write_error_ = errno != 0 ? errno : EIO;
  }
  buffer_.clear();
  return write_error_ == 0;
}

bool RecordPrinter::Flush() {
  if (!Write()) return false;
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) write_error_ = errno != 0 ? errno : EIO;
  return write_error_ == 0;
}

void PrintScan(UntypedScan& scan, uint64_t until, RecordPrinter& printer) {
  if (printer.full()) return;
  for (const auto& [seq, record] : scan) {
    if (seq >= until || !printer.Print(seq, record)) break;
  }
}

}  // namespace recstore::cli
