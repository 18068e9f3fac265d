// An application log: one writer process appends lines (synced in the background) and a
// follower in another process consumes them as they arrive, keeping a durable cursor, while
// retention bounds the log. Usage: app_log [DIR] (default: a fresh directory under /tmp).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "recstore/recstore.h"

namespace example {

constexpr uint64_t kLines = 20'000;

std::string Line(uint64_t i) { return "GET /item/" + std::to_string(i) + " 200"; }

// The writer: appends kLines lines; a background thread syncs every 1000 lines or 50 ms.
absl::Status Write(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store,
                   recstore::Store::Open(dir, {.sync_policy = recstore::SyncPolicy::Background(
                                                   1000, std::chrono::milliseconds(50))}));
  ASSIGN_OR_RETURN(auto log, store->OpenByteLog("app"));
  // A day of lines, longer for a follower that lags, never more than 1 GiB.
  RETURN_IF_ERROR(log.SetRetention({.max_age = std::chrono::hours(24),
                                    .keep_unconsumed = true,
                                    .hard_max_bytes = uint64_t{1} << 30}));
  for (uint64_t i = 0; i < kLines; ++i) RETURN_IF_ERROR(log.Append(Line(i)).status());
  return log.Sync().status();
}

// The follower (a separate process): sleeps until lines arrive, resumes at its cursor.
absl::Status Follow(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.read_only = true}));
  ASSIGN_OR_RETURN(auto log, store->OpenByteLog("app"));
  ASSIGN_OR_RETURN(recstore::Cursor cursor, store->OpenCursor("app", "indexer"));
  auto follow = log.Follow(cursor.position());  // stops with an error if lines were lost
  uint64_t bytes = 0;
  for (const auto& [seq, line] : follow) {
    if (recstore::AsString(line) != Line(seq)) return absl::DataLossError("wrong line");
    bytes += line.size();
    if (seq % 1000 == 999) RETURN_IF_ERROR(cursor.Commit(seq + 1));  // durable on return
    if (seq + 1 == kLines) break;
  }
  RETURN_IF_ERROR(follow.status());
  std::printf("follower: %llu lines, %llu bytes, cursor at %llu\n",
              static_cast<unsigned long long>(kLines), static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(cursor.position()));
  return cursor.position() == kLines ? absl::OkStatus()
                                     : absl::InternalError("the cursor is not at the end");
}

absl::Status Run(const std::string& dir) {
  {  // Create the store and the log, so the follower finds them.
    ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
    RETURN_IF_ERROR(store->OpenByteLog("app").status());
  }
  pid_t follower = fork();
  if (follower == 0) {
    absl::Status s = Follow(dir);
    if (!s.ok()) std::fprintf(stderr, "follower: %s\n", s.ToString().c_str());
    _exit(s.ok() ? 0 : 1);
  }
  absl::Status written = Write(dir);
  int status = 0;
  waitpid(follower, &status, 0);
  RETURN_IF_ERROR(written);
  std::printf("writer: %llu lines\n", static_cast<unsigned long long>(kLines));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("the follower failed");
  }
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    char pattern[] = "/tmp/app_log.XXXXXX";
    dir = (tmp != nullptr ? std::string(tmp) : std::string(mkdtemp(pattern))) + "/store";
  }
  if (absl::Status s = example::Run(dir); !s.ok()) {
    std::fprintf(stderr, "app_log: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
