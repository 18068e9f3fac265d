#include "tests/hostile/probe.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/testing/open_store.h"

namespace recstore::hostile {
namespace {

constexpr unsigned kChildSeconds = 60;
// The API child's exit status when an assertion failed (its stderr says which).
constexpr int kApiProblems = 97;

class Problems {
 public:
  explicit Problems(std::string dir) : dir_(std::move(dir)) {}

  void Add(const std::string& what) { absl::StrAppend(&text_, what, "\n"); }
  // A failure must be a non-OK status whose message names the store.
  void CheckError(const absl::Status& s, const std::string& what) {
    if (s.message().empty()) Add(absl::StrCat(what, ": error without a message: ", s.ToString()));
    if (!absl::StrContains(s.message(), dir_)) {
      Add(absl::StrCat(what, ": error names no file of the store: ", s.ToString()));
    }
  }
  // A read may also fail without naming a file when it reports no damage: NotFound (a
  // record removed by compaction or retention, no checkpoint left) and OutOfRange.
  void CheckReadError(const absl::Status& s, const std::string& what) {
    if (s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kOutOfRange) {
      if (s.message().empty()) Add(absl::StrCat(what, ": error without a message"));
      return;
    }
    CheckError(s, what);
  }
  void CheckRecord(const Written* w, uint64_t seq, std::span<const std::byte> got,
                   const std::string& what) {
    if (w == nullptr) {
      return Add(absl::StrCat(what, ": returned record ", seq, " of a collection never written"));
    }
    auto it = w->records.find(seq);
    if (it == w->records.end()) {
      return Add(absl::StrCat(what, ": returned record ", seq, ", which was never written (",
                              got.size(), " bytes)"));
    }
    if (AsString(got) != it->second) {
      Add(absl::StrCat(what, ": record ", seq, " differs from what was written (", got.size(),
                       " bytes, written ", it->second.size(), ")"));
    }
  }
  const std::string& text() const { return text_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string text_;
};

void ProbeCollection(const TemplateStore& t, Store& store, const std::string& name,
                     const std::string& mode, bool records_intact, Problems& p) {
  const std::string what = absl::StrCat(mode, " '", name, "'");
  absl::StatusOr<UntypedLog> log = store.OpenUntyped(name);
  if (!log.ok()) return p.CheckError(log.status(), what + " OpenUntyped");
  const Written* w = t.Find(name);
  const uint64_t begin = log->begin(), end = log->end();
  if (end < begin) p.Add(absl::StrCat(what, ": opened with end ", end, " below begin ", begin));
  std::vector<uint64_t> seqs = {begin, begin + (end - begin) / 2, end - 1};
  if (w != nullptr && w->end > w->begin) {
    seqs.insert(seqs.end(), {w->begin, w->begin + (w->end - w->begin) / 2, w->end - 1});
  }
  for (uint64_t seq : seqs) {
    if (seq < begin || seq >= end) continue;
    absl::StatusOr<std::span<const std::byte>> r = log->Get(seq);
    if (r.ok()) {
      p.CheckRecord(w, seq, *r, absl::StrCat(what, " Get(", seq, ")"));
    } else {
      p.CheckReadError(r.status(), absl::StrCat(what, " Get(", seq, ")"));
      if (records_intact && w != nullptr && w->records.count(seq) > 0) {
        p.Add(absl::StrCat(what, " Get(", seq,
                           "): a record written and intact is lost: ", r.status().ToString()));
      }
    }
  }
  if (records_intact && w != nullptr && (begin > w->begin || end < w->end)) {
    p.Add(absl::StrCat(what, ": opened as [", begin, ", ", end, "), but [", w->begin, ", ", w->end,
                       ") was written and is intact"));
  }
  const uint64_t cap = (w != nullptr ? w->records.size() : 0) + 1;
  uint64_t n = 0;
  {
    auto scan = log->Scan(begin);
    for (const auto& [seq, bytes] : scan) {
      p.CheckRecord(w, seq, bytes, absl::StrCat(what, " Scan"));
      if (++n > cap) {
        p.Add(absl::StrCat(what, " Scan: yields more records than were written"));
        break;
      }
    }
    if (!scan.status().ok()) p.CheckError(scan.status(), what + " Scan");
    // Every record written and intact comes back. A commit block whose count was raised
    // claims records past them as durable: reading those is DataLoss naming the file (checked
    // just above), which is what a damaged block may cost.
    if (records_intact && w != nullptr && n != w->records.size()) {
      p.Add(absl::StrCat(what, " Scan: ", n, " of the ", w->records.size(),
                         " records written and intact, then ", scan.status().ToString()));
    }
  }
  absl::StatusOr<VerifyReport> v = log->Verify();
  if (!v.ok()) {
    p.CheckError(v.status(), what + " Verify");
  } else if (!v->ok && !absl::StrContains(v->first_bad.file, p.dir())) {
    p.Add(absl::StrCat(what, " Verify: a bad record in no file: ", v->first_bad.reason));
  }
}

void ProbeStore(const TemplateStore& t, Env* env, const std::string& dir,
                const std::vector<std::string>& collections, bool records_intact, bool read_only,
                Problems& p) {
  const std::string mode = read_only ? "read-only" : "writer";
  absl::StatusOr<std::unique_ptr<Store>> store =
      testing::OpenStore(env, dir, {.read_only = read_only});
  if (!store.ok()) return p.CheckError(store.status(), mode + " open");
  for (const std::string& name : collections) {
    ProbeCollection(t, **store, name, mode, records_intact, p);
  }
  const std::string ckpt_log = absl::StrCat("checkpoint.", kCheckpoints);
  if (std::find(collections.begin(), collections.end(), ckpt_log) == collections.end()) return;
  absl::StatusOr<Checkpoints> ckpt =
      (*store)->OpenCheckpoints(kCheckpoints, {.create_if_missing = false});
  if (!ckpt.ok()) return p.CheckError(ckpt.status(), mode + " OpenCheckpoints");
  absl::StatusOr<Checkpoint> loaded = ckpt->Load();
  if (!loaded.ok()) return p.CheckReadError(loaded.status(), mode + " checkpoint Load");
  if (t.checkpoint_payloads.count(loaded->data) == 0) {
    p.Add(absl::StrCat(mode, " checkpoint Load: returned ", loaded->data.size(),
                       " bytes that were never saved as one of the last versions"));
  }
}

std::string Tail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  std::string s = out.str();
  return s.size() > max ? "...\n" + s.substr(s.size() - max) : s;
}

// Forks a child that redirects stdout and stderr to `log`, arms an alarm and runs `body`.
pid_t Spawn(const std::string& log, const std::function<int()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    alarm(kChildSeconds);  // a hang is a failure too (an alarm survives exec)
    _exit(body());
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

std::string Describe(int status) {
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return absl::StrCat("exit status ", WEXITSTATUS(status));
}

bool SanitizerReport(const std::string& text) {
  return absl::StrContains(text, "Sanitizer") || absl::StrContains(text, "runtime error:");
}

}  // namespace

std::string ProbeApi(const TemplateStore& t, const std::string& dir,
                     const std::vector<std::string>& collections, bool records_intact) {
  Problems p(dir);
  testing::HeapMapEnv env;
  ProbeStore(t, &env, dir, collections, records_intact, /*read_only=*/true, p);
  ProbeStore(t, &env, dir, collections, records_intact, /*read_only=*/false, p);
  return p.text();
}

pid_t StartApiChild(const TemplateStore& t, const std::string& dir,
                    const std::vector<std::string>& collections, bool records_intact,
                    const std::string& log) {
  return Spawn(log, [&] {
    const std::string problems = ProbeApi(t, dir, collections, records_intact);
    std::fputs(problems.c_str(), stderr);
    std::fflush(stderr);
    return problems.empty() ? 0 : kApiProblems;
  });
}

std::string FinishApiChild(pid_t pid, const std::string& log) {
  const int status = Wait(pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  if (WIFEXITED(status) && WEXITSTATUS(status) == kApiProblems) {
    return absl::StrCat("API: ", Tail(log, 3000));
  }
  return absl::StrCat("API child ", Describe(status), ":\n", Tail(log, 6000));
}

std::vector<CliRun> StartCli(const std::string& cli, const std::string& dir,
                             const std::string& collection, const std::string& log_prefix) {
  std::vector<CliRun> runs;
  const std::vector<std::vector<std::string>> commands = {
      {"info", dir}, {"verify", dir}, {"dump", dir, collection}};
  for (const std::vector<std::string>& args : commands) {
    CliRun run;
    run.command = absl::StrCat("recstore ", args[0]);
    run.log = absl::StrCat(log_prefix, ".", args[0]);
    run.pid = Spawn(run.log, [&] {
      // stdout (records, reports) is not examined: only the exit and stderr are.
      const int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 1);
      std::vector<char*> argv = {const_cast<char*>(cli.c_str())};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(cli.c_str(), argv.data());
      std::perror("execv");
      return 126;
    });
    runs.push_back(std::move(run));
  }
  return runs;
}

std::string FinishCli(const std::vector<CliRun>& runs) {
  std::string out;
  for (const CliRun& run : runs) {
    const int status = Wait(run.pid);
    const std::string err = Tail(run.log, 4000);
    if (WIFSIGNALED(status) || SanitizerReport(err)) {
      absl::StrAppend(&out, run.command, ": ", Describe(status), ":\n", err, "\n");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) == 126) {
      absl::StrAppend(&out, run.command, ": cannot run: ", Describe(status), ": ", err, "\n");
    } else if (WEXITSTATUS(status) != 0 && err.empty()) {
      absl::StrAppend(&out, run.command, ": ", Describe(status), " with nothing on stderr\n");
    }
  }
  return out;
}

}  // namespace recstore::hostile
