#include "src/mapped/journal.h"

#include <string_view>

#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/mapped/region.h"

namespace recstore::mapped {
namespace {

using format::kJournalHeaderSize;

std::string EncodeNumbers(const std::vector<uint64_t>& numbers) {
  std::string out;
  out.reserve(numbers.size() * 8);
  for (uint64_t n : numbers) base::PutFixed<uint64_t>(&out, n);
  return out;
}

}  // namespace

absl::Status WriteJournal(Env* env, int fd, const std::string& path, uint64_t file_id, uint64_t seq,
                          const std::string& header_page, const std::byte* elements,
                          const std::vector<PageRun>& runs) {
  std::vector<uint64_t> numbers{0};
  for (const PageRun& r : runs) {
    for (uint64_t p = r.first; p < r.first + r.count; ++p) numbers.push_back(p + 1);
  }
  const std::string encoded = EncodeNumbers(numbers);
  format::JournalHeader h{file_id, seq, numbers.size(), 0};
  std::string head = format::EncodeJournalHeader(h);
  base::ChecksumBuilder sum(seq);
  sum.Add(head.data(), format::kJournalChecksummedHeader).Add(encoded).Add(header_page);
  for (const PageRun& r : runs) sum.Add(elements + r.first * kPage, r.count * kPage);
  h.checksum = sum.Finish();
  head = format::EncodeJournalHeader(h) + encoded;

  // Pages first, the header (which makes the journal valid) in the same flush: a journal is
  // trusted only once its checksum matches, so the order inside one fdatasync is free.
  uint64_t at = format::JournalPagesOffset(numbers.size());
  absl::Status s = env->PWrite(fd, path, header_page, at);
  at += kPage;
  for (const PageRun& r : runs) {
    if (!s.ok()) break;
    s = env->PWrite(fd, path,
                    std::string_view(reinterpret_cast<const char*>(elements + r.first * kPage),
                                     r.count * kPage),
                    at);
    at += r.count * kPage;
  }
  if (s.ok()) s = env->PWrite(fd, path, head, 0);
  return s;
}

absl::StatusOr<std::string> ReadJournalHeaderBytes(Env* env, int fd, const std::string& path) {
  std::string bytes(kJournalHeaderSize, '\0');
  absl::StatusOr<size_t> n = env->PRead(fd, path, bytes.data(), bytes.size(), 0);
  if (!n.ok()) return n.status();
  bytes.resize(*n);
  return bytes;
}

absl::StatusOr<std::optional<format::JournalHeader>> ReadJournalHead(Env* env, int fd,
                                                                     const std::string& path) {
  absl::StatusOr<uint64_t> size = env->FileSize(fd, path);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::string> raw = ReadJournalHeaderBytes(env, fd, path);
  if (!raw.ok()) return raw.status();
  return format::DecodeJournalHeader(*raw, *size);
}

absl::Status MarkJournalApplied(Env* env, int fd, const std::string& path,
                                const format::JournalHeader& header) {
  std::string word;
  base::PutFixed<uint64_t>(&word, format::AppliedTag(header.file_id, header.seq));
  return env->PWrite(fd, path, word, format::kJournalAppliedAt);
}

bool AppliedTo(const std::optional<format::JournalHeader>& head,
               const absl::StatusOr<format::MappedHeader>& header) {
  return head.has_value() && header.ok() && head->file_id == header->file_id &&
         head->seq == header->seq && head->applied == format::AppliedTag(head->file_id, head->seq);
}

absl::StatusOr<std::optional<Journal>> ReadJournal(Env* env, int fd, const std::string& path) {
  absl::StatusOr<uint64_t> size = env->FileSize(fd, path);
  if (!size.ok()) return size.status();
  absl::StatusOr<std::string> raw = ReadJournalHeaderBytes(env, fd, path);
  if (!raw.ok()) return raw.status();
  std::optional<format::JournalHeader> h = format::DecodeJournalHeader(*raw, *size);
  if (!h.has_value()) return std::nullopt;
  // The header checks bound page_count by the file size, so these sizes cannot overflow.
  std::string numbers_bytes(h->page_count * 8, '\0');
  absl::StatusOr<size_t> n =
      env->PRead(fd, path, numbers_bytes.data(), numbers_bytes.size(), kJournalHeaderSize);
  if (!n.ok()) return n.status();
  if (*n != numbers_bytes.size()) return std::nullopt;
  Journal j;
  j.header = *h;
  j.raw_header = *raw;
  j.pages.assign(h->page_count * kPage, '\0');
  n = env->PRead(fd, path, j.pages.data(), j.pages.size(),
                 format::JournalPagesOffset(h->page_count));
  if (!n.ok()) return n.status();
  if (*n != j.pages.size()) return std::nullopt;
  const uint64_t sum = base::ChecksumBuilder(h->seq)
                           .Add(raw->data(), format::kJournalChecksummedHeader)
                           .Add(numbers_bytes)
                           .Add(j.pages)
                           .Finish();
  if (sum != h->checksum) return std::nullopt;

  // A journal whose checksum matches is still hostile: check what redo would write.
  absl::StatusOr<format::MappedHeader> fh =
      format::DecodeMappedHeader(std::string_view(j.pages).substr(0, kPage), path + " (journal)");
  if (!fh.ok() || fh->kind != format::MappedKind::kVector || fh->file_id != h->file_id ||
      fh->seq != h->seq) {
    return std::nullopt;
  }
  j.file_header = *std::move(fh);
  // Pages past the elements the header declares would never be read: refuse them (and with
  // them any number large enough to overflow an offset).
  const uint64_t elem = j.file_header.schema.size;  // 1..2^20
  if (j.file_header.size > (uint64_t{1} << 62) / elem) return std::nullopt;
  const uint64_t element_pages = RoundUpToPage(j.file_header.size * elem) / kPage;
  j.numbers.reserve(h->page_count);
  for (uint64_t i = 0; i < h->page_count; ++i) {
    const uint64_t num = base::DecodeFixed<uint64_t>(numbers_bytes.data() + 8 * i);
    if (i == 0 ? num != 0 : (num <= j.numbers.back() || num > element_pages)) return std::nullopt;
    j.numbers.push_back(num);
  }
  return j;
}

absl::Status ApplyJournal(Env* env, int fd, const std::string& path, const Journal& journal) {
  std::string_view pages(journal.pages);
  for (size_t i = 1; i < journal.numbers.size(); ++i) {
    absl::Status s =
        env->PWrite(fd, path, pages.substr(i * kPage, kPage), journal.numbers[i] * kPage);
    if (!s.ok()) return s;
  }
  return env->PWrite(fd, path, pages.substr(0, kPage), 0);
}

}  // namespace recstore::mapped
