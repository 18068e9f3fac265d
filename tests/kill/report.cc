// Writer-to-parent reports over a pipe.
#include "tests/kill/report.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace recstore::kill {

bool SendReport(int fd, const Report& r) {
  while (true) {
    const ssize_t n = write(fd, &r, sizeof(r));
    if (n == static_cast<ssize_t>(sizeof(r))) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;  // pipe writes of at most PIPE_BUF bytes are never partial
  }
}

std::string FormatReport(uint32_t epoch, const Report& r) {
  const char* coll = r.coll < kColls ? kCollNames[r.coll] : "?";
  switch (r.kind) {
    case ReportKind::kOpened:
      return absl::StrCat("epoch ", epoch, " ", coll, " opened end ", r.seq);
    case ReportKind::kAppended:
      return absl::StrCat("epoch ", epoch, " ", coll, " appended seq ", r.seq, " count ", r.count,
                          " thread ", r.thread, " counter ", r.counter);
    case ReportKind::kDurable:
      return absl::StrCat("epoch ", epoch, " ", coll, " durable ", r.seq, " thread ", r.thread);
  }
  return absl::StrCat("epoch ", epoch, " unknown report kind ", static_cast<int>(r.kind));
}

bool ReportReader::Poll(int timeout_ms, std::vector<Report>* out) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = poll(&p, 1, timeout_ms);
  if (ready <= 0) return true;  // timeout (or EINTR): nothing yet
  char buf[64 * 1024];
  const ssize_t n = read(fd_, buf, sizeof(buf));
  if (n == 0) return false;
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  size_t pos = 0;
  const size_t len = static_cast<size_t>(n);
  if (partial_len_ > 0) {
    const size_t take = std::min(sizeof(Report) - partial_len_, len);
    std::memcpy(partial_ + partial_len_, buf, take);
    partial_len_ += take;
    pos = take;
    if (partial_len_ < sizeof(Report)) return true;
    Report r;
    std::memcpy(&r, partial_, sizeof(r));
    out->push_back(r);
    partial_len_ = 0;
  }
  for (; pos + sizeof(Report) <= len; pos += sizeof(Report)) {
    Report r;
    std::memcpy(&r, buf + pos, sizeof(r));
    out->push_back(r);
  }
  partial_len_ = len - pos;
  std::memcpy(partial_, buf + pos, partial_len_);
  return true;
}

}  // namespace recstore::kill
