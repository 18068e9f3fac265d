// Checksum fix-ups and manifest reading for the fuzz targets (see fuzz_inputs.h).
#include "tests/fuzz/fuzz_inputs.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "recstore/env.h"
#include "src/store/manifest_file.h"
#include "tests/fuzz/scratch_dir.h"
#include "tests/testing/checksum_fixup.h"

namespace recstore::fuzz {

void FixManifestChecksums(std::string* m) { testing::FixManifestChecksums(m); }

void FixSegmentHeaderChecksum(std::byte* header) { testing::FixSegmentHeaderChecksum(header); }

void FixCommitChecksum(std::byte* block, uint64_t first_seq) {
  testing::FixCommitChecksum(block, first_seq);
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
