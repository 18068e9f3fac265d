// The crash workload: its script and how each operation updates the oracle.
#include "tests/crash/workload.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "tests/testing/open_store.h"

namespace recstore::crash {

namespace {

enum : size_t { kTicks = 0, kEvents = 1, kAudit = 2, kMetrics = 3, kBlobs = 4 };

// A phase of random operations over `live` collections, from a fixed seed.
void AddPhase(std::vector<Workload::Op>* ops, uint64_t seed, int count,
              const std::vector<size_t>& live) {
  using K = Workload::OpKind;
  uint64_t x = seed;
  for (int i = 0; i < count; ++i) {
    x = Mix(x);
    const size_t c = live[x % live.size()];
    const uint64_t r = (x >> 16) % 100;
    if (r < 22) {
      ops->push_back({K::kSync, c});
    } else if (r < 55) {
      // Fixed batches are large (several rotations over the script); byte batches small.
      const uint32_t n = kCollections[c].fixed ? static_cast<uint32_t>(60 + (x >> 32) % 500)
                                               : static_cast<uint32_t>(2 + (x >> 32) % 5);
      ops->push_back({K::kBatch, c, n});
    } else {
      ops->push_back({K::kAppend, c, 1});
    }
  }
}

}  // namespace

const std::string& ExpectedPayload(size_t c, uint64_t seq) {
  thread_local std::array<std::vector<std::string>, kNumCollections> cache;
  std::vector<std::string>& v = cache[c];
  while (v.size() <= seq) {
    const uint64_t s = v.size();
    if (kCollections[c].fixed) {
      const CrashRecord r = ExpectedRecord(static_cast<uint32_t>(c), s);
      v.emplace_back(reinterpret_cast<const char*>(&r), sizeof(r));
    } else {
      v.push_back(ExpectedBytes(static_cast<uint32_t>(c), s, kCollections[c].oversized_every));
    }
  }
  return v[seq];
}

const std::vector<Workload::Op>& Workload::Script() {
  static const std::vector<Op>* script = [] {
    using K = OpKind;
    auto* ops = new std::vector<Op>;
    ops->push_back({K::kOpenStore});
    for (size_t c : {kTicks, kEvents, kAudit, kMetrics}) ops->push_back({K::kOpen, c});
    AddPhase(ops, 1, 90, {kTicks, kEvents, kAudit, kMetrics});
    for (size_t c : {kTicks, kEvents, kAudit, kMetrics}) ops->push_back({K::kSync, c});
    // Drop a collection with synced records, then create one whose first record is larger
    // than a segment (its empty first segment is replaced by a bigger one).
    ops->push_back({K::kClose, kAudit});
    ops->push_back({K::kDrop, kAudit});
    ops->push_back({K::kOpen, kBlobs});
    ops->push_back({K::kAppend, kBlobs, 1});
    AddPhase(ops, 2, 60, {kTicks, kEvents, kMetrics, kBlobs});
    // Batches that need two new segments each, created before any record is written.
    ops->push_back({K::kBatch, kMetrics, 3200});
    ops->push_back({K::kBatch, kEvents, 40});
    ops->push_back({K::kSync, kEvents});
    // Reopen with unsynced records in every collection: the clean close syncs them, the
    // reopen reads the manifest and recovers each collection again.
    ops->push_back({K::kReopenStore});
    AddPhase(ops, 3, 60, {kTicks, kEvents, kMetrics, kBlobs});
    for (size_t c : {kTicks, kEvents, kMetrics, kBlobs}) ops->push_back({K::kSync, c});
    return ops;
  }();
  return *script;
}

Workload::~Workload() = default;

void Workload::Run() {
  for (const Op& op : Script()) Do(op);
  for (auto& h : fixed_) h.reset();
  for (auto& h : bytes_) h.reset();
  store_.reset();
}

void Workload::Violation(std::string what) { violations_.push_back(std::move(what)); }

void Workload::Error(const absl::Status& s) {
  if (errors_++ == 0) first_error_ = s;
}

LogBase* Workload::Handle(size_t c) {
  if (fixed_[c].has_value()) return &*fixed_[c];
  if (bytes_[c].has_value()) return &*bytes_[c];
  return nullptr;
}

void Workload::Do(const Op& op) {
  switch (op.kind) {
    case OpKind::kOpenStore:
      OpenStore();
      oracle_.store_ok = store_ != nullptr;
      return;
    case OpKind::kReopenStore:
      for (auto& h : fixed_) h.reset();
      for (auto& h : bytes_) h.reset();
      store_.reset();
      OpenStore();
      for (size_t c = 0; c < kNumCollections; ++c) {
        if (oracle_.c[c].create_ok && !oracle_.c[c].drop_started) OpenCollection(c, false);
      }
      return;
    case OpKind::kOpen:
      oracle_.c[op.c].create_started = true;
      OpenCollection(op.c, true);
      oracle_.c[op.c].create_ok |= Handle(op.c) != nullptr;
      return;
    case OpKind::kAppend:
    case OpKind::kBatch:
      Append(op.c, op.n);
      return;
    case OpKind::kSync:
      Sync(op.c);
      return;
    case OpKind::kClose:
      fixed_[op.c].reset();
      bytes_[op.c].reset();
      return;
    case OpKind::kDrop:
      if (store_ == nullptr) return Error(absl::FailedPreconditionError("no store"));
      oracle_.c[op.c].drop_started = true;
      if (absl::Status s = store_->DropCollection(kCollections[op.c].name); !s.ok()) {
        return Error(s);
      }
      oracle_.c[op.c].drop_ok = true;
      return;
  }
}

void Workload::OpenStore() {
  absl::StatusOr<std::unique_ptr<Store>> s = ::recstore::testing::OpenStore(
      env_, dir_, {.create_if_missing = true, .segment_size = kSegmentSize});
  if (!s.ok()) return Error(s.status());
  store_ = *std::move(s);
}

void Workload::OpenCollection(size_t c, bool create) {
  if (store_ == nullptr) return Error(absl::FailedPreconditionError("no store"));
  const CollectionOptions options{.create_if_missing = create};
  const LogBase* h = nullptr;
  if (kCollections[c].fixed) {
    absl::StatusOr<Log<CrashRecord>> log =
        store_->OpenLog<CrashRecord>(kCollections[c].name, options);
    if (!log.ok()) return Error(log.status());
    h = &fixed_[c].emplace(*std::move(log));
  } else {
    absl::StatusOr<ByteLog> log = store_->OpenByteLog(kCollections[c].name, options);
    if (!log.ok()) return Error(log.status());
    h = &bytes_[c].emplace(*std::move(log));
  }
  CollectionOracle& o = oracle_.c[c];
  // The recovery of a writer makes everything it kept durable (design.md, section 3).
  if (h->end() < o.durable) {
    Violation(absl::StrCat(kCollections[c].name, ": opened with ", h->end(), " records, but ",
                           o.durable, " were durable"));
  }
  if (h->durable() != h->end()) {
    Violation(absl::StrCat(kCollections[c].name, ": durable() ", h->durable(), " != end() ",
                           h->end(), " after open"));
  }
  o.appended = h->end();
  o.durable = std::max(o.durable, h->durable());
}

void Workload::Append(size_t c, uint32_t n) {
  if (Handle(c) == nullptr) return Error(absl::FailedPreconditionError("not open"));
  CollectionOracle& o = oracle_.c[c];
  const uint64_t first = o.appended;
  o.pending = n;
  absl::StatusOr<uint64_t> seq;
  if (kCollections[c].fixed) {
    std::vector<CrashRecord> records;
    for (uint64_t s = first; s < first + n; ++s) {
      records.push_back(ExpectedRecord(static_cast<uint32_t>(c), s));
    }
    seq = n == 1 ? fixed_[c]->Append(records[0]) : fixed_[c]->AppendBatch(records);
  } else {
    std::vector<std::string> payloads;
    for (uint64_t s = first; s < first + n; ++s) payloads.push_back(ExpectedPayload(c, s));
    std::vector<std::string_view> views(payloads.begin(), payloads.end());
    seq = n == 1 ? bytes_[c]->Append(views[0]) : bytes_[c]->AppendBatch(views);
  }
  o.pending = 0;
  if (!seq.ok()) return Error(seq.status());
  if (*seq != first) {
    Violation(absl::StrCat(kCollections[c].name, ": append got sequence number ", *seq,
                           ", expected ", first));
  }
  o.appended = first + n;
}

void Workload::Sync(size_t c) {
  LogBase* h = Handle(c);
  if (h == nullptr) return Error(absl::FailedPreconditionError("not open"));
  if (absl::Status s = SyncAndTrack(*h, kCollections[c].name, &oracle_.c[c], &violations_);
      !s.ok()) {
    Error(s);
  }
}

absl::Status SyncAndTrack(LogBase& h, const char* name, CollectionOracle* o,
                          std::vector<std::string>* violations) {
  absl::StatusOr<uint64_t> end = h.Sync();
  if (!end.ok()) return end.status();
  if (*end < o->durable || *end > o->appended) {
    violations->push_back(absl::StrCat(name, ": Sync returned ", *end, " (durable before ",
                                       o->durable, ", appended ", o->appended, ")"));
  }
  o->durable = std::max(o->durable, *end);
  return absl::OkStatus();
}

}  // namespace recstore::crash
