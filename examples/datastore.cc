// A typed local datastore: sensor readings as fixed-size records, read back zero-copy by
// sequence number and by scan; a reopen finds exactly what was synced.
// Usage: datastore [DIR] (default: a fresh directory under /tmp).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "recstore/recstore.h"

namespace example {

struct Reading {
  int64_t ts_ns;  // when it was taken, Unix nanoseconds
  uint32_t sensor;
  float celsius;
};
RECSTORE_RECORD(Reading, ts_ns, sensor, celsius);

absl::Status Run(const std::string& dir) {
  {
    ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
    ASSIGN_OR_RETURN(auto readings, store->OpenLog<Reading>("readings"));
    for (uint32_t i = 0; i < 100'000; ++i) {
      Reading r{.ts_ns = 1'700'000'000'000'000'000 + i * 1'000'000'000LL,
                .sensor = i % 16,
                .celsius = 20.0f + static_cast<float>(i % 10)};
      RETURN_IF_ERROR(readings.Append(r).status());
    }
    RETURN_IF_ERROR(readings.Sync().status());  // all 100,000 are durable
  }
  // Reopen (as after a restart) and read: by sequence number, and a scan that checks it
  // read everything (ForEach returns DataLoss if a record is damaged).
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.read_only = true}));
  ASSIGN_OR_RETURN(auto readings, store->OpenLog<Reading>("readings"));
  ASSIGN_OR_RETURN(const Reading* r, readings.Get(4242));
  double sum[16] = {};
  uint64_t count[16] = {};
  RETURN_IF_ERROR(readings.ForEach([&](uint64_t, const Reading& x) {
    sum[x.sensor] += x.celsius;
    ++count[x.sensor];
  }));
  std::printf("%llu readings; #4242: sensor %u, %.1f C; sensor 3 mean %.2f C\n",
              static_cast<unsigned long long>(readings.end()), r->sensor, r->celsius,
              sum[3] / static_cast<double>(count[3]));
  if (readings.end() != 100'000 || r->sensor != 4242 % 16) {
    return absl::InternalError("the reopened log is not what was synced");
  }
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    char pattern[] = "/tmp/datastore.XXXXXX";
    dir = (tmp != nullptr ? std::string(tmp) : std::string(mkdtemp(pattern))) + "/store";
  }
  if (absl::Status s = example::Run(dir); !s.ok()) {
    std::fprintf(stderr, "datastore: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
