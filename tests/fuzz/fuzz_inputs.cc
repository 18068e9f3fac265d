// Checksum fix-ups and manifest reading for the fuzz targets (see fuzz_inputs.h).
#include "tests/fuzz/fuzz_inputs.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "src/base/checksum.h"
#include "src/base/endian.h"
#include "recstore/env.h"
#include "src/store/manifest_file.h"
#include "tests/fuzz/scratch_dir.h"

namespace recstore::fuzz {

void FixManifestChecksums(std::string* m) {
  if (m->size() < format::kManifestHeaderSize) return;
  char* h = m->data();
  const std::string_view body(m->data() + format::kManifestHeaderSize,
                              m->size() - format::kManifestHeaderSize);
  base::EncodeFixed64(h + 16, body.size());
  base::EncodeFixed64(h + 24, base::StringChecksum64(body));
  base::EncodeFixed64(h + 32, base::Checksum64(h, 32));
}

void FixSegmentHeaderChecksum(std::byte* header) {
  base::EncodeFixed64(header + 64, base::Checksum64(header, 64));
}

void FixCommitChecksum(std::byte* block, uint64_t first_seq) {
  base::EncodeFixed64(block + 24, base::Checksum64(block, 24, first_seq));
}

absl::StatusOr<format::Manifest> ReadManifestBytes(const std::string& bytes) {
  static const std::string* dir = [] {
    auto* d = new std::string(ScratchDir() + "/manifest");
    std::error_code ec;
    std::filesystem::create_directories(*d, ec);
    return d;
  }();
  {
    std::ofstream out(*dir + "/" + store::kManifestName, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  return store::ReadManifest(Env::Default(), *dir);
}

}  // namespace recstore::fuzz
