// The kill loop (see harness.h).
#include "tests/kill/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/format/layout.h"
#include "tests/kill/report.h"
#include "tests/kill/writer.h"

namespace recstore::kill {
namespace {

using Clock = std::chrono::steady_clock;

// Records of the fixed collection per segment, to tell when the writer rotates.
uint64_t FixedPerSegment(uint64_t segment_size) {
  return (segment_size - format::kDataStart) /
         format::FixedStride(sizeof(KillRecord), alignof(KillRecord));
}

// True when the append `r` of the fixed collection put a record at the start of a segment
// other than the first.
bool StartsSegment(const Report& r, uint64_t per) {
  if (r.kind != ReportKind::kAppended || r.coll != kFixedColl || r.count == 0) return false;
  uint64_t boundary = (r.seq + per - 1) / per * per;
  if (boundary == 0) boundary = per;
  return boundary < r.seq + r.count;
}

struct Epoch {
  uint32_t epoch = 0;
  uint64_t seed = 0;
  bool at_rotation = false;
  bool during_open = false;  // time the kill from the fork, to land while the writer opens
  Clock::duration delay{};   // from the fork (during_open) or from the writer's open report
  int rotation_target = 0;
  Clock::duration rotation_delay{};
};

// One writer child from fork to death; fills *acks from its reports.
absl::Status RunEpoch(const KillOptions& o, const std::string& store, const Epoch& e,
                      std::FILE* ack_log, EpochAcks* acks, KillSummary* summary) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", errno));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    close(fds[0]);
    RunWriter({.dir = store,
               .epoch = e.epoch,
               .seed = e.seed,
               .report_fd = fds[1],
               .appenders = o.appenders,
               .syncers = o.syncers,
               .segment_size = o.segment_size});
  }
  close(fds[1]);
  ReportReader reader(fds[0]);
  const uint64_t per = FixedPerSegment(o.segment_size);
  // Until the writer reports its collections open, wait for it (at most 30 s).
  Clock::time_point kill_at = Clock::now() + (e.during_open ? e.delay : std::chrono::seconds(30));
  int opened = 0;
  int rotations = 0;
  bool open = true;
  bool rotation_kill = false;
  std::vector<Report> reports;
  auto take = [&](bool before_kill) {
    for (const Report& r : reports) {
      acks->Add(r);
      std::fprintf(ack_log, "%s\n", FormatReport(e.epoch, r).c_str());
      if (before_kill && !e.during_open && r.kind == ReportKind::kOpened && ++opened == kColls) {
        kill_at = Clock::now() + e.delay;
      }
      if (before_kill && e.at_rotation && StartsSegment(r, per) &&
          ++rotations == e.rotation_target) {
        kill_at = std::min(kill_at, Clock::now() + e.rotation_delay);
        rotation_kill = true;
      }
    }
    summary->reports += reports.size();
    reports.clear();
  };
  while (open) {
    const Clock::duration left = kill_at - Clock::now();
    if (left <= Clock::duration::zero()) break;
    // poll() counts whole milliseconds: wait at most 1 ms, so kills land within about 1 ms.
    const int wait_ms = left >= std::chrono::milliseconds(1) ? 1 : 0;
    open = reader.Poll(wait_ms, &reports);
    take(true);
  }
  ::kill(pid, SIGKILL);
  while (open) {  // what the child wrote before it died
    open = reader.Poll(100, &reports);
    take(false);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::fflush(ack_log);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
    return absl::InternalError(absl::StrCat("the writer ended before it was killed: ",
                                            WIFEXITED(status)
                                                ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                                : absl::StrCat("signal ", WTERMSIG(status))));
  }
  if (rotation_kill) ++summary->rotation_kills;
  if (!acks->opened[kByteColl]) ++summary->open_kills;
  return absl::OkStatus();
}

}  // namespace

