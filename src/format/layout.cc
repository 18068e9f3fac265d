#include "src/format/layout.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recstore::format {
namespace {

// Parses exactly 20 decimal digits at `p`.
bool ParseDigits20(const char* p, uint64_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    char c = p[i];
    if (c < '0' || c > '9') return false;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return false;  // overflow
    v = next;
  }
  *out = v;
  return true;
}

}  // namespace

absl::Status CheckFormatVersion(uint32_t version, const std::string& path, std::string_view what,
                                uint32_t newest) {
  if (version > newest) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", std::string(what),
                                                      " format version ", version,
                                                      ", this build reads up to ", newest));
  }
  if (version == 0) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset 8: ", std::string(what), " format version 0"));
  }
  return absl::OkStatus();
}

std::string SegmentFileName(uint64_t first_seq) { return absl::StrFormat("%020u.seg", first_seq); }

bool ParseSegmentFileName(const std::string& name, uint64_t* first_seq) {
  if (name.size() != 24 || name.compare(20, 4, ".seg") != 0) return false;
  return ParseDigits20(name.data(), first_seq);
}

std::string CompactedFileName(uint64_t generation, uint64_t first_seq) {
  return absl::StrFormat("c%020u-%020u.seg", generation, first_seq);
}

bool ParseCompactedFileName(const std::string& name, uint64_t* generation, uint64_t* first_seq) {
  if (name.size() != 46 || name[0] != 'c' || name[21] != '-' || name.compare(42, 4, ".seg") != 0) {
    return false;
  }
  return ParseDigits20(name.data() + 1, generation) && ParseDigits20(name.data() + 22, first_seq);
}

}  // namespace recstore::format
