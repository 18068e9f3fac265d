// memcpy: records copied into a buffer allocated and touched at Open. The physical limit of
// in-memory work; no durability, nothing survives Close.
#include <algorithm>
#include <vector>

#include "fmt/core.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

class MemcpyEngine final : public Engine {
 public:
  std::string_view name() const override { return "memcpy"; }
  bool persistent() const override { return false; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    buf_.assign(o.expected_records * size_, std::byte{1});
    sink_.assign(uint64_t{1} << 20, std::byte{0});
    next_ = 0;
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override { return AppendBatch(record, 1); }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    if ((next_ + n) * size_ > buf_.size()) {
      return absl::ResourceExhaustedError(
          fmt::format("memcpy: buffer holds {} records", buf_.size() / size_));
    }
    std::memcpy(buf_.data() + next_ * size_, records, n * size_);
    next_ += n;
    return absl::OkStatus();
  }

  absl::Status Sync() override { return absl::OkStatus(); }

  absl::Status Commit(const std::byte*, size_t) override {
    return absl::UnimplementedError("memcpy has no durable commit");
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    // Copy the bytes out through a cache-sized buffer, then read each record's first word.
    const uint64_t end = next_ * size_;
    const uint64_t chunk = sink_.size() / size_ * size_;
    for (uint64_t off = 0; off < end; off += chunk) {
      const uint64_t n = std::min(chunk, end - off);
      std::memcpy(sink_.data(), buf_.data() + off, n);
      for (uint64_t i = 0; i < n; i += size_) out->sum += FirstWord(sink_.data() + i);
      out->records += n / size_;
    }
    out->bytes = out->records * size_;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    std::byte rec[128];
    std::memcpy(rec, buf_.data() + seq * size_, size_);
    return FirstWord(rec);
  }

  uint64_t End() const override { return next_; }

  absl::Status Close() override {
    buf_ = {};
    sink_ = {};
    return absl::OkStatus();
  }

 private:
  size_t size_ = 0;
  std::vector<std::byte> buf_;
  std::vector<std::byte> sink_;
  uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<Engine> NewMemcpyEngine() { return std::make_unique<MemcpyEngine>(); }

}  // namespace recstore::bench