std::string KillSummary::ToString() const {
  const CheckStats& s = stats;
  return absl::StrFormat(
      "kills %d (%d stores, %d before the writer had opened both collections, %d right after "
      "a segment rotation), %.1f s\n"
      "records checked %u (new records %u, below an acknowledged durable end %u, "
      "reported appends %u), writer reports %u\n"
      "collections read by a reader before recovery, matching it: %u\n"
      "torn tails cut %u (%u bytes dropped), segments removed %u, interrupted segment "
      "creations %u\n"
      "recovery time (open + both collections): max %.2f ms, mean %.2f ms",
      kills, stores, open_kills, rotation_kills, seconds, s.records_checked, s.new_records,
      s.acked_records, s.reported_records, reports, s.reader_checks, s.torn_tails, s.bytes_dropped,
      s.segments_removed, s.tmp_files, s.max_recovery_us / 1000.0,
      s.checks > 0 ? s.total_recovery_us / 1000.0 / s.checks : 0.0);
}

absl::StatusOr<KillSummary> RunKills(const KillOptions& o, std::FILE* progress) {
  const std::string store = o.root + "/store";
  const std::string ack_path = o.root + "/acks.log";
  std::filesystem::create_directories(o.root);
  StoreChecker checker(store);
  KillSummary summary;
  std::mt19937_64 rng(o.seed);
  std::FILE* ack_log = nullptr;
  const auto start = Clock::now();
  const uint32_t threads = static_cast<uint32_t>(o.appenders + o.syncers);
  for (int k = 0; k < o.kills; ++k) {
    if (k % o.kills_per_store == 0) {
      std::filesystem::remove_all(store);
      checker.Reset();
      if (ack_log != nullptr) std::fclose(ack_log);
      ack_log = std::fopen(ack_path.c_str(), "w");
      if (ack_log == nullptr) return absl::InternalError("cannot write " + ack_path);
      ++summary.stores;
    }
    Epoch e;
    e.epoch = static_cast<uint32_t>(k + 1);
    e.seed = rng();
    e.at_rotation =
        o.timing == KillTiming::kAtRotation || (o.timing == KillTiming::kMixed && k % 2 == 1);
    e.during_open = !e.at_rotation && rng() % 5 == 0;
    e.delay = std::chrono::microseconds(
        e.during_open
            ? static_cast<int64_t>(rng() % 10000)
            : o.min_delay_us + static_cast<int64_t>(rng() % (o.max_delay_us - o.min_delay_us + 1)));
    // A rotation kill waits for its rotation, up to a second after the open.
    if (e.at_rotation) e.delay = std::max<Clock::duration>(e.delay, std::chrono::seconds(1));
    e.rotation_target = 1 + static_cast<int>(rng() % 3);
    e.rotation_delay = std::chrono::microseconds(rng() % 1000);
    EpochAcks acks;
    absl::Status s = RunEpoch(o, store, e, ack_log, &acks, &summary);
    if (s.ok()) s = checker.Check(e.epoch, threads, acks, &summary.stats);
    if (!s.ok()) {
      std::fclose(ack_log);
      return absl::Status(
          s.code(),
          absl::StrCat("seed ", o.seed, ", kill ", k + 1, " (epoch ", e.epoch, "): ", s.message(),
                       "; acknowledgement log ", ack_path, ", store ", store));
    }
    ++summary.kills;
    if (o.progress_every > 0 && summary.kills % o.progress_every == 0 && progress != nullptr) {
      summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      std::fprintf(progress,
                   "kill %d/%d: %.1f s, records checked %llu, torn tails %llu, max recovery "
                   "%.2f ms\n",
                   summary.kills, o.kills, summary.seconds,
                   static_cast<unsigned long long>(summary.stats.records_checked),
                   static_cast<unsigned long long>(summary.stats.torn_tails),
                   summary.stats.max_recovery_us / 1000.0);
      std::fflush(progress);
    }
  }
  if (ack_log != nullptr) std::fclose(ack_log);
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace recstore::kill
