// The checkpoint kill loop (see checkpoint_kill.h): the saving child, its reports, and the
// checks after each kill.
#include "tests/kill/checkpoint_kill.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"

namespace recstore::kill {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kName[] = "kill";
constexpr uint64_t kOpened = std::numeric_limits<uint64_t>::max();  // report: the set is open

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

[[noreturn]] void Die(int code, const char* what, const absl::Status& s) {
  std::fprintf(stderr, "checkpoint kill child: %s: %s\n", what, s.ToString().c_str());
  _exit(code);
}

void Send(int fd, uint64_t v) {
  while (true) {
    const ssize_t n = write(fd, &v, sizeof(v));
    if (n == sizeof(v)) return;
    if (n < 0 && errno == EINTR) continue;
    _exit(6);  // the parent is gone
  }
}

// Opens the store and saves versions next, next+1, ... until killed; reports each after Save
// returns.
[[noreturn]] void RunChild(const CheckpointKillOptions& o, const std::string& dir, uint64_t next,
                           int fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) _exit(6);
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = o.segment_size});
  if (!store.ok()) Die(2, "Store::Open", store.status());
  auto ckpt = (*store)->OpenCheckpoints(kName, {.keep = o.keep});
  if (!ckpt.ok()) Die(2, "OpenCheckpoints", ckpt.status());
  Send(fd, kOpened);
  const auto until = Clock::now() + std::chrono::seconds(120);
  for (uint64_t v = next; Clock::now() < until; ++v) {
    auto info = ckpt->Save(CheckpointPayload(v, o.min_size, o.max_size));
    if (!info.ok()) Die(3, "Save", info.status());
    Send(fd, v);
  }
  std::fprintf(stderr, "checkpoint kill child: not killed after 120 s\n");
  _exit(7);
}

// One child from fork to death. Returns the versions it acknowledged (the last one last).
absl::StatusOr<std::vector<uint64_t>> RunEpoch(const CheckpointKillOptions& o,
                                               const std::string& dir, uint64_t next,
                                               bool during_open, Clock::duration delay,
                                               bool* opened) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", errno));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    close(fds[0]);
    RunChild(o, dir, next, fds[1]);
  }
  close(fds[1]);
  std::vector<uint64_t> acked;
  std::string pending;
  *opened = false;
  Clock::time_point kill_at = Clock::now() + (during_open ? delay : std::chrono::seconds(30));
  bool open = true;
  // Reads what is in the pipe (waiting up to `ms`); false at end of file.
  auto poll_once = [&](int ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return true;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n == 0) return false;
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    pending.append(buf, static_cast<size_t>(n));
    size_t pos = 0;
    for (; pos + 8 <= pending.size(); pos += 8) {
      uint64_t v;
      std::memcpy(&v, pending.data() + pos, 8);
      if (v != kOpened) {
        acked.push_back(v);
      } else if (!*opened) {
        *opened = true;
        if (!during_open) kill_at = Clock::now() + delay;
      }
    }
    pending.erase(0, pos);
    return true;
  };
  while (open && Clock::now() < kill_at) {
    open = poll_once(kill_at - Clock::now() >= std::chrono::milliseconds(1) ? 1 : 0);
  }
  ::kill(pid, SIGKILL);
  while (open) open = poll_once(100);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return absl::InternalError(absl::StrCat("the child ended before it was killed: ",
                                            WIFEXITED(status)
                                                ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                                : absl::StrCat("signal ", WTERMSIG(status))));
  }
  for (size_t i = 1; i < acked.size(); ++i) {
    if (acked[i] != acked[i - 1] + 1) return absl::InternalError("acknowledgements out of order");
  }
  return acked;
}

