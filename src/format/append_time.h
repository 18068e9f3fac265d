// The append time a variable-size record's frame carries (docs/format.md 3.4): a signed
// 32-bit number of seconds after the collection's time base, stored as the frame's u32 flags
// word in two's complement. The clock's reading is stored as given, even when it is earlier
// than the time base or than the record before (a clock set back), saturating at the ends of
// the range (about 68 years either side of the time base).
#ifndef RECSTORE_SRC_FORMAT_APPEND_TIME_H_
#define RECSTORE_SRC_FORMAT_APPEND_TIME_H_

#include <algorithm>
#include <cstdint>

namespace recstore::format {

// The stamp of a record appended at `now_ns` (Unix nanoseconds) in a collection whose time
// base is `time_base` (Unix seconds).
inline uint32_t AppendStamp(int64_t time_base, int64_t now_ns) {
  // Floor division, so a time before the epoch rounds down like one after it.
  const int64_t seconds = now_ns / 1000000000 - (now_ns % 1000000000 < 0 ? 1 : 0);
  const __int128 delta = std::clamp<__int128>(static_cast<__int128>(seconds) - time_base,
                                              INT32_MIN, INT32_MAX);
  return static_cast<uint32_t>(static_cast<int32_t>(delta));
}

// The Unix seconds a stamp stands for (saturating, for a time base read from a hostile file).
inline int64_t AppendTimeSeconds(int64_t time_base, uint32_t stamp) {
  int64_t t;
  if (__builtin_add_overflow(time_base, int64_t{static_cast<int32_t>(stamp)}, &t)) {
    return time_base < 0 ? INT64_MIN : INT64_MAX;
  }
  return t;
}

}  // namespace recstore::format

#endif  // RECSTORE_SRC_FORMAT_APPEND_TIME_H_
