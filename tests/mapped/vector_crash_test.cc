// MappedVector under a crash after every Env call (crash_points.h): a scripted workload of
// pushes, inserts, erases that move every page, Sets, resizes, pops, clears and syncs of 1 to
// ~200 dirty pages (growth past the first allocations, reopens midway) runs over a CrashEnv
// and is crashed after each of its Env calls in turn. Every image (five power-loss modes and a
// process kill) must reopen to exactly the last acknowledged sync or the one in progress, size
// and every element compared: first read-only (no redo), then as the writer (redo), then as
// the writer again (redo is idempotent), and the recovered vector must take pushes and a sync.
//
// RECSTORE_CRASH_POINT=n and RECSTORE_CRASH_SEED=s replay one point (see crash_points.h).
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "recstore/mapped_vector.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/scratch.h"
#include "tests/mapped/crash_points.h"

namespace recstore::mapped_test {
namespace {

// 40 bytes: records straddle page boundaries (102.4 to a page), so a page torn from its
// neighbour would tear records.
struct Item {
  uint64_t key;
  uint64_t check;
  uint32_t gen;
  uint32_t tag;
  double value;
  uint64_t tail;
};
RECSTORE_RECORD(Item, key, check, gen, tag, value, tail);
static_assert(sizeof(Item) == 40);

Item MakeItem(uint64_t key) {
  const uint64_t h = Mix(key);
  return Item{.key = key,
              .check = h,
              .gen = static_cast<uint32_t>(key * 7),
              .tag = static_cast<uint32_t>(h >> 40),
              .value = static_cast<double>(key) / 3.0,
              .tail = ~h};
}

bool Same(const Item& a, const Item& b) { return std::memcmp(&a, &b, sizeof(Item)) == 0; }
bool operator==(const Item& a, const Item& b) { return Same(a, b); }

// A state of the vector: its elements and its sync count.
struct State {
  std::vector<Item> items;
  uint64_t seq = 0;

  bool operator==(const State& o) const {
    return seq == o.seq && items.size() == o.items.size() &&
           (items.empty() ||
            std::memcmp(items.data(), o.items.data(), items.size() * sizeof(Item)) == 0);
  }
};

State StateOf(const MappedVector<Item>& v) {
  return State{std::vector<Item>(v.begin(), v.end()), v.sync_count()};
}

uint64_t HashState(const State& s) {
  return absl::HashOf(s.seq, std::string_view(reinterpret_cast<const char*>(s.items.data()),
                                              s.items.size() * sizeof(Item)));
}

// How `found` differs from `want`, in one line.
std::string Diff(const State& found, const State& want) {
  std::string out = absl::StrCat("sync ", found.seq, " with ", found.items.size(),
                                 " elements, not sync ", want.seq, " with ", want.items.size());
  const size_t n = std::min(found.items.size(), want.items.size());
  size_t differ = 0, first = n;
  for (size_t i = 0; i < n; ++i) {
    if (Same(found.items[i], want.items[i])) continue;
    if (first == n) first = i;
    ++differ;
  }
  if (first < n) {
    absl::StrAppend(&out, "; ", differ, " of the common elements differ, the first at index ",
                    first, " (key ", found.items[first].key, ", want ", want.items[first].key,
                    Same(found.items[first], MakeItem(found.items[first].key)) ? "" : ", torn",
                    ")");
  }
  return out;
}

constexpr char kFile[] = "/v.rsv";

class VectorWorkload : public CrashWorkload {
 public:
  VectorWorkload(Env* env, std::string root) : env_(env), root_(std::move(root)) {}

  void Run() override {
    Script();
    v_.reset();
  }

  void OnCrash() override {
    crashed_ = true;
    at_crash_opened_ = opened_;
    at_crash_acked_ = acked_;
    at_crash_syncing_ = syncing_;
    if (syncing_) at_crash_next_ = State{model_, acked_.seq + 1};
  }