// Checks one open set: Load() returns `low` or `low + 1` (nothing at all only when low is 0
// and nothing was ever acknowledged), with exactly that version's bytes, and List() holds
// consecutive versions ending with it. Returns the version loaded (0: none).
absl::StatusOr<uint64_t> CheckSet(const CheckpointKillOptions& o, const Checkpoints& ckpt,
                                  uint64_t low, bool any_acked, CheckpointKillSummary* sum) {
  ++sum->loads_checked;
  absl::StatusOr<Checkpoint> c = ckpt.Load();
  if (absl::IsNotFound(c.status()) && low == 0 && !any_acked) return 0;
  if (!c.ok()) return absl::InternalError(absl::StrCat("Load: ", c.status().ToString()));
  if (c->data.size() < 8) return absl::InternalError("loaded payload shorter than 8 bytes");
  const uint64_t v = base::DecodeFixed64(c->data.data());
  if (v < low || v > low + 1 || v == 0) {
    return absl::InternalError(
        absl::StrCat("Load returned version ", v, "; the last acknowledged one is ", low,
                     " (at most one more may have been saved unacknowledged)"));
  }
  if (c->data != CheckpointPayload(v, o.min_size, o.max_size)) {
    return absl::InternalError(absl::StrCat("version ", v, " has the wrong bytes"));
  }
  ++sum->versions_checked;
  if (v == low + 1) ++sum->unacked_found;
  if (c->skipped > 0) ++sum->fallbacks;
  absl::StatusOr<std::vector<CheckpointInfo>> list = ckpt.List();
  if (!list.ok()) return absl::InternalError(absl::StrCat("List: ", list.status().ToString()));
  if (list->empty() || list->size() > o.keep) {
    return absl::InternalError(absl::StrCat("List holds ", list->size(), " versions"));
  }
  if (c->skipped == 0 && (*list)[0].seq != c->info.seq) {
    return absl::InternalError("List's newest is not what Load returned");
  }
  uint64_t newer_v = 0;
  for (size_t i = 0; i < list->size(); ++i) {
    const CheckpointInfo& info = (*list)[i];
    absl::StatusOr<Checkpoint> at = ckpt.LoadAt(info.seq);
    if (!at.ok()) return absl::InternalError(absl::StrCat("LoadAt: ", at.status().ToString()));
    const uint64_t w = at->data.size() >= 8 ? base::DecodeFixed64(at->data.data()) : 0;
    if (at->data != CheckpointPayload(w, o.min_size, o.max_size) || at->info.size != info.size) {
      return absl::InternalError(absl::StrCat("listed version at seq ", info.seq, " is wrong"));
    }
    // Versions are saved one record each, in order: versions and seqs step together.
    if (i > 0 && (info.seq >= (*list)[i - 1].seq || newer_v - w != (*list)[i - 1].seq - info.seq)) {
      return absl::InternalError(absl::StrCat("List is not in order at seq ", info.seq));
    }
    newer_v = w;
    ++sum->versions_checked;
  }
  return v;
}

uint64_t CountSegments(const std::string& store) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(store, ec)) {
    if (!d.path().filename().string().ends_with(std::string("-checkpoint.") + kName)) continue;
    for (const auto& f : std::filesystem::directory_iterator(d.path(), ec)) {
      if (f.path().extension() == ".seg") ++n;
    }
  }
  return n;
}

// After a kill: a reader's view, then the writer's recovery. Returns the version loaded.
absl::StatusOr<uint64_t> Check(const CheckpointKillOptions& o, const std::string& dir, uint64_t low,
                               bool any_acked, CheckpointKillSummary* sum) {
  uint64_t read_v = 0;
  {
    auto store = Store::Open(dir, {.read_only = true});
    auto ckpt = store.ok() ? (*store)->OpenCheckpoints(kName, {.keep = o.keep})
                           : absl::StatusOr<Checkpoints>(store.status());
    if (ckpt.ok()) {
      absl::StatusOr<uint64_t> v = CheckSet(o, *ckpt, low, any_acked, sum);
      if (!v.ok()) return absl::InternalError(absl::StrCat("reader: ", v.status().message()));
      read_v = *v;
    } else if (low > 0 || any_acked) {
      return absl::InternalError(absl::StrCat("reader open: ", ckpt.status().ToString()));
    }
  }
  auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = o.segment_size});
  if (!store.ok()) return absl::InternalError(absl::StrCat("open: ", store.status().ToString()));
  auto ckpt = (*store)->OpenCheckpoints(kName, {.keep = o.keep});
  if (!ckpt.ok()) return absl::InternalError(absl::StrCat("open: ", ckpt.status().ToString()));
  if (ckpt->log().recovery().truncated) ++sum->torn_tails;
  absl::StatusOr<uint64_t> v = CheckSet(o, *ckpt, low, any_acked, sum);
  if (!v.ok()) return absl::InternalError(absl::StrCat("writer: ", v.status().message()));
  if (*v < read_v) {
    return absl::InternalError(
        absl::StrCat("the writer loaded version ", *v, " after a reader loaded ", read_v));
  }
  sum->max_segments = std::max(sum->max_segments, CountSegments(dir));
  return *v;
}

}  // namespace

