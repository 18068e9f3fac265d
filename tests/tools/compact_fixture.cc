// compact_fixture DIR: creates the store the end-to-end tests of `recstore compact` work on,
// with 64 KiB segments so that a few thousand records span several of them:
//   ticks  fixed-size Tick records (key, value), 6000 of them: record i has value i and key
//          i % 10, except every 1000th record (i = 0, 1000, ..., 5000), whose key 1000 + i
//          no other record has. 2560 records fill a segment: seqs 0-2559 and 2560-5119 are
//          in full segments, 5120-5999 in the active one.
//   log    an empty byte log for `recstore append` to fill.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "recstore/recstore.h"

namespace {

struct Tick {
  uint64_t key;
  uint64_t value;
};
RECSTORE_RECORD(Tick, key, value);

absl::Status Make(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(
                                   dir, {.create_if_missing = true, .segment_size = 64 << 10}));
  ASSIGN_OR_RETURN(auto ticks, store->OpenLog<Tick>("ticks"));
  std::vector<Tick> batch;
  for (uint64_t i = 0; i < 6000; ++i) {
    batch.push_back({.key = i % 1000 == 0 ? 1000 + i : i % 10, .value = i});
  }
  RETURN_IF_ERROR(ticks.AppendBatch(batch).status());
  RETURN_IF_ERROR(ticks.Sync().status());
  ASSIGN_OR_RETURN(auto log, store->OpenByteLog("log"));
  return log.Sync().status();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: compact_fixture DIR\n");
    return 2;
  }
  const absl::Status s = Make(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "compact_fixture: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
