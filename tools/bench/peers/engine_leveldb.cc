// LevelDB: sequential big-endian 8-byte keys, compression off, otherwise default options
// (WAL on, 4 MiB memtable). Appends are sync=false writes to the log; Sync writes an empty
// batch with sync=true, which syncs the log; a durable Commit is a WriteBatch with sync=true,
// grouped with concurrent writers by LevelDB's writer queue. Reads verify block checksums.
#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <atomic>

#include "fmt/core.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

absl::Status LevelError(std::string_view call, const leveldb::Status& s) {
  return absl::InternalError(fmt::format("leveldb {}: {}", call, s.ToString()));
}

class LeveldbEngine final : public Engine {
 public:
  ~LeveldbEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "leveldb"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    durable_ = o.durable;
    leveldb::Options opts;
    opts.create_if_missing = true;
    opts.compression = leveldb::kNoCompression;
    if (leveldb::Status s = leveldb::DB::Open(opts, o.dir, &db_); !s.ok()) {
      return LevelError("open", s);
    }
    read_.verify_checksums = true;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_));
    it->SeekToLast();
    next_.store(it->Valid() ? DecodeKeyBE(it->key().data()) + 1 : 0);
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override {
    char key[8];
    EncodeKeyBE(next_.fetch_add(1), key);
    leveldb::Status s = db_->Put(leveldb::WriteOptions(), leveldb::Slice(key, 8), Value(record));
    return s.ok() ? absl::OkStatus() : LevelError("put", s);
  }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    return WriteBatch(records, n, /*sync=*/false);
  }

  absl::Status Sync() override {
    if (!durable_) return absl::OkStatus();
    leveldb::WriteBatch empty;
    leveldb::WriteOptions wo;
    wo.sync = true;
    leveldb::Status s = db_->Write(wo, &empty);
    return s.ok() ? absl::OkStatus() : LevelError("sync", s);
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    return WriteBatch(records, n, durable_);
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const leveldb::Slice v = it->value();
      out->sum += FirstWord(v.data());
      out->bytes += v.size();
      ++out->records;
    }
    return it->status().ok() ? absl::OkStatus() : LevelError("iterate", it->status());
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    char key[8];
    EncodeKeyBE(seq, key);
    std::string v;
    leveldb::Status s = db_->Get(read_, leveldb::Slice(key, 8), &v);
    if (!s.ok()) return LevelError("get", s);
    return FirstWord(v.data());
  }

  uint64_t End() const override { return next_.load(); }

  absl::Status Close() override {
    delete db_;
    db_ = nullptr;
    return absl::OkStatus();
  }

 private:
  leveldb::Slice Value(const std::byte* record) const {
    return leveldb::Slice(reinterpret_cast<const char*>(record), size_);
  }

  absl::Status WriteBatch(const std::byte* records, size_t n, bool sync) {
    leveldb::WriteBatch batch;
    const uint64_t first = next_.fetch_add(n);
    char key[8];
    for (size_t i = 0; i < n; ++i) {
      EncodeKeyBE(first + i, key);
      batch.Put(leveldb::Slice(key, 8), Value(records + i * size_));
    }
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status s = db_->Write(wo, &batch);
    return s.ok() ? absl::OkStatus() : LevelError("write", s);
  }

  size_t size_ = 0;
  bool durable_ = true;
  leveldb::DB* db_ = nullptr;
  leveldb::ReadOptions read_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace

std::unique_ptr<Engine> NewLeveldbEngine() { return std::make_unique<LeveldbEngine>(); }

}  // namespace recstore::bench
