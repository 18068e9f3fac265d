// Small facts about a container's files shared by the vector and the struct: the directory a
// path's name lives in (to flush it), and a new file id.
#ifndef RECSTORE_SRC_MAPPED_FILE_NAMES_H_
#define RECSTORE_SRC_MAPPED_FILE_NAMES_H_

#include <cstdint>
#include <string>

#include "recstore/env.h"

namespace recstore::mapped {

// "." for a bare name, "/" for a name in the root.
std::string DirOf(const std::string& path);

// A file id for a file created now at `path` (never 0): a hash of the clock, the pid, a
// counter and the path, so two files, even of the same name, do not share one.
uint64_t NewFileId(Env* env, const std::string& path);

}  // namespace recstore::mapped

#endif  // RECSTORE_SRC_MAPPED_FILE_NAMES_H_
