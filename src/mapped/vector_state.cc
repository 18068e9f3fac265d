#include "src/mapped/vector_state.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "src/format/manifest.h"

namespace recstore::mapped {

using format::kMappedPage;

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

absl::StatusOr<std::string> ReadHeaderPage(Env* env, int fd, const std::string& path) {
  std::string page(kMappedPage, '\0');
  absl::StatusOr<size_t> n = env->PRead(fd, path, page.data(), page.size(), 0);
  if (!n.ok()) return n.status();
  page.resize(*n);
  return page;
}

bool JournalApplies(const absl::StatusOr<format::MappedHeader>& header, std::string_view page,
                    const format::JournalHeader& journal) {
  if (!header.ok()) {
    return absl::IsDataLoss(header.status()) || (page.size() == kMappedPage && AllZero(page));
  }
  return journal.file_id == header->file_id &&
         (journal.seq == header->seq || journal.seq == header->seq + 1);
}

uint64_t CoveredBytes(uint64_t file_size, const Journal* journal) {
  uint64_t covered = file_size > kMappedPage ? file_size - kMappedPage : 0;
  // File page n holds element bytes up to n * 4096; numbers are bounded by ReadJournal.
  if (journal != nullptr) covered = std::max(covered, journal->numbers.back() * kPage);
  return covered;
}

absl::Status CheckVectorHeader(const std::string& path, const format::MappedHeader& h,
                               const RecordSchema& schema, uint64_t covered) {
  if (h.kind != format::MappedKind::kVector) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": is a recstore ",
                                                      std::string(format::MappedKindName(h.kind)),
                                                      " file, not a vector file"));
  }
  absl::Status s = format::CompareSchemas(h.schema, schema, absl::StrCat("vector file ", path));
  if (!s.ok()) return s;
  if (h.size > covered / schema.size) {
    return absl::DataLossError(absl::StrCat(path, ": the header says ", h.size, " elements of ",
                                            schema.size, " bytes but the file holds ", covered,
                                            " bytes of elements"));
  }
  return absl::OkStatus();
}

absl::StatusOr<VectorSnapshot> ReadVectorSnapshot(Env* env, int fd, const std::string& path,
                                                  int journal_fd, const std::string& journal_path,
                                                  const RecordSchema& schema, uint64_t max_bytes) {
  absl::Status last;
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt > 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    absl::StatusOr<std::string> page = ReadHeaderPage(env, fd, path);
    if (!page.ok()) return page.status();
    absl::StatusOr<format::MappedHeader> header = format::DecodeMappedHeader(*page, path);
    std::string raw_journal;
    std::optional<Journal> journal;
    if (journal_fd >= 0) {
      absl::StatusOr<std::string> raw = ReadJournalHeaderBytes(env, journal_fd, journal_path);
      if (!raw.ok()) return raw.status();
      raw_journal = *std::move(raw);
      absl::StatusOr<std::optional<format::JournalHeader>> head =
          ReadJournalHead(env, journal_fd, journal_path);
      if (!head.ok()) return head.status();
      // Applied to the file (and marked so after the file's flush): not read further.
      if (!AppliedTo(*head, header)) {
        absl::StatusOr<std::optional<Journal>> read = ReadJournal(env, journal_fd, journal_path);
        if (!read.ok()) return read.status();
        journal = *std::move(read);
      }
      if (journal.has_value() && journal->raw_header != raw_journal) continue;
    }
    const bool use_journal = journal.has_value() && JournalApplies(header, *page, journal->header);
    if (use_journal) header = journal->file_header;
    if (!header.ok()) {
      // A writer may be rewriting the header page under this read (or creating the file).
      last = header.status();
      if (page->size() == kMappedPage && AllZero(*page)) {
        last = absl::DataLossError(
            absl::StrCat(path, ": the header page is zeroed; no valid journal restores it"));
      }
      if (!absl::IsDataLoss(last) && page->size() == kMappedPage) return last;
      continue;
    }
    absl::StatusOr<uint64_t> file_size = env->FileSize(fd, path);
    if (!file_size.ok()) return file_size.status();
    const uint64_t in_file = *file_size > kMappedPage ? *file_size - kMappedPage : 0;
    absl::Status s = CheckVectorHeader(path, *header, schema,
                                       CoveredBytes(*file_size, use_journal ? &*journal : nullptr));
    if (!s.ok()) return s;
    const uint64_t bytes = header->size * schema.size;
    absl::StatusOr<Region> region = Region::Reserve(env, std::max(max_bytes, bytes), path);
    if (!region.ok()) return region.status();
    if (s = region->Extend(RoundUpToPage(bytes), -1, 0, false); !s.ok()) return s;
    // The elements the file holds; past its end (a crash cut a grown file back), the journal
    // holds every page (each was changed by the sync that grew it) and the rest stays zero.
    const uint64_t from_file = std::min(bytes, in_file);
    absl::StatusOr<size_t> n = env->PRead(fd, path, region->base(), from_file, kMappedPage);
    if (!n.ok()) return n.status();
    if (*n != from_file) continue;  // shrunk under the read: a writer recreated it
    if (use_journal) {
      for (size_t i = 1; i < journal->numbers.size(); ++i) {
        const uint64_t at = (journal->numbers[i] - 1) * kPage;
        std::memcpy(region->base() + at, journal->pages.data() + i * kPage,
                    std::min<uint64_t>(kPage, bytes - at));
      }
    }
    // The same header page and journal header after the copy: no sync moved under it (a
    // writer rewrites the journal before it touches the file).
    absl::StatusOr<std::string> again = ReadHeaderPage(env, fd, path);
    if (!again.ok()) return again.status();
    if (*again != *page) continue;
    if (journal_fd >= 0) {
      absl::StatusOr<std::string> raw = ReadJournalHeaderBytes(env, journal_fd, journal_path);
      if (!raw.ok()) return raw.status();
      if (*raw != raw_journal) continue;
    }
    return VectorSnapshot{header->file_id, header->seq, header->size, *std::move(region)};
  }
  if (!last.ok()) return last;
  return absl::UnavailableError(
      absl::StrCat(path, ": the writer synced throughout 100 attempts to read a consistent state"));
}

}  // namespace recstore::mapped
