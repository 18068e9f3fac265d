// recstore info FILE and recstore dump FILE for vector and struct files (see mapped.h).
#include "tools/cli/mapped.h"

#include <sys/stat.h>

#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "src/mapped/inspect.h"
#include "tools/cli/cli.h"
#include "tools/cli/print.h"

namespace recstore::cli {

namespace {

using mapped::Inspection;
using mapped::JournalState;

bool IsVector(const Inspection& in) { return in.kind() == format::MappedKind::kVector; }

// The file read as inspect.h reads it; nullopt after printing the one error line (exit code
// in `*code`).
std::optional<Inspection> Read(std::string_view command, const std::string& path, int* code) {
  absl::StatusOr<bool> mapped = mapped::IsMappedFile(nullptr, path);
  if (!mapped.ok()) {
    *code = FailStatus(mapped.status(), command);
    return std::nullopt;
  }
  if (!*mapped) {
    *code = Fail(kExitError,
                 "{}: {}: not a recstore vector or struct file (no RSMAPPED header page); a "
                 "store is a directory",
                 command, path);
    return std::nullopt;
  }
  absl::StatusOr<Inspection> in = mapped::Inspect(nullptr, path);
  if (!in.ok()) {
    *code = FailStatus(in.status(), command);
    return std::nullopt;
  }
  return *std::move(in);
}

std::string Pages(uint64_t pages) {
  const uint64_t elements = pages > 0 ? pages - 1 : 0;
  return fmt::format("header + {} element page{}", elements, elements == 1 ? "" : "s");
}

std::string JournalText(const Inspection& in) {
  const JournalState& j = in.journal();
  const uint64_t file_seq = in.file_header().has_value() ? in.file_header()->seq : 0;
  std::string text = in.journal_path();
  if (j.kind != JournalState::Kind::kAbsent) text += fmt::format(" ({} bytes)", j.bytes);
  text += ": ";
  switch (j.kind) {
    case JournalState::Kind::kAbsent:
      return text + "absent";
    case JournalState::Kind::kEmpty:
      return text + "empty";
    case JournalState::Kind::kInvalid:
      return text + "no valid journal (a sync torn before its commit point, or damage): ignored";
    case JournalState::Kind::kOtherFile:
      return text + fmt::format("holds sync {} of another file (another file id): ignored", j.seq);
    case JournalState::Kind::kStale:
      return text +
             fmt::format("holds sync {}, older than the file's sync {}: ignored", j.seq, file_seq);
    case JournalState::Kind::kApplied:
      return text + fmt::format("holds sync {} ({}), applied", j.seq, Pages(j.pages));
    case JournalState::Kind::kPending:
      return text + fmt::format(
                        "holds sync {} ({}), committed but not applied: redo pending (the next "
                        "writable open applies it; dump shows it)",
                        j.seq, Pages(j.pages));
    case JournalState::Kind::kLost:
      return text + fmt::format(
                        "holds sync {} ({}), but the file is at sync {}: the syncs between are "
                        "lost",
                        j.seq, Pages(j.pages), file_seq);
  }
  return text;
}

int VectorInfo(const Inspection& in) {
  fmt::print("vector file {}\n", in.path());
  PrintRecordSchema(in.schema());
  const std::optional<format::MappedHeader>& header = in.file_header();
  if (!header.has_value()) {
    std::string_view error = in.header_error();
    if (error.starts_with(in.path() + ": ")) error.remove_prefix(in.path().size() + 2);
    fmt::print("  header page:   damaged: {}; the journal restores it\n", error);
  }
  fmt::print("  elements:      {}\n", in.records());
  std::string note;
  if (in.journal().kind == JournalState::Kind::kPending && header.has_value()) {
    note = header->seq != in.seq()
               ? fmt::format(
                     " (committed in the journal; the file's header page is at sync {} "
                     "with {} element{})",
                     header->seq, header->size, header->size == 1 ? "" : "s")
               : " (the file lacks pages of it that the journal holds)";
  }
  fmt::print("  sync count:    {}{}\n", in.seq(), note);
  fmt::print("  file size:     {} ({}), room for {} element{}\n", in.file_size(),
             Bytes(in.file_size()), in.capacity(), in.capacity() == 1 ? "" : "s");
  fmt::print("  journal:       {}\n", JournalText(in));
  if (in.journal().kind == JournalState::Kind::kLost) {
    return Fail(kExitDataProblem,
                "info: {}: its journal holds sync {} but the file is at sync {}: the syncs "
                "between are lost",
                in.path(), in.journal().seq, header->seq);
  }
  return kExitOk;
}

int StructInfo(const Inspection& in) {
  fmt::print("struct file {}\n", in.path());
  PrintRecordSchema(in.schema());
  const format::StructLayout layout = format::StructLayoutFor(in.schema().size);
  fmt::print("  file size:     {} ({}): header page, live struct at {}, slots at {} and {}\n",
             in.file_size(), Bytes(in.file_size()), layout.live, layout.slot[0], layout.slot[1]);
  fmt::print("  sync count:    {}\n", in.seq());
  for (int i = 0; i < 2; ++i) {
    const mapped::SlotState& s = in.slots()[i];
    std::string state;
    if (s.valid) {
      state = fmt::format("seq {}, valid{}", s.seq, i == in.newest_slot() ? " (newest)" : "");
    } else if (s.seq == 0) {
      state = "empty";
    } else {
      state = fmt::format(
          "seq {}, damaged (checksum mismatch; a sync torn by a crash leaves "
          "one so)",
          s.seq);
    }
    fmt::print("  slot {}:        {}\n", i, state);
  }
  return kExitOk;
}

}  // namespace

bool IsFileArgument(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int MappedInfoCommand(const std::string& path) {
  int code = kExitOk;
  std::optional<Inspection> in = Read("info", path, &code);
  if (!in.has_value()) return code;
  return IsVector(*in) ? VectorInfo(*in) : StructInfo(*in);
}

int MappedDumpCommand(const std::string& path, uint64_t from, uint64_t limit, Format format,
                      uint64_t max_bytes) {
  int code = kExitOk;
  std::optional<Inspection> in = Read("dump", path, &code);
  if (!in.has_value()) return code;
  CollectionInfo info;
  info.name = path;
  info.kind = CollectionKind::kFixed;
  info.record_size = in->schema().size;
  info.record_align = in->schema().align;
  info.schema = in->schema();
  absl::StatusOr<RecordRenderer> renderer =
      RecordRenderer::Create(info, format, max_bytes, IsVector(*in) ? "index" : "seq");
  if (!renderer.ok()) return FailStatus(renderer.status(), "dump");

  RecordPrinter printer(*std::move(renderer), limit);
  const std::span<const std::byte> data = in->data();
  const size_t size = in->schema().size;
  if (IsVector(*in)) {
    for (uint64_t i = from; i < in->records(); ++i) {
      if (!printer.Print(i, data.subspan(i * size, size))) break;
    }
  } else if (from == 0) {
    (void)printer.Print(in->seq(), data);
  }
  if (!printer.Flush()) {
    return Fail(kExitError, "dump: cannot write to standard output: {}",
                std::strerror(printer.write_error()));
  }
  return kExitOk;
}

}  // namespace recstore::cli
