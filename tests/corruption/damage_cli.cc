// CheckCli (see damage_check.h): `recstore verify` and `recstore info` over a damaged store.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/corruption/damage_check.h"

namespace recstore::testing {
namespace {

struct CliResult {
  int code = -1;       // exit code, or -1 when killed
  int signal = 0;      // the signal that killed it
  std::string output;  // stdout and stderr
};

// A sanitizer report makes the tool exit with this code, so it is not taken for the tool's
// own exit code 1 ("data problem").
constexpr int kSanitizerExit = 86;

std::string WithExitCode(const char* name) {
  const char* old = std::getenv(name);
  return absl::StrCat(old != nullptr ? old : "", old != nullptr && *old != '\0' ? ":" : "",
                      "exitcode=", kSanitizerExit);
}

CliResult RunCli(const std::string& cli, const std::vector<std::string>& args, int timeout_s) {
  CliResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  // Built before the fork: the child only calls async-signal-safe functions.
  const std::string asan = "ASAN_OPTIONS=" + WithExitCode("ASAN_OPTIONS");
  const std::string ubsan = "UBSAN_OPTIONS=" + WithExitCode("UBSAN_OPTIONS");
  std::vector<std::string> env_strings = {asan, ubsan};
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "ASAN_OPTIONS=") && !absl::StartsWith(*e, "UBSAN_OPTIONS=")) {
      env_strings.push_back(*e);
    }
  }
  std::vector<char*> envp, argv;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = {cli};
  arg_strings.insert(arg_strings.end(), args.begin(), args.end());
  for (std::string& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::alarm(static_cast<unsigned>(timeout_s));  // kept across exec
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[8192];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  } else {
    r.code = WEXITSTATUS(status);
  }
  return r;
}

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

std::string Quote(std::string s) {
  if (s.size() > 600) s = s.substr(0, 600) + "...";
  for (char& ch : s) {
    if (ch == '\n') ch = '|';
  }
  return "'" + s + "'";
}

// A crash, a hang or a sanitizer report, or "" if the tool ended normally.
std::string Crash(const CliResult& r, int timeout_s) {
  if (r.signal == SIGALRM) return absl::StrCat("hangs (killed after ", timeout_s, " s)");
  if (r.signal != 0)
    return absl::StrCat("crashes with signal ", r.signal, " (", strsignal(r.signal), ")");
  if (r.code == kSanitizerExit || absl::StrContains(r.output, "Sanitizer") ||
      absl::StrContains(r.output, "runtime error:")) {
    return "ends with a sanitizer report: " + Quote(r.output);
  }
  if (r.code < 0 || r.code > 2)
    return absl::StrCat("exits with code ", r.code, ": ", Quote(r.output));
  return "";
}

// The part of `info`'s output about collection `name`.
std::string InfoBlock(const std::string& out, const std::string& name) {
  const std::string head = "\ncollection " + name + "\n";
  const size_t at = out.find(head);
  if (at == std::string::npos) return "";
  const size_t next = out.find("\ncollection ", at + head.size());
  return out.substr(at, next == std::string::npos ? std::string::npos : next - at);
}

// The lines of an info block that say what the open found.
std::string InfoSummary(const std::string& block) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(block, '\n')) {
    if (absl::StrContains(line, "records:") || absl::StrContains(line, "recovery:") ||
        absl::StrContains(line, "open failed:")) {
      absl::StrAppend(&out, out.empty() ? "" : "|", absl::StripAsciiWhitespace(line));
    }
  }
  return Quote(out);
}

}  // namespace

std::vector<std::string> CheckCli(const std::string& cli, const FileSet& set,
                                  const std::set<std::string>& damaged, int timeout_s,
                                  uint64_t* runs) {
  std::vector<std::string> problems;
  bool data_damaged = false;  // anything but the LOCK file
  for (const std::string& d : damaged) data_damaged |= d != "LOCK";

  const CliResult verify = RunCli(cli, {"verify", set.dir()}, timeout_s);
  ++*runs;
  if (std::string c = Crash(verify, timeout_s); !c.empty()) {
    problems.push_back("recstore verify " + c);
  } else if (data_damaged && verify.code == 0) {
    problems.push_back("recstore verify exits 0 over damaged files: " + Quote(verify.output));
  } else if (data_damaged && !NamesOneOf(verify.output, damaged)) {
    problems.push_back("recstore verify fails naming no damaged file: " + Quote(verify.output));
  } else if (!data_damaged && verify.code != 0) {
    problems.push_back("recstore verify fails on a store with only its LOCK damaged: " +
                       Quote(verify.output));
  }

  const CliResult info = RunCli(cli, {"info", set.dir()}, timeout_s);
  ++*runs;
  if (std::string c = Crash(info, timeout_s); !c.empty()) {
    problems.push_back("recstore info " + c);
    return problems;
  }
  if (damaged.count("MANIFEST") > 0) {
    if (info.code == 0 || !absl::StrContains(info.output, "MANIFEST")) {
      problems.push_back("recstore info does not report the damaged MANIFEST: " +
                         Quote(info.output));
    }
    return problems;
  }
  for (const CollectionTruth& c : set.collections()) {
    std::set<std::string> here;
    for (const std::string& d : damaged) {
      if (d.starts_with(c.folder + "/")) here.insert(d);
    }
    const std::string block = InfoBlock(info.output, c.name);
    if (block.empty()) {
      problems.push_back("recstore info does not describe " + c.name + ": " + Quote(info.output));
      continue;
    }
    const bool open_failed = absl::StrContains(block, "open failed:");
    const bool clean = absl::StrContains(block, "recovery:      clean");
    if (here.empty()) {
      if (open_failed || !clean) {
        problems.push_back("recstore info reports trouble in the undamaged " + c.name + ": " +
                           InfoSummary(block));
      }
    } else if (open_failed ? !NamesOneOf(block, here) : clean) {
      problems.push_back(absl::StrCat(
          "recstore info ",
          open_failed ? "reports an open failure naming none of " : "reports as clean ", c.name,
          " whose ", Base(*here.begin()), here.size() > 1 ? " and more are" : " is",
          " damaged: ", InfoSummary(block)));
    }
  }
  return problems;
}

}  // namespace recstore::testing
