#include "src/base/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace recstore::base {

absl::StatusCode ErrnoToCode(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return absl::StatusCode::kResourceExhausted;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EBUSY:
    case EINTR:
      return absl::StatusCode::kUnavailable;
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      return absl::StatusCode::kInvalidArgument;
    case ENOSYS:
    case EOPNOTSUPP:
      return absl::StatusCode::kUnimplemented;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ErrnoToStatus(int err, std::string_view call, std::string_view path) {
  char buf[256];
  // GNU strerror_r returns the message (which may or may not live in buf).
  const char* msg = strerror_r(err, buf, sizeof(buf));
  return absl::Status(ErrnoToCode(err), absl::StrCat(std::string(call), " ", std::string(path),
                                                     ": ", msg, " (errno ", err, ")"));
}

}  // namespace recstore::base
