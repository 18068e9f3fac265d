// checkpoint_fixture DIR: creates the store the end-to-end tests of `recstore checkpoint` work
// on, with the store clock set to 2026-11-24T00:00:00Z plus 1.5 s per save:
//   model  three versions: seq 0 "first version" (00:00:00.0), seq 1 "second version"
//          (00:00:01.5), seq 2 "third-version-payload-0123456789abcdef" (00:00:03.0)
//   empty  a checkpoint set with no version
#include <cstdint>
#include <cstdio>

#include "recstore/recstore.h"
#include "tests/testing/open_store.h"
#include "tests/testing/fault_env.h"

namespace {

class FixedClock : public recstore::testing::FaultEnv {
 public:
  int64_t NowUnixNanos() override { return now; }
  int64_t now = 0;
};

absl::Status Make(const std::string& dir) {
  FixedClock clock;
  ASSIGN_OR_RETURN(auto store,
                   recstore::testing::OpenStore(&clock, dir, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto model, store->OpenCheckpoints("model"));
  int64_t t = int64_t{1795478400} * 1'000'000'000;  // 2026-11-24T00:00:00Z
  for (const char* v :
       {"first version", "second version", "third-version-payload-0123456789abcdef"}) {
    clock.now = t;
    RETURN_IF_ERROR(model.Save(std::string_view(v)).status());
    t += 1'500'000'000;
  }
  return store->OpenCheckpoints("empty").status();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: checkpoint_fixture DIR\n");
    return 2;
  }
  const absl::Status s = Make(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "checkpoint_fixture: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
