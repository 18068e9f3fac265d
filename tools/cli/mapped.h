// `recstore info FILE` and `recstore dump FILE` for vector files (MappedVector) and struct
// files (MappedStruct): what src/mapped/inspect.h reads, printed with the schema the file's
// header page carries.
#ifndef RECSTORE_TOOLS_CLI_MAPPED_H_
#define RECSTORE_TOOLS_CLI_MAPPED_H_

#include <cstdint>
#include <string>

#include "tools/cli/render.h"

namespace recstore::cli {

// Whether `path` names a regular file: info and dump then take it for a vector or struct
// file (a store is a directory).
bool IsFileArgument(const std::string& path);

// The header facts, the schema, the state of the last sync and the journal (vector) or the
// snapshot slots (struct). Exit status as for a store: 1 for a damaged file.
int MappedInfoCommand(const std::string& path);

// Prints the last synced state: a vector's elements from index `from` on (at most `limit`,
// the first column "index"), or a struct's newest snapshot as one record (column "seq": the
// snapshot's sequence number; `from` 0 prints it, any other skips it). `max_bytes`: the cap
// on the bytes printed of each char array or untyped field (render.h; 0: no cap).
int MappedDumpCommand(const std::string& path, uint64_t from, uint64_t limit, Format format,
                      uint64_t max_bytes);

}  // namespace recstore::cli

#endif  // RECSTORE_TOOLS_CLI_MAPPED_H_
