// recstore compact DIR COLLECTION [--key FIELD] [--key-prefix N] [--before SEQ] [--merge]
//
// Opens the store as its writer and runs one retention or compaction call on COLLECTION:
//   --before SEQ      TruncateBefore(SEQ): drop every record below SEQ
//   --key FIELD       Compact keeping the newest record per value of FIELD (fixed-size records)
//   --key-prefix N    Compact keeping the newest record per first N bytes (byte records)
//   --merge (or none) Merge: fold the segments below the active one into full ones
// The options are mutually exclusive. While a compaction runs and standard error is a
// terminal, a progress bar is redrawn there; at the end a summary goes to standard output.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "tools/cli/cli.h"

namespace recstore::cli {

namespace {

constexpr int kBarWidth = 30;

enum class Mode { kMerge, kKey, kKeyPrefix, kBefore };

// Redraws "[####......] records done/total, MB done/total, pct%" on one line of stderr.
class ProgressBar {
 public:
  void Update(const CompactionProgress& p) {
    const double frac =
        p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
        : p.records_total > 0
            ? static_cast<double>(p.records_done) / static_cast<double>(p.records_total)
            : 1.0;
    const double clamped = std::clamp(frac, 0.0, 1.0);
    const int filled = static_cast<int>(clamped * kBarWidth);
    fmt::print(stderr, "\rcompact: [{}{}] {}/{} records, {:.1f}/{:.1f} MB, {:3.0f}%",
               std::string(filled, '#'), std::string(kBarWidth - filled, '.'),
               Count(static_cast<double>(p.records_done)),
               Count(static_cast<double>(p.records_total)), p.bytes_done / 1e6, p.bytes_total / 1e6,
               clamped * 100);
    std::fflush(stderr);
    drawn_ = true;
  }
  // Ends the bar's line, if one was drawn.
  void Finish() {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool drawn_ = false;
};

void PrintSummary(const std::string& name, const std::string& what, const CompactionStats& s) {
  const double secs = s.seconds;
  auto rate = [secs](uint64_t bytes) {
    return secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0;
  };
  fmt::print("compact {}: {}\n", name, what);
  fmt::print("  records:     {} in, {} kept\n", s.records_in, s.records_kept);
  fmt::print("  bytes:       {} in ({}), {} written ({})\n", s.bytes_in, Bytes(s.bytes_in),
             s.bytes_written, Bytes(s.bytes_written));
  fmt::print("  segments:    {} in, {} out\n", s.segments_in, s.segments_out);
  fmt::print("  generation:  {}\n", s.generation);
  fmt::print("  first seq:   {}\n", s.first_seq);
  fmt::print("  time:        {:.3f} s, {:.1f} MB/s in, {:.1f} MB/s written\n", secs,
             rate(s.bytes_in), rate(s.bytes_written));
}

// Checks that `field` names a field of the fixed-size collection `info`.
bool HasField(const CollectionInfo& info, const std::string& field, std::string* names) {
  for (const FieldInfo& f : info.schema.fields) {
    if (f.name == field) return true;
    if (!names->empty()) *names += ", ";
    *names += f.name;
  }
  return false;
}

}  // namespace

int CompactCommand(int argc, char** argv) {
  std::optional<Args> args =
      Args::Parse("compact", argc, argv,
                  {{"key", true}, {"key-prefix", true}, {"before", true}, {"merge", false}}, 2, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  const int modes =
      args->Has("key") + args->Has("key-prefix") + args->Has("before") + args->Has("merge");
  if (modes > 1) {
    return Fail(kExitError, "compact: give at most one of --key, --key-prefix, --before, --merge");
  }
  Mode mode = Mode::kMerge;
  if (args->Has("key")) mode = Mode::kKey;
  if (args->Has("key-prefix")) mode = Mode::kKeyPrefix;
  if (args->Has("before")) mode = Mode::kBefore;
  const std::optional<uint64_t> before = args->UInt("before", 0);
  const std::optional<uint64_t> prefix = args->UInt("key-prefix", 0);
  if (!before || !prefix) return kExitError;
  const std::string key = args->Str("key", "");
  if (mode == Mode::kKey && key.empty()) return Fail(kExitError, "compact: --key needs a field");
  if (mode == Mode::kKeyPrefix && (*prefix == 0 || *prefix > UINT32_MAX)) {
    return Fail(kExitError, "compact: --key-prefix must be between 1 and {}", UINT32_MAX);
  }

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir);
  if (!store.ok()) return FailStatus(store.status(), "compact");
  absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(name);
  if (!log.ok()) return FailStatus(log.status(), "compact");
  const CollectionInfo info = log->info();
  const bool fixed = info.kind == CollectionKind::kFixed;
  if (mode == Mode::kKey) {
    if (!fixed) {
      return Fail(kExitError,
                  "compact: --key needs a fixed-size collection; '{}' holds byte records "
                  "(use --key-prefix N)",
                  name);
    }
    std::string names;
    if (!HasField(info, key, &names)) {
      return Fail(kExitError, "compact: collection '{}' has no field '{}' (fields: {})", name, key,
                  names);
    }
  }
  if (mode == Mode::kKeyPrefix && fixed) {
    return Fail(kExitError,
                "compact: --key-prefix needs a byte collection; '{}' holds fixed-size records "
                "(use --key FIELD)",
                name);
  }

  ProgressBar bar;
  CompactOptions options;
  if (isatty(STDERR_FILENO) == 1) {
    options.progress = [&bar](const CompactionProgress& p) { bar.Update(p); };
  }
  absl::StatusOr<CompactionStats> stats;
  std::string what;
  const auto start = std::chrono::steady_clock::now();
  switch (mode) {
    case Mode::kBefore:
      what = fmt::format("truncate before {}", *before);
      stats = log->TruncateBefore(*before);
      break;
    case Mode::kKey:
      what = fmt::format("keep the newest record per {}", key);
      options.key.field = key;
      stats = log->Compact(options);
      break;
    case Mode::kKeyPrefix:
      what = fmt::format("keep the newest record per {}-byte key prefix", *prefix);
      options.key.prefix = static_cast<uint32_t>(*prefix);
      stats = log->Compact(options);
      break;
    case Mode::kMerge:
      what = "merge";
      stats = log->Compact(options);
      break;
  }
  bar.Finish();
  if (!stats.ok()) return FailStatus(stats.status(), fmt::format("compact: {}", what));
  if (stats->seconds <= 0) {
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  PrintSummary(name, what, *stats);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Fail(kExitError, "compact: cannot write to standard output");
  }
  return kExitOk;
}

}  // namespace recstore::cli
