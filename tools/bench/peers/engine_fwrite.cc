// fwrite: records appended to one file through stdio's default buffer; Sync is fflush +
// fdatasync. No framing and no checksums: the lower bound of "write it yourself".
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <vector>

#include "tools/bench/peers/engine.h"
#include "tools/bench/peers/file_util.h"

namespace recstore::bench {
namespace {

class FwriteEngine final : public Engine {
 public:
  ~FwriteEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "fwrite"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    durable_ = o.durable;
    path_ = o.dir + "/data";
    file_ = std::fopen(path_.c_str(), "a+b");
    if (file_ == nullptr) return Errno("fopen", path_);
    if (std::fseek(file_, 0, SEEK_END) != 0) return Errno("fseek", path_);
    next_ = static_cast<uint64_t>(std::ftell(file_)) / size_;
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override {
    if (std::fwrite(record, size_, 1, file_) != 1) return Errno("fwrite", path_);
    ++next_;
    return absl::OkStatus();
  }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    if (std::fwrite(records, size_, n, file_) != n) return Errno("fwrite", path_);
    next_ += n;
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (std::fflush(file_) != 0) return Errno("fflush", path_);
    if (durable_ && ::fdatasync(fileno(file_)) != 0) return Errno("fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    {
      // One FILE is shared: the write and the flush of a commit go together.
      std::lock_guard<std::mutex> lock(mu_);
      if (std::fwrite(records, size_, n, file_) != n) return Errno("fwrite", path_);
      if (std::fflush(file_) != 0) return Errno("fflush", path_);
      next_ += n;
    }
    // Concurrent committers each call fdatasync; the kernel may share the journal commit.
    if (durable_ && ::fdatasync(fileno(file_)) != 0) return Errno("fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    if (std::fflush(file_) != 0) return Errno("fflush", path_);
    std::FILE* in = std::fopen(path_.c_str(), "rb");
    if (in == nullptr) return Errno("fopen", path_);
    std::vector<std::byte> rec(size_);
    while (std::fread(rec.data(), size_, 1, in) == 1) {
      out->sum += FirstWord(rec.data());
      ++out->records;
    }
    std::fclose(in);
    out->bytes = out->records * size_;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    std::byte rec[128];
    absl::Status s = PReadAll(fileno(file_), path_, rec, size_, static_cast<off_t>(seq * size_));
    if (!s.ok()) return s;
    return FirstWord(rec);
  }

  uint64_t End() const override { return next_; }

  absl::Status Close() override {
    if (file_ == nullptr) return absl::OkStatus();
    const int r = std::fclose(file_);
    file_ = nullptr;
    return r == 0 ? absl::OkStatus() : Errno("fclose", path_);
  }

 private:
  size_t size_ = 0;
  bool durable_ = true;
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mu_;
  uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<Engine> NewFwriteEngine() { return std::make_unique<FwriteEngine>(); }

}  // namespace recstore::bench
