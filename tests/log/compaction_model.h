// What retention and compaction tests share: an Env whose clock the test sets, an in-memory
// model of a collection's contents (sequence number and bytes of every live record) with the
// compaction rules applied to it, and readers of a collection's contents and segment files.
#ifndef RECSTORE_TESTS_LOG_COMPACTION_MODEL_H_
#define RECSTORE_TESTS_LOG_COMPACTION_MODEL_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/fault_env.h"

namespace recstore::testing {

// A record compacted by `key`; `deleted` non-zero marks a tombstone. 32 bytes, 40 per slot.
struct Keyed {
  uint64_t key;
  uint64_t value;
  uint32_t deleted;
  uint32_t tag;
  int64_t ts_ns;
};
RECSTORE_RECORD(Keyed, key, value, deleted, tag, ts_ns);

// A forwarding Env whose wall clock is whatever the test last set.
class ClockEnv : public FaultEnv {
 public:
  static constexpr int64_t kSecond = 1'000'000'000;
  explicit ClockEnv(int64_t start_seconds = 1'700'000'000) : now_(start_seconds * kSecond) {}
  int64_t NowUnixNanos() override { return now_.load(); }
  void SetSeconds(int64_t s) { now_.store(s * kSecond); }
  void AdvanceSeconds(int64_t s) { now_.fetch_add(s * kSecond); }
  int64_t Seconds() const { return now_.load() / kSecond; }

 private:
  std::atomic<int64_t> now_;
};

// One live record: its sequence number and bytes.
struct ModelRecord {
  uint64_t seq;
  std::string bytes;
  friend bool operator==(const ModelRecord&, const ModelRecord&) = default;
};
using Contents = std::vector<ModelRecord>;

inline void PrintTo(const ModelRecord& r, std::ostream* os) {
  *os << "{" << r.seq << ", " << r.bytes.size() << " bytes}";
}

template <typename T>
std::string BytesOf(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Everything a scan from begin() yields; fails the test if the scan stops early or the
// sequence numbers do not increase.
template <typename T>
Contents ReadAll(const Log<T>& log) {
  Contents out;
  auto scan = log.Scan();
  for (auto [seq, rec] : scan) out.push_back({seq, BytesOf(rec)});
  EXPECT_TRUE(scan.status().ok()) << scan.status();
  for (size_t i = 1; i < out.size(); ++i) EXPECT_LT(out[i - 1].seq, out[i].seq);
  return out;
}
inline Contents ReadAll(const ByteLog& log) {
  Contents out;
  auto scan = log.Scan();
  for (auto [seq, rec] : scan) out.push_back({seq, std::string(AsString(rec))});
  EXPECT_TRUE(scan.status().ok()) << scan.status();
  for (size_t i = 1; i < out.size(); ++i) EXPECT_LT(out[i - 1].seq, out[i].seq);
  return out;
}

// The records of `all` with seq >= first.
inline Contents From(const Contents& all, uint64_t first) {
  Contents out;
  for (const ModelRecord& r : all)
    if (r.seq >= first) out.push_back(r);
  return out;
}

// Key compaction and predicate rules, as include/recstore/compaction.h states them.
struct ModelRules {
  // The record's key; nullopt when it has none (always kept). Null: no key compaction.
  std::function<std::optional<std::string>(const std::string&)> key;
  // Whether a record is a tombstone; null: none are.
  std::function<bool(const ModelRecord&)> tombstone;
  // Whether a tombstone that is the newest of its key is past its grace.
  std::function<bool(const ModelRecord&)> expired;
  // Predicate compaction; null: keep.
  std::function<bool(const ModelRecord&)> keep;
};

// `all` after a compaction of the records below `boundary` (the active segment's first seq).
inline Contents ModelCompact(const Contents& all, uint64_t boundary, const ModelRules& rules) {
  std::map<std::string, uint64_t> newest;
  if (rules.key) {
    for (const ModelRecord& r : all)
      if (auto k = rules.key(r.bytes)) newest[*k] = r.seq;
  }
  Contents out;
  for (const ModelRecord& r : all) {
    if (r.seq < boundary) {
      if (rules.key) {
        if (auto k = rules.key(r.bytes)) {
          if (newest[*k] != r.seq) continue;
          if (rules.tombstone && rules.tombstone(r) && rules.expired(r)) continue;
        }
      }
      if (rules.keep && !rules.keep(r)) continue;
    }
    out.push_back(r);
  }
  return out;
}

// The folder of collection `name` in the store at `store_dir` ("<6-digit id>-<name>").
inline std::string CollectionFolder(const std::string& store_dir, const std::string& name) {
  for (const auto& e : std::filesystem::directory_iterator(store_dir)) {
    const std::string f = e.path().filename().string();
    if (f.size() == 7 + name.size() && f[6] == '-' && f.substr(7) == name) return e.path();
  }
  ADD_FAILURE() << "no folder for " << name << " in " << store_dir;
  return store_dir + "/missing";
}

// The segment files of a collection folder.
struct SegmentFiles {
  std::vector<uint64_t> ordinary;  // first seqs, sorted
  // (generation, first seq) of compacted segments, sorted
  std::vector<std::pair<uint64_t, uint64_t>> compacted;
  uint64_t compacted_bytes = 0;  // total size of the compacted files
  size_t total() const { return ordinary.size() + compacted.size(); }
  // First seq of the active (newest ordinary) segment.
  uint64_t active() const { return ordinary.empty() ? 0 : ordinary.back(); }
};

inline SegmentFiles ListSegments(const std::string& folder) {
  SegmentFiles s;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    const std::string f = e.path().filename().string();
    unsigned long long a = 0, b = 0;
    if (f.size() == 24 && f.ends_with(".seg") && std::sscanf(f.c_str(), "%20llu.seg", &a) == 1) {
      s.ordinary.push_back(a);
    } else if (f.size() == 46 && f[0] == 'c' && f.ends_with(".seg") &&
               std::sscanf(f.c_str(), "c%20llu-%20llu.seg", &a, &b) == 2) {
      s.compacted.emplace_back(a, b);
      s.compacted_bytes += std::filesystem::file_size(e.path());
    } else if (f.ends_with(".seg")) {
      ADD_FAILURE() << "unexpected segment file name " << f;
    }
  }
  std::sort(s.ordinary.begin(), s.ordinary.end());
  std::sort(s.compacted.begin(), s.compacted.end());
  return s;
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_LOG_COMPACTION_MODEL_H_
