// A struct shared by processes: a parent and a forked child each add to the same counter
// through atomics; the parent syncs a snapshot and reopens it. Usage: counters [DIR].
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "recstore/mapped_struct.h"
#include "recstore/status_macros.h"

namespace example {

struct Counters {
  uint64_t requests;
  uint64_t errors;
  char host[32];
};
RECSTORE_RECORD(Counters, requests, errors, host);

constexpr int kAdds = 100'000;

absl::Status AddMany(const std::string& path) {
  ASSIGN_OR_RETURN(auto c, recstore::MappedStruct<Counters>::Open(path, {.shared = true}));
  for (int i = 0; i < kAdds; ++i) c.Atomic(&Counters::requests).fetch_add(1);
  return c.Sync();
}

absl::Status Run(const std::string& dir) {
  const std::string path = dir + "/counters.rss";
  std::remove(path.c_str());
  ASSIGN_OR_RETURN(auto c, recstore::MappedStruct<Counters>::Open(
                               path, {.create_if_missing = true, .shared = true}));
  std::strncpy(c.mutable_get()->host, "example-host", sizeof(Counters::host) - 1);
  const pid_t child = fork();
  if (child == 0) _exit(AddMany(path).ok() ? 0 : 1);
  for (int i = 0; i < kAdds; ++i) c.Atomic(&Counters::requests).fetch_add(1);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return absl::InternalError("child failed");
  RETURN_IF_ERROR(c.Sync());
  std::printf("requests = %llu (two processes, %d each), snapshot #%llu\n",
              static_cast<unsigned long long>(c->requests), kAdds,
              static_cast<unsigned long long>(c.sync_count()));
  ASSIGN_OR_RETURN(auto snap, recstore::MappedStruct<Counters>::Open(path, {.read_only = true}));
  if (snap->requests != 2 * kAdds || std::strcmp(snap->host, "example-host") != 0) {
    return absl::InternalError("the snapshot is not what was synced");
  }
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    char pattern[] = "/tmp/counters.XXXXXX";
    dir = tmp != nullptr ? std::string(tmp) : std::string(mkdtemp(pattern));
  }
  absl::Status s = example::Run(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "counters: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
