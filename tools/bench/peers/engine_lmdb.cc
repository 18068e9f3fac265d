// LMDB: one database with MDB_INTEGERKEY, records put with MDB_APPEND (LMDB's bulk-load path
// for keys in order). Durable mode uses LMDB's default full sync at each commit; non-durable
// mode opens the environment with MDB_NOSYNC. A write transaction stays open across Append
// calls and Sync commits it.
#include <lmdb.h>

#include <atomic>

#include "fmt/core.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

constexpr size_t kMapSize = size_t{64} << 30;  // address space only; the file grows as used

absl::Status LmdbError(std::string_view call, int rc) {
  return absl::InternalError(fmt::format("lmdb {}: {}", call, mdb_strerror(rc)));
}

class LmdbEngine final : public Engine {
 public:
  ~LmdbEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "lmdb"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    if (int rc = mdb_env_create(&env_); rc != 0) return LmdbError("env_create", rc);
    if (int rc = mdb_env_set_mapsize(env_, kMapSize); rc != 0) return LmdbError("set_mapsize", rc);
    const unsigned flags = o.durable ? 0 : MDB_NOSYNC;
    if (int rc = mdb_env_open(env_, o.dir.c_str(), flags, 0644); rc != 0) {
      return LmdbError("env_open", rc);
    }
    MDB_txn* txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return LmdbError("txn_begin", rc);
    if (int rc = mdb_dbi_open(txn, nullptr, MDB_INTEGERKEY | MDB_CREATE, &dbi_); rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("dbi_open", rc);
    }
    // The end: one past the last key.
    MDB_cursor* cur;
    if (int rc = mdb_cursor_open(txn, dbi_, &cur); rc != 0) return LmdbError("cursor_open", rc);
    MDB_val k, v;
    uint64_t next = 0;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0) next = Key(k) + 1;
    mdb_cursor_close(cur);
    next_.store(next);
    if (int rc = mdb_txn_commit(txn); rc != 0) return LmdbError("txn_commit", rc);
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override { return AppendBatch(record, 1); }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    EndRead();
    if (wtxn_ == nullptr) {
      if (int rc = mdb_txn_begin(env_, nullptr, 0, &wtxn_); rc != 0) {
        return LmdbError("txn_begin", rc);
      }
    }
    return PutAll(wtxn_, records, n);
  }

  absl::Status Sync() override {
    if (wtxn_ == nullptr) return absl::OkStatus();
    const int rc = mdb_txn_commit(wtxn_);
    wtxn_ = nullptr;
    return rc == 0 ? absl::OkStatus() : LmdbError("txn_commit", rc);
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    // LMDB serializes write transactions; each commit syncs on its own (no group commit).
    MDB_txn* txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return LmdbError("txn_begin", rc);
    if (absl::Status s = PutAll(txn, records, n); !s.ok()) {
      mdb_txn_abort(txn);
      return s;
    }
    const int rc = mdb_txn_commit(txn);
    return rc == 0 ? absl::OkStatus() : LmdbError("txn_commit", rc);
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    RECSTORE_RETURN_IF_ERROR(BeginRead());
    MDB_cursor* cur;
    if (int rc = mdb_cursor_open(rtxn_, dbi_, &cur); rc != 0) return LmdbError("cursor_open", rc);
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      out->sum += FirstWord(v.mv_data);
      out->bytes += v.mv_size;
      ++out->records;
    }
    mdb_cursor_close(cur);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    RECSTORE_RETURN_IF_ERROR(BeginRead());
    size_t key = seq;
    MDB_val k{sizeof(key), &key}, v;
    if (int rc = mdb_get(rtxn_, dbi_, &k, &v); rc != 0) return LmdbError("get", rc);
    return FirstWord(v.mv_data);
  }

  uint64_t End() const override { return next_.load(); }

  absl::Status Close() override {
    if (env_ == nullptr) return absl::OkStatus();
    EndRead();
    absl::Status s = Sync();
    mdb_env_close(env_);
    env_ = nullptr;
    return s;
  }

 private:
  static uint64_t Key(const MDB_val& k) {
    size_t v;
    std::memcpy(&v, k.mv_data, sizeof(v));
    return v;
  }

  // Puts `n` records under the next keys; `txn` holds LMDB's writer lock.
  absl::Status PutAll(MDB_txn* txn, const std::byte* records, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      size_t key = next_.load(std::memory_order_relaxed);
      MDB_val k{sizeof(key), &key};
      MDB_val v{size_, const_cast<std::byte*>(records + i * size_)};
      if (int rc = mdb_put(txn, dbi_, &k, &v, MDB_APPEND); rc != 0) return LmdbError("put", rc);
      next_.store(key + 1, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

  // One read transaction serves every Get and Scan until the next write.
  absl::Status BeginRead() {
    if (rtxn_ != nullptr) return absl::OkStatus();
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &rtxn_); rc != 0) {
      return LmdbError("txn_begin(rdonly)", rc);
    }
    return absl::OkStatus();
  }
  void EndRead() {
    if (rtxn_ != nullptr) mdb_txn_abort(rtxn_);
    rtxn_ = nullptr;
  }

  size_t size_ = 0;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_txn* wtxn_ = nullptr;
  MDB_txn* rtxn_ = nullptr;
  std::atomic<uint64_t> next_{0};
};

}  // namespace

std::unique_ptr<Engine> NewLmdbEngine() { return std::make_unique<LmdbEngine>(); }

}  // namespace recstore::bench
