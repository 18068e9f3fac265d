#include "tests/hostile/template_store.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/testing/open_store.h"

namespace recstore::hostile {
namespace {

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "building the template store: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::abort();
}

template <typename T>
T Must(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what, v.status());
  return *std::move(v);
}

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

HostileTick Tick(uint64_t seq) {
  HostileTick t{};
  t.ts = 1'700'000'000'000'000'000 + seq * 1000;
  t.qty = static_cast<int64_t>(seq % 1000) - 500;
  t.px = 100.0 + static_cast<double>(seq) / 8;
  t.sym = static_cast<uint32_t>(seq * 2654435761u);
  std::memcpy(t.tag, "TK00", 4);
  t.tag[3] = static_cast<char>('0' + seq % 10);
  return t;
}

std::string Event(uint64_t seq) {
  std::string s = absl::StrCat("event ", seq, " ");
  s.resize(10 + (seq * 37) % 150, static_cast<char>('a' + seq % 26));
  return s;
}

// Records per fixed segment: (64 KiB - 4096) / stride 40.
constexpr uint64_t kTicksPerSegment = 1536;

}  // namespace

const Written* TemplateStore::Find(const std::string& name) const {
  for (const Written& w : collections) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

TemplateStore BuildTemplateStore(const std::string& dir) {
  TemplateStore t;
  t.dir = dir;
  testing::HeapMapEnv env;
  {
    // Syncs cost time and prove nothing here: the heap-mapping Env makes them no-ops.
    auto store = Must(
        testing::OpenStore(&env, dir, {.create_if_missing = true, .segment_size = kSegmentSize}),
        "open");
    auto ticks = Must(store->OpenLog<HostileTick>(kTicks), "ticks");
    auto events = Must(store->OpenByteLog(kEvents), "events");
    auto single = Must(store->OpenLog<SmallRecord>(kSingle), "single");
    for (uint32_t i = 0; i < 100; ++i) Must(single.Append({i * 7ull, i}).status(), "append");
    Must(single.Sync().status(), "sync");
    auto ckpt = Must(store->OpenCheckpoints(kCheckpoints, {.keep = 2}), "checkpoints");
    uint64_t n_ticks = 0, n_events = 0;
    auto append = [&](uint64_t ticks_to, uint64_t events_to) {
      for (; n_ticks < ticks_to; ++n_ticks) Must(ticks.Append(Tick(n_ticks)).status(), "append");
      for (; n_events < events_to; ++n_events) {
        Must(events.Append(Event(n_events)).status(), "append");
      }
      Must(ticks.Sync().status(), "sync");
      Must(events.Sync().status(), "sync");
    };
    // Three full segments and a bit, merged into compacted segments; then three more
    // ordinary segments.
    append(3 * kTicksPerSegment + 100, 1800);
    Must(ticks.Merge().status(), "merge ticks");
    Must(events.Merge().status(), "merge events");
    append(5 * kTicksPerSegment + 300, 3100);
    // Retention fields that are not zero, and drop nothing.
    Must(ticks.SetRetention({.max_records = uint64_t{1} << 40, .time_field = "ts"}), "retention");
    Must(events.SetRetention({.max_records = uint64_t{1} << 40}), "retention");
    // Enough versions for the old ones to be dropped a segment at a time.
    for (int i = 0; i < 60; ++i) {
      std::string payload = absl::StrCat("checkpoint version ", i, " ");
      payload.resize(1500 + i * 10, static_cast<char>('A' + i % 26));
      Must(ckpt.Save(payload).status(), "save");
      if (i >= 58) t.checkpoint_payloads.insert(payload);
    }
  }
  auto store = Must(Store::Open(dir, {.read_only = true}), "reopen");
  for (const CollectionInfo& info : store->ListCollections()) {
    Written w;
    w.name = info.name;
    w.folder = absl::StrFormat("%06u-%s", info.id, info.name);
    w.kind = info.kind;
    auto log = Must(store->OpenUntyped(info.name), "open " + info.name);
    w.begin = log.begin();
    w.end = log.end();
    auto scan = log.Scan(log.begin());
    for (const auto& [seq, bytes] : scan) w.records[seq] = std::string(AsString(bytes));
    Must(scan.status(), "scan " + info.name);
    t.collections.push_back(std::move(w));
  }
  if (t.collections.size() != 4 || t.Find(kTicks) == nullptr || t.Find(kEvents) == nullptr ||
      t.Find(kSingle) == nullptr) {
    Die("collections", absl::InternalError("not the four collections expected"));
  }
  return t;
}

void CopyStore(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::remove_all(to, ec);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive, ec);
  if (ec) Die("copy " + from, absl::InternalError(ec.message()));
}

}  // namespace recstore::hostile