  uint64_t ExpectationKey() const override {
    return absl::HashOf(at_crash_opened_, HashState(at_crash_acked_), at_crash_syncing_,
                        at_crash_syncing_ ? HashState(at_crash_next_) : 0);
  }

  std::vector<std::string> RunProblems() const override { return problems_; }

  void Narrow(Recovered which) override { narrow_ = which; }

  absl::Status Recover(Env* env, const std::string& dir) override {
    return MappedVector<Item>::Open(dir + kFile, {.env = env}).status();
  }

  Recovered CheckImage(const std::string& dir, std::vector<std::string>* problems) override {
    const std::string path = dir + kFile;
    // Read-only first: it shows the state without redoing anything. Once the workload's
    // creation returned the file must open; before, nothing was promised.
    std::optional<State> read_only;
    if (at_crash_opened_) {
      auto r = MappedVector<Item>::Open(path, {.read_only = true});
      if (r.ok()) {
        read_only = StateOf(*r);
      } else {
        problems->push_back(absl::StrCat("read-only open: ", r.status().ToString()));
      }
    }
    std::optional<State> found;
    {
      auto w = MappedVector<Item>::Open(path, {.create_if_missing = !at_crash_opened_});
      if (!w.ok()) {
        problems->push_back(absl::StrCat("open: ", w.status().ToString()));
        return Recovered::kNeither;
      }
      found = StateOf(*w);
    }
    Recovered which = Recovered::kNeither;
    if (narrow_ != Recovered::kInProgress && *found == at_crash_acked_) {
      which = Recovered::kAcknowledged;
    } else if (narrow_ != Recovered::kAcknowledged && at_crash_syncing_ &&
               *found == at_crash_next_) {
      which = Recovered::kInProgress;
    } else {
      problems->push_back(
          absl::StrCat("open shows ", Diff(*found, at_crash_acked_), " (the last acknowledged)"));
      if (at_crash_syncing_) {
        problems->push_back(
            absl::StrCat("open shows ", Diff(*found, at_crash_next_), " (the one in progress)"));
      }
    }
    if (read_only.has_value() && !(*read_only == *found)) {
      problems->push_back(absl::StrCat("the read-only open showed ", Diff(*read_only, *found),
                                       " (what the writer's open showed)"));
    }
    // Redo again: the same state.
    {
      auto w = MappedVector<Item>::Open(path);
      if (!w.ok()) {
        problems->push_back(absl::StrCat("second open: ", w.status().ToString()));
        return which;
      }
      State again = StateOf(*w);
      if (!(again == *found)) {
        problems->push_back(absl::StrCat("the second open shows ", Diff(again, *found)));
      }
      // The recovered vector goes on.
      for (uint64_t k = 0; k < 3; ++k) {
        const Item item = MakeItem(900000000 + k);
        if (absl::Status s = w->push_back(item); !s.ok()) {
          problems->push_back(absl::StrCat("push_back after recovery: ", s.ToString()));
          return which;
        }
        found->items.push_back(item);
      }
      if (absl::Status s = w->Sync(); !s.ok()) {
        problems->push_back(absl::StrCat("Sync after recovery: ", s.ToString()));
        return which;
      }
      ++found->seq;
    }
    auto w = MappedVector<Item>::Open(path, {.read_only = true});
    if (!w.ok()) {
      problems->push_back(absl::StrCat("open after the sync: ", w.status().ToString()));
    } else if (State after = StateOf(*w); !(after == *found)) {
      problems->push_back(absl::StrCat("after pushes and a sync: ", Diff(after, *found)));
    }
    return which;
  }

 private:
  // Each step returns false once an operation failed (the crash): the script stops there.
  bool Check(const absl::Status& s, const char* what) {
    if (s.ok()) return true;
    if (!crashed_)
      problems_.push_back(absl::StrCat(what, " failed before the crash: ", s.ToString()));
    return false;
  }

