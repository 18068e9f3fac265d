// recstore tail DIR COLLECTION [--from SEQ | --cursor NAME] [--limit N] [--follow]
//                              [--durable] [--format json|csv] [--max-bytes N]
//
// Prints the last records of a collection, as dump renders them, and with --follow the
// records appended after them as they arrive. Runs beside the writer: opens the store
// read-only. With --cursor it starts at the consumer cursor NAME (created at begin() if
// missing) and commits it past every record once that record reached standard output.
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <span>

#include "tools/cli/cli.h"
#include "tools/cli/print.h"
#include "tools/cli/render.h"
#include "tools/cli/stopper.h"

namespace recstore::cli {

namespace {

// Without --from, tail starts this many records before the end.
constexpr uint64_t kDefaultRecords = 10;

struct TailFlags {
  std::optional<uint64_t> from;
  std::optional<std::string> cursor;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  bool follow = false;
  bool durable = false;
};

std::optional<TailFlags> ParseTailFlags(const Args& args) {
  TailFlags flags;
  if (args.Has("from")) {
    flags.from = args.UInt("from", 0);
    if (!flags.from) return std::nullopt;
  }
  if (args.Has("cursor")) {
    if (flags.from) {
      Fail(kExitError, "tail: --from and --cursor exclude each other");
      return std::nullopt;
    }
    flags.cursor = args.Str("cursor", "");
  }
  const std::optional<uint64_t> limit = args.UInt("limit", flags.limit);
  if (!limit) return std::nullopt;
  flags.limit = *limit;
  flags.follow = args.Has("follow");
  flags.durable = args.Has("durable");
  return flags;
}

// The end of what tail may print now: end(), or durable() with --durable.
uint64_t PrintableEnd(const UntypedLog& log, const TailFlags& flags) {
  return flags.durable ? log.durable() : log.end();
}

// Where tail starts: --from, the cursor's position, or the last kDefaultRecords records of
// those it may print.
uint64_t StartPosition(const UntypedLog& log, const TailFlags& flags, const Cursor* cursor) {
  if (flags.from) return *flags.from;
  if (cursor != nullptr) return cursor->position();
  const uint64_t end = PrintableEnd(log, flags);
  return std::max(log.begin(), end - std::min(end, kDefaultRecords));
}

// The point where printed records count as processed: every record the printer took reaches
// standard output, then the cursor (if any) is committed past them. False when output fails
// (printer.write_error() says why) or the commit does (*commit_error says why).
[[nodiscard]] bool DeliverPrinted(RecordPrinter& printer, Cursor* cursor,
                                  absl::Status* commit_error) {
  if (!printer.Flush()) return false;
  if (cursor == nullptr || printer.next() <= cursor->position()) return true;
  *commit_error = cursor->Commit(printer.next());
  return commit_error->ok();
}

// What tail shares between its steps: the printer, the cursor, and a failed commit.
struct Output {
  RecordPrinter& printer;
  Cursor* cursor = nullptr;
  absl::Status commit_error;

