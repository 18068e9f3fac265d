// pwrite: one pwrite per append call into a file preallocated with posix_fallocate (as
// recstore allocates its segments); Sync is fdatasync. No framing and no checksums.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "tools/bench/peers/engine.h"
#include "tools/bench/peers/file_util.h"

namespace recstore::bench {
namespace {

constexpr uint64_t kChunk = uint64_t{64} << 20;  // preallocation step

class PwriteEngine final : public Engine {
 public:
  ~PwriteEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "pwrite"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    durable_ = o.durable;
    path_ = o.dir + "/data";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Errno("open", path_);
    // Close trims the file to the records written, so its size gives the end.
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size < 0) return Errno("lseek", path_);
    end_bytes_ = static_cast<uint64_t>(size) / size_ * size_;
    allocated_ = static_cast<uint64_t>(size);
    return Reserve(end_bytes_ + o.expected_records * size_);
  }

  absl::Status Append(const std::byte* record) override { return AppendBatch(record, 1); }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    const uint64_t off = end_bytes_.fetch_add(n * size_);
    if (off + n * size_ > allocated_.load()) {
      if (absl::Status s = Reserve(off + n * size_); !s.ok()) return s;
    }
    return PWriteAll(fd_, path_, records, n * size_, static_cast<off_t>(off));
  }

  absl::Status Sync() override {
    if (durable_ && ::fdatasync(fd_) != 0) return Errno("fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    if (absl::Status s = AppendBatch(records, n); !s.ok()) return s;
    return Sync();
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    const uint64_t end = end_bytes_.load();
    const uint64_t chunk = (uint64_t{1} << 20) / size_ * size_;
    std::vector<std::byte> buf(chunk);
    for (uint64_t off = 0; off < end; off += chunk) {
      const uint64_t n = std::min(chunk, end - off);
      if (absl::Status s = PReadAll(fd_, path_, buf.data(), n, static_cast<off_t>(off)); !s.ok()) {
        return s;
      }
      for (uint64_t i = 0; i < n; i += size_) out->sum += FirstWord(buf.data() + i);
      out->records += n / size_;
    }
    out->bytes = out->records * size_;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    std::byte rec[128];
    absl::Status s = PReadAll(fd_, path_, rec, size_, static_cast<off_t>(seq * size_));
    if (!s.ok()) return s;
    return FirstWord(rec);
  }

  uint64_t End() const override { return end_bytes_.load() / size_; }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    absl::Status s;
    if (::ftruncate(fd_, static_cast<off_t>(end_bytes_.load())) != 0) s = Errno("ftruncate", path_);
    ::close(fd_);
    fd_ = -1;
    return s;
  }

 private:
  // Allocates the file up to at least `bytes`, in kChunk steps.
  absl::Status Reserve(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(alloc_mu_);
    const uint64_t have = allocated_.load();
    if (bytes <= have) return absl::OkStatus();
    const uint64_t want = (bytes + kChunk - 1) / kChunk * kChunk;
    if (int err = ::posix_fallocate(fd_, static_cast<off_t>(have), static_cast<off_t>(want - have));
        err != 0) {
      return Errno("posix_fallocate", path_, err);
    }
    allocated_.store(want);
    return absl::OkStatus();
  }

  size_t size_ = 0;
  bool durable_ = true;
  std::string path_;
  int fd_ = -1;
  std::atomic<uint64_t> end_bytes_{0};
  std::atomic<uint64_t> allocated_{0};
  std::mutex alloc_mu_;
};

}  // namespace

std::unique_ptr<Engine> NewPwriteEngine() { return std::make_unique<PwriteEngine>(); }

}  // namespace recstore::bench
