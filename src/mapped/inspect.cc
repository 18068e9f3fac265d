#include "src/mapped/inspect.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/base/endian.h"
#include "src/mapped/journal.h"
#include "src/mapped/struct_storage.h"
#include "src/mapped/vector_storage.h"
#include "src/os/file.h"

namespace recstore::mapped {
namespace {

using format::kMappedPage;

// Attempts to read slots that agree with the snapshot a read-only open took, while a writer
// may sync in between.
constexpr int kStructAttempts = 100;

absl::StatusOr<std::string> ReadAt(Env* env, const os::File& f, uint64_t offset, size_t len) {
  std::string bytes(len, '\0');
  absl::StatusOr<size_t> n = env->PRead(f.fd(), f.path(), bytes.data(), len, offset);
  if (!n.ok()) return n.status();
  bytes.resize(*n);
  return bytes;
}

// Whether the vector file holds every page of `j` (its header page being `page`).
absl::StatusOr<bool> FileHoldsJournal(Env* env, const os::File& f, std::string_view page,
                                      const Journal& j) {
  const std::string_view pages(j.pages);
  if (page != pages.substr(0, kPage)) return false;
  for (size_t i = 1; i < j.numbers.size(); ++i) {
    absl::StatusOr<std::string> have = ReadAt(env, f, j.numbers[i] * kPage, kPage);
    if (!have.ok()) return have.status();
    if (*have != pages.substr(i * kPage, kPage)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<bool> IsMappedFile(Env* env, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (env == nullptr) env = Env::Default();
  absl::StatusOr<os::File> f = os::File::Open(env, path, O_RDONLY);
  if (!f.ok()) return f.status();
  absl::StatusOr<std::string> head = ReadAt(env, *f, 0, 8);
  if (!head.ok()) return head.status();
  return format::LooksLikeMappedFile(*head);
}

Inspection::Inspection() = default;
Inspection::Inspection(Inspection&&) noexcept = default;
Inspection& Inspection::operator=(Inspection&&) noexcept = default;
Inspection::~Inspection() = default;

absl::StatusOr<Inspection> Inspect(Env* env, const std::string& path) {
  if (env == nullptr) env = Env::Default();
  absl::StatusOr<os::File> f = os::File::Open(env, path, O_RDONLY);
  if (!f.ok()) return f.status();
  absl::StatusOr<uint64_t> file_size = env->FileSize(f->fd(), path);
  if (!file_size.ok()) return file_size.status();
  absl::StatusOr<std::string> page = ReadAt(env, *f, 0, kMappedPage);
  if (!page.ok()) return page.status();
  absl::StatusOr<format::MappedHeader> header = format::DecodeMappedHeader(*page, path);
  if (!header.ok() && !absl::IsDataLoss(header.status())) return header.status();

  Inspection in;
  in.path_ = path;
  in.file_size_ = *file_size;
  if (header.ok() && header->kind == format::MappedKind::kStruct) {
    in.kind_ = format::MappedKind::kStruct;
    in.schema_ = header->schema;
    in.file_header_ = *header;
    const format::StructLayout layout = format::StructLayoutFor(in.schema_.size);
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<internal::StructStorage>> st =
          internal::StructStorage::Open(path, {.read_only = true, .env = env}, in.schema_);
      if (!st.ok()) return st.status();
      in.newest_slot_ = -1;
      for (int i = 0; i < 2; ++i) {
        SlotState& slot = in.slots_[i];
        slot = SlotState{.offset = layout.slot[i]};
        absl::StatusOr<std::string> bytes =
            ReadAt(env, *f, slot.offset, format::kSlotHeaderSize + in.schema_.size);
        if (!bytes.ok()) return bytes.status();
        if (bytes->size() != format::kSlotHeaderSize + in.schema_.size) continue;
        slot.seq = base::DecodeFixed<uint64_t>(bytes->data());
        slot.valid = format::DecodeSlot(*bytes, in.schema_.size, header->file_id).has_value();
        if (slot.valid && (in.newest_slot_ < 0 || slot.seq > in.slots_[in.newest_slot_].seq)) {
          in.newest_slot_ = i;
        }
      }
      // A sync between the open and the slot reads: read both again.
      if ((in.newest_slot_ < 0 || in.slots_[in.newest_slot_].seq != (*st)->sync_count()) &&
          attempt + 1 < kStructAttempts) {
        continue;
      }
      in.struct_ = *std::move(st);
      break;
    }
    in.seq_ = in.struct_->sync_count();
    in.records_ = 1;
    in.data_ = {in.struct_->live(), in.schema_.size};
    return in;
  }

  // A vector file, or a damaged header page that only its journal can tell about.
  in.kind_ = format::MappedKind::kVector;
  in.journal_path_ = path + "-journal";
  std::optional<Journal> journal;
  absl::StatusOr<os::File> jf = os::File::Open(env, in.journal_path_, O_RDONLY);
  if (jf.ok()) {
    absl::StatusOr<uint64_t> size = env->FileSize(jf->fd(), in.journal_path_);
    if (!size.ok()) return size.status();
    in.journal_.bytes = *size;
    absl::StatusOr<std::optional<Journal>> read = ReadJournal(env, jf->fd(), in.journal_path_);
    if (!read.ok()) return read.status();
    journal = *std::move(read);
    in.journal_.kind = *size == 0 ? JournalState::Kind::kEmpty : JournalState::Kind::kInvalid;
  } else if (!absl::IsNotFound(jf.status())) {
    return jf.status();
  }
  if (journal.has_value()) {
    in.journal_.seq = journal->header.seq;
    in.journal_.pages = journal->numbers.size();
  }
  if (!header.ok()) {
    if (!journal.has_value()) {
      return absl::DataLossError(
          absl::StrCat(header.status().message(), "; no valid journal restores it"));
    }
    // As a writable open would: the journal's header page replaces the damaged one.
    in.header_error_ = std::string(header.status().message());
    in.journal_.kind = JournalState::Kind::kPending;
    in.schema_ = journal->file_header.schema;
  } else {
    in.file_header_ = *header;
    in.schema_ = header->schema;
    if (journal.has_value()) {
      using Kind = JournalState::Kind;
      const uint64_t js = journal->header.seq;
      if (journal->header.file_id != header->file_id) {
        in.journal_.kind = Kind::kOtherFile;
      } else if (js < header->seq) {
        in.journal_.kind = Kind::kStale;
      } else if (js > header->seq + 1) {
        in.journal_.kind = Kind::kLost;
      } else if (js == header->seq + 1) {
        in.journal_.kind = Kind::kPending;
      } else {
        absl::StatusOr<bool> holds = FileHoldsJournal(env, *f, *page, *journal);
        if (!holds.ok()) return holds.status();
        in.journal_.kind = *holds ? Kind::kApplied : Kind::kPending;
      }
    }
  }
  // Address space for everything the file may hold (nothing is allocated until read).
  const uint64_t max_bytes = std::max(MappedVectorOptions{}.max_bytes, in.file_size_);
  absl::StatusOr<std::unique_ptr<internal::VectorStorage>> st = internal::VectorStorage::Open(
      path, {.read_only = true, .max_bytes = max_bytes, .env = env}, in.schema_);
  if (!st.ok()) return st.status();
  in.vector_ = *std::move(st);
  in.seq_ = in.vector_->sync_count();
  in.records_ = in.vector_->size();
  in.data_ = {in.vector_->base(), in.records_ * in.schema_.size};
  if (in.file_size_ >= kMappedPage) {
    in.capacity_ = (in.file_size_ - kMappedPage) / kPage * kPage / in.schema_.size;
  }
  return in;
}

}  // namespace recstore::mapped
