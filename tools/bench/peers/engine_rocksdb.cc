// RocksDB: sequential big-endian 8-byte keys, compression off, otherwise default options
// (WAL on, 64 MiB memtable). Appends are WriteOptions{sync=false} writes to the WAL; Sync is
// SyncWAL(); a durable Commit is a WriteBatch written with sync=true, which RocksDB groups
// with concurrent writers (group commit). Reads verify block checksums.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>

#include "fmt/core.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

absl::Status RocksError(std::string_view call, const rocksdb::Status& s) {
  return absl::InternalError(fmt::format("rocksdb {}: {}", call, s.ToString()));
}

class RocksdbEngine final : public Engine {
 public:
  ~RocksdbEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "rocksdb"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    durable_ = o.durable;
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.compression = rocksdb::kNoCompression;
    opts.bottommost_compression = rocksdb::kNoCompression;
    if (rocksdb::Status s = rocksdb::DB::Open(opts, o.dir, &db_); !s.ok()) {
      return RocksError("open", s);
    }
    read_.verify_checksums = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_));
    it->SeekToLast();
    next_.store(it->Valid() ? DecodeKeyBE(it->key().data()) + 1 : 0);
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override {
    char key[8];
    EncodeKeyBE(next_.fetch_add(1), key);
    rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), rocksdb::Slice(key, 8), Value(record));
    return s.ok() ? absl::OkStatus() : RocksError("put", s);
  }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    return WriteBatch(records, n, /*sync=*/false);
  }

  absl::Status Sync() override {
    if (!durable_) return absl::OkStatus();
    rocksdb::Status s = db_->SyncWAL();
    return s.ok() ? absl::OkStatus() : RocksError("SyncWAL", s);
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    return WriteBatch(records, n, durable_);
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice v = it->value();
      out->sum += FirstWord(v.data());
      out->bytes += v.size();
      ++out->records;
    }
    return it->status().ok() ? absl::OkStatus() : RocksError("iterate", it->status());
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    char key[8];
    EncodeKeyBE(seq, key);
    rocksdb::PinnableSlice v;
    rocksdb::Status s = db_->Get(read_, db_->DefaultColumnFamily(), rocksdb::Slice(key, 8), &v);
    if (!s.ok()) return RocksError("get", s);
    return FirstWord(v.data());
  }

  uint64_t End() const override { return next_.load(); }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    rocksdb::Status s = db_->Close();
    delete db_;
    db_ = nullptr;
    return s.ok() ? absl::OkStatus() : RocksError("close", s);
  }

 private:
  rocksdb::Slice Value(const std::byte* record) const {
    return rocksdb::Slice(reinterpret_cast<const char*>(record), size_);
  }

  absl::Status WriteBatch(const std::byte* records, size_t n, bool sync) {
    rocksdb::WriteBatch batch(n * (size_ + 24));
    const uint64_t first = next_.fetch_add(n);
    char key[8];
    for (size_t i = 0; i < n; ++i) {
      EncodeKeyBE(first + i, key);
      batch.Put(rocksdb::Slice(key, 8), Value(records + i * size_));
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Write(wo, &batch);
    return s.ok() ? absl::OkStatus() : RocksError("write", s);
  }

  size_t size_ = 0;
  bool durable_ = true;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ReadOptions read_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace

std::unique_ptr<Engine> NewRocksdbEngine() { return std::make_unique<RocksdbEngine>(); }

}  // namespace recstore::bench
