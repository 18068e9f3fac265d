// Descriptors: a collection of any number of segments needs a handful of descriptors, not one
// per segment (a segment is its mapping; a mapping outlives its descriptor). Before, every
// mapped segment kept its descriptor open, so with the usual limit of 1,024 a read-only open of
// a collection of more than about 1,000 segments failed with EMFILE, and a writer's scan
// stopped partway. Here a store of Segments() segments is written, reopened, scanned and
// verified by a writer and by a reader, all in a child process whose limit is 256 descriptors.
// RECSTORE_DESCRIPTOR_SEGMENTS sets the count (the long run: 10000).
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/child.h"
#include "tests/testing/temp_dir.h"

namespace recstore::faults {
namespace {

using ::recstore::testing::RunInChild;
using ::recstore::testing::TestDir;

constexpr uint64_t kSegment = 64 << 10;
// One record of 40,000 bytes per 64 KiB segment.
uint64_t Segments() {
  const char* v = std::getenv("RECSTORE_DESCRIPTOR_SEGMENTS");
  return v != nullptr ? std::strtoull(v, nullptr, 10) : 1200;
}
const uint64_t kSegments = Segments();
constexpr uint64_t kRecordSize = 40000;

std::string Record(uint64_t i) { return std::string(kRecordSize, static_cast<char>('a' + i % 26)); }

// Every record, read back and compared; 0 when all are there.
int CheckAll(const ByteLog& log) {
  if (log.size() != kSegments) return 20;
  uint64_t n = 0;
  auto scan = log.Scan();
  for (const auto& [seq, e] : scan) {
    if (seq != n || AsString(e) != Record(seq)) return 21;
    ++n;
  }
  if (!scan.status().ok()) {
    std::fprintf(stderr, "scan: %s\n", scan.status().ToString().c_str());
    return 22;
  }
  if (n != kSegments) return 23;
  absl::StatusOr<VerifyReport> v = log.Verify();
  if (!v.ok() || !v->ok || v->records_checked != kSegments || v->segments_checked != kSegments) {
    return 24;
  }
  return 0;
}

TEST(DescriptorLimitTest, ThousandsOfSegmentsUnderALimitOf256) {
  const std::string dir = TestDir();
  const int rc = RunInChild([&](auto) {
    const rlimit limit{256, 256};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 1;
    {
      auto store = Store::Open(dir, {.create_if_missing = true, .segment_size = kSegment});
      if (!store.ok()) return 2;
      auto log = (*store)->OpenByteLog("events");
      if (!log.ok()) return 3;
      // No sync until the end: full segments waiting for their flush hold no descriptor.
      for (uint64_t i = 0; i < kSegments; ++i) {
        absl::StatusOr<uint64_t> seq = log->Append(Record(i));
        if (!seq.ok()) {
          std::fprintf(stderr, "append %llu: %s\n", static_cast<unsigned long long>(i),
                       seq.status().ToString().c_str());
          return 4;
        }
      }
      if (!log->Sync().ok()) return 5;
      if (int c = CheckAll(*log); c != 0) return c;
    }
    {
      auto store = Store::Open(dir, {.recovery_mode = RecoveryMode::kAbsoluteConsistency});
      if (!store.ok()) return 6;
      auto log = (*store)->OpenByteLog("events");
      if (!log.ok()) {
        std::fprintf(stderr, "writer open: %s\n", log.status().ToString().c_str());
        return 7;
      }
      if (int c = CheckAll(*log); c != 0) return 30 + c;
    }
    auto store = Store::Open(dir, {.read_only = true});
    if (!store.ok()) return 8;
    auto log = (*store)->OpenByteLog("events");
    if (!log.ok()) {
      std::fprintf(stderr, "reader open: %s\n", log.status().ToString().c_str());
      return 9;
    }
    if (int c = CheckAll(*log); c != 0) return 60 + c;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace recstore::faults
