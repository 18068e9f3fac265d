// SQLite: one table `log(seq INTEGER PRIMARY KEY, v BLOB)` (the key is the rowid), WAL
// journal, prepared statements, appends inside one transaction that Sync commits. Durable
// mode is synchronous=FULL (the WAL is synced at every commit); non-durable is OFF. One
// connection; concurrent Commit calls take turns on a mutex (SQLite has one writer at a time
// and no group commit). mmap_size lets warm reads use the page cache without read() calls.
#include <sqlite3.h>

#include <mutex>

#include "fmt/core.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

class SqliteEngine final : public Engine {
 public:
  ~SqliteEngine() override { Close().IgnoreError(); }
  std::string_view name() const override { return "sqlite"; }

  absl::Status Open(const OpenOptions& o) override {
    size_ = RecordSize(o.kind);
    const std::string path = o.dir + "/db.sqlite";
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return Error("open");
    }
    RECSTORE_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    RECSTORE_RETURN_IF_ERROR(
        Exec(o.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"));
    RECSTORE_RETURN_IF_ERROR(Exec("PRAGMA mmap_size=17179869184"));
    RECSTORE_RETURN_IF_ERROR(
        Exec("CREATE TABLE IF NOT EXISTS log(seq INTEGER PRIMARY KEY, v BLOB NOT NULL)"));
    RECSTORE_RETURN_IF_ERROR(Prepare("INSERT INTO log(seq, v) VALUES(?1, ?2)", &insert_));
    RECSTORE_RETURN_IF_ERROR(Prepare("SELECT v FROM log WHERE seq = ?1", &get_));
    RECSTORE_RETURN_IF_ERROR(Prepare("SELECT v FROM log ORDER BY seq", &scan_));
    sqlite3_stmt* last;
    RECSTORE_RETURN_IF_ERROR(Prepare("SELECT max(seq) FROM log", &last));
    next_ = 0;
    if (sqlite3_step(last) == SQLITE_ROW && sqlite3_column_type(last, 0) != SQLITE_NULL) {
      next_ = static_cast<uint64_t>(sqlite3_column_int64(last, 0)) + 1;
    }
    sqlite3_finalize(last);
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override { return AppendBatch(record, 1); }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    if (!in_txn_) {
      RECSTORE_RETURN_IF_ERROR(Exec("BEGIN"));
      in_txn_ = true;
    }
    return InsertAll(records, n);
  }

  absl::Status Sync() override {
    if (!in_txn_) return absl::OkStatus();
    in_txn_ = false;
    return Exec("COMMIT");
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    std::lock_guard<std::mutex> lock(mu_);
    RECSTORE_RETURN_IF_ERROR(Exec("BEGIN"));
    if (absl::Status s = InsertAll(records, n); !s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return s;
    }
    return Exec("COMMIT");
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    int rc;
    while ((rc = sqlite3_step(scan_)) == SQLITE_ROW) {
      out->sum += FirstWord(sqlite3_column_blob(scan_, 0));
      out->bytes += static_cast<uint64_t>(sqlite3_column_bytes(scan_, 0));
      ++out->records;
    }
    sqlite3_reset(scan_);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error("scan");
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    sqlite3_bind_int64(get_, 1, static_cast<sqlite3_int64>(seq));
    if (sqlite3_step(get_) != SQLITE_ROW) {
      sqlite3_reset(get_);
      return Error("get");
    }
    const uint64_t v = FirstWord(sqlite3_column_blob(get_, 0));
    sqlite3_reset(get_);
    return v;
  }

  uint64_t End() const override { return next_; }

  absl::Status Close() override {
    if (db_ == nullptr) return absl::OkStatus();
    absl::Status s = Sync();
    for (sqlite3_stmt** st : {&insert_, &get_, &scan_}) {
      sqlite3_finalize(*st);
      *st = nullptr;
    }
    if (sqlite3_close(db_) != SQLITE_OK && s.ok()) s = Error("close");
    db_ = nullptr;
    return s;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InternalError(fmt::format("sqlite {}: {}", what, sqlite3_errmsg(db_)));
  }

  absl::Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      absl::Status s = absl::InternalError(fmt::format("sqlite {}: {}", sql, err ? err : "?"));
      sqlite3_free(err);
      return s;
    }
    return absl::OkStatus();
  }

  absl::Status Prepare(const char* sql, sqlite3_stmt** st) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, st, nullptr) != SQLITE_OK) {
      return Error(sql);
    }
    return absl::OkStatus();
  }

  absl::Status InsertAll(const std::byte* records, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(next_));
      sqlite3_bind_blob(insert_, 2, records + i * size_, static_cast<int>(size_), SQLITE_STATIC);
      const int rc = sqlite3_step(insert_);
      sqlite3_reset(insert_);
      if (rc != SQLITE_DONE) return Error("insert");
      ++next_;
    }
    return absl::OkStatus();
  }

  size_t size_ = 0;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
  bool in_txn_ = false;
  std::mutex mu_;
  uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<Engine> NewSqliteEngine() { return std::make_unique<SqliteEngine>(); }

}  // namespace recstore::bench
