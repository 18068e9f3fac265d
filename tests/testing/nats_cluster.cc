#include "tests/testing/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/testing/nats_monitor.h"

namespace recstore::testing {
namespace {

using nats_monitor::Json;
using nats_monitor::LoopbackHttpGet;
using nats_monitor::ParseJson;

// The answers (their shapes: nats_monitor.h) are parsed, not searched for strings: stream
// replicas carry "name" keys too.
absl::StatusOr<Json> GetJson(NatsCluster& cluster, int i, const std::string& path) {
  absl::StatusOr<std::string> body = cluster.HttpGet(i, path);
  if (!body.ok()) return body.status();
  Json json;
  if (!ParseJson(*body, &json) || json.kind != Json::kObject) {
    return absl::InternalError(
        absl::StrCat(cluster.Name(i), " GET ", path, ": not JSON: ", body->substr(0, 200)));
  }
  return json;
}

// Asks every running node for `path` and `leader_in` of its answer (nullopt: the node hosts
// no such thing; "": it knows of no leader). A node naming itself leader is believed first,
// then the first named leader that is a running node.
absl::StatusOr<std::string> AskLeader(
    NatsCluster& cluster, const std::string& path, const std::string& what,
    const std::function<std::optional<std::string>(const Json&)>& leader_in) {
  std::optional<std::string> named;
  bool hosted = false;
  absl::Status error = absl::OkStatus();
  for (int i = 0; i < cluster.Count(); ++i) {
    if (!cluster.Running(i)) continue;
    absl::StatusOr<Json> json = GetJson(cluster, i, path);
    if (!json.ok()) {
      error.Update(json.status());
      continue;
    }
    const std::optional<std::string> leader = leader_in(*json);
    if (!leader.has_value()) continue;
    hosted = true;
    if (*leader == cluster.Name(i)) return *leader;
    absl::StatusOr<int> index = cluster.IndexOf(*leader);
    if (!named.has_value() && index.ok() && cluster.Running(*index)) named = *leader;
  }
  if (named.has_value()) return *named;
  if (!hosted && error.ok()) return absl::NotFoundError(absl::StrCat("no node hosts ", what));
  return absl::UnavailableError(
      absl::StrCat("no running leader of ", what, error.ok() ? "" : ": ", error.message()));
}

constexpr const char* kStreamsPath = "/jsz?accounts=true&streams=true";

// The entry of `stream` in the stream_detail of some account of a kStreamsPath answer.
const Json* FindStream(const Json& jsz, const std::string& stream) {
  const Json* accounts = jsz.Get("account_details");
  for (size_t a = 0; accounts != nullptr && a < accounts->items.size(); ++a) {
    const Json* streams = accounts->items[a].Get("stream_detail");
    for (size_t k = 0; streams != nullptr && k < streams->items.size(); ++k) {
      if (streams->items[k].Str("name") == stream) return &streams->items[k];
    }
  }
  return nullptr;
}

void Sleep(absl::Duration d) { ::usleep(static_cast<useconds_t>(absl::ToInt64Microseconds(d))); }

}  // namespace

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(const NatsClusterOptions& options) {
  if (options.nodes < 1) return absl::InvalidArgumentError("nodes must be at least 1");
  if (!std::filesystem::is_directory(options.dir)) {
    return absl::InvalidArgumentError(absl::StrCat("no directory ", options.dir));
  }
  if (options.dir.find_first_of("\"\\\n") != std::string::npos) {
    return absl::InvalidArgumentError("the directory's path cannot go in a config string");
  }
  if (::access(kServer, X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(kServer,
                                                      " missing: apt-get install "
                                                      "nats-server (./bazelw does)"));
  }
  absl::Status status;
  // Another process may take a chosen port before its server binds it: choose again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<NatsCluster> cluster(new NatsCluster(options));
    if (absl::Status s = cluster->PickPortsAndWriteConfigs(); !s.ok()) return s;
    status = cluster->StartAllAndWait(absl::Now() + absl::Seconds(30));
    if (status.ok()) return cluster;
    if (status.message().find("address already in use") == std::string_view::npos) break;
  }
  return status;
}

NatsCluster::~NatsCluster() { StopAll().IgnoreError(); }

std::string NatsCluster::Url(int i) const {
  return absl::StrCat("nats://127.0.0.1:", nodes_[i].client_port);
}

std::string NatsCluster::Urls() const {
  std::vector<std::string> urls;
  for (int i = 0; i < Count(); ++i) urls.push_back(Url(i));
  return absl::StrJoin(urls, ",");
}

std::string NatsCluster::Name(int i) const { return absl::StrCat("n", i + 1); }

absl::StatusOr<int> NatsCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < Count(); ++i) {
    if (Name(i) == name) return i;
  }
  return absl::NotFoundError(absl::StrCat("no node named '", name, "'"));
}

