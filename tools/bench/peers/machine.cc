#include "tools/bench/peers/machine.h"

#include <leveldb/db.h>
#include <lmdb.h>
#include <rocksdb/version.h>
#include <sqlite3.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/core.h"

namespace recstore::bench {
namespace {

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string MemTotal() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  long kb = 0;
  while (f >> key >> kb >> unit) {
    if (key == "MemTotal:") return fmt::format("{:.1f} GiB", static_cast<double>(kb) / (1 << 20));
  }
  return "unknown";
}

// The statfs magic number, named, plus the type /proc/mounts gives for the longest mount
// point containing `dir` (statfs cannot tell ext2, ext3 and ext4 apart).
std::string FileSystem(const std::string& dir) {
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  std::string magic;
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53:
      magic = "ext2/3/4";
      break;
    case 0x58465342:
      magic = "xfs";
      break;
    case 0x9123683E:
      magic = "btrfs";
      break;
    case 0x01021994:
      magic = "tmpfs";
      break;
    case 0x794c7630:
      magic = "overlayfs";
      break;
    default:
      magic = fmt::format("0x{:x}", static_cast<unsigned long>(st.f_type));
  }
  std::error_code ec;
  const std::string real = std::filesystem::canonical(dir, ec).string();
  std::ifstream mounts("/proc/mounts");
  std::string dev, mnt, type, rest, best_mnt, best_type, best_dev;
  while (mounts >> dev >> mnt >> type && std::getline(mounts, rest)) {
    const bool inside = real == mnt || real.rfind(mnt == "/" ? mnt : mnt + "/", 0) == 0;
    if (inside && mnt.size() >= best_mnt.size()) {
      best_mnt = mnt;
      best_type = type;
      best_dev = dev;
    }
  }
  return fmt::format("{} (statfs magic: {}), {} on {}", best_type.empty() ? "?" : best_type, magic,
                     best_dev, best_mnt);
}

double ClockOverheadNs() {
  using Clock = std::chrono::steady_clock;
  constexpr int kN = 1000000;
  const Clock::time_point t0 = Clock::now();
  Clock::time_point x = t0;
  for (int i = 0; i < kN; ++i) x = Clock::now();
  return std::chrono::duration<double, std::nano>(x - t0).count() / kN;
}

}  // namespace

std::string LoadAverage() {
  double l[3] = {0, 0, 0};
  if (::getloadavg(l, 3) != 3) return "unknown";
  return fmt::format("{:.2f} / {:.2f} / {:.2f}", l[0], l[1], l[2]);
}

bool CanDropCaches() { return ::access("/proc/sys/vm/drop_caches", W_OK) == 0; }

std::vector<std::pair<std::string, std::string>> DescribeMachine(const std::string& bench_dir) {
  struct utsname u;
  ::uname(&u);
  int lmdb_major, lmdb_minor, lmdb_patch;
  mdb_version(&lmdb_major, &lmdb_minor, &lmdb_patch);
  return {
      {"cores (nproc)", std::to_string(::sysconf(_SC_NPROCESSORS_ONLN))},
      {"cpu", CpuModel()},
      {"memory", MemTotal()},
      {"kernel", fmt::format("{} {} {}", u.sysname, u.release, u.machine)},
      {"bench dir", bench_dir},
      {"file system", FileSystem(bench_dir)},
      {"drop caches", CanDropCaches() ? "yes (root)" : "no (not root): W6 cold not measured"},
      {"compiler", __VERSION__},
      {"peers", fmt::format("LMDB {}.{}.{}, RocksDB {}.{}.{}, LevelDB {}.{}, SQLite {}", lmdb_major,
                            lmdb_minor, lmdb_patch, ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH,
                            leveldb::kMajorVersion, leveldb::kMinorVersion, sqlite3_libversion())},
      {"steady_clock::now() cost", fmt::format("{:.0f} ns", ClockOverheadNs())},
      {"load average at start (1/5/15 min)", LoadAverage()},
  };
}

}  // namespace recstore::bench
