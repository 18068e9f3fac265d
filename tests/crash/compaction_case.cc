// The compaction crash tests' records, templates and operations (compaction_case.h).
#include "tests/crash/compaction_case.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "tests/testing/open_store.h"
#include "tests/crash/crash_records.h"
#include "tests/testing/fault_env.h"

namespace recstore::crash {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFixedRecords = 9000;  // about 6 segments of 1536
constexpr uint64_t kByteRecords = 1200;   // about 5 segments; half at kT0, half at kT1

CompactOptions FixedKey(uint64_t grace_records) {
  return {
      .key = {.field = "key"}, .tombstone_field = "dead", .tombstone_grace_records = grace_records};
}

CompactOptions BytesKey() {
  return {.key = {.prefix = kKeyPrefix}, .tombstone_grace = std::chrono::hours(24)};
}

absl::Status AppendFixed(const Log<KeyedRecord>& log, uint64_t n) {
  std::vector<KeyedRecord> batch;
  for (uint64_t i = 0; i < n; ++i) {
    batch.push_back(FixedRecordAt(log.end() + batch.size()));
    if (batch.size() == 500 || i + 1 == n) {
      absl::StatusOr<uint64_t> s = log.AppendBatch(batch);
      if (!s.ok()) return s.status();
      batch.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status AppendBytes(const ByteLog& log, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    absl::StatusOr<uint64_t> s = log.Append(ByteRecordAt(log.end()));
    if (!s.ok()) return s.status();
  }
  return absl::OkStatus();
}

absl::Status SyncBoth(const CaseHandles& h) {
  if (absl::StatusOr<uint64_t> s = h.fixed.Sync(); !s.ok()) return s.status();
  if (absl::StatusOr<uint64_t> s = h.bytes.Sync(); !s.ok()) return s.status();
  return absl::OkStatus();
}

constexpr CaseOpSpec kSpecs[kNumCaseOps] = {
    {CaseOp::kTruncateMid, "TruncateMid", CaseTemplate::kPlain, kFixed},
    {CaseOp::kTruncateBoundary, "TruncateBoundary", CaseTemplate::kPlain, kBytes},
    {CaseOp::kRetention, "Retention", CaseTemplate::kPlain, kBytes},
    {CaseOp::kCompactKeyFixed, "CompactKeyFixed", CaseTemplate::kPlain, kFixed},
    {CaseOp::kCompactKeyBytes, "CompactKeyBytes", CaseTemplate::kPlain, kBytes},
    {CaseOp::kCompactPredicate, "CompactPredicate", CaseTemplate::kPlain, kBytes},
    {CaseOp::kMerge, "Merge", CaseTemplate::kCompacted, kBytes},
    {CaseOp::kCompactAgain, "CompactAgain", CaseTemplate::kCompacted, kFixed},
    {CaseOp::kTruncateCompacted, "TruncateCompacted", CaseTemplate::kCompacted, kFixed},
};

}  // namespace

KeyedRecord FixedRecordAt(uint64_t seq) {
  const uint64_t h = Mix(seq * 3 + 1);
  return KeyedRecord{.seq = seq,
                     .key = static_cast<uint32_t>(h % 400),
                     .dead = Mix(seq * 3 + 2) % 12 == 0 ? 1u : 0u,
                     .a = h,
                     .b = ~h};
}

std::string FixedBytesAt(uint64_t seq) {
  const KeyedRecord r = FixedRecordAt(seq);
  return std::string(reinterpret_cast<const char*>(&r), sizeof(r));
}

std::string ByteRecordAt(uint64_t seq) {
  const uint64_t h = Mix(seq ^ 0xB17E5);
  if (h % 40 == 0) return std::string(3, static_cast<char>('a' + seq % 26));  // no key
  std::string s = absl::StrFormat("k%07u", static_cast<unsigned>((h >> 8) % 120));
  if ((h >> 20) % 10 == 0) return s;  // tombstone
  const size_t size = 20 + (h >> 32) % 400;
  uint64_t x = h;
  while (s.size() < kKeyPrefix + size) {
    x = Mix(x);
    s.append(reinterpret_cast<const char*>(&x), 8);
  }
  s.resize(kKeyPrefix + size);
  return s;
}

const CaseOpSpec& OpSpec(int i) { return kSpecs[i]; }

absl::StatusOr<CaseHandles> OpenCase(Env* env, const std::string& store_dir, bool create) {
  CaseHandles h;
  absl::StatusOr<std::unique_ptr<Store>> store = ::recstore::testing::OpenStore(
      env, store_dir,
      {.create_if_missing = create, .segment_size = kCaseSegmentSize, .prefault = false});
  if (!store.ok()) return store.status();
  h.store = *std::move(store);
  const CollectionOptions options{.create_if_missing = create};
  absl::StatusOr<Log<KeyedRecord>> fixed = h.store->OpenLog<KeyedRecord>(kFixedName, options);
  if (!fixed.ok()) return fixed.status();
  h.fixed = *std::move(fixed);
  absl::StatusOr<ByteLog> bytes = h.store->OpenByteLog(kBytesName, options);
  if (!bytes.ok()) return bytes.status();
  h.bytes = *std::move(bytes);
  return h;
}

absl::Status BuildTemplate(CaseTemplate t, const std::string& store_dir) {
  std::error_code ec;
  fs::create_directories(fs::path(store_dir).parent_path(), ec);
  ClockEnv<testing::FaultEnv> env;
  env.set_now(kT0);
  absl::StatusOr<CaseHandles> h = OpenCase(&env, store_dir, /*create=*/true);
  if (!h.ok()) return h.status();
  if (absl::Status s = AppendFixed(h->fixed, kFixedRecords); !s.ok()) return s;
  if (absl::Status s = AppendBytes(h->bytes, kByteRecords / 2); !s.ok()) return s;
  env.set_now(kT1);
  if (absl::Status s = AppendBytes(h->bytes, kByteRecords / 2); !s.ok()) return s;
  if (absl::Status s = SyncBoth(*h); !s.ok()) return s;
  if (t == CaseTemplate::kPlain) return absl::OkStatus();
  env.set_now(kTOp);
  // Truncate the byte log inside its second segment, compact both, then grow both again.
  const std::vector<uint64_t> segs = OrdinarySegments(CollectionFolder(store_dir, h->bytes));
  if (segs.size() < 3) return absl::InternalError("byte log has fewer than 3 segments");
  if (auto s = h->bytes.TruncateBefore(segs[1] + 17); !s.ok()) return s.status();
  if (auto s = h->fixed.Compact(FixedKey(2000)); !s.ok()) return s.status();
  if (auto s = h->bytes.Compact(BytesKey()); !s.ok()) return s.status();
  if (absl::Status s = AppendFixed(h->fixed, 3500); !s.ok()) return s;
  if (absl::Status s = AppendBytes(h->bytes, 500); !s.ok()) return s;
  return SyncBoth(*h);
}

absl::StatusOr<uint64_t> OpArgument(CaseOp op, const std::string& store_dir) {
  if (op != CaseOp::kTruncateMid && op != CaseOp::kTruncateBoundary &&
      op != CaseOp::kTruncateCompacted) {
    return 0;
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(store_dir, {.read_only = true});
  if (!store.ok()) return store.status();
  absl::StatusOr<UntypedLog> log =
      (*store)->OpenUntyped(op == CaseOp::kTruncateBoundary ? kBytesName : kFixedName);
  if (!log.ok()) return log.status();
  if (op == CaseOp::kTruncateCompacted) {
    const CollectionInfo info = log->info();
    if (info.generation == 0 || info.compacted_end < 10) {
      return absl::InternalError("the template's fixed log was not compacted");
    }
    return info.compacted_end / 2 + 3;
  }
  const std::vector<uint64_t> segs = OrdinarySegments(CollectionFolder(store_dir, *log));
  if (segs.size() < 4) return absl::InternalError("fewer than 4 segments");
  return op == CaseOp::kTruncateMid ? segs[2] + 100 : segs[2];
}

absl::Status RunOp(CaseOp op, uint64_t arg, const CaseHandles& h) {
  switch (op) {
    case CaseOp::kTruncateMid:
    case CaseOp::kTruncateCompacted:
      return h.fixed.TruncateBefore(arg).status();
    case CaseOp::kTruncateBoundary:
      return h.bytes.TruncateBefore(arg).status();
    case CaseOp::kRetention:
      return h.bytes.SetRetention({.max_records = 700});
    case CaseOp::kCompactKeyFixed:
      return h.fixed.Compact(FixedKey(2000)).status();
    case CaseOp::kCompactKeyBytes:
      return h.bytes.Compact(BytesKey()).status();
    case CaseOp::kCompactPredicate:
      return h.bytes
          .Compact({.keep = [](uint64_t seq,
                               std::span<const std::byte>) { return Mix(seq ^ 77) % 4 != 0; }})
          .status();
    case CaseOp::kMerge:
      return h.bytes.Merge().status();
    case CaseOp::kCompactAgain:
      return h.fixed.Compact(FixedKey(500)).status();
  }
  return absl::InternalError("unknown operation");
}

std::string CollectionFolder(const std::string& store_dir, const LogBase& log) {
  const CollectionInfo info = log.info();
  return absl::StrFormat("%s/%06u-%s", store_dir, info.id, info.name);
}

std::vector<uint64_t> OrdinarySegments(const std::string& folder) {
  std::vector<uint64_t> firsts;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != 24 || !name.ends_with(".seg")) continue;
    if (!std::all_of(name.begin(), name.begin() + 20,
                     [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    firsts.push_back(std::stoull(name.substr(0, 20)));
  }
  std::sort(firsts.begin(), firsts.end());
  return firsts;
}

}  // namespace recstore::crash
