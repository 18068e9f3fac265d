// User code in the README's style, compiled by user_code_test.sh with -Wall -Wextra -Werror
// and no warning suppressed: designated initializers that leave option fields at their
// defaults must not warn, and a RECSTORE_RECORD listing every field in any order compiles.
#include <chrono>
#include <cstdint>

#include "recstore/recstore.h"

namespace user {

struct Reading {
  uint64_t ts_ns;
  uint8_t sensor;
  char unit[3];
  uint32_t flags;
  double value;
};
RECSTORE_RECORD(Reading, value, ts_ns, sensor, unit, flags);  // any order

enum class Level : uint8_t { kInfo, kError };
struct Event {
  int64_t ts;
  Level level;
  bool deleted;
};
RECSTORE_RECORD(Event, ts, level, deleted);

absl::Status Use() {
  ASSIGN_OR_RETURN(auto store, recstore::Store::Open("data", {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto store2, recstore::Store::Open("data2", {.segment_size = 1 << 20}));
  ASSIGN_OR_RETURN(auto readings, store->OpenLog<Reading>("readings"));
  RETURN_IF_ERROR(readings.SetRetention({.max_records = 1000}));
  RETURN_IF_ERROR(readings.SetRetention({.max_age = std::chrono::hours(1), .time_field = "ts_ns"}));
  RETURN_IF_ERROR(readings.Compact({.key = {.field = "sensor"}}).status());
  ASSIGN_OR_RETURN(auto events, store->OpenLog<Event>("events"));
  RETURN_IF_ERROR(events.Compact({.key = {.field = "ts"}, .tombstone_field = "deleted"}).status());
  RETURN_IF_ERROR(events.Compact({.tombstone_grace_records = 5}).status());
  auto follow = events.Follow(0, {.on_gap = recstore::FollowOptions::OnGap::kSkip});
  auto follow2 = events.Follow(0, {.wait = {.until = recstore::WaitOptions::Until::kDurable}});
  ASSIGN_OR_RETURN(auto checkpoints, store->OpenCheckpoints("state", {.keep = 3}));
  ASSIGN_OR_RETURN(auto v,
                   recstore::MappedVector<Reading>::Open("v.rsv", {.create_if_missing = true}));
  ASSIGN_OR_RETURN(auto scratch, recstore::MappedVector<Reading>::Scratch({.reserve = 10}));
  ASSIGN_OR_RETURN(auto s, recstore::MappedStruct<Event>::Open("e.rss", {.shared = true}));
  uint64_t n = 0;
  RETURN_IF_ERROR(readings.ForEach([&](uint64_t, const Reading& r) { n += r.sensor; }));
  return readings.Scan().ForEach([&](uint64_t seq, const Reading&) -> absl::Status {
    return seq < n ? absl::OkStatus() : absl::OutOfRangeError("done");
  });
}

}  // namespace user

int main() { return user::Use().ok() ? 0 : 1; }
