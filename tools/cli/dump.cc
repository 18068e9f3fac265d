// recstore dump DIR COLLECTION [--from SEQ] [--limit N] [--format json|csv]
//
// Renders records with the schema from the manifest (see render.h for the formats).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "tools/cli/cli.h"
#include "tools/cli/render.h"

namespace recstore::cli {

namespace {

// Output is collected and written in blocks of about this size.
constexpr size_t kFlushBytes = 64 << 10;

bool WriteOut(std::string* out) {
  const bool ok = std::fwrite(out->data(), 1, out->size(), stdout) == out->size();
  out->clear();
  return ok;
}

}  // namespace

int DumpCommand(int argc, char** argv) {
  std::optional<Args> args =
      Args::Parse("dump", argc, argv, {{"from", true}, {"limit", true}, {"format", true}}, 2, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  const std::string& name = args->positional()[1];
  const std::optional<uint64_t> from = args->UInt("from", 0);
  const std::optional<uint64_t> limit = args->UInt("limit", std::numeric_limits<uint64_t>::max());
  if (!from || !limit) return kExitError;
  const std::string format_name = args->Str("format", "json");
  Format format;
  if (format_name == "json") {
    format = Format::kJson;
  } else if (format_name == "csv") {
    format = Format::kCsv;
  } else {
    return Fail(kExitError, "dump: --format must be json or csv, not '{}'", format_name);
  }

  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir, {.read_only = true});
  if (!store.ok()) return FailStatus(store.status(), "dump");
  absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(name);
  if (!log.ok()) return FailStatus(log.status(), "dump");
  absl::StatusOr<RecordRenderer> renderer = RecordRenderer::Create(log->info(), format);
  if (!renderer.ok()) return FailStatus(renderer.status(), "dump");

  std::string out = renderer->Header();
  out.reserve(kFlushBytes * 2);
  auto scan = log->Scan(*from);
  uint64_t n = 0;
  if (*limit > 0) {
    for (const auto& [seq, record] : scan) {
      renderer->Render(seq, record, &out);
      if (out.size() >= kFlushBytes && !WriteOut(&out)) break;
      // Stop before the iterator moves on: it would check records nobody asked for.
      if (++n == *limit) break;
    }
  }
  if (!out.empty()) WriteOut(&out);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Fail(kExitError, "dump: cannot write to standard output: {}", std::strerror(errno));
  }
  if (!scan.status().ok()) {
    return FailStatus(scan.status(), fmt::format("dump: stopped after {} records", n));
  }
  return kExitOk;
}

}  // namespace recstore::cli
