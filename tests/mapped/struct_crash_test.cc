// MappedStruct under a crash after every Env call (crash_points.h): a scripted workload sets
// fields (whole-struct Sets, single fields, atomics) and syncs, leaves changes unsynced
// across a reopen, and is crashed after each of its Env calls in turn. The struct spans two
// pages (so does each snapshot slot: a slot can tear between them). Every image (five
// power-loss modes and a process kill, which leaves the unsynced live struct in the file)
// must reopen to exactly one synced snapshot, the last acknowledged or the one in progress,
// with its sequence number: read-only, as the first opener (restore), again, and the struct
// must take a change and a sync afterwards.
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
#include "recstore/mapped_struct.h"
#include "tests/crash/crash_env.h"
#include "tests/crash/scratch.h"
#include "tests/mapped/crash_points.h"

namespace recstore::mapped_test {
namespace {

// 6120 bytes: the live struct and each slot (16 bytes more) take two pages.
struct Tally {
  uint64_t gen;
  uint64_t words[760];
  uint32_t small;
  char name[20];
  uint64_t check;
};
RECSTORE_RECORD(Tally, gen, words, small, name, check);
static_assert(sizeof(Tally) == 6120);

Tally MakeTally(uint64_t gen) {
  Tally t;
  std::memset(&t, 0, sizeof(t));
  t.gen = gen;
  for (size_t i = 0; i < std::size(t.words); ++i) t.words[i] = Mix(gen * 1000 + i);
  t.small = static_cast<uint32_t>(gen * 3);
  std::snprintf(t.name, sizeof(t.name), "gen-%llu", static_cast<unsigned long long>(gen));
  t.check = Mix(~gen);
  return t;
}

Tally Zero() {
  Tally t;
  std::memset(&t, 0, sizeof(t));
  return t;
}

struct State {
  Tally value;
  uint64_t seq = 0;

  bool operator==(const State& o) const {
    return seq == o.seq && std::memcmp(&value, &o.value, sizeof(Tally)) == 0;
  }
};

uint64_t HashState(const State& s) {
  return absl::HashOf(s.seq,
                      std::string_view(reinterpret_cast<const char*>(&s.value), sizeof(Tally)));
}

std::string Describe(const State& s) {
  size_t differ = 0;
  const Tally want = MakeTally(s.value.gen);
  const auto* a = reinterpret_cast<const unsigned char*>(&s.value);
  const auto* b = reinterpret_cast<const unsigned char*>(&want);
  for (size_t i = 0; i < sizeof(Tally); ++i) differ += a[i] != b[i] ? 1 : 0;
  return absl::StrCat("snapshot ", s.seq, " holding gen ", s.value.gen, " (", differ,
                      " bytes differ from a whole gen ", s.value.gen, ")");
}

constexpr char kFile[] = "/t.rss";

class StructWorkload : public CrashWorkload {
 public:
  StructWorkload(Env* env, std::string root) : env_(env), root_(std::move(root)) {
    acked_ = State{Zero(), 1};  // creation syncs a zero-filled snapshot 1
  }

  void Run() override {
    Script();
    m_.reset();
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
    return MappedStruct<Tally>::Open(dir + kFile, {.env = env}).status();
  }

  Recovered CheckImage(const std::string& dir, std::vector<std::string>* problems) override {
    const std::string path = dir + kFile;
    std::optional<State> read_only;
    if (at_crash_opened_) {
      auto r = MappedStruct<Tally>::Open(path, {.read_only = true});
      if (r.ok()) {
        read_only = State{r->get(), r->sync_count()};
      } else {
        problems->push_back(absl::StrCat("read-only open: ", r.status().ToString()));
      }
    }
    std::optional<State> found;
    {
      auto m = MappedStruct<Tally>::Open(path, {.create_if_missing = !at_crash_opened_});
      if (!m.ok()) {
        problems->push_back(absl::StrCat("open: ", m.status().ToString()));
        return Recovered::kNeither;
      }
      found = State{m->get(), m->sync_count()};
    }
    Recovered which = Recovered::kNeither;
    if (narrow_ != Recovered::kInProgress && *found == at_crash_acked_) {
      which = Recovered::kAcknowledged;
    } else if (narrow_ != Recovered::kAcknowledged && at_crash_syncing_ &&
               *found == at_crash_next_) {
      which = Recovered::kInProgress;
    } else {
      problems->push_back(absl::StrCat(
          "open shows ", Describe(*found), ", not ", Describe(at_crash_acked_),
          " (the last acknowledged)",
          at_crash_syncing_ ? absl::StrCat(" nor ", Describe(at_crash_next_), " (in progress)")
                            : ""));
    }
    if (read_only.has_value() && !(*read_only == *found)) {
      problems->push_back(absl::StrCat("the read-only open showed ", Describe(*read_only),
                                       ", the first opener ", Describe(*found)));
    }
    {
      auto m = MappedStruct<Tally>::Open(path);
      if (!m.ok()) {
        problems->push_back(absl::StrCat("second open: ", m.status().ToString()));
        return which;
      }
      if (State again{m->get(), m->sync_count()}; !(again == *found)) {
        problems->push_back(absl::StrCat("the second open shows ", Describe(again), ", the first ",
                                         Describe(*found)));
      }
      m->Set(MakeTally(777777));
      if (absl::Status s = m->Sync(); !s.ok()) {
        problems->push_back(absl::StrCat("Sync after recovery: ", s.ToString()));
        return which;
      }
    }
    auto m = MappedStruct<Tally>::Open(path);
    const State want{MakeTally(777777), found->seq + 1};
    if (!m.ok()) {
      problems->push_back(absl::StrCat("open after the sync: ", m.status().ToString()));
    } else if (State after{m->get(), m->sync_count()}; !(after == want)) {
      problems->push_back(
          absl::StrCat("after a change and a sync: ", Describe(after), ", not ", Describe(want)));
    }
    return which;
  }

