// checkpoint_kill_harness: the long run of the checkpoint kill test (checkpoint_kill.h).
//
//   ./bazelw run --config=opt //tests/kill:checkpoint_kill_harness -- --kills=3000 --seed=42
//
// Flags (all optional): --kills=N (1000), --seed=N (default: from the clock; printed),
// --dir=PATH (default: a new folder under $TMPDIR or /tmp, removed after a successful run),
// --kills_per_store=N (100), --min_delay_us=N (1000), --max_delay_us=N (60000),
// --segment_size=BYTES (1048576), --min_size=BYTES (1024), --max_size=BYTES (204800),
// --keep=N (2), --progress=N (100).
// Exit status: 0 when every check passed, 1 on the first failed check, 2 on bad flags.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "tests/kill/checkpoint_kill.h"

namespace {

using recstore::kill::CheckpointKillOptions;

bool ParseFlag(std::string_view arg, CheckpointKillOptions* o, bool* keep_dir) {
  const size_t eq = arg.find('=');
  if (!arg.starts_with("--") || eq == std::string_view::npos) return false;
  const std::string_view name = arg.substr(2, eq - 2), value = arg.substr(eq + 1);
  auto num = [&](auto* out) {
    return absl::SimpleAtoi(absl::string_view(value.data(), value.size()), out);
  };
  if (name == "kills") return num(&o->kills) && o->kills > 0;
  if (name == "seed") return num(&o->seed);
  if (name == "dir") {
    o->root = std::string(value);
    *keep_dir = true;
    return true;
  }
  if (name == "kills_per_store") return num(&o->kills_per_store) && o->kills_per_store > 0;
  if (name == "min_delay_us") return num(&o->min_delay_us) && o->min_delay_us >= 0;
  if (name == "max_delay_us") return num(&o->max_delay_us) && o->max_delay_us >= 0;
  if (name == "segment_size") return num(&o->segment_size);
  if (name == "min_size") return num(&o->min_size);
  if (name == "max_size") return num(&o->max_size);
  if (name == "keep") return num(&o->keep) && o->keep > 0;
  if (name == "progress") return num(&o->progress_every) && o->progress_every >= 0;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CheckpointKillOptions o;
  o.kills = 1000;
  o.kills_per_store = 100;
  o.progress_every = 100;
  o.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  bool keep_dir = false;
  for (int i = 1; i < argc; ++i) {
    if (!ParseFlag(argv[i], &o, &keep_dir)) {
      std::fprintf(stderr,
                   "checkpoint_kill_harness: bad flag %s (see the top of "
                   "checkpoint_kill_harness_main.cc)\n",
                   argv[i]);
      return 2;
    }
  }
  if (o.min_delay_us > o.max_delay_us || o.min_size > o.max_size) {
    std::fprintf(stderr, "checkpoint_kill_harness: a minimum is above its maximum\n");
    return 2;
  }
  if (o.root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/recstore_ckpt.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("checkpoint_kill_harness: mkdtemp");
      return 2;
    }
    o.root = pattern;
  }
  std::printf("checkpoint_kill_harness: seed %llu, %d kills, dir %s\n",
              static_cast<unsigned long long>(o.seed), o.kills, o.root.c_str());
  std::fflush(stdout);
  auto summary = recstore::kill::RunCheckpointKills(o, stdout);
  if (!summary.ok()) {
    std::printf("FAILED: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  std::printf("PASSED seed %llu\n%s\n", static_cast<unsigned long long>(o.seed),
              summary->ToString().c_str());
  if (!keep_dir) std::filesystem::remove_all(o.root);
  return 0;
}
