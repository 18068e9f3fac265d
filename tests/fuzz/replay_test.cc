// Replays one fuzz target's seed corpus (made by the engine at test time) and its edge and
// regression inputs through the target's LLVMFuzzerTestOneInput, in the normal build, so that
// every CI run catches a regression without clang or libFuzzer. Run as `TEST TARGET_NAME`.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/fuzz/seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace recstore::fuzz {
namespace {

std::string* target = nullptr;

void RunAll(const std::vector<std::string>& inputs) {
  for (const std::string& s : inputs) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

TEST(ReplayTest, SeedCorpusMadeByTheEngine) {
  ASSERT_NE(target, nullptr);
  const std::string scratch = ScratchDir() + "/seeds";
  std::filesystem::create_directories(scratch);
  const std::vector<std::string> seeds = SeedsFor(*target, scratch);
  ASSERT_GE(seeds.size(), 5u) << *target;
  RunAll(seeds);
  std::printf("fuzz replay: %s: %zu seeds\n", target->c_str(), seeds.size());
}

TEST(ReplayTest, EdgeAndRegressionInputs) {
  ASSERT_NE(target, nullptr);
  const std::vector<std::string> inputs = EdgeInputs(*target);
  RunAll(inputs);
  std::printf("fuzz replay: %s: %zu edge inputs\n", target->c_str(), inputs.size());
}

}  // namespace
}  // namespace recstore::fuzz

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) recstore::fuzz::target = new std::string(argv[1]);
  return RUN_ALL_TESTS();
}
