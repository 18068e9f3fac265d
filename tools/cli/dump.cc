// recstore dump DIR COLLECTION [--from SEQ] [--limit N] [--format json|csv] [--max-bytes N]
// recstore dump FILE [--from INDEX] [--limit N] [--format json|csv] [--max-bytes N]
//
// Renders records with the schema from the manifest (see render.h for the formats), or the
// last synced state of a vector or struct file with the schema in its header (mapped.cc).
#include <cstring>
#include <limits>

#include "tools/cli/cli.h"
#include "tools/cli/mapped.h"
#include "tools/cli/print.h"
#include "tools/cli/render.h"

namespace recstore::cli {

int DumpCommand(int argc, char** argv) {
  std::vector<FlagSpec> flags = RenderFlags();
  flags.push_back({"from", true});
  flags.push_back({"limit", true});
  std::optional<Args> args = Args::Parse("dump", argc, argv, flags, 1, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::optional<uint64_t> from = args->UInt("from", 0);
  const std::optional<uint64_t> limit = args->UInt("limit", std::numeric_limits<uint64_t>::max());
  const std::optional<RenderChoice> choice = ParseRenderFlags("dump", *args);
  if (!from || !limit || !choice) return kExitError;
  if (IsFileArgument(dir)) {
    if (args->positional().size() != 1) {
      return Fail(kExitError,
                  "dump: {} is a file (a vector or struct file), which takes no COLLECTION", dir);
    }
    return MappedDumpCommand(dir, *from, *limit, choice->format, choice->max_bytes);
  }
  if (args->positional().size() != 2) {
    return Fail(
        kExitError,
        "dump: wrong number of arguments: a store takes DIR COLLECTION (see recstore --help)");
  }
  const std::string& name = args->positional()[1];

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return FailStatus(store.status(), "dump");
  absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(name);
  if (!log.ok()) return FailCollectionOpen(log.status(), **store, "dump", dir, name);
  absl::StatusOr<RecordRenderer> renderer =
      RecordRenderer::Create(log->info(), choice->format, choice->max_bytes);
  if (!renderer.ok()) return FailStatus(renderer.status(), "dump");

  RecordPrinter printer(*std::move(renderer), *limit);
  UntypedScan scan = log->Scan(*from);
  PrintScan(scan, std::numeric_limits<uint64_t>::max(), printer);
  if (!printer.Flush()) {
    return Fail(kExitError, "dump: cannot write to standard output: {}",
                std::strerror(printer.write_error()));
  }
  if (!scan.status().ok()) {
    return FailStatus(scan.status(),
                      fmt::format("dump: stopped after {} records", printer.printed()));
  }
  return kExitOk;
}

}  // namespace recstore::cli
