// Observe and ObserveInChild (see damage_check.h).
#include "tests/corruption/damage_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/corruption/observe.h"
#include "tests/corruption/store_image.h"
#include "tests/testing/open_store.h"

namespace recstore::testing {
namespace {

std::string Base(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool NamesOneOf(absl::string_view text, const std::set<std::string>& files) {
  for (const std::string& f : files) {
    if (absl::StrContains(text, Base(f))) return true;
  }
  return false;
}

std::string Names(const std::set<std::string>& files) {
  std::vector<std::string> names;
  for (const std::string& f : files) names.push_back(Base(f));
  return absl::StrJoin(names, ", ");
}

std::string StatusText(const absl::Status& s) {
  std::string t = s.ToString();
  std::replace(t.begin(), t.end(), '\n', ' ');
  return t;
}

// "3..7, 12, 40..41" for a sorted list.
std::string Ranges(const std::vector<uint64_t>& seqs) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < seqs.size();) {
    size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
    parts.push_back(j == i ? absl::StrCat(seqs[i]) : absl::StrCat(seqs[i], "..", seqs[j]));
    i = j + 1;
  }
  return absl::StrJoin(parts, ", ");
}

// The files (base names) holding `seqs` in the pristine store.
std::string FilesOf(const CollectionTruth& c, const std::vector<uint64_t>& seqs) {
  std::set<std::string> files;
  for (uint64_t seq : seqs) {
    if (seq >= c.begin && seq < c.end) files.insert(c.FileOf(seq));
  }
  return Names(files);
}

std::string ReportText(const RecoveryReport& r) {
  return absl::StrCat(
      "recovery: durable point ", r.durable_point, ", records ", r.records,
      r.truncated ? absl::StrCat(", truncated ", Base(r.truncated_file), " at ", r.truncated_offset,
                                 ", ", r.segments_removed, " segments removed")
                  : "",
      r.skipped.empty() ? "" : absl::StrCat(", ", r.skipped.size(), " skipped"));
}

// What Get, the scan and Verify said about one record.
enum class State : uint8_t { kIntact, kReported, kLost };

class CollectionCheck {
 public:
  // `full`: check every record (always for a collection with a damaged file).
  CollectionCheck(const FileSet& set, const CollectionTruth& c, std::set<std::string> damaged,
                  const Observer& o, std::string prefix, bool full, Findings* f)
      : set_(set),
        c_(c),
        damaged_(std::move(damaged)),
        o_(o),
        prefix_(std::move(prefix)),
        full_(full || !damaged_.empty()),
        f_(f) {}

  // Returns whether the collection opened.
  bool Run(Store& store) {
    absl::StatusOr<UntypedLog> log = store.OpenUntyped(c_.name);
    if (!log.ok()) {
      f_->refused.insert(c_.folder);
      Outcome(absl::StrCat("open refused (", absl::StatusCodeToString(log.status().code()), ")"));
      if (damaged_.empty()) {
        Problem(
            absl::StrCat("the open of an undamaged collection failed: ", StatusText(log.status())));
      } else if (!NamesOneOf(log.status().message(), damaged_)) {
        Problem(absl::StrCat("the open was refused without naming the damaged file (",
                             Names(damaged_), "): ", StatusText(log.status())));
      }
      return false;
    }
    const size_t before = f_->problems.size();
    if (!full_) {
      // A collection none of whose files was damaged, beside damage elsewhere: it opens, its
      // ends are right and Verify (which reads every record) says ok.
      CheckEnds(*log);
      absl::StatusOr<VerifyReport> v = log->Verify();
      if (!v.ok() || !v->ok || v->records_checked != c_.end - c_.begin) {
        Problem(absl::StrCat(
            "Verify of the undamaged collection does not say ok for all ", c_.end - c_.begin,
            " records: ",
            v.ok() ? absl::StrCat(v->records_checked, " checked, first bad ", v->first_bad.seq,
                                  " in ", v->first_bad.file, ": ", v->first_bad.reason)
                   : StatusText(v.status())));
      }
      f_->records_checked += v.ok() ? v->records_checked : 0;
      return true;
    }
    CheckEnds(*log);
    CheckGets(*log);
    CheckScan(*log);
    CheckVerify(*log);
    CheckReport(*log);
    if (c_.name == kCheckpointLog) CheckCheckpoints(store);
    if (!damaged_.empty()) {
      const bool reported =
          std::any_of(state_.begin(), state_.end(), [](State s) { return s == State::kReported; });
      Outcome(f_->problems.size() > before ? "opened: damage not reported (broken promise)"
              : reported                   ? "opened: damage reported (Get DataLoss, Verify)"
                                           : "opened: every record intact");
    }
    return true;
  }