bool NatsCluster::Running(int i) {
  Node& n = nodes_[i];
  if (n.pid <= 0) return false;
  const pid_t r = ::waitpid(n.pid, nullptr, WNOHANG);
  // Reaped now, or by someone else (ECHILD): never signal that pid again.
  if (r == n.pid || (r < 0 && errno == ECHILD)) n.pid = -1;
  return n.pid > 0;
}

absl::Status NatsCluster::PickPortsAndWriteConfigs() {
  // All sockets stay bound until every port is chosen, so the ports differ.
  std::vector<int> fds;
  std::vector<int> ports;
  absl::Status status;
  for (int k = 0; k < 3 * options_.nodes && status.ok(); ++k) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = absl::InternalError(absl::StrCat("picking a port: ", std::strerror(errno)));
    }
    if (fd >= 0) fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;

  nodes_.resize(options_.nodes);
  std::vector<std::string> routes;
  for (int i = 0; i < Count(); ++i) {
    nodes_[i].client_port = ports[3 * i];
    nodes_[i].cluster_port = ports[3 * i + 1];
    nodes_[i].http_port = ports[3 * i + 2];
    nodes_[i].config = absl::StrCat(options_.dir, "/", Name(i), ".conf");
    nodes_[i].log = absl::StrCat(options_.dir, "/", Name(i), ".log");
    routes.push_back(absl::StrCat("    nats-route://127.0.0.1:", nodes_[i].cluster_port));
  }
  for (int i = 0; i < Count(); ++i) {
    const Node& n = nodes_[i];
    std::ostringstream c;
    c << "# Written by recstore's tests/testing/nats_cluster.cc.\n"
      << "server_name: " << Name(i) << "\n"
      << "listen: 127.0.0.1:" << n.client_port << "\n"
      << "http: 127.0.0.1:" << n.http_port << "\n";
    if (!options_.max_payload.empty()) c << "max_payload: " << options_.max_payload << "\n";
    if (!options_.extra_config.empty()) c << options_.extra_config << "\n";
    c << "jetstream {\n  store_dir: \"" << options_.dir << "/js-" << Name(i) << "\"\n}\n";
    if (Count() > 1) {
      c << "cluster {\n  name: recstore\n  listen: 127.0.0.1:" << n.cluster_port << "\n"
        << "  routes: [\n"
        << absl::StrJoin(routes, "\n") << "\n  ]\n}\n";
    }
    std::ofstream out(n.config, std::ios::trunc);
    out << c.str();
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", n.config));
  }
  return absl::OkStatus();
}

absl::Status NatsCluster::Spawn(int i) {
  Node& n = nodes_[i];
  const int log = ::open(n.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0) {
    const int error = errno;
    if (log >= 0) ::close(log);
    if (null >= 0) ::close(null);
    return absl::InternalError(absl::StrCat("opening ", n.log, ": ", std::strerror(error)));
  }
  // Built before the fork: the child calls only async-signal-safe functions.
  std::string path = kServer, flag = "-c", config = n.config;
  char* argv[] = {path.data(), flag.data(), config.data(), nullptr};
  const long open_max = std::clamp<long>(::sysconf(_SC_OPEN_MAX), 256, 1 << 16);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Ends with the thread that started it, even if that is killed.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (::close_range(3, ~0U, 0) != 0) {
      for (int fd = 3; fd < open_max; ++fd) ::close(fd);
    }
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  const int error = errno;
  ::close(log);
  ::close(null);
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  n.pid = pid;
  return absl::OkStatus();
}

absl::Status NatsCluster::WaitForMonitor(int i, absl::Time deadline) {
  while (true) {
    if (!Running(i)) {
      return absl::FailedPreconditionError(
          absl::StrCat(Name(i), " is not running; its log ends:\n", LogTail(i)));
    }
    if (HttpGet(i, "/varz", absl::Seconds(1)).ok()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(Name(i), " does not answer on port ", nodes_[i].http_port));
    }
    Sleep(absl::Milliseconds(20));
  }
}

absl::Status NatsCluster::StartAllAndWait(absl::Time deadline) {
  for (int i = 0; i < Count(); ++i) {
    if (Running(i)) continue;
    if (absl::Status s = Spawn(i); !s.ok()) return s;
  }
  for (int i = 0; i < Count(); ++i) {
    if (absl::Status s = WaitForMonitor(i, deadline); !s.ok()) return s;
  }
  return WaitForHealthy(deadline - absl::Now());
}

absl::Status NatsCluster::StartNode(int i) {
  if (Running(i)) return absl::OkStatus();
  if (absl::Status s = Spawn(i); !s.ok()) return s;
  return WaitForMonitor(i, absl::Now() + absl::Seconds(30));
}

