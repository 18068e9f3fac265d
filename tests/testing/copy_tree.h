// Copies a directory tree as it is now, bypassing any Env: what a process killed at this
// moment leaves on disk (every write it made is in the page cache; stores to a private
// mapping are not).
#ifndef RECSTORE_TESTS_TESTING_COPY_TREE_H_
#define RECSTORE_TESTS_TESTING_COPY_TREE_H_

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/status/status.h"

namespace recstore::testing {

// Replaces `to` with a copy of `from` (files, directories; contents as read now).
inline absl::Status CopyTree(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(fs::path(to).parent_path(), ec);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) return absl::InternalError("copy " + from + " to " + to + ": " + ec.message());
  return absl::OkStatus();
}

}  // namespace recstore::testing

#endif  // RECSTORE_TESTS_TESTING_COPY_TREE_H_
