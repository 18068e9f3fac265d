// seed_corpus OUT_DIR [TARGET...]: writes each fuzz target's seed corpus, made by the engine,
// into OUT_DIR/TARGET/ (one file per seed). Used by run_fuzzers.sh.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/fuzz/seeds.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: seed_corpus OUT_DIR [TARGET...]\n");
    return 2;
  }
  const std::string out = argv[1];
  std::vector<std::string> targets(argv + 2, argv + argc);
  if (targets.empty()) targets = recstore::fuzz::TargetNames();
  for (const std::string& t : targets) {
    const std::string scratch = recstore::fuzz::ScratchDir() + "/seeds-" + t;
    std::filesystem::create_directories(scratch);
    std::vector<std::string> seeds = recstore::fuzz::SeedsFor(t, scratch);
    if (seeds.empty()) {
      std::fprintf(stderr, "seed_corpus: no seeds for target '%s'\n", t.c_str());
      return 1;
    }
    const std::string dir = out + "/" + t;
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream f(absl::StrFormat("%s/seed-%03d", dir, i), std::ios::binary);
      f.write(seeds[i].data(), static_cast<std::streamsize>(seeds[i].size()));
    }
    std::printf("seed_corpus: %s: %zu seeds in %s\n", t.c_str(), seeds.size(), dir.c_str());
  }
  return 0;
}