absl::Status NatsCluster::Signal(const std::vector<int>& which, int signal) {
  for (int i : which) {
    if (Running(i)) ::kill(nodes_[i].pid, signal);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::Status status;
  for (int i : which) {
    Node& n = nodes_[i];
    while (Running(i) && absl::Now() < deadline) Sleep(absl::Milliseconds(5));
    if (n.pid > 0) {
      status.Update(absl::DeadlineExceededError(
          absl::StrCat(Name(i), " ignored signal ", signal, " for 10 s: killed")));
      ::kill(n.pid, SIGKILL);
      while (::waitpid(n.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      n.pid = -1;
    }
  }
  return status;
}

absl::Status NatsCluster::StopNode(int i) { return Signal({i}, SIGTERM); }

absl::Status NatsCluster::KillNode(int i) { return Signal({i}, SIGKILL); }

absl::Status NatsCluster::StopAll() {
  std::vector<int> all;
  for (int i = 0; i < Count(); ++i) all.push_back(i);
  return Signal(all, SIGTERM);
}

absl::Status NatsCluster::RestartAll() {
  if (absl::Status s = StopAll(); !s.ok()) return s;
  return StartAllAndWait(absl::Now() + absl::Seconds(30));
}

absl::StatusOr<std::string> NatsCluster::MetaLeader() {
  return AskLeader(*this, "/jsz", "the meta group",
                   [this](const Json& jsz) -> std::optional<std::string> {
                     const Json* meta = jsz.Get("meta_cluster");
                     // Standalone: JetStream (its "config") is up, the server leads itself.
                     if (meta == nullptr && Count() == 1 && jsz.Get("config") != nullptr) {
                       return Name(0);
                     }
                     if (meta == nullptr) return std::nullopt;
                     return meta->Str("leader").value_or("");
                   });
}

absl::StatusOr<std::string> NatsCluster::StreamLeader(const std::string& stream) {
  return AskLeader(*this, kStreamsPath, absl::StrCat("stream ", stream),
                   [&stream](const Json& jsz) -> std::optional<std::string> {
                     const Json* s = FindStream(jsz, stream);
                     if (s == nullptr) return std::nullopt;
                     const Json* cluster = s->Get("cluster");
                     return cluster == nullptr ? "" : cluster->Str("leader").value_or("");
                   });
}

absl::StatusOr<uint64_t> NatsCluster::StreamMessages(int i, const std::string& stream) {
  absl::StatusOr<Json> jsz = GetJson(*this, i, kStreamsPath);
  if (!jsz.ok()) return jsz.status();
  const Json* s = FindStream(*jsz, stream);
  if (s == nullptr) return absl::NotFoundError(absl::StrCat(Name(i), " hosts no ", stream));
  const Json* state = s->Get("state");
  const Json* messages = state != nullptr ? state->Get("messages") : nullptr;
  uint64_t n = 0;
  if (messages == nullptr || !absl::SimpleAtoi(messages->text, &n)) {
    return absl::InternalError(absl::StrCat(Name(i), ": no message count for ", stream));
  }
  return n;
}

absl::Status NatsCluster::WaitForStreamLeader(const std::string& stream, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> leader = StreamLeader(stream);
    if (leader.ok()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no leader of stream ", stream, ": ", leader.status().message()));
    }
    Sleep(absl::Milliseconds(50));
  }
}

absl::Status NatsCluster::WaitForHealthy(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Status status;
    absl::StatusOr<std::string> leader = MetaLeader();
    status = leader.status();
    if (status.ok() && Count() > 1) {
      absl::StatusOr<Json> jsz = GetJson(*this, *IndexOf(*leader), "/jsz");
      status = jsz.status();
      const Json* meta = jsz.ok() ? jsz->Get("meta_cluster") : nullptr;
      const Json* replicas = meta != nullptr ? meta->Get("replicas") : nullptr;
      for (int i = 0; i < Count() && status.ok(); ++i) {
        if (Name(i) == *leader || !Running(i)) continue;
        const bool current =
            replicas != nullptr &&
            std::any_of(replicas->items.begin(), replicas->items.end(), [&](const Json& r) {
              return r.Str("name") == Name(i) && r.True("current");
            });
        if (!current) status = absl::UnavailableError(Name(i) + " is not a current peer");
      }
    }
    for (int i = 0; i < Count() && status.ok(); ++i) {
      if (Running(i)) status = HttpGet(i, "/healthz").status();
    }
    if (status.ok()) return status;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the cluster is not healthy: ", status.message()));
    }
    Sleep(absl::Milliseconds(200));  // each failed health check is a warning in the log
  }
}

absl::StatusOr<std::string> NatsCluster::HttpGet(int i, const std::string& path,
                                                 absl::Duration timeout) const {
  absl::StatusOr<std::string> body = LoopbackHttpGet(nodes_[i].http_port, path, timeout);
  if (body.ok()) return body;
  return absl::Status(body.status().code(), absl::StrCat(Name(i), " ", body.status().message()));
}

std::string NatsCluster::LogTail(int i) const {
  std::ifstream in(nodes_[i].log, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  return text.substr(text.size() > 2000 ? text.size() - 2000 : 0);
}

}  // namespace recstore::testing
