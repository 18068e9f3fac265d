// W6 (open a big store, cold and warm) and W7 (reopen after a crash of the writer with
// unsynced appends). The W7 writer is this program run again in a child process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "fmt/core.h"
#include "tools/bench/peers/file_util.h"
#include "tools/bench/peers/runner.h"

namespace recstore::bench {

using namespace runner_internal;

namespace {

// The engines that have no store to open or recover.
const std::vector<std::string> kRawFiles = {"fwrite", "pwrite", "memcpy"};

// recstore's slot for a Rec64: the record, its 8-byte checksum, 8-byte aligned.
constexpr uint64_t kRecstoreStride = 72;
constexpr uint64_t kRecstoreHeader = 4096;

absl::Status DropCaches() {
  ::sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  f << "3\n";
  f.flush();
  if (!f) return absl::PermissionDeniedError("cannot write /proc/sys/vm/drop_caches");
  return absl::OkStatus();
}

// Bytes under `dir`; `segments` counts recstore segment files (<20 digits>.seg).
void DiskUsage(const std::string& dir, uint64_t* bytes, uint64_t* segments) {
  *bytes = *segments = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!f.is_regular_file(ec)) continue;
    *bytes += f.file_size(ec);
    const std::string n = f.path().filename().string();
    if (n.size() == 24 && n.ends_with(".seg")) ++*segments;
  }
}

// Milliseconds to open the store in `dir` and find its end, which must be `records`.
absl::StatusOr<double> TimeOpen(const std::string& engine, const OpenOptions& o, uint64_t records) {
  std::unique_ptr<Engine> e = NewEngine(engine);
  const Clock::time_point t0 = Clock::now();
  RECSTORE_RETURN_IF_ERROR(e->Open(o));
  const uint64_t end = e->End();
  const double ms = Seconds(Clock::now() - t0) * 1e3;
  RECSTORE_RETURN_IF_ERROR(e->Close());
  if (end != records) {
    return absl::InternalError(fmt::format("open found {} records, not {}", end, records));
  }
  return ms;
}

absl::StatusOr<Row> TimeBigOpen(const Config& c, const std::string& label, uint64_t records,
                                const std::string& variant) {
  const std::string engine = label == "recstore-1seg" ? "recstore" : label;
  FreshDir dir(c, "W6", label, Kind::kFixed64);
  const OpenOptions o{.dir = dir.path(),
                      .kind = Kind::kFixed64,
                      .expected_records = records,
                      .segment_size = c.w6_segment};
  {
    std::unique_ptr<Engine> e = NewEngine(engine);
    RECSTORE_RETURN_IF_ERROR(e->Open(o));
    fmt::print(stderr, "    loading {} records\n", records);
    RECSTORE_RETURN_IF_ERROR(Load(e.get(), Kind::kFixed64, records));
    RECSTORE_RETURN_IF_ERROR(e->Close());
  }
  uint64_t bytes, segments;
  DiskUsage(dir.path(), &bytes, &segments);
  Row row{"W6", variant, label, {}, ""};
  if (c.can_drop_caches) {
    std::vector<double> cold;
    for (int i = 0; i < 3; ++i) {
      RECSTORE_RETURN_IF_ERROR(DropCaches());
      RECSTORE_ASSIGN_OR_RETURN(double ms, TimeOpen(engine, o, records));
      cold.push_back(ms);
    }
    row.metrics.push_back({"cold_ms", Median(cold)});
  }
  std::vector<double> warm;
  for (int i = 0; i < 3; ++i) {
    RECSTORE_ASSIGN_OR_RETURN(double ms, TimeOpen(engine, o, records));
    warm.push_back(ms);
  }
  row.metrics.push_back({"warm_ms", Median(warm)});
  row.metrics.push_back({"records", static_cast<double>(records)});
  row.metrics.push_back({"disk_gb", static_cast<double>(bytes) / 1e9});
  if (engine == "recstore") row.note = fmt::format("{} segment files", segments);
  return row;
}

