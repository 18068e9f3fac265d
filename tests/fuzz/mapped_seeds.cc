#include "tests/fuzz/mapped_seeds.h"

#include <filesystem>

#include "recstore/mapped_struct.h"
#include "recstore/mapped_vector.h"
#include "src/base/endian.h"
#include "src/format/mapped_file.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/testing/file_bytes.h"

namespace recstore::fuzz {
namespace {

std::string Seed(uint8_t control, const std::string& path) {
  MappedInput in;
  in.control = control;
  in.file = testing::ReadFileBytes(path);
  std::error_code ec;
  if (std::filesystem::exists(path + "-journal", ec)) {
    in.journal = testing::ReadFileBytes(path + "-journal");
  }
  return EncodeMappedInput(in);
}

}  // namespace

std::string EncodeMappedInput(const MappedInput& in) {
  std::string out(1, static_cast<char>(in.control));
  base::PutFixed<uint32_t>(&out, static_cast<uint32_t>(in.file.size()));
  out += in.file;
  out += in.journal;
  return out;
}

bool DecodeMappedInput(std::string_view bytes, MappedInput* in) {
  if (bytes.size() < 5) return false;
  in->control = static_cast<uint8_t>(bytes[0]);
  const uint64_t n = std::min<uint64_t>(base::DecodeFixed32(bytes.data() + 1), bytes.size() - 5);
  in->file = std::string(bytes.substr(5, n));
  in->journal = std::string(bytes.substr(5 + n));
  return true;
}

std::vector<std::string> MappedSeeds(const std::string& scratch) {
  std::vector<std::string> seeds;
  std::filesystem::create_directories(scratch);
  {  // an empty vector; one synced with a few pages; one with elements moved by an erase
    const std::string path = scratch + "/empty.rsv";
    FUZZ_CHECK(MappedVector<FuzzPoint>::Open(path, {.create_if_missing = true}).ok());
    seeds.push_back(Seed(0, path));
    seeds.push_back(Seed(8, path));
  }
  {
    const std::string path = scratch + "/points.rsv";
    auto v = MappedVector<FuzzPoint>::Open(path, {.create_if_missing = true});
    FUZZ_CHECK(v.ok()) << v.status();
    for (int i = 0; i < 600; ++i) FUZZ_CHECK(v->push_back({double(i), 0, 1}).ok());
    FUZZ_CHECK(v->Sync().ok());
    seeds.push_back(Seed(3, path));
    FUZZ_CHECK(v->erase(10).ok() && v->Set(500, {5, 5, 5}).ok() && v->Sync().ok());
    seeds.push_back(Seed(3, path));
    seeds.push_back(Seed(11, path));
  }
  {
    const std::string path = scratch + "/counters.rss";
    auto s = MappedStruct<FuzzPoint>::Open(path, {.create_if_missing = true});
    FUZZ_CHECK(s.ok()) << s.status();
    s->Set({1, 2, 3});
    FUZZ_CHECK(s->Sync().ok());
    seeds.push_back(Seed(4, path));
    seeds.push_back(Seed(12, path));
  }
  return seeds;
}

std::vector<std::string> MappedEdgeInputs() {
  std::vector<std::string> in;
  MappedInput m;
  for (uint8_t control : {0, 1, 3, 4, 8, 9, 11, 12, 13}) {
    m.control = control;
    m.file = std::string(4096, '\0');  // a zeroed header page (an unfinished creation)
    m.journal = "";
    in.push_back(EncodeMappedInput(m));
    m.file = "RSMAPPED" + std::string(4088, '\xff');
    m.journal = "RSJOURNL" + std::string(48, '\xff') + std::string(8192, '\x01');
    in.push_back(EncodeMappedInput(m));
    m.file.clear();
    in.push_back(EncodeMappedInput(m));
  }
  // Found by the fuzzer: a file 4096 + 8191 bytes long whose header counts 341 elements (8184
  // bytes). The writer mapped whole pages only (4096 bytes), so capacity was below the size and
  // the next push_back wrote past the mapping. The writer now extends such a file to a page.
  m.control = 8;
  m.file = format::EncodeMappedHeader(
               {format::MappedKind::kVector, 0x1234, 1, 341, SchemaOf<FuzzPoint>()}) +
           std::string(8191, '\x01');
  m.journal.clear();
  in.push_back(EncodeMappedInput(m));
  return in;
}

}  // namespace recstore::fuzz
