// kill_harness: kills a multi-threaded writer process with SIGKILL again and again, checking
// the store after each kill against what the writer had reported (see harness.h).
//
//   ./bazelw run --config=opt //tests/kill:kill_harness -- --kills=1000 --seed=42
//
// Flags (all optional): --kills=N (default 1000), --seed=N (default: from the clock; printed),
// --dir=PATH (default: a new folder under $TMPDIR or /tmp, removed after a successful run),
// --kills_per_store=N (25), --min_delay_us=N (2000), --max_delay_us=N (150000),
// --appenders=N (3), --syncers=N (1), --segment_size=BYTES (65536),
// --timing=random|rotation|mixed (mixed), --progress=N (50).
// Exit status: 0 when every check passed, 1 on the first failed check, 2 on bad flags.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "tests/kill/harness.h"

namespace {

using recstore::kill::KillOptions;
using recstore::kill::KillTiming;

bool ParseFlag(std::string_view arg, KillOptions* o, bool* keep) {
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
    *keep = true;
    return true;
  }
  if (name == "kills_per_store") return num(&o->kills_per_store) && o->kills_per_store > 0;
  if (name == "min_delay_us") return num(&o->min_delay_us) && o->min_delay_us >= 0;
  if (name == "max_delay_us") return num(&o->max_delay_us) && o->max_delay_us >= 0;
  if (name == "appenders") return num(&o->appenders) && o->appenders > 0;
  if (name == "syncers") return num(&o->syncers) && o->syncers >= 0;
  if (name == "segment_size") return num(&o->segment_size);
  if (name == "progress") return num(&o->progress_every) && o->progress_every >= 0;
  if (name == "timing") {
    if (value == "random")
      o->timing = KillTiming::kRandom;
    else if (value == "rotation")
      o->timing = KillTiming::kAtRotation;
    else if (value == "mixed")
      o->timing = KillTiming::kMixed;
    else
      return false;
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  KillOptions o;
  o.kills = 1000;
  o.max_delay_us = 150000;
  o.progress_every = 50;
  o.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (!ParseFlag(argv[i], &o, &keep)) {
      std::fprintf(stderr, "kill_harness: bad flag %s (see the top of kill_harness_main.cc)\n",
                   argv[i]);
      return 2;
    }
  }
  if (o.min_delay_us > o.max_delay_us) {
    std::fprintf(stderr, "kill_harness: --min_delay_us is above --max_delay_us\n");
    return 2;
  }
  if (o.root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/recstore_kill.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("kill_harness: mkdtemp");
      return 2;
    }
    o.root = pattern;
  }
  std::printf("kill_harness: seed %llu, %d kills, dir %s\n",
              static_cast<unsigned long long>(o.seed), o.kills, o.root.c_str());
  std::fflush(stdout);
  auto summary = recstore::kill::RunKills(o, stdout);
  if (!summary.ok()) {
    std::printf("FAILED: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  std::printf("PASSED seed %llu\n%s\n", static_cast<unsigned long long>(o.seed),
              summary->ToString().c_str());
  if (!keep) std::filesystem::remove_all(o.root);
  return 0;
}
