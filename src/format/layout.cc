#include "src/format/layout.h"

#include "absl/strings/str_format.h"

namespace recstore::format {

std::string SegmentFileName(uint64_t first_seq) { return absl::StrFormat("%020u.seg", first_seq); }

bool ParseSegmentFileName(const std::string& name, uint64_t* first_seq) {
  if (name.size() != 24 || name.compare(20, 4, ".seg") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return false;  // overflow
    v = next;
  }
  *first_seq = v;
  return true;
}

}  // namespace recstore::format