absl::StatusOr<Row> TimeCrashReopen(const Config& c, Kind kind, const std::string& name,
                                    const std::string& variant) {
  FreshDir dir(c, "W7", name, kind);
  int fds[2];
  if (::pipe(fds) != 0) return Errno("pipe", dir.path());
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string fd_arg = std::to_string(fds[1]);
  const std::string bytes_arg = std::to_string(c.w7_bytes);
  const std::string kind_arg(KindName(kind));
  const pid_t pid = ::fork();
  if (pid < 0) return Errno("fork", exe);
  if (pid == 0) {
    ::close(fds[0]);
    const char* argv[] = {exe.c_str(),      "--w7_child",      name.c_str(),   dir.path().c_str(),
                          kind_arg.c_str(), bytes_arg.c_str(), fd_arg.c_str(), nullptr};
    ::execv(exe.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[1]);
  uint64_t appended = 0;
  const ssize_t got = ::read(fds[0], &appended, sizeof(appended));
  ::close(fds[0]);
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  if (got != sizeof(appended)) {
    return absl::InternalError(fmt::format("crash child exited before appending ({})", wstatus));
  }
  // Reopen: the engine's recovery runs here.
  std::unique_ptr<Engine> e = NewEngine(name);
  const Clock::time_point t0 = Clock::now();
  RECSTORE_RETURN_IF_ERROR(e->Open({.dir = dir.path(), .kind = kind}));
  const uint64_t recovered = e->End();
  const double ms = Seconds(Clock::now() - t0) * 1e3;
  // Untimed check: the recovered records are exactly 0..recovered-1, intact.
  ScanResult r;
  RECSTORE_RETURN_IF_ERROR(e->Scan(&r));
  if (r.records != recovered || r.sum != recovered * (recovered - 1) / 2) {
    return absl::InternalError(
        fmt::format("recovered {} records but a scan sees {}", recovered, r.records));
  }
  const std::string note = e->RecoveryNote();
  RECSTORE_RETURN_IF_ERROR(e->Close());
  return Row{"W7",
             variant,
             name,
             {{"reopen_ms", ms},
              {"recovered", static_cast<double>(recovered)},
              {"appended", static_cast<double>(appended)}},
             note};
}

}  // namespace

void RunW6(const Config& c, std::vector<Row>* rows) {
  // Stores whose last segment is half full, as a store in use usually is: `bytes` worth of
  // records in recstore's segments, and a one-segment recstore store with the same tail.
  const uint64_t per_segment = (c.w6_segment - kRecstoreHeader) / kRecstoreStride;
  auto records_for = [&](uint64_t bytes) {
    const uint64_t segments = std::max<uint64_t>(1, bytes / c.w6_segment);
    return per_segment * (segments - 1) + per_segment / 2;
  };
  auto variant_for = [](uint64_t bytes) {
    return fmt::format("fixed64, {:.2g} GiB", static_cast<double>(bytes) / (uint64_t{1} << 30));
  };
  // The big store, recstore against its one-segment self (and the peers when they are to
  // hold as much); then, when the peers hold less, recstore and the peers at their size.
  std::vector<std::tuple<std::string, uint64_t, std::string>> runs;
  const bool peers_big = c.w6_peer_bytes == c.w6_bytes;
  for (const std::string& e : EnginesExcept(c, kRawFiles)) {
    if (e != "recstore" && !peers_big) continue;
    runs.push_back({e, records_for(c.w6_bytes), variant_for(c.w6_bytes)});
    if (e == "recstore")
      runs.push_back({"recstore-1seg", per_segment / 2, variant_for(c.w6_bytes)});
  }
  if (!peers_big && c.w6_peer_bytes > 0) {
    for (const std::string& e : EnginesExcept(c, kRawFiles)) {
      runs.push_back({e, records_for(c.w6_peer_bytes), variant_for(c.w6_peer_bytes)});
    }
  }
  for (const auto& [label, records, variant] : runs) {
    Progress("W6", variant, label);
    absl::StatusOr<Row> r = TimeBigOpen(c, label, records, variant);
    rows->push_back(r.ok() ? *r : ErrorRow("W6", variant, label, r.status()));
  }
}

void RunW7(const Config& c, std::vector<Row>* rows) {
  size_t shift = 0;
  for (Kind kind : c.kinds) {
    const std::string variant =
        fmt::format("{}, {} MiB unsynced", KindName(kind), c.w7_bytes >> 20);
    for (const std::string& name : Rotated(EnginesExcept(c, kRawFiles), shift++)) {
      Progress("W7", variant, name);
      absl::StatusOr<Row> r = TimeCrashReopen(c, kind, name, variant);
      rows->push_back(r.ok() ? *r : ErrorRow("W7", variant, name, r.status()));
    }
  }
}

int RunW7Child(const std::string& engine, const std::string& dir, Kind kind, uint64_t bytes,
               int fd) {
  std::unique_ptr<Engine> e = NewEngine(engine);
  const uint64_t n = bytes / RecordSize(kind);
  absl::Status s = e->Open({.dir = dir, .kind = kind, .expected_records = n, .durable = false});
  RecordGen gen(kind);
  uint64_t seq = 0;
  while (s.ok() && seq < n) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(256, n - seq));
    s = e->Commit(gen.Make(seq, k), k);
    seq += k;
  }
  if (!s.ok()) {
    fmt::print(stderr, "crash child {}: {}\n", engine, s.ToString());
    return 1;
  }
  if (::write(fd, &seq, sizeof(seq)) != sizeof(seq)) return 1;
  while (true) ::pause();  // until SIGKILL
}

}  // namespace recstore::bench