 private:
  void Problem(const std::string& what) {
    f_->problems.push_back(absl::StrCat(prefix_, c_.name, ": ", what));
  }
  void Outcome(const std::string& what) {
    if (!damaged_.empty()) f_->outcomes.push_back(absl::StrCat(prefix_, what));
  }
  State& StateOf(uint64_t seq) { return state_[seq - c_.begin]; }
  bool InRange(uint64_t seq) const { return seq >= c_.begin && seq < c_.end; }
  const std::string& Truth(uint64_t seq) const { return c_.records[seq - c_.begin]; }

  void CheckEnds(const UntypedLog& log) {
    state_.assign(c_.end - c_.begin, State::kIntact);
    report_ = ReportText(log.recovery());
    if (log.begin() != c_.begin) {
      Problem(absl::StrCat("begin() is ", log.begin(), ", was ", c_.begin));
    }
    end_ = log.end();
    if (end_ < c_.end) {
      std::vector<uint64_t> gone;
      for (uint64_t seq = std::max(end_, c_.begin); seq < c_.end; ++seq) gone.push_back(seq);
      Problem(absl::StrCat("end() is ", end_, ": the synced records ", Ranges(gone), " (in ",
                           FilesOf(c_, gone), ") are gone (", report_, ")"));
    } else if (end_ > c_.end) {
      Problem(absl::StrCat("end() is ", end_, ", past the ", c_.end, " records ever appended"));
    }
  }

  void CheckGets(const UntypedLog& log) {
    std::map<std::string, std::vector<uint64_t>> silent;  // what Get said -> records
    std::map<std::string, std::string> example;
    for (uint64_t seq = c_.begin; seq < c_.end; ++seq) {
      absl::StatusOr<std::span<const std::byte>> r = log.Get(seq);
      ++f_->records_checked;
      std::string kind;
      if (r.ok()) {
        if (AsString(*r) == Truth(seq)) continue;
        kind = "returns wrong bytes";
      } else if (r.status().code() == absl::StatusCode::kDataLoss &&
                 NamesOneOf(r.status().message(), damaged_)) {
        StateOf(seq) = State::kReported;
        continue;
      } else if (seq >= end_ && r.status().code() == absl::StatusCode::kOutOfRange) {
        StateOf(seq) = State::kLost;  // reported with end() above
        continue;
      } else {
        kind = absl::StrCat(
            "returns ", absl::StatusCodeToString(r.status().code()),
            r.status().code() == absl::StatusCode::kDataLoss ? " naming no damaged file" : "");
        example.emplace(kind, StatusText(r.status()));
      }
      StateOf(seq) = State::kLost;
      silent[kind].push_back(seq);
    }
    for (const auto& [kind, seqs] : silent) {
      auto ex = example.find(kind);
      Problem(absl::StrCat("Get ", kind, " for ", seqs.size(), " synced records ", Ranges(seqs),
                           " (in ", FilesOf(c_, seqs), ")",
                           ex == example.end() ? "" : absl::StrCat(": ", ex->second)));
    }
  }

  void CheckScan(const UntypedLog& log) {
    auto scan = log.Scan();
    std::vector<uint64_t> yielded, wrong;
    uint64_t last = 0;
    bool order = true;
    for (const auto& [seq, bytes] : scan) {
      ++f_->records_checked;
      if (!yielded.empty() && seq <= last) order = false;
      last = seq;
      yielded.push_back(seq);
      if (!InRange(seq) || AsString(bytes) != Truth(seq)) wrong.push_back(seq);
    }
    const absl::Status& status = scan.status();
    if (!order) Problem("a scan yields records out of order");
    if (!wrong.empty()) {
      Problem(absl::StrCat("a scan yields ", wrong.size(),
                           " records with wrong bytes or numbers: ", Ranges(wrong)));
    }
    if (!status.ok() && !NamesOneOf(status.message(), damaged_)) {
      Problem(
          absl::StrCat("a scan stops with an error naming no damaged file: ", StatusText(status)));
    }
    // Records the scan did not yield: after its last record when it stopped with an error,
    // or (kSalvage) skipped and counted while Get reports them; otherwise silently passed over.
    std::vector<uint64_t> passed;
    size_t y = 0;
    for (uint64_t seq = c_.begin; seq < std::min(end_, c_.end); ++seq) {
      while (y < yielded.size() && yielded[y] < seq) ++y;
      if (y < yielded.size() && yielded[y] == seq) continue;
      const bool after_stop = !status.ok() && (yielded.empty() || seq > yielded.back());
      const bool skipped = o_.mode == RecoveryMode::kSalvage && scan.skipped() > 0 &&
                           StateOf(seq) == State::kReported;
      if (!after_stop && !skipped) passed.push_back(seq);
    }
    if (!passed.empty()) {
      Problem(absl::StrCat("a scan passes over ", passed.size(), " synced records ", Ranges(passed),
                           " (in ", FilesOf(c_, passed), ") with status ", StatusText(status),
                           " and ", scan.skipped(), " skipped"));
    }
  }