std::string CheckpointPayload(uint64_t v, uint64_t min_size, uint64_t max_size) {
  const uint64_t size = std::max<uint64_t>(8, min_size + SplitMix(v) % (max_size - min_size + 1));
  std::string s(size, '\0');
  base::EncodeFixed64(s.data(), v);
  uint64_t x = SplitMix(v ^ 0x5EED);
  for (size_t i = 8; i < size; i += 8) {
    x = SplitMix(x);
    std::memcpy(s.data() + i, &x, std::min<size_t>(8, size - i));
  }
  return s;
}

std::string CheckpointKillSummary::ToString() const {
  return absl::StrFormat(
      "kills %d (%d stores, %d while the child opened), %.1f s\n"
      "saves acknowledged %u, highest version %u, loads checked %u (reader and writer), "
      "versions compared byte for byte %u\n"
      "loads that found the unacknowledged next version %u, loads that fell back past a damaged "
      "record %u, torn tails cut by recovery %u, most segment files %u",
      kills, stores, open_kills, seconds, acked, max_version, loads_checked, versions_checked,
      unacked_found, fallbacks, torn_tails, max_segments);
}

absl::StatusOr<CheckpointKillSummary> RunCheckpointKills(const CheckpointKillOptions& o,
                                                         std::FILE* progress) {
  if (o.min_size > o.max_size || o.min_delay_us > o.max_delay_us || o.keep == 0) {
    return absl::InvalidArgumentError("bad options");
  }
  const std::string dir = o.root + "/store";
  std::filesystem::create_directories(o.root);
  CheckpointKillSummary sum;
  std::mt19937_64 rng(o.seed);
  const auto start = Clock::now();
  uint64_t low = 0;  // the last version known saved (acknowledged or loaded)
  bool any_acked = false;
  for (int k = 0; k < o.kills; ++k) {
    if (k % o.kills_per_store == 0) {
      std::filesystem::remove_all(dir);
      low = 0;
      any_acked = false;
      ++sum.stores;
    }
    const bool during_open = rng() % 5 == 0;
    const Clock::duration delay = std::chrono::microseconds(
        during_open
            ? static_cast<int64_t>(rng() % 10000)
            : o.min_delay_us + static_cast<int64_t>(rng() % (o.max_delay_us - o.min_delay_us + 1)));
    bool opened = false;
    absl::StatusOr<std::vector<uint64_t>> acked =
        RunEpoch(o, dir, low + 1, during_open, delay, &opened);
    absl::Status s = acked.status();
    if (s.ok()) {
      if (!opened) ++sum.open_kills;
      if (!acked->empty() && acked->front() != low + 1) {
        s = absl::InternalError(absl::StrCat("the child started at version ", acked->front()));
      }
    }
    if (s.ok() && !acked->empty()) {
      sum.acked += acked->size();
      low = acked->back();
      any_acked = true;
    }
    absl::StatusOr<uint64_t> loaded = s.ok() ? Check(o, dir, low, any_acked, &sum) : s;
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("seed ", o.seed, ", kill ", k + 1, ": ",
                                       loaded.status().message(), "; store ", dir));
    }
    low = *loaded;
    sum.max_version = std::max(sum.max_version, low);
    ++sum.kills;
    if (o.progress_every > 0 && sum.kills % o.progress_every == 0 && progress != nullptr) {
      sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      std::fprintf(progress, "kill %d/%d: %.1f s, acknowledged %llu, fallbacks %llu\n", sum.kills,
                   o.kills, sum.seconds, static_cast<unsigned long long>(sum.acked),
                   static_cast<unsigned long long>(sum.fallbacks));
      std::fflush(progress);
    }
  }
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return sum;
}

}  // namespace recstore::kill
