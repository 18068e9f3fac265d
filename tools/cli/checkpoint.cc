// recstore checkpoint DIR NAME --show [--keep K] [--bytes N]
//
// Opens the store read-only and prints the checkpoint set NAME (the byte log
// "checkpoint.NAME"): one line per kept version (the last K; without --keep, the keep the
// writer recorded with its newest version), newest first, with
// its sequence number, save time (ISO-8601 UTC) and size, then the first N bytes (default 64)
// of the version Load() returns, as hex. A damaged version is reported on stderr and makes
// the exit status 1; a set with no version prints "no checkpoint saved".
#include <time.h>

#include <algorithm>
#include <cctype>

#include "tools/cli/cli.h"

namespace recstore::cli {

namespace {

std::string IsoTime(int64_t ns) {
  const time_t secs =
      static_cast<time_t>(ns >= 0 ? ns / 1'000'000'000 : (ns + 1) / 1'000'000'000 - 1);
  const int64_t frac = ns - static_cast<int64_t>(secs) * 1'000'000'000;
  struct tm tm;
  if (gmtime_r(&secs, &tm) == nullptr) return fmt::format("{} ns", ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void PrintHex(std::string_view bytes) {
  for (size_t line = 0; line < bytes.size(); line += 16) {
    std::string hex, text;
    for (size_t i = line; i < line + 16; ++i) {
      if (i < bytes.size()) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        hex += fmt::format("{:02x} ", c);
        text += std::isprint(c) ? static_cast<char>(c) : '.';
      } else {
        hex += "   ";
      }
    }
    fmt::print("  {:08x}  {} |{}|\n", line, hex, text);
  }
}

}  // namespace

int CheckpointCommand(int argc, char** argv) {
  std::optional<Args> args = Args::Parse("checkpoint", argc, argv,
                                         {{"show", false}, {"keep", true}, {"bytes", true}}, 2, 2);
  if (!args) return kExitError;
  if (!args->Has("show")) return Fail(kExitError, "checkpoint: nothing to do (use --show)");
  // No --keep: the keep the writer recorded with its newest version.
  const std::optional<uint64_t> keep = args->UInt("keep", 0);
  const std::optional<uint64_t> nbytes = args->UInt("bytes", 64);
  if (!keep || !nbytes) return kExitError;
  if (args->Has("keep") && (*keep == 0 || *keep > kMaxCheckpointKeep)) {
    return Fail(kExitError, "checkpoint: --keep must be 1 to {}", kMaxCheckpointKeep);
  }
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return FailStatus(store.status(), "checkpoint");
  absl::StatusOr<Checkpoints> ckpt = (*store)->OpenCheckpoints(
      name, {.keep = static_cast<uint32_t>(*keep), .create_if_missing = false});
  if (!ckpt.ok()) return FailStatus(ckpt.status(), fmt::format("checkpoint set '{}'", name));
  absl::StatusOr<std::vector<CheckpointInfo>> list = ckpt->List();
  if (!list.ok()) return FailStatus(list.status(), fmt::format("checkpoint set '{}'", name));
  const ByteLog& log = ckpt->log();
  fmt::print("checkpoint set {} (log {}): records [{}, {}), keep {}\n", name, log.name(),
             log.begin(), log.end(), ckpt->keep());
  const uint64_t kept = std::min<uint64_t>(ckpt->keep(), log.end() - log.begin());
  if (kept == 0) {
    fmt::print("no checkpoint saved\n");
    return kExitOk;
  }
  fmt::print("  {:>10}  {:<30}  {:>12}\n", "seq", "time (UTC)", "bytes");
  for (const CheckpointInfo& i : *list) {
    fmt::print("  {:>10}  {:<30}  {:>12}\n", i.seq, IsoTime(i.time_ns), i.size);
  }
  int exit_code = kExitOk;
  if (list->size() < kept) {
    Fail(kExitDataProblem, "checkpoint set '{}': {} of the {} kept versions are damaged", name,
         kept - list->size(), kept);
    exit_code = kExitDataProblem;
  }
  absl::StatusOr<Checkpoint> newest = ckpt->Load();
  if (!newest.ok()) return FailStatus(newest.status(), fmt::format("checkpoint set '{}'", name));
  const size_t shown = std::min<uint64_t>(*nbytes, newest->data.size());
  fmt::print("newest intact: seq {}, first {} of {} bytes\n", newest->info.seq, shown,
             newest->data.size());
  PrintHex(std::string_view(newest->data).substr(0, shown));
  return exit_code;
}

}  // namespace recstore::cli