 private:
  bool Check(const absl::Status& s, const char* what) {
    if (s.ok()) return true;
    if (!crashed_) {
      problems_.push_back(absl::StrCat(what, " failed before the crash: ", s.ToString()));
    }
    return false;
  }

  bool Open(bool create) {
    auto m = MappedStruct<Tally>::Open(root_ + kFile, {.create_if_missing = create, .env = env_});
    if (!Check(m.status(), "Open")) return false;
    m_.emplace(*std::move(m));
    if (State s{m_->get(), m_->sync_count()}; !(s == acked_)) {
      problems_.push_back(absl::StrCat("Open shows ", Describe(s), ", not ", Describe(acked_)));
    }
    model_ = m_->get();
    opened_ = true;
    return true;
  }

  bool Reopen() {
    m_.reset();
    return Open(false);
  }

  bool Sync() {
    syncing_ = true;
    absl::Status s = m_->Sync();
    syncing_ = false;
    if (!Check(s, "Sync")) return false;
    acked_ = State{model_, acked_.seq + 1};
    if (State now{m_->Load(), m_->sync_count()}; !(now == acked_)) {
      problems_.push_back(absl::StrCat("after Sync: ", Describe(now), ", not ", Describe(acked_)));
    }
    return true;
  }

  void Set(uint64_t gen) {
    model_ = MakeTally(gen);
    m_->Set(model_);
  }

  void Script() {
    if (!Open(true)) return;
    Set(1);
    if (!Sync()) return;
    Set(2);
    if (!Sync()) return;
    // One field in the second page, one in the first.
    m_->mutable_get()->words[700] = model_.words[700] = 12345;
    m_->mutable_get()->small = model_.small = 99;
    if (!Sync()) return;
    m_->Atomic(&Tally::gen).fetch_add(1);
    ++model_.gen;
    if (!Sync()) return;
    if (!Sync()) return;  // unchanged: still a new snapshot
    Set(3);               // never synced: the reopen restores the last snapshot
    if (!Reopen()) return;
    Set(4);
    if (!Sync()) return;
    Set(5);
    if (!Sync()) return;
    Set(6);  // unsynced at the end
  }

  Env* const env_;
  const std::string root_;
  std::optional<MappedStruct<Tally>> m_;
  Tally model_ = Zero();
  State acked_;
  bool opened_ = false;
  bool syncing_ = false;
  bool crashed_ = false;
  std::vector<std::string> problems_;

  bool at_crash_opened_ = false;
  State at_crash_acked_;
  bool at_crash_syncing_ = false;
  State at_crash_next_;
  Recovered narrow_ = Recovered::kNeither;
};

std::unique_ptr<CrashWorkload> MakeWorkload(Env* env, const std::string& root) {
  return std::make_unique<StructWorkload>(env, root);
}

TEST(StructCrashTest, CleanRunLeavesTheLastSyncDurable) {
  crash::ScratchDir scratch;
  const std::string root = scratch.path() + "/root";
  std::filesystem::create_directories(root);
  crash::CrashEnv env(root);
  StructWorkload w(&env, root);
  w.Run();
  EXPECT_TRUE(w.RunProblems().empty()) << w.RunProblems().front();
  std::printf("struct workload: %llu Env calls\n", static_cast<unsigned long long>(env.calls()));
  w.OnCrash();
  ASSERT_TRUE(
      env.WriteCrashImage(scratch.path() + "/image", crash::CrashMode::kDropUnsynced, 1).ok());
  std::vector<std::string> problems;
  EXPECT_EQ(w.CheckImage(scratch.path() + "/image", &problems), Recovered::kAcknowledged);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(StructCrashTest, EveryCrashPointRecoversOneSyncedSnapshot) {
  crash::ScratchDir scratch;
  const CrashPointStats stats = RunEveryCrashPoint(scratch.path(), MakeWorkload);
  std::printf("%s\n", stats.ToString().c_str());
  EXPECT_GT(stats.in_progress, 0u);
  EXPECT_GT(stats.acknowledged, 0u);
}

}  // namespace
}  // namespace recstore::mapped_test
