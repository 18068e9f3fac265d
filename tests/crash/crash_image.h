// What a crash leaves of one file: its durable content, plus, for the bytes written since the
// last sync (those that differ between the current and the durable content, and any size
// change), whatever the crash mode lets through. Pure functions; CrashEnv applies them to every
// file of a crash image.
#ifndef RECSTORE_TESTS_CRASH_CRASH_IMAGE_H_
#define RECSTORE_TESTS_CRASH_CRASH_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace recstore::crash {

// What a crash does to the bytes written since a file's last sync. The unit of "keep or
// lose" is the 4 KiB page, the unit in which the page cache writes back.
enum class CrashMode {
  kDropUnsynced,      // nothing unsynced survives: durable content and durable size
  kKeepSomeUnsynced,  // each dirty page keeps its current or its durable bytes (coin flip)
  kTornWrite,         // dirty bytes up to a random cut (in byte order) kept, none after it
  kZeroUnsynced,      // each dirty page: current, durable, or its dirty bytes zeroed
  kGarbageUnsynced,   // each dirty page: current, durable, or its dirty bytes random
};

inline constexpr size_t kCrashPage = 4096;

const char* CrashModeName(CrashMode mode);

// The content a crash leaves of a file that holds `current` and whose last sync made
// `durable` durable. Every mode but kDropUnsynced keeps the current size; bytes past the
// durable size that are not kept read as zeros. Bytes equal in both are never changed.
// `seed` picks the random choices.
std::string SurvivingContent(std::string_view durable, std::string_view current, CrashMode mode,
                             uint64_t seed);

// A stable 64-bit hash (FNV-1a) for deriving per-file seeds.
uint64_t StableHash(std::string_view s, uint64_t seed);

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_CRASH_IMAGE_H_
