// Writes the compacted segments of one compaction: records copied verbatim (a record's
// checksum is seeded by its sequence number, which does not change), packed from kDataStart,
// followed by the array of their sequence numbers and, for variable-size records, the slot
// index at the end of the file. Each file's link block names the next file's first record (the
// last one's: the compaction's end), so a reader finds a missing file. Files are written with
// pwrite (streamed through a buffer) and made durable as they are finished; their header page
// is written last.
#ifndef RECSTORE_SRC_LOG_COMPACTED_WRITER_H_
#define RECSTORE_SRC_LOG_COMPACTED_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "recstore/env.h"
#include "src/format/segment_header.h"

namespace recstore::log {

class CompactedWriter {
 public:
  struct Config {
    Env* env = nullptr;
    bool fixed = true;
    uint32_t stride = 0;        // fixed: bytes per record slot
    uint64_t segment_size = 0;  // target file size
    mode_t file_mode = 0644;
    // The file name and header of the segment whose first record is `first_seq`.
    std::function<std::string(uint64_t first_seq)> path;
    std::function<format::SegmentHeader(uint64_t first_seq, uint64_t capacity)> header;
  };

  explicit CompactedWriter(Config config);
  ~CompactedWriter();  // closes an unfinished file (its name stays in files())
  CompactedWriter(const CompactedWriter&) = delete;
  CompactedWriter& operator=(const CompactedWriter&) = delete;

  // Appends the record `seq`: `bytes` is its whole slot (fixed) or frame (variable, header,
  // payload and padding), exactly as stored in its old segment.
  [[nodiscard]] absl::Status Add(uint64_t seq, std::span<const std::byte> bytes);
  // Completes and fdatasyncs the open file, whose link names `end` (the compaction's end) as
  // what follows it. The caller syncs the folder.
  [[nodiscard]] absl::Status Finish(uint64_t end);

  // First sequence number of every file written or started, in order.
  const std::vector<uint64_t>& files() const { return files_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  absl::Status Start(uint64_t first_seq);
  absl::Status Flush();
  // Writes the open file's index, link (to `next_first`) and header page, and syncs it.
  absl::Status Complete(uint64_t next_first);
  // File size once the open file holds `data` bytes of records and `n` records.
  uint64_t CapacityFor(uint64_t data, uint64_t n) const;

  Config config_;
  int fd_ = -1;
  std::string path_;
  uint64_t data_ = 0;     // record bytes in the open file
  uint64_t written_ = 0;  // of those, already written
  std::string buffer_;    // record bytes not yet written
  std::vector<uint64_t> seqs_;
  std::vector<uint32_t> offsets_;  // variable: frame offsets
  std::vector<uint64_t> files_;
  uint64_t bytes_written_ = 0;
};

}  // namespace recstore::log

#endif  // RECSTORE_SRC_LOG_COMPACTED_WRITER_H_
