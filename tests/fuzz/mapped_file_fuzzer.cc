// Fuzz target: opening mapped container files (MappedVector and MappedStruct) whose header
// page, contents and journal are fuzz bytes: DecodeMappedHeader, the journal reader, redo,
// a reader's snapshot, the struct's slots.
//
// Input (mapped_seeds.h, EncodeMappedInput): a control byte, then the file (u32 length, bytes)
// and the journal (the rest). Control bit 0 fixes the header page's checksum, bit 1 the
// journal's, so mutations reach the field checks behind them; bit 2 opens the file as a
// struct instead of a vector; bit 3 also opens it as the writer (which redoes a journal and
// may initialize an unfinished creation) and appends and syncs through it.
//
// Invariants: nothing crashes or reads outside a mapping (ASan); errors are the documented
// codes and name the file; a vector that opens has its size within the file, every element
// readable, and a writer's push + Sync reopen (read-only) with exactly one more element.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "src/format/mapped_file.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/mapped_seeds.h"
#include "tests/fuzz/scratch_dir.h"

namespace recstore::fuzz {
namespace {

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The header page's checksum as DecodeMappedHeader computes it (docs/format.md 10.1).
void FixHeader(std::string* file) {
  if (file->size() < 4096) return;
  const uint32_t len = std::min<uint32_t>(base::DecodeFixed32(file->data() + 40), 4096 - 56);
  const uint64_t sum =
      base::ChecksumBuilder().Add(file->data(), 48).Add(file->data() + 56, len).Finish();
  base::EncodeFixed64(file->data() + 48, sum);
}

// The journal's checksum (docs/format.md 10.3), over the pages its header counts.
void FixJournal(std::string* j) {
  if (j->size() < 56) return;
  const uint64_t seq = base::DecodeFixed64(j->data() + 24);
  const uint64_t count = base::DecodeFixed64(j->data() + 32);
  if (count == 0 || count > j->size() / (4096 + 8)) return;
  // Half the inputs also mark it applied to its sync (docs/format.md 10.3).
  if (count % 2 == 0) {
    base::EncodeFixed64(j->data() + 48,
                        format::AppliedTag(base::DecodeFixed64(j->data() + 16), seq));
  }
  const uint64_t pages_at = (56 + 8 * count + 4095) / 4096 * 4096;
  if (pages_at + 4096 * count > j->size()) return;
  const uint64_t sum = base::ChecksumBuilder(seq)
                           .Add(j->data(), 40)
                           .Add(j->data() + 56, 8 * count)
                           .Add(j->data() + pages_at, 4096 * count)
                           .Finish();
  base::EncodeFixed64(j->data() + 40, sum);
}

// Flushes cost milliseconds and prove nothing here (no crash is simulated): skipped.
class NoSyncEnv : public EnvWrapper {
 public:
  NoSyncEnv() : EnvWrapper(Env::Default()) {}
  absl::Status SyncData(int, const std::string&) override { return absl::OkStatus(); }
  absl::Status SyncAll(int, const std::string&) override { return absl::OkStatus(); }
};

Env* FuzzEnv() {
  static NoSyncEnv* env = new NoSyncEnv;
  return env;
}

bool Documented(const absl::Status& s, const std::string& path) {
  switch (s.code()) {
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return absl::StrContains(s.message(), path);
    default:
      return false;
  }
}

void OpenVector(const std::string& path, bool writer) {
  auto r = MappedVector<FuzzPoint>::Open(
      path, {.read_only = true, .max_bytes = 1 << 26, .env = FuzzEnv()});
  if (r.ok()) {
    double sum = 0;
    for (const FuzzPoint& p : *r) sum += p.x;  // every element is readable
    (void)sum;
  } else {
    FUZZ_CHECK(Documented(r.status(), path)) << r.status();
  }
  if (!writer) return;
  auto w = MappedVector<FuzzPoint>::Open(path, {.max_bytes = 1 << 26, .env = FuzzEnv()});
  if (!w.ok()) {
    FUZZ_CHECK(Documented(w.status(), path)) << w.status();
    return;
  }
  const size_t size = w->size();
  FUZZ_CHECK(w->push_back({1, 2, 3}).ok());
  FUZZ_CHECK(w->Sync().ok());
  auto again = MappedVector<FuzzPoint>::Open(
      path, {.read_only = true, .max_bytes = 1 << 26, .env = FuzzEnv()});
  FUZZ_CHECK(again.ok()) << again.status();
  FUZZ_CHECK(again->size() == size + 1 && again->back().z == 3) << again->size() << " " << size;
}

void OpenStruct(const std::string& path, bool writer) {
  auto r = MappedStruct<FuzzPoint>::Open(path, {.read_only = true, .env = FuzzEnv()});
  if (!r.ok()) FUZZ_CHECK(Documented(r.status(), path)) << r.status();
  if (!writer) return;
  auto w = MappedStruct<FuzzPoint>::Open(path, {.env = FuzzEnv()});
  if (!w.ok()) {
    FUZZ_CHECK(Documented(w.status(), path)) << w.status();
    return;
  }
  w->Set({7, 8, 9});
  FUZZ_CHECK(w->Sync().ok());
  auto again = MappedStruct<FuzzPoint>::Open(path, {.read_only = true, .env = FuzzEnv()});
  FUZZ_CHECK(again.ok() && again->get().y == 8) << again.status();
}

void Run(const uint8_t* data, size_t size) {
  MappedInput in;
  if (!DecodeMappedInput(std::string_view(reinterpret_cast<const char*>(data), size), &in)) {
    return;
  }
  if (in.control & 1) FixHeader(&in.file);
  if (in.control & 2) FixJournal(&in.journal);
  const std::string dir = ScratchDir() + "/mapped";
  std::filesystem::create_directories(dir);
  EmptyDir(dir);
  const std::string path = dir + "/f";
  WriteFile(path, in.file);
  if (!in.journal.empty()) WriteFile(path + "-journal", in.journal);
  if (in.control & 4) {
    OpenStruct(path, (in.control & 8) != 0);
  } else {
    OpenVector(path, (in.control & 8) != 0);
  }
}

}  // namespace
}  // namespace recstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  recstore::fuzz::Run(data, size);
  return 0;
}