  [[nodiscard]] bool Deliver() { return DeliverPrinted(printer, cursor, &commit_error); }
};

void ReportGap(const Gap& gap) {
  fmt::print(stderr,
             "recstore: records [{}, {}) were dropped by retention before they could be read\n",
             gap.from, gap.to);
}

// Reports the gaps of `gaps` from index `reported` on; returns how many are reported now.
size_t ReportGaps(const std::vector<Gap>& gaps, size_t reported) {
  for (; reported < gaps.size(); ++reported) ReportGap(gaps[reported]);
  return reported;
}

// The exit code once printing stopped: output the reader closed (EPIPE) ends tail normally.
int OutputExitCode(const Output& out) {
  if (!out.commit_error.ok()) return FailStatus(out.commit_error, "tail: committing the cursor");
  const RecordPrinter& printer = out.printer;
  if (printer.write_error() == 0 || printer.write_error() == EPIPE) return kExitOk;
  return Fail(kExitError, "tail: cannot write to standard output: {}",
              std::strerror(printer.write_error()));
}

// Prints what the log holds from the start position up to its (durable) end as of now.
int PrintCurrent(const UntypedLog& log, const TailFlags& flags, Output& out) {
  RecordPrinter& printer = out.printer;
  const uint64_t until = PrintableEnd(log, flags);
  UntypedScan scan = log.Scan(StartPosition(log, flags, out.cursor));
  if (const Gap lost = scan.lost(); !lost.empty()) ReportGap(lost);
  PrintScan(scan, until, printer);
  if (!out.Deliver()) return OutputExitCode(out);
  if (!scan.status().ok()) {
    return FailStatus(scan.status(),
                      fmt::format("tail: stopped after {} records", printer.printed()));
  }
  return kExitOk;
}

// Prints records from the start position as they arrive, until a stop signal, the reader of
// standard output leaving, the limit, or an error.
int PrintFollowing(const UntypedLog& log, const TailFlags& flags, Output& out) {
  RecordPrinter& printer = out.printer;
  if (!out.Deliver()) return OutputExitCode(out);  // the CSV header
  if (printer.full()) return kExitOk;
  FollowOptions options{.on_gap = FollowOptions::OnGap::kSkip};
  if (flags.durable) options.wait.until = WaitOptions::Until::kDurable;
  UntypedFollow follow = log.Follow(StartPosition(log, flags, out.cursor), options);
  absl::StatusOr<std::unique_ptr<FollowStopper>> stopper = FollowStopper::Start(follow);
  if (!stopper.ok()) return FailStatus(stopper.status(), "tail");

  size_t gaps_reported = 0;
  for (const auto& [seq, record] : follow) {
    gaps_reported = ReportGaps(follow.gaps(), gaps_reported);
    const bool more = printer.Print(seq, record);
    // After the last record the follow fetched, it may sleep: deliver what was printed first.
    if ((!more || seq + 1 >= follow.position()) && !out.Deliver()) break;
    if (!more) break;
  }
  stopper->reset();  // joined: nothing calls Stop() any more
  ReportGaps(follow.gaps(), gaps_reported);
  if (!out.Deliver()) return OutputExitCode(out);
  if (!follow.done() || follow.status().code() == absl::StatusCode::kCancelled) return kExitOk;
  return FailStatus(follow.status(),
                    fmt::format("tail: stopped after {} records", printer.printed()));
}

}  // namespace

int TailCommand(int argc, char** argv) {
  std::vector<FlagSpec> specs = RenderFlags();
  specs.insert(
      specs.end(),
      {{"from", true}, {"cursor", true}, {"limit", true}, {"follow", false}, {"durable", false}});
  const std::optional<Args> args = Args::Parse("tail", argc, argv, specs, 2, 2);
  if (!args) return kExitError;
  const std::optional<TailFlags> flags = ParseTailFlags(*args);
  const std::optional<RenderChoice> choice = ParseRenderFlags("tail", *args);
  if (!flags || !choice) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];

  // A reader that closed the pipe shows as EPIPE on a write, which ends tail normally.
  signal(SIGPIPE, SIG_IGN);
  if (flags->follow) {
    // Before the store is opened: no thread may take SIGINT or SIGTERM but the stopper's.
    if (absl::Status s = BlockStopSignals(); !s.ok()) return FailStatus(s, "tail");
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return FailStatus(store.status(), "tail");
  absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(name);
  if (!log.ok()) return FailCollectionOpen(log.status(), **store, "tail", dir, name);
  absl::StatusOr<RecordRenderer> renderer =
      RecordRenderer::Create(log->info(), choice->format, choice->max_bytes);
  if (!renderer.ok()) return FailStatus(renderer.status(), "tail");

  std::optional<Cursor> cursor;
  if (flags->cursor) {
    absl::StatusOr<Cursor> opened = (*store)->OpenCursor(name, *flags->cursor);
    if (!opened.ok()) return FailStatus(opened.status(), "tail");
    cursor = *std::move(opened);
  }
  RecordPrinter printer(*std::move(renderer), flags->limit);
  Output out{printer, cursor ? &*cursor : nullptr, absl::OkStatus()};
  return flags->follow ? PrintFollowing(*log, *flags, out) : PrintCurrent(*log, *flags, out);
}

}  // namespace recstore::cli
