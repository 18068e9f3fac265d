// recstore: a Log<Rec64> for fixed records, a ByteLog for byte records, default options
// (64 MiB segments, prefault on, manual sync).
#include <string_view>
#include <vector>

#include "fmt/core.h"
#include "recstore/recstore.h"
#include "tools/bench/peers/engine.h"

namespace recstore::bench {
namespace {

constexpr const char* kCollection = "records";

class RecstoreEngine final : public Engine {
 public:
  std::string_view name() const override { return "recstore"; }

  absl::Status Open(const OpenOptions& o) override {
    kind_ = o.kind;
    durable_ = o.durable;
    StoreOptions so{.create_if_missing = true};
    if (o.segment_size != 0) so.segment_size = o.segment_size;
    RECSTORE_ASSIGN_OR_RETURN(store_, Store::Open(o.dir, so));
    if (kind_ == Kind::kFixed64) {
      RECSTORE_ASSIGN_OR_RETURN(fixed_, store_->OpenLog<Rec64>(kCollection));
      base_ = &fixed_;
    } else {
      RECSTORE_ASSIGN_OR_RETURN(bytes_, store_->OpenByteLog(kCollection));
      base_ = &bytes_;
    }
    return absl::OkStatus();
  }

  absl::Status Append(const std::byte* record) override {
    absl::StatusOr<uint64_t> s =
        kind_ == Kind::kFixed64
            ? fixed_.Append(*reinterpret_cast<const Rec64*>(record))
            : bytes_.Append(std::string_view(reinterpret_cast<const char*>(record), 100));
    return s.status();
  }

  absl::Status AppendBatch(const std::byte* records, size_t n) override {
    if (kind_ == Kind::kFixed64) {
      return fixed_.AppendBatch({reinterpret_cast<const Rec64*>(records), n}).status();
    }
    std::string_view views[RecordGen::kMaxBatch];
    while (n > 0) {
      const size_t k = std::min(n, RecordGen::kMaxBatch);
      for (size_t i = 0; i < k; ++i) {
        views[i] = std::string_view(reinterpret_cast<const char*>(records) + i * 100, 100);
      }
      RECSTORE_RETURN_IF_ERROR(bytes_.AppendBatch({views, k}));
      records += k * 100;
      n -= k;
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (!durable_) return absl::OkStatus();
    return base_->Sync().status();
  }

  absl::Status Commit(const std::byte* records, size_t n) override {
    RECSTORE_RETURN_IF_ERROR(AppendBatch(records, n));
    return Sync();
  }

  absl::Status Scan(ScanResult* out) override {
    *out = {};
    if (kind_ == Kind::kFixed64) {
      auto scan = fixed_.Scan();
      for (auto [seq, rec] : scan) {
        out->sum += rec.seq;
        ++out->records;
      }
      out->bytes = out->records * sizeof(Rec64);
      return scan.status();
    }
    auto scan = bytes_.Scan();
    for (auto [seq, rec] : scan) {
      out->sum += FirstWord(rec.data());
      out->bytes += rec.size();
      ++out->records;
    }
    return scan.status();
  }

  absl::StatusOr<uint64_t> Get(uint64_t seq) override {
    if (kind_ == Kind::kFixed64) {
      RECSTORE_ASSIGN_OR_RETURN(const Rec64* r, fixed_.Get(seq));
      return r->seq;
    }
    RECSTORE_ASSIGN_OR_RETURN(std::span<const std::byte> r, bytes_.Get(seq));
    return FirstWord(r.data());
  }

  uint64_t End() const override { return base_ == nullptr ? 0 : base_->end(); }

  std::string RecoveryNote() const override {
    if (base_ == nullptr) return "";
    const RecoveryReport& r = base_->recovery();
    return fmt::format(
        "durable_point={} tail_records_kept={} records={} truncated={} bytes_dropped={}",
        r.durable_point, r.tail_records_kept, r.records, r.truncated, r.bytes_dropped);
  }

  absl::Status Close() override {
    // Closing syncs what is pending; the crash child never gets here.
    base_ = nullptr;
    fixed_ = {};
    bytes_ = {};
    store_.reset();
    return absl::OkStatus();
  }

 private:
  Kind kind_ = Kind::kFixed64;
  bool durable_ = true;
  std::unique_ptr<Store> store_;
  Log<Rec64> fixed_;
  ByteLog bytes_;
  const LogBase* base_ = nullptr;
};

}  // namespace

std::unique_ptr<Engine> NewRecstoreEngine() { return std::make_unique<RecstoreEngine>(); }

}  // namespace recstore::bench