  bool Open(bool create) {
    auto v = MappedVector<Item>::Open(root_ + kFile, {.create_if_missing = create, .env = env_});
    if (!Check(v.status(), "Open")) return false;
    v_.emplace(*std::move(v));
    if (State s = StateOf(*v_); !(s == acked_)) {
      problems_.push_back(absl::StrCat("Open shows ", Diff(s, acked_)));
    }
    opened_ = true;
    return true;
  }

  bool Reopen() {
    v_.reset();
    return Open(false);
  }

  bool Sync() {
    const bool changes = v_->has_unsynced_changes();
    syncing_ = changes;
    absl::Status s = v_->Sync();
    syncing_ = false;
    if (!s.ok()) {
      // The memory keeps every change (a later Sync retries).
      if (!(StateOf(*v_).items == model_)) {
        problems_.push_back(absl::StrCat("a failed Sync changed the memory: ",
                                         Diff(StateOf(*v_), State{model_, v_->sync_count()})));
      }
      Check(s, "Sync");
      return false;
    }
    acked_ = State{model_, acked_.seq + (changes ? 1 : 0)};
    if (State now = StateOf(*v_); !(now == acked_)) {
      problems_.push_back(absl::StrCat("after Sync: ", Diff(now, acked_)));
    }
    ++syncs_;
    return true;
  }

  bool Push(uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      const Item item = MakeItem(next_key_++);
      if (!Check(v_->push_back(item), "push_back")) return false;
      model_.push_back(item);
    }
    return true;
  }

  bool Append(uint64_t count) {
    std::vector<Item> items;
    for (uint64_t i = 0; i < count; ++i) items.push_back(MakeItem(next_key_++));
    if (!Check(v_->append(items), "append")) return false;
    model_.insert(model_.end(), items.begin(), items.end());
    return true;
  }

  bool Insert(size_t index) {
    const Item item = MakeItem(next_key_++);
    if (!Check(v_->insert(index, item), "insert")) return false;
    model_.insert(model_.begin() + static_cast<ptrdiff_t>(index), item);
    return true;
  }

  bool Erase(size_t first, size_t last) {
    if (!Check(v_->erase(first, last), "erase")) return false;
    model_.erase(model_.begin() + static_cast<ptrdiff_t>(first),
                 model_.begin() + static_cast<ptrdiff_t>(last));
    return true;
  }

  bool Set(size_t index) {
    const Item item = MakeItem(next_key_++);
    if (!Check(v_->Set(index, item), "Set")) return false;
    model_[index] = item;
    return true;
  }

  bool Resize(size_t n) {
    if (!Check(v_->resize(n), "resize")) return false;
    model_.resize(n, Item{});
    return true;
  }

  bool Pop(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      v_->pop_back();
      model_.pop_back();
    }
    return true;
  }

  bool Mutate(size_t index) {
    auto p = v_->Mutable(index);
    if (!Check(p.status(), "Mutable")) return false;
    (*p)->value += 1;
    (*p)->tail ^= 0xFF;
    model_[index].value += 1;
    model_[index].tail ^= 0xFF;
    return true;
  }

  bool Clear() {
    v_->clear();
    model_.clear();
    return true;
  }

  static constexpr size_t kPerPage = 4096 / sizeof(Item);  // 102 (and a part of the 103rd)

