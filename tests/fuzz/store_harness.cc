// The manifest fuzz target's store stage (see store_harness.h).
#include "tests/fuzz/store_harness.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "src/format/manifest.h"
#include "src/format/segment_header.h"
#include "tests/corruption/heap_map_env.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/reader_harness.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/testing/checksum_fixup.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/open_store.h"

namespace recstore::fuzz {
namespace {

using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::WriteFileBytes;

// Rewrites the segment headers of every fixed collection of `m` found in `dir`.
void FollowSchemas(const std::string& dir, const format::Manifest& m) {
  for (const CollectionInfo& c : m.collections) {
    if (c.kind != CollectionKind::kFixed) continue;
    const std::string folder = absl::StrFormat("%s/%06u-%s", dir, c.id, c.name);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
      std::string bytes = ReadFileBytes(e.path().string());
      if (bytes.size() < format::kEncodedSegmentHeaderSize) continue;
      std::byte* p = reinterpret_cast<std::byte*>(bytes.data());
      base::EncodeFixed32(p + 20, c.record_size);
      base::EncodeFixed32(
          p + 24, static_cast<uint32_t>(format::FixedStride(c.record_size, c.record_align)));
      base::EncodeFixed64(p + 32, format::SchemaHash(c.schema));
      testing::FixSegmentHeaderChecksum(p);
      WriteFileBytes(e.path().string(), bytes);
    }
  }
}

void CheckError(const absl::Status& s, const std::string& dir) {
  FUZZ_CHECK(!s.ok());
  if (s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kOutOfRange) return;
  FUZZ_CHECK(absl::StrContains(s.message(), dir)) << "error names no file of the store: " << s;
}

// The record written under `seq` to a template collection, if there is one.
bool Expected(const std::string& name, uint64_t seq, std::string* out) {
  if (name == "f") {
    const FuzzRecord r = FixedRecord(seq);
    out->assign(reinterpret_cast<const char*>(&r), sizeof(r));
    return true;
  }
  if (name == "v") {
    *out = BytesRecord(seq);
    return true;
  }
  return false;
}

void CheckRecord(const std::string& name, uint64_t seq, std::span<const std::byte> got) {
  std::string want;
  FUZZ_CHECK(Expected(name, seq, &want))
      << "a record " << seq << " of collection '" << name << "', which the template does not have";
  FUZZ_CHECK(AsString(got) == want)
      << "record " << seq << " of '" << name << "' is not the one written";
}

void ReadAll(Store& store, const std::string& dir) {
  for (const CollectionInfo& info : store.ListCollections()) {
    absl::StatusOr<UntypedLog> log = store.OpenUntyped(info.name);
    if (!log.ok()) {
      CheckError(log.status(), dir);
      continue;
    }
    const uint64_t begin = log->begin(), end = log->end();
    for (uint64_t seq : {begin, begin + (end - begin) / 2, end - 1}) {
      if (seq < begin || seq >= end) continue;
      absl::StatusOr<std::span<const std::byte>> r = log->Get(seq);
      if (r.ok()) {
        CheckRecord(info.name, seq, *r);
      } else {
        CheckError(r.status(), dir);
      }
    }
    auto scan = log->Scan(begin);
    uint64_t n = 0;
    for (const auto& [seq, bytes] : scan) {
      CheckRecord(info.name, seq, bytes);
      if (++n > 2000) break;  // the template holds fewer
    }
    if (!scan.status().ok()) CheckError(scan.status(), dir);
    absl::StatusOr<VerifyReport> v = log->Verify();
    if (!v.ok()) CheckError(v.status(), dir);
  }
}

}  // namespace

void RunStoreWithManifest(const std::string& manifest, bool follow_schema) {
  static testing::HeapMapEnv* env = new testing::HeapMapEnv;
  const std::string dir = ScratchDir() + "/store-input";
  std::error_code ec;
  // libFuzzer's timeout timer (SIGALRM, without SA_RESTART) can interrupt the copy's system
  // calls, which std::filesystem does not retry: copy again.
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::filesystem::remove_all(dir, ec);
    ec.clear();
    std::filesystem::copy(TemplateStoreDir(), dir, std::filesystem::copy_options::recursive, ec);
    if (ec != std::errc::interrupted) break;
  }
  FUZZ_CHECK(!ec) << "copying the template store: " << ec.message();
  WriteFileBytes(dir + "/MANIFEST", manifest);
  if (follow_schema) {
    absl::StatusOr<format::Manifest> m = format::DecodeManifest(manifest, dir + "/MANIFEST");
    if (m.ok()) FollowSchemas(dir, *m);
  }
  for (bool read_only : {true, false}) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        testing::OpenStore(env, dir, {.read_only = read_only});
    if (!store.ok()) {
      CheckError(store.status(), dir);
      continue;
    }
    ReadAll(**store, dir);
  }
}

std::string TemplateManifest() { return ReadFileBytes(TemplateStoreDir() + "/MANIFEST"); }

}  // namespace recstore::fuzz
