// The scripted workload the crash-point test crashes after every Env call: a store with 64 KiB
// segments, fixed and byte collections, single and batch appends, syncs, segment rotations,
// collection creation and drop, and a reopen of the store midway. As it runs it keeps an
// oracle: what each collection was promised (records appended, the largest durable end a
// returned Sync() reported, whether its creation or drop returned OK).
//
// The script is the same on every run, so the n-th Env call of one run is the n-th of the next.
// Errors do not stop it: after a simulated crash every call fails, and the rest of the script
// runs against those errors (exercising the engine's error paths), changing nothing on disk.
#ifndef RECSTORE_TESTS_CRASH_WORKLOAD_H_
#define RECSTORE_TESTS_CRASH_WORKLOAD_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "recstore/env.h"
#include "recstore/recstore.h"
#include "tests/crash/crash_records.h"

namespace recstore::crash {

struct CollectionSpec {
  const char* name;
  bool fixed;                // CrashRecord log, or byte log
  uint64_t oversized_every;  // byte logs: records 0, k, 2k... exceed a segment (0: none)
};

inline constexpr uint64_t kSegmentSize = 64 << 10;
inline constexpr size_t kNumCollections = 5;
inline constexpr std::array<CollectionSpec, kNumCollections> kCollections = {{
    {"ticks", true, 0},
    {"events", false, 0},
    {"audit", false, 0},  // dropped midway
    {"metrics", true, 0},
    {"blobs", false, 25},  // created after the drop; oversized records get segments of their own
}};

// The expected payload of record `seq` of collection `c` (either kind), from a per-thread
// cache: valid until the next call on the same thread that grows the cache.
const std::string& ExpectedPayload(size_t c, uint64_t seq);

struct CollectionOracle {
  bool create_started = false;
  bool create_ok = false;
  bool drop_started = false;
  bool drop_ok = false;
  uint64_t appended = 0;  // records whose append returned OK (sequence numbers [0, appended))
  uint64_t pending = 0;   // records of an append that has not returned
  uint64_t durable = 0;   // largest durable end promised (returned Sync, durable() after open)

  friend bool operator==(const CollectionOracle&, const CollectionOracle&) = default;
};

struct Oracle {
  bool store_ok = false;  // the store's creation returned OK
  std::array<CollectionOracle, kNumCollections> c;

  friend bool operator==(const Oracle&, const Oracle&) = default;
};

// A workload's Sync of collection `name` through `h`: a durable end below the one promised
// before or past the records appended is a violation; raises o->durable to it. Returns the
// Sync's error.
absl::Status SyncAndTrack(LogBase& h, const char* name, CollectionOracle* o,
                          std::vector<std::string>* violations);

class Workload {
 public:
  enum class OpKind { kOpenStore, kReopenStore, kOpen, kAppend, kBatch, kSync, kClose, kDrop };
  struct Op {
    OpKind kind;
    size_t c = 0;    // collection index
    uint32_t n = 0;  // records (kBatch)
  };

  // The script: the same every time.
  static const std::vector<Op>& Script();

  Workload(Env* env, std::string store_dir) : env_(env), dir_(std::move(store_dir)) {}
  ~Workload();

  // Runs the whole script, then closes everything.
  void Run();

  const Oracle& oracle() const { return oracle_; }
  // Promises the engine broke while the workload ran (a Sync whose durable end went down, a
  // reopen that lost durable records, a sequence number out of order).
  const std::vector<std::string>& violations() const { return violations_; }
  // Operations that returned an error, and the first error.
  uint64_t errors() const { return errors_; }
  const absl::Status& first_error() const { return first_error_; }

 private:
  void Do(const Op& op);
  void OpenStore();
  void OpenCollection(size_t c, bool create);
  void Append(size_t c, uint32_t n);
  void Sync(size_t c);
  LogBase* Handle(size_t c);
  void Violation(std::string what);
  void Error(const absl::Status& s);

  Env* const env_;
  const std::string dir_;
  std::unique_ptr<Store> store_;
  std::array<std::optional<Log<CrashRecord>>, kNumCollections> fixed_;
  std::array<std::optional<ByteLog>, kNumCollections> bytes_;
  Oracle oracle_;
  std::vector<std::string> violations_;
  uint64_t errors_ = 0;
  absl::Status first_error_;
};

}  // namespace recstore::crash

#endif  // RECSTORE_TESTS_CRASH_WORKLOAD_H_
