// A typed vector in a file: fill it, sync, change it without syncing, reopen, and see exactly
// the synced state. Usage: points [DIR] (default: a fresh directory under /tmp).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "recstore/mapped_vector.h"
#include "recstore/status_macros.h"

namespace example {

struct Point {
  double x, y, z;
};
RECSTORE_RECORD(Point, x, y, z);

absl::Status Run(const std::string& dir) {
  const std::string path = dir + "/points.rsv";
  {
    ASSIGN_OR_RETURN(auto pts,
                     recstore::MappedVector<Point>::Open(path, {.create_if_missing = true}));
    pts.clear();
    for (int i = 0; i < 100'000; ++i) {
      RETURN_IF_ERROR(pts.push_back({double(i), 2.0 * i, 3.0 * i}));
    }
    RETURN_IF_ERROR(pts.insert(0, {-1, -1, -1}));
    RETURN_IF_ERROR(pts.erase(1));  // removes {0, 0, 0}
    RETURN_IF_ERROR(pts.Sync());
    RETURN_IF_ERROR(pts.Set(0, {42, 42, 42}));  // never synced: dropped at close
    std::printf("wrote %zu points, sync #%llu\n", pts.size(),
                static_cast<unsigned long long>(pts.sync_count()));
  }
  ASSIGN_OR_RETURN(auto pts, recstore::MappedVector<Point>::Open(path, {.read_only = true}));
  double sum = 0;
  for (const Point& p : pts) sum += p.x;
  std::printf("reopened: %zu points, first x = %g, sum of x = %g\n", pts.size(), pts[0].x, sum);
  if (pts.size() != 100'000 || pts[0].x != -1 || pts[1].x != 1) {
    return absl::InternalError("the reopened vector is not the synced one");
  }
  return absl::OkStatus();
}

}  // namespace example

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    char pattern[] = "/tmp/points.XXXXXX";
    dir = tmp != nullptr ? std::string(tmp) : std::string(mkdtemp(pattern));
  }
  absl::Status s = example::Run(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "points: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
