#include "src/log/compacted_writer.h"

#include <fcntl.h>

#include <cstring>

#include "recstore/status_macros.h"
#include "src/base/endian.h"
#include "src/format/layout.h"

namespace recstore::log {
namespace {

constexpr size_t kWriteChunk = 1 << 20;

}  // namespace

CompactedWriter::CompactedWriter(Config config) : config_(std::move(config)) {}

CompactedWriter::~CompactedWriter() {
  if (fd_ >= 0) config_.env->Close(fd_, path_).IgnoreError();
}

uint64_t CompactedWriter::CapacityFor(uint64_t data, uint64_t n) const {
  const uint64_t index = n * (config_.fixed ? 8 : 8 + format::kSlotSize);
  return format::RoundUp(format::kDataStart + data + index, format::kPageSize);
}

absl::Status CompactedWriter::Start(uint64_t first_seq) {
  path_ = config_.path(first_seq);
  RECSTORE_ASSIGN_OR_RETURN(
      fd_, config_.env->Open(path_, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, config_.file_mode));
  files_.push_back(first_seq);
  data_ = written_ = 0;
  buffer_.clear();
  seqs_.clear();
  offsets_.clear();
  return absl::OkStatus();
}

absl::Status CompactedWriter::Add(uint64_t seq, std::span<const std::byte> bytes) {
  if (fd_ >= 0 && !seqs_.empty() &&
      CapacityFor(data_ + bytes.size(), seqs_.size() + 1) > config_.segment_size) {
    RECSTORE_RETURN_IF_ERROR(Finish(seq));
  }
  if (fd_ < 0) RECSTORE_RETURN_IF_ERROR(Start(seq));
  seqs_.push_back(seq);
  if (!config_.fixed) offsets_.push_back(static_cast<uint32_t>(format::kDataStart + data_));
  buffer_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  data_ += bytes.size();
  if (buffer_.size() >= kWriteChunk) RECSTORE_RETURN_IF_ERROR(Flush());
  return absl::OkStatus();
}

absl::Status CompactedWriter::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  RECSTORE_RETURN_IF_ERROR(config_.env->PWrite(fd_, path_, buffer_, format::kDataStart + written_));
  written_ += buffer_.size();
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status CompactedWriter::Finish(uint64_t end) {
  if (fd_ < 0) return absl::OkStatus();
  absl::Status st = Complete(end);
  absl::Status closed = config_.env->Close(fd_, path_);
  fd_ = -1;
  RECSTORE_RETURN_IF_ERROR(st);
  return closed;
}

absl::Status CompactedWriter::Complete(uint64_t next_first) {
  const uint64_t n = seqs_.size();
  const uint64_t capacity = CapacityFor(data_, n);
  // The whole file is allocated before anything else is written, so a full disk fails here.
  RECSTORE_RETURN_IF_ERROR(config_.env->Allocate(fd_, path_, 0, capacity));
  RECSTORE_RETURN_IF_ERROR(Flush());
  const uint64_t data_end = format::kDataStart + data_;
  // Host byte order, like record payloads: readers use the array in place.
  std::string index(reinterpret_cast<const char*>(seqs_.data()), n * 8);
  RECSTORE_RETURN_IF_ERROR(config_.env->PWrite(fd_, path_, index, data_end));
  if (!config_.fixed) {
    // Slot of record i at capacity - 4 * (i + 1), as in ordinary segments.
    std::string slots(n * format::kSlotSize, '\0');
    for (uint64_t i = 0; i < n; ++i) {
      base::EncodeFixed32(slots.data() + slots.size() - format::kSlotSize * (i + 1), offsets_[i]);
    }
    RECSTORE_RETURN_IF_ERROR(config_.env->PWrite(fd_, path_, slots, capacity - slots.size()));
  }
  std::string page(format::kDataStart, '\0');
  format::EncodeSegmentHeader(config_.header(seqs_.front(), capacity),
                              reinterpret_cast<std::byte*>(page.data()));
  format::EncodeCommitBlock({.records = n, .data_end = data_end, .sealed = true}, seqs_.front(),
                            reinterpret_cast<std::byte*>(page.data()) + format::kCommitBlockOffset);
  format::EncodeLinkBlock(next_first, seqs_.front(),
                          reinterpret_cast<std::byte*>(page.data()) + format::kLinkBlockOffset);
  RECSTORE_RETURN_IF_ERROR(config_.env->PWrite(fd_, path_, page, 0));
  RECSTORE_RETURN_IF_ERROR(config_.env->SyncData(fd_, path_));
  bytes_written_ += capacity;
  return absl::OkStatus();
}

}  // namespace recstore::log
