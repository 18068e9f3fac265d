// recstore append DIR COLLECTION [--sync-every N] [--print-durable]
//
// Appends each line of standard input (without its '\n'; a last line without one counts too)
// as one record of the byte log COLLECTION, creating the store and the log if needed. Syncs
// after every N lines (N = 0, the default: only at the end) and at the end of the input when
// lines were appended since the last sync (or when nothing was synced yet). With
// --print-durable, each sync prints "durable_end <n>" and flushes standard output: <n> is the
// durable end Sync() returns, one past the last durable sequence number (every record below
// it is durable; the number of durable records when the log starts at 0), as `info` prints
// it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "tools/cli/cli.h"

namespace recstore::cli {

namespace {

constexpr size_t kReadChunk = 1 << 20;  // initial input buffer; grows for longer lines
constexpr size_t kMaxBatch = 4096;      // lines per AppendBatch

class LineAppender {
 public:
  LineAppender(ByteLog log, uint64_t sync_every, bool print_durable)
      : log_(std::move(log)), sync_every_(sync_every), print_durable_(print_durable) {}

  // Queues one line; appends the queue when full or when a sync is due. `line` must stay
  // valid until Flush().
  absl::Status Add(std::string_view line) {
    batch_.push_back(line);
    ++since_sync_;
    if (sync_every_ != 0 && since_sync_ >= sync_every_) return Sync();
    if (batch_.size() >= kMaxBatch) return Flush();
    return absl::OkStatus();
  }

  // Appends the queued lines.
  absl::Status Flush() {
    if (batch_.empty()) return absl::OkStatus();
    absl::Status s = log_.AppendBatch(batch_).status();
    if (s.ok()) appended_ += batch_.size();
    batch_.clear();
    return s;
  }

  absl::Status Sync() {
    RETURN_IF_ERROR(Flush());
    ASSIGN_OR_RETURN(const uint64_t durable_end, log_.Sync());
    since_sync_ = 0;
    synced_ = true;
    if (print_durable_) {
      fmt::print("durable_end {}\n", durable_end);
      if (std::fflush(stdout) != 0) {
        return absl::UnknownError(
            fmt::format("cannot write to standard output: {}", std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  }

  // End of input: the final sync, if one is needed.
  absl::Status Finish() {
    if (since_sync_ > 0 || !synced_) return Sync();
    return absl::OkStatus();
  }

  uint64_t appended() const { return appended_; }

 private:
  ByteLog log_;
  const uint64_t sync_every_;
  const bool print_durable_;
  std::vector<std::string_view> batch_;
  uint64_t since_sync_ = 0;
  uint64_t appended_ = 0;
  bool synced_ = false;
};

// Feeds every line read from `fd` to `appender`. Reads with read(2), which returns what a
// pipe holds, so lines are appended (and synced) as they arrive rather than once a buffer
// fills.
absl::Status AppendLines(int fd, LineAppender* appender) {
  std::vector<char> buf(kReadChunk);
  size_t len = 0;  // bytes held in buf
  bool eof = false;
  while (!eof) {
    const ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnknownError(
          fmt::format("cannot read standard input: {}", std::strerror(errno)));
    }
    eof = n == 0;
    len += static_cast<size_t>(n);
    size_t pos = 0;
    while (const void* nl = std::memchr(buf.data() + pos, '\n', len - pos)) {
      const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
      RETURN_IF_ERROR(appender->Add(std::string_view(buf.data() + pos, end - pos)));
      pos = end + 1;
    }
    if (eof && pos < len) {
      RETURN_IF_ERROR(appender->Add(std::string_view(buf.data() + pos, len - pos)));
      pos = len;
    }
    // The queued lines point into buf: append them before it is reused.
    RETURN_IF_ERROR(appender->Flush());
    std::memmove(buf.data(), buf.data() + pos, len - pos);
    len -= pos;
    if (len == buf.size()) buf.resize(buf.size() * 2);  // one line fills the buffer
  }
  return absl::OkStatus();
}

}  // namespace

int AppendCommand(int argc, char** argv) {
  std::optional<Args> args =
      Args::Parse("append", argc, argv, {{"sync-every", true}, {"print-durable", false}}, 2, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  const std::optional<uint64_t> sync_every = args->UInt("sync-every", 0);
  if (!sync_every) return kExitError;

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.create_if_missing = true});
  if (!store.ok()) return FailStatus(store.status(), "append");
  absl::StatusOr<ByteLog> log = (*store)->OpenByteLog(name);
  if (!log.ok()) return FailStatus(log.status(), "append");
  LineAppender appender(*log, *sync_every, args->Has("print-durable"));
  absl::Status s = AppendLines(STDIN_FILENO, &appender);
  if (s.ok()) s = appender.Finish();
  if (!s.ok()) {
    // What was appended may not be durable; the next open recovers what was.
    return FailStatus(s, fmt::format("append: after {} records", appender.appended()));
  }
  return kExitOk;
}

}  // namespace recstore::cli