  void CheckVerify(const UntypedLog& log) {
    std::vector<uint64_t> bad;
    for (uint64_t seq = c_.begin; seq < c_.end; ++seq) {
      if (StateOf(seq) != State::kIntact) bad.push_back(seq);
    }
    absl::StatusOr<VerifyReport> v = log.Verify();
    if (!v.ok()) {
      if (bad.empty()) {
        Problem(absl::StrCat("Verify fails on a collection whose records all read back: ",
                             StatusText(v.status())));
      } else if (!NamesOneOf(v.status().message(), damaged_)) {
        Problem(absl::StrCat("Verify fails naming no damaged file: ", StatusText(v.status())));
      }
      return;
    }
    if (v->ok) {
      if (!bad.empty()) {
        Problem(absl::StrCat("Verify reports ok over ", bad.size(),
                             " records that do not read back: ", Ranges(bad), " (in ",
                             FilesOf(c_, bad), ")"));
      }
      return;
    }
    const std::string said = absl::StrCat("record ", v->first_bad.seq, " in ", v->first_bad.file,
                                          ": ", v->first_bad.reason);
    if (bad.empty()) {
      Problem("Verify flags a collection whose records all read back: " + said);
    } else if (!NamesOneOf(v->first_bad.file, damaged_) &&
               !NamesOneOf(v->first_bad.reason, damaged_)) {
      Problem("Verify's first bad record names no damaged file: " + said);
    }
  }

  void CheckReport(const UntypedLog& log) {
    std::vector<uint64_t> wrong;
    for (const BadRecord& b : log.recovery().skipped) {
      if (!InRange(b.seq) || StateOf(b.seq) == State::kIntact) wrong.push_back(b.seq);
    }
    if (!wrong.empty()) {
      Problem(absl::StrCat("the recovery report lists as skipped records that read back intact: ",
                           Ranges(wrong)));
    }
  }

  // The checkpoint set: Load() returns the newest version, or an older one while counting the
  // newer ones it passed over (which must then be unreadable), or an error.
  void CheckCheckpoints(Store& store) {
    absl::StatusOr<Checkpoints> ckpt = store.OpenCheckpoints(
        kCheckpointSet, {.keep = kCheckpointKeep, .create_if_missing = false});
    if (!ckpt.ok()) {
      Problem(
          absl::StrCat("OpenCheckpoints fails after the log opened: ", StatusText(ckpt.status())));
      return;
    }
    absl::StatusOr<Checkpoint> got = ckpt->Load();
    const uint64_t newest = set_.newest_checkpoint_seq();
    if (!got.ok()) {
      if (InRange(newest) && StateOf(newest) == State::kIntact) {
        Problem("Load fails although the newest version reads back: " + StatusText(got.status()));
      }
      return;
    }
    const uint64_t seq = got->info.seq;
    if (!InRange(seq) ||
        Truth(seq).compare(kCheckpointHeaderSize, std::string::npos, got->data) != 0) {
      Problem(absl::StrCat("Load returns wrong bytes for version ", seq));
      return;
    }
    if (seq == newest && got->skipped == 0) return;
    bool newer_unreadable = true;
    for (uint64_t s = seq + 1; s <= newest; ++s) {
      if (StateOf(s) == State::kIntact) newer_unreadable = false;
    }
    if (got->skipped == 0 || !newer_unreadable) {
      Problem(absl::StrCat("Load returns version ", seq, " (", got->skipped,
                           " skipped) although the newest is ", newest));
    }
  }

