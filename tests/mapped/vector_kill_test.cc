// Real process kills. A child process runs a random workload on a MappedVector and is killed
// with SIGKILL at a random moment; the parent reopens the vector and checks it, then the next
// child goes on from the recovered state.
//
//   VectorKillTest: the workload is a sequence of groups, each random mutations (pushes,
//   appends, inserts, erases of one to thousands of elements, Sets, Mutable, resizes, pops, a
//   rare clear) ending with a Sync; group g is a function of (seed, g, the size before it), so
//   the parent replays the model to any sync count. The child reports each group whose Sync
//   returned OK. After the kill a read-only open (no redo), then the parent's writer open
//   (which runs recovery) must show exactly the model at the last acknowledged group, or at
//   the next one (a sync in flight may have committed), size and every element, and the
//   sync count of that group; both the same. One kill
//   in five lands within 3 ms of the fork (while the child opens and recovers), one in five
//   right after a report (during the next group); the rest up to 60 ms after the child
//   opened. A fresh vector every 25 kills puts kills into creation too.
//
//   StructKillTest: three children open one MappedStruct shared; each increments a total and
//   a counter of its own (atomics; now and then for milliseconds without a sync) and syncs,
//   reporting after each Sync returned the values it loaded just before. They are killed one
//   by one at random moments; then the parent's open (the first opener: it restores the
//   newest snapshot) must show each counter at least at the highest value any child
//   acknowledged and at most at what the killed children's live struct held (the increments
//   they made), and a sync count at least the highest acknowledged. The next round's
//   children go on from there.
//
// RECSTORE_MAPPED_KILLS=N runs N kills (default 60) in each test, for a long run:
//   ./bazelw test //tests/mapped:vector_kill_test --test_env=RECSTORE_MAPPED_KILLS=1000
// RECSTORE_MAPPED_KILL_SEED=s replays a run (the seed is printed).
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "src/format/mapped_file.h"
#include "tests/testing/child.h"
#include "tests/testing/temp_dir.h"

namespace recstore {
namespace {

using Clock = std::chrono::steady_clock;
using testing::ChildProcess;

uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::strtoull(v, nullptr, 10);
}

uint64_t Kills() { return EnvNumber("RECSTORE_MAPPED_KILLS", 60); }
uint64_t Seed(uint64_t fallback) { return EnvNumber("RECSTORE_MAPPED_KILL_SEED", fallback); }

// A child to be killed: KillAndDrain kills it and collects what it reported (it must die
// of the kill, not exit); a child never drained is killed when this goes (a failed check).
class Victim {
 public:
  explicit Victim(const std::function<int(ChildProcess::Side&)>& body)
      : child_(std::make_unique<ChildProcess>(body)) {}
  ~Victim() {
    if (child_->started() && !drained_) ::kill(child_->pid(), SIGKILL);
  }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;

  bool started() const { return child_->started(); }
  std::optional<std::string> ReadLine() { return child_->ReadLine(); }

  std::vector<std::string> KillAndDrain(std::string* error) {
    ::kill(child_->pid(), SIGKILL);
    std::vector<std::string> lines;
    while (std::optional<std::string> line = child_->ReadLine()) lines.push_back(*std::move(line));
    const int status = child_->Wait();
    drained_ = true;
    if (status != 128 + SIGKILL) {
      *error = absl::StrCat("the child ended with status ", status, " before it was killed");
      for (const std::string& l : lines) {
        if (l.starts_with("error ")) absl::StrAppend(error, ": ", l);
      }
    }
    return lines;
  }

 private:
  std::unique_ptr<ChildProcess> child_;
  bool drained_ = false;
};

// The child's first act: die with the parent, and never outlive a test that forgot it.
void ChildSetup() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(60);
}

// --- The vector ---

struct Elem {
  uint64_t key;
  uint64_t check;
  uint32_t group;
  uint32_t flags;
  double value;
};
RECSTORE_RECORD(Elem, key, check, group, flags, value);
static_assert(sizeof(Elem) == 32);

