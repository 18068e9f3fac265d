// recstore info DIR            what the manifest and the segment files say
// recstore info FILE           a vector or struct file (mapped.cc)
// recstore verify DIR [COLL]   check every segment header and record checksum
//
// All open the store (or file) read-only, so they may run while a writer is appending.
#include <algorithm>

#include "tools/cli/cli.h"
#include "tools/cli/mapped.h"

namespace recstore::cli {

void PrintRecordSchema(const RecordSchema& schema) {
  fmt::print("  schema:        {} ({} bytes, align {}, {} fields)\n", schema.type_name, schema.size,
             schema.align, schema.fields.size());
  size_t width = 5;
  for (const FieldInfo& f : schema.fields) width = std::max(width, f.name.size());
  fmt::print("    {:<{}}  {:<7} {:>6} {:>6} {:>6}\n", "field", width, "type", "offset", "size",
             "count");
  for (const FieldInfo& f : schema.fields) {
    fmt::print("    {:<{}}  {:<7} {:>6} {:>6} {:>6}\n", f.name, width, FieldTypeName(f.type),
               f.offset, f.size, f.count);
  }
}

namespace {

absl::StatusOr<std::unique_ptr<Store>> OpenReadOnly(const std::string& dir) {
  return Store::Open(dir, {.read_only = true});
}

std::string RecoverySummary(const RecoveryReport& r) {
  std::string s = fmt::format("{}, recorded durable end {}, {} tail records kept, {} records",
                              r.clean() ? "clean" : "repaired", r.durable_point,
                              r.tail_records_kept, r.records);
  if (r.truncated) {
    s += fmt::format("; truncated {} at offset {} ({} bytes dropped, {} segments removed)",
                     r.truncated_file, r.truncated_offset, r.bytes_dropped, r.segments_removed);
  }
  if (!r.skipped.empty()) {
    s += fmt::format("; {} invalid records skipped, first {} in {} at offset {}", r.skipped.size(),
                     r.skipped[0].seq, r.skipped[0].file, r.skipped[0].offset);
  }
  return s;
}

void PrintSchema(const CollectionInfo& info) {
  if (info.kind != CollectionKind::kFixed) {
    fmt::print("  schema:        none (variable-size byte records)\n");
    return;
  }
  PrintRecordSchema(info.schema);
}

void PrintSegments(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> files = SegmentFiles(dir);
  if (!files.ok()) {
    fmt::print("  segment files: {}\n", std::string(files.status().message()));
    return;
  }
  fmt::print("  segment files: {} in {}\n", files->size(), dir);
  for (const std::string& f : *files) fmt::print("    {}\n", f);
}

}  // namespace

// The collection's consumer cursors: position, lag behind end(), and records lost to
// retention (a position below begin()).
void PrintCursors(const Store& store, const UntypedLog& log) {
  absl::StatusOr<std::vector<CursorInfo>> cursors = store.ListCursors(log.name());
  if (!cursors.ok()) {
    fmt::print("  cursors:       cannot be listed: {}\n", std::string(cursors.status().message()));
    return;
  }
  for (const CursorInfo& c : *cursors) {
    const uint64_t end = log.end(), begin = log.begin();
    const uint64_t lag = end > c.position ? end - c.position : 0;
    fmt::print(
        "  cursor {}:  position {}, lag {} record{}, {} commit{}{}\n", c.name, c.position, lag,
        lag == 1 ? "" : "s", c.commits, c.commits == 1 ? "" : "s",
        c.position < begin ? fmt::format(", lost [{}, {}) to retention", c.position, begin) : "");
  }
}

int InfoCommand(int argc, char** argv) {
  std::optional<Args> args = Args::Parse("info", argc, argv, {}, 1, 1);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  if (IsFileArgument(dir)) return MappedInfoCommand(dir);
  absl::StatusOr<std::unique_ptr<Store>> store = OpenReadOnly(dir);
  if (!store.ok()) return FailStatus(store.status(), "info");
  const std::vector<CollectionInfo> collections = (*store)->ListCollections();
  fmt::print("store {}: {} collection{}\n", dir, collections.size(),
             collections.size() == 1 ? "" : "s");
  int exit_code = kExitOk;
  for (const CollectionInfo& c : collections) {
    fmt::print("\ncollection {}\n", c.name);
    fmt::print("  id:            {}\n", c.id);
    fmt::print("  kind:          {}\n", KindName(c.kind));
    if (c.kind == CollectionKind::kFixed) {
      fmt::print("  record:        {} bytes, align {}\n", c.record_size, c.record_align);
    }
    PrintSchema(c);
    fmt::print("  segment size:  {} ({})\n", c.segment_size, Bytes(c.segment_size));
    PrintSegments(CollectionDir(dir, c));
    absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(c.name);
    if (!log.ok()) {
      fmt::print("  open failed:   {}\n", std::string(log.status().message()));
      exit_code = std::max(exit_code, ExitCodeFor(log.status()));
      continue;
    }
    fmt::print("  records:       {} (begin {}, end {})\n", log->size(), log->begin(), log->end());
    const CollectionInfo now = log->info();
    if (now.generation > 0) {
      fmt::print(
          "  compaction:    generation {}, records below {} in compacted segments (with "
          "gaps: the count above is of sequence numbers)\n",
          now.generation, now.compacted_end);
    }
    const RetentionPolicy& r = now.retention;
    if (!r.empty() || r.keep_unconsumed || r.hard_max_bytes > 0 || r.hard_max_age.count() > 0) {
      fmt::print("  retention:     max_records {}, max_bytes {}, max_age {} s{}{}\n", r.max_records,
                 r.max_bytes, r.max_age.count() / 1000000000,
                 r.time_field.empty() ? "" : ", time_field " + r.time_field,
                 r.keep_unconsumed
                     ? fmt::format(", keeps what cursors have not consumed (hard "
                                   "caps: max_bytes {}, max_age {} s)",
                                   r.hard_max_bytes, r.hard_max_age.count() / 1000000000)
                     : "");
    }
    PrintCursors(**store, *log);
    // An end, as everywhere in the tool: the records below it are durable.
    fmt::print("  durable end:   {}\n", log->durable());
    fmt::print("  recovery:      {}\n", RecoverySummary(log->recovery()));
  }
  if (exit_code != kExitOk) return Fail(exit_code, "info: a collection could not be opened");
  return kExitOk;
}

int VerifyCommand(int argc, char** argv) {
  std::optional<Args> args = Args::Parse("verify", argc, argv, {}, 1, 2);
  if (!args) return kExitError;
  const std::string& dir = args->positional()[0];
  absl::StatusOr<std::unique_ptr<Store>> store = OpenReadOnly(dir);
  if (!store.ok()) return FailStatus(store.status(), "verify");
  std::vector<std::string> names;
  if (args->positional().size() == 2) {
    names.push_back(args->positional()[1]);
  } else {
    for (const CollectionInfo& c : (*store)->ListCollections()) names.push_back(c.name);
  }
  int exit_code = kExitOk;
  size_t failed = 0;
  for (const std::string& name : names) {
    absl::StatusOr<UntypedLog> log = (*store)->OpenUntyped(name);
    absl::StatusOr<VerifyReport> report =
        log.ok() ? log->Verify() : absl::StatusOr<VerifyReport>(log.status());
    if (!report.ok()) {
      const std::string hint = report.status().code() == absl::StatusCode::kNotFound
                                   ? CheckpointSetHint(**store, "verify", dir, name)
                                   : "";
      fmt::print("{}: ERROR: {}{}\n", name, std::string(report.status().message()),
                 hint.empty() ? "" : "; " + hint);
      exit_code = std::max(exit_code, ExitCodeFor(report.status()));
      ++failed;
    } else if (!report->ok) {
      const BadRecord& bad = report->first_bad;
      fmt::print("{}: BAD: file {}, offset {}, seq {}: {}\n", name, bad.file, bad.offset, bad.seq,
                 bad.reason);
      exit_code = std::max(exit_code, kExitDataProblem);
      ++failed;
    } else {
      fmt::print("{}: ok: {} records in {} segments, {} bytes checked\n", name,
                 report->records_checked, report->segments_checked, report->bytes_checked);
    }
  }
  std::fflush(stdout);
  if (exit_code != kExitOk) {
    return Fail(exit_code, "verify: {} of {} collections failed", failed, names.size());
  }
  return kExitOk;
}

}  // namespace recstore::cli
