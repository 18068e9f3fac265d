// Turns a failed system call into an absl::Status that names the call, the path and errno.
#ifndef RECSTORE_SRC_BASE_ERRNO_STATUS_H_
#define RECSTORE_SRC_BASE_ERRNO_STATUS_H_

#include <string_view>

#include "absl/status/status.h"

namespace recstore::base {

// The status code recstore uses for `err`:
//   ENOENT, ENOTDIR                 -> NotFound
//   EEXIST                          -> AlreadyExists
//   EACCES, EPERM, EROFS            -> PermissionDenied
//   ENOSPC, EDQUOT, EFBIG, ENOMEM,
//   EMFILE, ENFILE                  -> ResourceExhausted
//   EAGAIN, EWOULDBLOCK, EBUSY,
//   EINTR                           -> Unavailable
//   EINVAL, ENAMETOOLONG, EISDIR    -> InvalidArgument
//   ENOSYS, EOPNOTSUPP              -> Unimplemented
//   anything else, EIO included     -> Internal (an I/O error says nothing about what the
//                                      file holds; DataLoss is kept for content found
//                                      damaged)
absl::StatusCode ErrnoToCode(int err);

// A status with ErrnoToCode(err) and the message "<call> <path>: <strerror> (errno <err>)",
// e.g. "fdatasync data/trades/0000.seg: Input/output error (errno 5)". `err` must be non-zero.
absl::Status ErrnoToStatus(int err, std::string_view call, std::string_view path);

}  // namespace recstore::base

#endif  // RECSTORE_SRC_BASE_ERRNO_STATUS_H_