  const FileSet& set_;
  const CollectionTruth& c_;
  const std::set<std::string> damaged_;
  const Observer o_;
  const std::string prefix_;
  const bool full_;
  Findings* f_;
  uint64_t end_ = 0;
  std::string report_;
  std::vector<State> state_;
};

}  // namespace

std::string ObserverName(const Observer& o) {
  return absl::StrCat(ModeName(o.mode), o.read_only ? " read-only" : " writer",
                      o.create_if_missing ? " create_if_missing" : "");
}

Findings Observe(const FileSet& set, const std::set<std::string>& damaged, const Observer& o,
                 const std::string& prefix) {
  Findings f;
  HeapMapEnv env;
  absl::StatusOr<std::unique_ptr<Store>> store =
      ::recstore::testing::OpenStore(&env, set.dir(),
                                     {.create_if_missing = o.create_if_missing,
                                      .read_only = o.read_only,
                                      .segment_size = kSegmentSize,
                                      .recovery_mode = o.mode});
  if (!store.ok()) {
    f.store_refused = true;
    f.outcomes.push_back(absl::StrCat(prefix, "store open refused (",
                                      absl::StatusCodeToString(store.status().code()), ")"));
    if (!NamesOneOf(store.status().message(), damaged)) {
      f.problems.push_back(absl::StrCat(prefix, "Store::Open fails without naming a damaged file (",
                                        Names(damaged), "): ", StatusText(store.status())));
    }
    return f;
  }
  if (damaged.count("MANIFEST") > 0) {
    f.problems.push_back(absl::StrCat(prefix, "Store::Open accepts a damaged MANIFEST (",
                                      (*store)->ListCollections().size(), " collections)"));
  }
  // Damage to a store file (MANIFEST, LOCK) concerns every collection; no damage at all is
  // the check of the checks.
  const bool store_file =
      damaged.empty() || damaged.count("MANIFEST") > 0 || damaged.count("LOCK") > 0;
  for (const CollectionTruth& c : set.collections()) {
    std::set<std::string> here;
    for (const std::string& d : damaged) {
      if (d.starts_with(c.folder + "/")) here.insert(d);
    }
    CollectionCheck(set, c, std::move(here), o, prefix, store_file, &f).Run(**store);
  }
  return f;
}

Findings ObserveInChild(const FileSet& set, const std::set<std::string>& damaged, const Observer& o,
                        int timeout_s, const std::string& prefix) {
  int fds[2];
  Findings f;
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    f.problems.push_back("pipe failed");
    return f;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(static_cast<unsigned>(timeout_s));
    Findings got = Observe(set, damaged, o, prefix);
    std::string out;
    auto line = [&](char tag, std::string s) {
      std::replace(s.begin(), s.end(), '\n', ' ');
      absl::StrAppend(&out, std::string(1, tag), " ", s, "\n");
    };
    for (const std::string& p : got.problems) line('P', p);
    for (const std::string& p : got.outcomes) line('O', p);
    for (const std::string& p : got.refused) line('R', p);
    if (got.store_refused) line('S', "");
    line('N', absl::StrCat(got.records_checked));
    line('E', "");
    for (size_t done = 0; done < out.size();) {
      ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string in;
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool ended = false;
  for (absl::string_view l : absl::StrSplit(in, '\n', absl::SkipEmpty())) {
    const std::string rest(l.size() > 2 ? l.substr(2) : absl::string_view());
    switch (l[0]) {
      case 'P':
        f.problems.push_back(rest);
        break;
      case 'O':
        f.outcomes.push_back(rest);
        break;
      case 'R':
        f.refused.insert(rest);
        break;
      case 'S':
        f.store_refused = true;
        break;
      case 'N':
        f.records_checked = std::stoull(rest);
        break;
      case 'E':
        ended = true;
        break;
    }
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    f.problems.push_back(absl::StrCat(
        prefix, sig == SIGALRM
                    ? absl::StrCat("hangs: killed after ", timeout_s, " s")
                    : absl::StrCat("crashes with signal ", sig, " (", strsignal(sig), ")")));
    f.outcomes.push_back("crashed");
  } else if (!ended || WEXITSTATUS(status) != 0) {
    f.problems.push_back(
        absl::StrCat(prefix, "crashes: the observing process exits with code ", WEXITSTATUS(status),
                     " before reporting (a sanitizer report, if any, is in the log)"));
    f.outcomes.push_back("crashed");
  }
  return f;
}

}  // namespace recstore::testing
