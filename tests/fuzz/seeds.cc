// Seed corpora and edge inputs for the fuzz targets (see seeds.h).
#include "tests/fuzz/seeds.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "recstore/recstore.h"
#include "src/base/endian.h"
#include "src/format/layout.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/mapped_seeds.h"
#include "tests/fuzz/reader_harness.h"
#include "tests/fuzz/store_harness.h"
#include "tests/testing/file_bytes.h"
#include "tests/testing/records.h"

namespace recstore::fuzz {
namespace {

using ::recstore::testing::Aligned;
using ::recstore::testing::MakeTrade;
using ::recstore::testing::ReadFileBytes;
using ::recstore::testing::Trade;
using ::recstore::testing::Wide;

// Stores of a few shapes; `visit` sees each store's directory once it is closed.
template <typename Visit>
void BuildShapes(const std::string& scratch, Visit visit) {
  const StoreOptions create{.create_if_missing = true, .segment_size = 64 << 10};
  {  // empty
    const std::string dir = scratch + "/empty";
    FUZZ_CHECK(Store::Open(dir, create).ok());
    visit(dir);
  }
  {  // a fixed and a byte collection over two segments each, one dropped collection
    const std::string dir = scratch + "/mixed";
    {
      auto store = Store::Open(dir, create);
      FUZZ_CHECK(store.ok());
      auto trades = (*store)->OpenLog<Trade>("trades");
      auto events = (*store)->OpenByteLog("events");
      FUZZ_CHECK(trades.ok() && events.ok());
      for (uint64_t i = 0; i < 2000; ++i) FUZZ_CHECK(trades->Append(MakeTrade(i)).ok());
      for (uint64_t i = 0; i < 700; ++i) {
        FUZZ_CHECK(events->Append(std::string(i % 151, static_cast<char>(i))).ok());
      }
      FUZZ_CHECK(trades->Sync().ok() && events->Sync().ok());
      {
        auto gone = (*store)->OpenLog<Aligned>("gone");
        FUZZ_CHECK(gone.ok());
      }
      FUZZ_CHECK((*store)->DropCollection("gone").ok());
    }
    visit(dir);
  }
  {  // every field kind, an over-aligned type, a larger segment size
    const std::string dir = scratch + "/wide";
    {
      auto store = Store::Open(dir, create);
      FUZZ_CHECK(store.ok());
      auto wide = (*store)->OpenLog<Wide>("wide", {.segment_size = 1 << 20});
      auto aligned = (*store)->OpenLog<Aligned>("aligned");
      FUZZ_CHECK(wide.ok() && aligned.ok());
      FUZZ_CHECK(wide->Append(Wide{}).ok() && aligned->Append(Aligned{1, 2}).ok());
    }
    visit(dir);
  }
}

std::vector<std::string> ManifestSeeds(const std::string& scratch) {
  std::vector<std::string> seeds;
  // The store stage (control bits 1 and 2) on the record reader's template store.
  const std::string m = TemplateManifest();
  seeds.push_back(std::string(1, '\3') + m);
  seeds.push_back(std::string(1, '\7') + m);
  BuildShapes(scratch, [&](const std::string& dir) {
    const std::string m = ReadFileBytes(dir + "/MANIFEST");
    seeds.push_back(std::string(1, '\0') + m);
    seeds.push_back(std::string(1, '\1') + m);
  });
  return seeds;
}

std::vector<std::string> SegmentHeaderSeeds(const std::string& scratch) {
  std::vector<std::string> seeds;
  BuildShapes(scratch, [&](const std::string& dir) {
    for (const auto& folder : std::filesystem::directory_iterator(dir)) {
      if (!folder.is_directory()) continue;
      for (const auto& f : std::filesystem::directory_iterator(folder.path())) {
        uint64_t first;
        if (!format::ParseSegmentFileName(f.path().filename().string(), &first)) continue;
        const std::string seg = ReadFileBytes(f.path().string());
        std::string tail = seg.substr(0, 72) + seg.substr(format::kCommitBlockOffset, 32);
        tail.resize(tail.size() + 8);
        base::EncodeFixed64(tail.data() + 104, first);
        seeds.push_back(std::string(1, '\0') + tail);
        seeds.push_back(std::string(1, '\3') + tail);
      }
    }
  });
  return seeds;
}

// A record reader input: control bytes, commit block, tail length, head and tail.
std::string ReaderInput(uint8_t f0, uint8_t f1, const std::string& head, const std::string& tail,
                        const std::string& commit = std::string(32, '\0')) {
  std::string s;
  s.push_back(static_cast<char>(f0));
  s.push_back(static_cast<char>(f1));
  s += commit;
  s.push_back(static_cast<char>(tail.size() & 0xff));
  s.push_back(static_cast<char>(tail.size() >> 8));
  return s + head + tail;
}

std::string Le32(uint32_t v) {
  std::string s(4, '\0');
  base::EncodeFixed32(s.data(), v);
  return s;
}

// Inputs that once broke a target, each with what it showed.
// record_reader: a commit block (5 records) over frames the fuzzer had damaged; recovery
// trusted them, then rewrote the block with a data end derived from the last one's corrupt
// length, and the next open ignored the block and cut all five records.
constexpr char kCommitRewrittenFromCorruptRecord[] =
    "\x81\x00\x43\x4d\x49\x54\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\xa0\x10\x00\x00"
    "\x00\x00\x00\x00\xbe\xcd\xfb\x23\x78\xff\x32\xcc\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\xd9\xac\x87\x6f\xbb\x3a\x7b\x1f\xc7\x07\x00\x00\x00\x00\x00\x00\x00\xf7\xca\x23\x94\x79"
    "\x3a\x53\x89\x62\x62\x62\x62\x62\x62\x62\x00\x0e\x00\x00\x00\x00\x00\x00\x00\xfc\xe6\x0a"
    "\x97\x5d\xce\x40\xcd\x63\x63\x63\x63\x63\x63\x63\x63\x63\x63\x63\x63\x63\x63\x00\x00\x15"
    "\x00\x00\x00\x00\xfe\xff\xff\xff\x00\x00\x00\x8d\xc4\x51\x32\x22\xcd\xe1\xba\x64\x64\x64"
    "\x64\x64\x64\x64\x64\x64\x64\x64\x64\x41\x64\x64\x64\x64\x64\x64\x64\x64\x64\x00\x00\x00"
    "\x1c\x00\x00\x00\x00\x00\x00\x00\x8f\x0f\x4f\xb9\xe7\x54\xbc\x26\x65\x65\x65\x65\x65\x65"
    "\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65\x65"
    "\x00\x00\x00\x00\x70\x10\x00\x00\x48\x10\x00\x00\x28\x10\x00\x00\x10\x10\x00\x00\x00\x10"
    "\x00\x00";
// manifest: a collection named "ej\0\0\0\0" (the store would make the folder "000002-ej");
// names such as "../x" would reach outside the store. ReadManifest now refuses them.
constexpr char kManifestBadName[] =
    "\x01\x52\x53\x4d\x41\x4e\x49\x46\x53\x01\x00\x00\x00\x04\x03\x02\x01\xe6\x00\x00\x00\x00"
    "\x00\x00\x00\x6f\xa0\x0d\xf5\x5a\xef\x47\x56\xeb\x57\xff\xe7\xa1\xcd\xfc\x4e\x04\x00\x00"
    "\x00\x00\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00"
    "\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x74\x72\x61\x64\x65"
    "\x73\x05\x00\x54\x72\x61\x64\x65\x20\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x05\x00"
    "\x74\x73\x5f\x6e\x73\x08\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x09"
    "\x00\x73\x79\x6d\x62\x6f\x6c\x5f\x69\x64\x07\x00\x00\x00\x08\x00\x00\x00\x04\x00\x00\x00"
    "\x01\x00\x00\x00\x05\x00\x66\x6c\x61\x67\x73\x07\x00\x00\x00\x0c\x00\x00\x00\x04\x00\x00"
    "\x00\x01\x00\x00\x00\x05\x00\x70\x72\x69\x63\x65\x0a\x00\x00\x00\x10\x00\x00\x00\x08\x00"
    "\x00\x00\x01\x00\x00\x00\x03\x00\x71\x74\x79\x04\x00\x00\x00\x18\x00\x00\x00\x08\x00\x00"
    "\x00\x01\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x06\x00\x65\x6a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x45\x00\x00\x00\x00\x00";
// record_reader (a harness bug, kept as a regression): recovery zeroed the slot area with
// ZeroRange and an append then restored a page to its mapped bytes; the heap mapping's write-back
// took the page for unchanged and the appended record's slot never reached the file.
constexpr char kZeroedThenRewrittenPage[] =
    "\xc5\x00\x43\x4d\x49\x54\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff"
    "\xff\x17\x00\x00\x53\xa1\x50\xdf\xda\x7a\xb7\x40\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\xd9\xac\x87\x6f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xf7\xff\xff\xff\xff\xff\xff\xff\xff\x41\xff\xff\xff\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x10\x00\x00\x00\x00\x00\x00\x00\xff"
    "\xbb\x3a\x7b\xc7\x00\x10\x00\x00";
// record_reader: a commit block with a valid checksum and a data end not a multiple of 8 was
// taken as plausible; the next append wrote its frame there, misaligned (UBSan: misaligned
// atomic store), where no later read accepts a frame. Plausibility now requires alignment.
constexpr char kMisalignedDataEnd[] =
    "\xc5\x00\x43\x4d\x49\x54\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xe7\x10\x00\x00"
    "\x00\x00\x00\x00\x53\x27\x50\xdf\xda\x7a\xb7\x40\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\xd9\xac\x87\x6f\xbb\x3a\x7b\xc7\x00\x10\x00\x00";

}  // namespace

const std::vector<std::string>& TargetNames() {
  static const auto* names =
      new std::vector<std::string>{"manifest", "segment_header", "record_reader", "mapped_file"};
  return *names;
}

std::vector<std::string> SeedsFor(const std::string& target, const std::string& scratch) {
  if (target == "manifest") return ManifestSeeds(scratch);
  if (target == "segment_header") return SegmentHeaderSeeds(scratch);
  if (target == "record_reader") return ReaderSeeds(scratch);
  if (target == "mapped_file") return MappedSeeds(scratch + "/mapped");
  return {};
}

std::vector<std::string> EdgeInputs(const std::string& target) {
  std::vector<std::string> in = {"",
                                 std::string(1, '\0'),
                                 std::string(1, '\1'),
                                 std::string(1, '\xff'),
                                 std::string(200, '\xff'),
                                 std::string(200, '\0')};
  if (target == "manifest") {
    // A valid header claiming a body it does not have; a body of one huge string.
    std::string m = "RSMANIFS" + Le32(1) + "\x04\x03\x02\x01" + std::string(24, '\0');
    in.push_back("\1" + m);
    in.push_back("\1" + m + std::string(16, '\0') + "\xff\xff\xff\xff");
    in.push_back("\1" + m + std::string(12, '\0') + Le32(0xffffffff));  // 2^32-1 collections
    in.emplace_back(kManifestBadName, sizeof(kManifestBadName) - 1);
    // Issue 12, bug 4: record size 0xFFFFFFF9 with valid checksums, and the segment headers
    // following it: the 32-bit stride wrapped to 8 and recovery read 4 GiB from a 64 KiB map.
    // The template manifest's first collection is the fixed "f": its record size follows the
    // entry's 24 fixed bytes, its name and its type name.
    std::string bug4 = TemplateManifest();
    const std::byte* b = reinterpret_cast<const std::byte*>(bug4.data());
    size_t record_size_at = 40 + 32 + 24;
    record_size_at += 2 + base::DecodeFixed16(b + record_size_at);  // name
    record_size_at += 2 + base::DecodeFixed16(b + record_size_at);  // type name
    FUZZ_CHECK(base::DecodeFixed32(bug4.data() + record_size_at) == sizeof(FuzzRecord));
    base::EncodeFixed32(bug4.data() + record_size_at, 0xFFFFFFF9);
    in.push_back("\7" + bug4);
    in.push_back("\3" + bug4);
  }
  if (target == "segment_header") {
    in.push_back("\3" + std::string(112, '\0'));
    in.push_back("\3" + std::string("RSSEGMNT") + std::string(104, '\xff'));
  }
  if (target == "record_reader") {
    for (uint8_t kind = 0; kind < 2; ++kind) {
      // A frame claiming 4 GiB; a slot pointing past the end; zero-length frames; a commit
      // block claiming every slot; resealed garbage; a file cut inside its header page.
      in.push_back(ReaderInput(kind | 8, 0x10, Le32(0xffffffff) + std::string(12, '\0'), ""));
      in.push_back(ReaderInput(kind, 0, std::string(64, '\x01'), Le32(0xfffffff8)));
      in.push_back(ReaderInput(kind | 8 | 0x40, 0x10, std::string(160, '\0'), ""));
      std::string commit(32, '\0');
      base::EncodeFixed32(commit.data(), 0x54494D43);
      base::EncodeFixed64(commit.data() + 8, 15000);
      base::EncodeFixed64(commit.data() + 16, 4096);
      in.push_back(ReaderInput(kind | 0x80 | 0x40, 0, "", "", commit));
      in.push_back(ReaderInput(kind | 8 | 4, 1, std::string(300, '\x07'), std::string(40, '\x10')));
      in.push_back(ReaderInput(kind | 0x10 | 0x20 | 8, 2, std::string(10, 'x'), ""));
      in.push_back(ReaderInput(kind | 0x10 | 2, 4, std::string(72, '\0'), ""));  // unwritten header
    }
    in.emplace_back(kCommitRewrittenFromCorruptRecord,
                    sizeof(kCommitRewrittenFromCorruptRecord) - 1);
    in.emplace_back(kZeroedThenRewrittenPage, sizeof(kZeroedThenRewrittenPage) - 1);
    in.emplace_back(kMisalignedDataEnd, sizeof(kMisalignedDataEnd) - 1);
  }
  if (target == "mapped_file") {
    for (std::string& e : MappedEdgeInputs()) in.push_back(std::move(e));
  }
  return in;
}

}  // namespace recstore::fuzz