Elem MakeElem(uint64_t key) {
  const uint64_t h = Mix(key);
  return Elem{.key = key,
              .check = h,
              .group = static_cast<uint32_t>(key >> 32),
              .flags = static_cast<uint32_t>(h),
              .value = static_cast<double>(h % 100003) / 7.0};
}

// One mutation. Keys are unique: (group << 32) | (op << 16) | element.
struct Op {
  enum Kind { kPush, kAppend, kInsert, kErase, kSet, kMutate, kResize, kPop, kClear } kind;
  uint64_t a = 0;  // index, count or size
  uint64_t b = 0;  // count or end
  uint64_t key = 0;
};

constexpr size_t kMaxElements = 60000;  // 1.9 MB: beyond it a group erases half

// Group g's operations on a vector of `size` elements; the last always pushes, so every
// group's Sync writes and the sync count equals the number of groups applied.
std::vector<Op> GroupOps(uint64_t seed, uint64_t g, size_t size) {
  std::mt19937_64 rng(Mix(seed ^ Mix(g)));
  auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  std::vector<Op> ops;
  const int count = 1 + static_cast<int>(below(10));
  for (int i = 0; i < count; ++i) {
    const uint64_t key = (g << 32) | (static_cast<uint64_t>(i) << 16);
    Op op{Op::kPush, 0, 0, key};
    const uint64_t r = below(100);
    if (size > kMaxElements) {
      op = {Op::kErase, 0, size / 2, key};
    } else if (r < 25 || size == 0) {
      op = {Op::kPush, 1 + below(300), 0, key};
    } else if (r < 35) {
      op = {Op::kAppend, 1 + below(r < 30 ? 3000 : 200), 0, key};
    } else if (r < 45) {
      op = {Op::kInsert, below(size + 1), 1 + below(3), key};
    } else if (r < 57) {
      const uint64_t first = below(size);
      const uint64_t len = 1 + below(std::min<uint64_t>(size - first, r < 50 ? 20 : 5000));
      op = {Op::kErase, first, first + len, key};
    } else if (r < 75) {
      op = {Op::kSet, below(size), 1 + below(30), key};
    } else if (r < 82) {
      op = {Op::kMutate, below(size), 0, key};
    } else if (r < 90) {
      op = {Op::kResize, size / 2 + below(size / 2 + 500), 0, key};
    } else if (r < 98) {
      op = {Op::kPop, 1 + below(std::min<uint64_t>(size, 100)), 0, key};
    } else {
      op = {Op::kClear, 0, 0, key};
    }
    switch (op.kind) {
      case Op::kPush:
      case Op::kAppend:
        size += op.a;
        break;
      case Op::kInsert:
        size += op.b;
        break;
      case Op::kErase:
        size -= op.b - op.a;
        break;
      case Op::kResize:
        size = op.a;
        break;
      case Op::kPop:
        size -= std::min<uint64_t>(size, op.a);
        break;
      case Op::kClear:
        size = 0;
        break;
      default:
        break;
    }
    ops.push_back(op);
  }
  ops.push_back({Op::kPush, 1, 0, (g << 32) | 0xFFFF0000u});
  return ops;
}

