// A program of another workspace: a typed local datastore of sensor readings.
// Usage: app DIR   (appends readings, syncs, reads them back; exits 1 on any mismatch)
#include <cstdint>
#include <cstdio>
#include <string>

#include "recstore/recstore.h"

namespace app {

struct Reading {
  uint64_t ts_ns;
  uint32_t sensor;
  float celsius;
};
RECSTORE_RECORD(Reading, ts_ns, sensor, celsius);

absl::Status Run(const std::string& dir) {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open(dir, {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto readings, store->OpenLog<Reading>("readings"));
  const uint64_t first = readings.end();
  for (uint32_t i = 0; i < 1000; ++i) {
    RETURN_IF_ERROR(
        readings.Append({.ts_ns = 1000u * i, .sensor = i % 4, .celsius = 20.5f}).status());
  }
  RETURN_IF_ERROR(readings.Sync().status());  // durable from here on
  uint64_t count = 0;
  RETURN_IF_ERROR(readings.ForEach(
      [&](uint64_t seq, const Reading& r) -> absl::Status {
        if (r.ts_ns != 1000u * (seq - first)) return absl::DataLossError("unexpected reading");
        ++count;
        return absl::OkStatus();
      },
      first));
  std::printf("%llu readings written and read back from %s\n",
              static_cast<unsigned long long>(count), dir.c_str());
  if (count != 1000) return absl::InternalError("wrong count");
  return absl::OkStatus();
}

}  // namespace app

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app DIR\n");
    return 2;
  }
  absl::Status s = app::Run(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "app: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