  void Script() {
    if (!Open(true)) return;
    if (!Sync()) return;                // nothing changed: no I/O
    if (!Push(1) || !Sync()) return;    // the first allocation, one dirty page
    if (!Push(250) || !Sync()) return;  // 3 pages
    if (!Set(123) || !Sync()) return;   // one page
    // Past the first 64 KiB (1638 elements): two more allocations, 40 pages.
    if (!Push(4000 - model_.size()) || !Sync()) return;
    // Everything after index 10 moves down one element; 120 elements go at 500.
    if (!Insert(10) || !Erase(500, 620) || !Sync()) return;
    // Scattered: one page in three, 13 runs of pages; and pops.
    for (size_t i = 0; i < model_.size(); i += 3 * kPerPage + 17) {
      if (!Set(i)) return;
    }
    if (!Pop(30) || !Sync()) return;
    // Shrink, grow back with zeros, change in place.
    if (!Resize(1000) || !Resize(1500) || !Mutate(7) || !Mutate(1400) || !Sync()) return;
    // Nearly everything goes: the file keeps pages the header no longer counts.
    if (!Clear() || !Push(3) || !Sync()) return;
    if (!Reopen()) return;  // redoes the journal of the last sync (it is already applied)
    if (!Resize(2000) || !Set(1500) || !Set(3) || !Sync()) return;
    // Growth to 1 MiB of memory: about 200 dirty pages in one sync.
    if (!Append(21000 - model_.size()) || !Sync()) return;
    // The whole vector moves: every page dirty.
    if (!Erase(0, 1) || !Sync()) return;
    if (!Erase(100, 20900) || !Push(1) || !Sync()) return;
    if (!Reopen()) return;
    if (!Insert(0) || !Sync()) return;
    Sync();  // nothing changed
  }

  Env* const env_;
  const std::string root_;
  std::optional<MappedVector<Item>> v_;
  std::vector<Item> model_;
  uint64_t next_key_ = 1;
  State acked_;  // the last acknowledged sync (the empty vector, sync 0, once created)
  bool opened_ = false;
  bool syncing_ = false;
  bool crashed_ = false;
  uint64_t syncs_ = 0;
  std::vector<std::string> problems_;

  bool at_crash_opened_ = false;
  State at_crash_acked_;
  bool at_crash_syncing_ = false;
  State at_crash_next_;
  Recovered narrow_ = Recovered::kNeither;
};

std::unique_ptr<CrashWorkload> MakeWorkload(Env* env, const std::string& root) {
  return std::make_unique<VectorWorkload>(env, root);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr uint64_t kStride = 4;
#else
constexpr uint64_t kStride = 1;
#endif

TEST(VectorCrashTest, CleanRunLeavesTheLastSyncDurable) {
  crash::ScratchDir scratch;
  const std::string root = scratch.path() + "/root";
  std::filesystem::create_directories(root);
  uint64_t calls = 0;
  {
    crash::CrashEnv env(root);
    VectorWorkload w(&env, root);
    w.Run();
    EXPECT_TRUE(w.RunProblems().empty()) << w.RunProblems().front();
    calls = env.calls();
    w.OnCrash();  // what an image of the finished run must show: the last sync
    ASSERT_TRUE(
        env.WriteCrashImage(scratch.path() + "/image", crash::CrashMode::kDropUnsynced, 1).ok());
    std::vector<std::string> problems;
    EXPECT_EQ(w.CheckImage(scratch.path() + "/image", &problems), Recovered::kAcknowledged);
    EXPECT_TRUE(problems.empty()) << problems.front();
  }
  std::printf("vector workload: %llu Env calls\n", static_cast<unsigned long long>(calls));
  EXPECT_GT(calls, 150u);
}

TEST(VectorCrashTest, EveryCrashPointRecoversTheLastOrTheRunningSync) {
  crash::ScratchDir scratch;
  // Right after a sync's commit point (its journal durable, the file not yet written) the
  // recovery has the whole journal to redo: crash that recovery too.
  auto committed = [](const std::string& call) {
    return call.starts_with("SyncData ") && call.ends_with("-journal");
  };
  const CrashPointStats stats =
      RunEveryCrashPoint(scratch.path(), MakeWorkload, kStride, committed);
  std::printf("%s\n", stats.ToString().c_str());
  EXPECT_GT(stats.in_progress, 0u);
  EXPECT_GT(stats.acknowledged, 0u);
  EXPECT_GT(stats.recovery_points, 0u);
}

}  // namespace
}  // namespace recstore::mapped_test