// Applies `ops` to either a std::vector<Elem> or a MappedVector<Elem> through `Target`.
template <typename Target>
absl::Status Apply(const std::vector<Op>& ops, Target& t) {
  for (const Op& op : ops) {
    absl::Status s;
    switch (op.kind) {
      case Op::kPush:
        for (uint64_t j = 0; j < op.a && s.ok(); ++j) s = t.Push(MakeElem(op.key + j));
        break;
      case Op::kAppend: {
        std::vector<Elem> elems;
        for (uint64_t j = 0; j < op.a; ++j) elems.push_back(MakeElem(op.key + j));
        s = t.Append(elems);
        break;
      }
      case Op::kInsert:
        for (uint64_t j = 0; j < op.b && s.ok(); ++j) s = t.Insert(op.a, MakeElem(op.key + j));
        break;
      case Op::kErase:
        s = t.Erase(op.a, op.b);
        break;
      case Op::kSet:
        // b elements from index a, every 97th, wrapping.
        for (uint64_t j = 0; j < op.b && s.ok(); ++j) {
          s = t.Set((op.a + j * 97) % t.size(), MakeElem(op.key + j));
        }
        break;
      case Op::kMutate:
        s = t.Mutate(op.a);
        break;
      case Op::kResize:
        s = t.Resize(op.a);
        break;
      case Op::kPop:
        for (uint64_t j = 0; j < op.a && t.size() > 0; ++j) t.Pop();
        break;
      case Op::kClear:
        t.Clear();
        break;
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

struct ModelTarget {
  std::vector<Elem>& v;
  size_t size() const { return v.size(); }
  absl::Status Push(const Elem& e) {
    v.push_back(e);
    return absl::OkStatus();
  }
  absl::Status Append(const std::vector<Elem>& e) {
    v.insert(v.end(), e.begin(), e.end());
    return absl::OkStatus();
  }
  absl::Status Insert(size_t i, const Elem& e) {
    v.insert(v.begin() + static_cast<ptrdiff_t>(i), e);
    return absl::OkStatus();
  }
  absl::Status Erase(size_t a, size_t b) {
    v.erase(v.begin() + static_cast<ptrdiff_t>(a), v.begin() + static_cast<ptrdiff_t>(b));
    return absl::OkStatus();
  }
  absl::Status Set(size_t i, const Elem& e) {
    v[i] = e;
    return absl::OkStatus();
  }
  absl::Status Mutate(size_t i) {
    v[i].value += 1;
    v[i].flags ^= 0x5A5A;
    return absl::OkStatus();
  }
  absl::Status Resize(size_t n) {
    v.resize(n, Elem{});
    return absl::OkStatus();
  }
  void Pop() { v.pop_back(); }
  void Clear() { v.clear(); }
};

struct VectorTarget {
  MappedVector<Elem>& v;
  size_t size() const { return v.size(); }
  absl::Status Push(const Elem& e) { return v.push_back(e); }
  absl::Status Append(const std::vector<Elem>& e) { return v.append(e); }
  absl::Status Insert(size_t i, const Elem& e) { return v.insert(i, e); }
  absl::Status Erase(size_t a, size_t b) { return v.erase(a, b); }
  absl::Status Set(size_t i, const Elem& e) { return v.Set(i, e); }
  absl::Status Mutate(size_t i) {
    absl::StatusOr<Elem*> p = v.Mutable(i);
    if (!p.ok()) return p.status();
    (*p)->value += 1;
    (*p)->flags ^= 0x5A5A;
    return absl::OkStatus();
  }
  absl::Status Resize(size_t n) { return v.resize(n); }
  void Pop() { v.pop_back(); }
  void Clear() { v.clear(); }
};

// The model at any group count, replayed forward.
class Model {
 public:
  explicit Model(uint64_t seed) : seed_(seed) {}
  uint64_t groups() const { return groups_; }
  const std::vector<Elem>& elems() const { return elems_; }
  void AdvanceTo(uint64_t g) {
    while (groups_ < g) {
      ++groups_;
      ModelTarget t{elems_};
      Apply(GroupOps(seed_, groups_, elems_.size()), t).IgnoreError();
    }
  }

 private:
  uint64_t seed_;
  uint64_t groups_ = 0;
  std::vector<Elem> elems_;
};

// The child: opens (recovering), then applies groups from the one after the vector's sync
// count on, reporting each "g <n>" once its Sync returned OK. Never returns.
[[noreturn]] void VectorChild(ChildProcess::Side& parent, const std::string& path, uint64_t seed) {
  ChildSetup();
  auto v = MappedVector<Elem>::Open(path, {.create_if_missing = true});
  if (!v.ok()) {
    parent.Report(absl::StrCat("error open: ", v.status().ToString()));
    _exit(2);
  }
  parent.Report(absl::StrCat("open ", v->sync_count()));
  for (uint64_t g = v->sync_count() + 1;; ++g) {
    VectorTarget t{*v};
    if (absl::Status s = Apply(GroupOps(seed, g, v->size()), t); !s.ok()) {
      parent.Report(absl::StrCat("error group ", g, ": ", s.ToString()));
      _exit(3);
    }
    if (absl::Status s = v->Sync(); !s.ok()) {
      parent.Report(absl::StrCat("error sync ", g, ": ", s.ToString()));
      _exit(4);
    }
    parent.Report(absl::StrCat("g ", g));
  }
}

// Whether n elements at a and b are equal (either may be null when n is 0).
bool SameElems(const Elem* a, const Elem* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n * sizeof(Elem)) == 0;
}

std::string Mismatch(const MappedVector<Elem>& v, const std::vector<Elem>& want) {
  std::string out = absl::StrCat(v.size(), " elements, the model ", want.size());
  const size_t n = std::min(v.size(), want.size());
  for (size_t i = 0; i < n; ++i) {
    if (std::memcmp(&v[i], &want[i], sizeof(Elem)) != 0) {
      absl::StrAppend(&out, "; first difference at ", i, ": key ", v[i].key, ", want ",
                      want[i].key);
      break;
    }
  }
  return out;
}

TEST(VectorKillTest, ReopenShowsTheLastAcknowledgedSyncOrTheNext) {
  const uint64_t seed = Seed(Mix(static_cast<uint64_t>(Clock::now().time_since_epoch().count())));
  const uint64_t kills = Kills();
  std::printf("seed %llu (RECSTORE_MAPPED_KILL_SEED replays), %llu kills\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(kills));
  const std::string dir = testing::TestDir("kills");
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/v.rsv";
  std::mt19937_64 rng(seed);
  std::optional<Model> model;
  uint64_t verified = 0, acked_total = 0, next_found = 0, early = 0, after_report = 0, vectors = 0,
           read_only_opens = 0;
  const auto start = Clock::now();
  for (uint64_t kill = 0; kill < kills; ++kill) {
    if (kill % 25 == 0) {
      std::filesystem::remove(path);
      std::filesystem::remove(path + "-journal");
      model.emplace(seed + kill);
      verified = 0;
      ++vectors;
    }
    const uint64_t vseed = seed + kill / 25 * 25;
    const uint64_t how = rng() % 5;
    const auto delay = std::chrono::microseconds(how == 0 ? rng() % 3000 : rng() % 60000);
    Victim child([&](ChildProcess::Side& parent) -> int { VectorChild(parent, path, vseed); });
    ASSERT_TRUE(child.started());
    std::vector<std::string> lines;  // what the child reported
    if (how == 0) {
      ++early;
      std::this_thread::sleep_for(delay);
    } else {
      // Wait until it opened (a sanitizer build starts slowly), then for a report if this
      // kill is to follow one.
      std::optional<std::string> line = child.ReadLine();
      ASSERT_TRUE(line.has_value() && line->starts_with("open "))
          << "kill " << kill << ": the child's first report: " << line.value_or("(none)");
      if (how == 1) {
        ++after_report;
        line = child.ReadLine();
        ASSERT_TRUE(line.has_value() && line->starts_with("g "))
            << "kill " << kill << ": " << line.value_or("(none)");
        lines.push_back(*line);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
      } else {
        std::this_thread::sleep_for(delay);
      }
    }
    std::string error;
    for (std::string& l : child.KillAndDrain(&error)) lines.push_back(std::move(l));
    ASSERT_TRUE(error.empty()) << "kill " << kill << ": " << error;
    uint64_t acked = verified;
    for (const std::string& l : lines) {
      uint64_t g = 0;
      if (l.starts_with("g ") && absl::SimpleAtoi(l.substr(2), &g)) acked = std::max(acked, g);
    }
    acked_total += acked - verified;
    // A read-only open first (no redo: it reads the journal beside the file), then the
    // writer's, which recovers; both must show group `acked` or `acked + 1`, the same one.
    std::optional<std::vector<Elem>> read_only;
    uint64_t read_only_sync = 0;
    {
      auto r = MappedVector<Elem>::Open(path, {.read_only = true});
      ASSERT_TRUE(r.ok() || acked == 0)
          << "kill " << kill << " (seed " << seed << "): read-only open: " << r.status();
      if (r.ok()) {
        read_only.emplace(r->begin(), r->end());
        read_only_sync = r->sync_count();
        ++read_only_opens;
      }
    }
    auto v = MappedVector<Elem>::Open(path, {.create_if_missing = acked == 0});
    ASSERT_TRUE(v.ok()) << "kill " << kill << " (seed " << seed << "): " << v.status();
    const uint64_t found = v->sync_count();
    ASSERT_TRUE(found == acked || found == acked + 1)
        << "kill " << kill << " (seed " << seed << "): the vector is at sync " << found
        << "; the last acknowledged is " << acked;
    if (found == acked + 1) ++next_found;
    model->AdvanceTo(found);
    ASSERT_TRUE(v->size() == model->elems().size() &&
                SameElems(v->data(), model->elems().data(), v->size()))
        << "kill " << kill << " (seed " << seed << "), sync " << found << ": "
        << Mismatch(*v, model->elems());
    if (read_only.has_value()) {
      ASSERT_TRUE(read_only_sync == found && read_only->size() == v->size() &&
                  SameElems(read_only->data(), v->data(), v->size()))
          << "kill " << kill << " (seed " << seed << "): the read-only open showed sync "
          << read_only_sync << " with " << read_only->size() << " elements, the writer sync "
          << found << " with " << v->size();
    }
    verified = found;
  }
  std::printf(
      "%llu kills on %llu vectors (%llu within 3 ms of the fork, %llu right after a report) in "
      "%.1f s; %llu syncs acknowledged; %llu reopens found the unacknowledged next sync; %llu "
      "read-only opens before recovery agreed\n",
      static_cast<unsigned long long>(kills), static_cast<unsigned long long>(vectors),
      static_cast<unsigned long long>(early), static_cast<unsigned long long>(after_report),
      std::chrono::duration<double>(Clock::now() - start).count(),
      static_cast<unsigned long long>(acked_total), static_cast<unsigned long long>(next_found),
      static_cast<unsigned long long>(read_only_opens));
  EXPECT_GT(acked_total, kills / 4);
}

// --- The struct ---

constexpr int kChildren = 3;

struct Counters {
  uint64_t total;
  uint64_t mine[kChildren];
  uint64_t pad[4];
};
RECSTORE_RECORD(Counters, total, mine, pad);

// A child: opens shared, then increments the total and its own counter, syncing every few
// increments; after each Sync it reports "ack <total> <mine> <seq>" with the values it loaded
// just before the Sync (a lower bound of what the snapshot holds).
[[noreturn]] void StructChild(ChildProcess::Side& parent, const std::string& path, int me,
                              uint64_t seed) {
  ChildSetup();
  auto c = MappedStruct<Counters>::Open(path, {.shared = true});
  if (!c.ok()) {
    parent.Report(absl::StrCat("error open: ", c.status().ToString()));
    _exit(2);
  }
  parent.Report("open");
  std::mt19937_64 rng(seed);
  for (;;) {
    // A few increments, or (one time in three) increments for up to 3 ms, so that a kill
    // often finds increments no snapshot holds.
    const uint64_t n = 1 + rng() % 50;
    const auto until = Clock::now() + std::chrono::microseconds(rng() % 3 == 0 ? rng() % 3000 : 0);
    for (uint64_t i = 0; i < n || Clock::now() < until; ++i) {
      c->Atomic(&Counters::total).fetch_add(1, std::memory_order_relaxed);
      std::atomic_ref<uint64_t>(c->mutable_get()->mine[me]).fetch_add(1, std::memory_order_relaxed);
    }
    const Counters before = c->Load();
    if (absl::Status s = c->Sync(); !s.ok()) {
      parent.Report(absl::StrCat("error sync: ", s.ToString()));
      _exit(4);
    }
    parent.Report(absl::StrCat("ack ", before.total, " ", before.mine[me], " ", c->sync_count()));
  }
}

Counters ReadLive(const std::string& path) {
  Counters live;
  std::ifstream f(path, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(format::StructLayoutFor(sizeof(Counters)).live));
  f.read(reinterpret_cast<char*>(&live), sizeof(live));
  return live;
}

TEST(StructKillTest, ReopenShowsASnapshotBetweenTheAcknowledgedAndTheIssued) {
  const uint64_t seed =
      Seed(Mix(static_cast<uint64_t>(Clock::now().time_since_epoch().count()) + 1));
  const uint64_t rounds = std::max<uint64_t>(1, Kills() / kChildren);
  std::printf("seed %llu (RECSTORE_MAPPED_KILL_SEED replays), %llu rounds of %d kills\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(rounds),
              kChildren);
  const std::string path = testing::TestDir("kills") + ".rss";
  std::filesystem::remove(path);
  {
    auto c = MappedStruct<Counters>::Open(path, {.create_if_missing = true});
    ASSERT_TRUE(c.ok()) << c.status();
  }
  std::mt19937_64 rng(seed);
  Counters verified{};
  uint64_t verified_seq = 1, acks = 0, lost = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    std::vector<std::unique_ptr<Victim>> children;
    for (int i = 0; i < kChildren; ++i) {
      const uint64_t child_seed = Mix(seed ^ (round * kChildren + i));
      children.push_back(
          std::make_unique<Victim>([&, i, child_seed](ChildProcess::Side& parent) -> int {
            StructChild(parent, path, i, child_seed);
          }));
      ASSERT_TRUE(children.back()->started());
    }
    // Every child's "open" first (so that each gets to increment), then the kills, one by
    // one, at random moments.
    for (int i = 0; i < kChildren; ++i) {
      std::optional<std::string> line = children[i]->ReadLine();
      ASSERT_TRUE(line.has_value() && *line == "open")
          << "round " << round << ", child " << i << ": " << line.value_or("(none)");
    }
    std::vector<uint64_t> acked_mine(kChildren, 0);
    uint64_t acked_total = verified.total, acked_seq = verified_seq;
    for (int i = 0; i < kChildren; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
      std::string error;
      for (const std::string& l : children[i]->KillAndDrain(&error)) {
        std::vector<std::string> f = absl::StrSplit(l, ' ');
        uint64_t total = 0, mine = 0, seq = 0;
        if (f.size() == 4 && f[0] == "ack" && absl::SimpleAtoi(f[1], &total) &&
            absl::SimpleAtoi(f[2], &mine) && absl::SimpleAtoi(f[3], &seq)) {
          ++acks;
          acked_total = std::max(acked_total, total);
          acked_mine[i] = std::max(acked_mine[i], mine);
          acked_seq = std::max(acked_seq, seq);
        }
      }
      ASSERT_TRUE(error.empty()) << "round " << round << ", child " << i << ": " << error;
    }
    // What the children's increments left in the live struct: the most a snapshot can hold.
    const Counters live = ReadLive(path);
    auto c = MappedStruct<Counters>::Open(path);
    ASSERT_TRUE(c.ok()) << "round " << round << ": " << c.status();
    const Counters got = c->get();
    const std::string where = absl::StrCat("round ", round, " (seed ", seed, ")");
    EXPECT_GE(got.total, acked_total) << where << ": an acknowledged snapshot is lost";
    EXPECT_GE(got.total, verified.total) << where;
    EXPECT_LE(got.total, live.total) << where << ": more than the increments made";
    for (int i = 0; i < kChildren; ++i) {
      EXPECT_GE(got.mine[i], std::max(acked_mine[i], verified.mine[i])) << where << ", child " << i;
      EXPECT_LE(got.mine[i], live.mine[i]) << where << ", child " << i;
    }
    EXPECT_GE(c->sync_count(), acked_seq) << where;
    ASSERT_FALSE(::testing::Test::HasFailure());
    lost += live.total - got.total;
    verified = got;
    verified_seq = c->sync_count();
  }
  std::printf(
      "%llu rounds, %llu kills; %llu syncs acknowledged, the total reached %llu (%llu "
      "unsynced increments lost to the kills)\n",
      static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(rounds * kChildren),
      static_cast<unsigned long long>(acks), static_cast<unsigned long long>(verified.total),
      static_cast<unsigned long long>(lost));
  EXPECT_GT(acks, rounds);
}

}  // namespace
}  // namespace recstore
