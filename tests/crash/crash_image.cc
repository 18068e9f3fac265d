// What a crash leaves of a file (SurvivingContent), and CrashEnv's writing of a crash image:
// the tree of durable names, each file as SurvivingContent makes it.
#include "tests/crash/crash_image.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "tests/crash/crash_env.h"

namespace recstore::crash {

const char* CrashModeName(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced:
      return "drop";
    case CrashMode::kKeepSomeUnsynced:
      return "keep-part";
    case CrashMode::kTornWrite:
      return "torn";
    case CrashMode::kZeroUnsynced:
      return "zero";
    case CrashMode::kGarbageUnsynced:
      return "garbage";
  }
  return "?";
}

uint64_t StableHash(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string SurvivingContent(std::string_view durable, std::string_view current, CrashMode mode,
                             uint64_t seed) {
  if (mode == CrashMode::kDropUnsynced) return std::string(durable);
  // The durable bytes at the current size: what is there unless a dirty byte gets through.
  std::string out(durable.substr(0, std::min(durable.size(), current.size())));
  out.resize(current.size(), '\0');
  const std::string base = out;
  std::mt19937_64 rng(seed);
  const size_t size = current.size();
  auto page_dirty = [&](size_t page, size_t end) {
    return std::memcmp(current.data() + page, base.data() + page, end - page) != 0;
  };
  if (mode == CrashMode::kTornWrite) {
    // The dirty range [lo, hi): from the first byte that differs to the last.
    size_t lo = 0, hi = size;
    while (lo < hi && current[lo] == base[lo]) ++lo;
    while (hi > lo && current[hi - 1] == base[hi - 1]) --hi;
    if (lo == hi) return out;
    // Keep [lo, cut): anything from nothing to the whole dirty range.
    const size_t cut = lo + static_cast<size_t>(rng() % (hi - lo + 1));
    std::memcpy(out.data() + lo, current.data() + lo, cut - lo);
    return out;
  }
  for (size_t page = 0; page < size; page += kCrashPage) {
    const size_t end = std::min(size, page + kCrashPage);
    if (!page_dirty(page, end)) continue;
    const uint64_t pick = mode == CrashMode::kKeepSomeUnsynced ? rng() % 2 : rng() % 3;
    if (pick == 0) {
      std::memcpy(out.data() + page, current.data() + page, end - page);
    } else if (pick == 2) {
      for (size_t i = page; i < end; ++i) {
        if (current[i] == base[i]) continue;
        out[i] = mode == CrashMode::kZeroUnsynced ? '\0' : static_cast<char>(rng());
      }
    }
  }
  return out;
}

absl::Status CrashEnv::WriteImageLocked(const std::string& out_dir, Mode mode, uint64_t seed) {
  std::error_code ec;
  std::filesystem::remove_all(out_dir, ec);
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", out_dir, ": ", ec.message()));
  return WriteTree(0, out_dir, mode, seed, 0);
}

absl::Status CrashEnv::WriteTree(uint64_t dir_id, const std::string& out, Mode mode, uint64_t seed,
                                 int depth) {
  if (depth > 64) return absl::InternalError("crash image: directory cycle");
  for (const auto& [name, id] : nodes_[dir_id].durable_entries) {
    const std::string path = absl::StrCat(out, "/", name);
    const Node& n = nodes_[id];
    if (n.dir) {
      std::error_code ec;
      std::filesystem::create_directory(path, ec);
      if (ec) return absl::InternalError(absl::StrCat("mkdir ", path, ": ", ec.message()));
      RECSTORE_RETURN_IF_ERROR(WriteTree(id, path, mode, seed, depth + 1));
      continue;
    }
    RECSTORE_ASSIGN_OR_RETURN(std::string current, CurrentContent(n));
    const std::string bytes = SurvivingContent(
        n.durable, current, mode, StableHash(name, seed ^ (id * 0x9E3779B97F4A7C15ull)));
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) return absl::InternalError(absl::StrCat("write ", path));
  }
  return absl::OkStatus();
}

}  // namespace recstore::crash
