// A collection's cursor folder, <store>/cursors/<id>-<name>: listing its cursors, the lowest
// committed position (what the writer's retention asks), dropping one cursor, and removing
// the folder with its collection.
#ifndef RECSTORE_SRC_CURSOR_CURSOR_DIR_H_
#define RECSTORE_SRC_CURSOR_CURSOR_DIR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recstore/cursor.h"
#include "recstore/env.h"
#include "src/cursor/cursor_file.h"

namespace recstore::cursor {

inline constexpr char kCursorsDirName[] = "cursors";

// The cursor name of a folder entry "<name>.cursor"; false for anything else (a creation's
// "<name>.cursor.tmp", foreign files).
bool ParseCursorFileName(const std::string& file, std::string* name);

// Every cursor of the place's collection, by name, as committed on disk (read without their
// locks). Errors: the first error of reading one (DataLoss naming a damaged file), or of
// listing the folder; a collection that never had a cursor has none.
absl::StatusOr<std::vector<CursorInfo>> List(const Place& place);

// The lowest committed position of the cursors in `dir` (of collection `collection_id`);
// nullopt when there are none. A cursor file that cannot be read or checked counts as
// position 0, so that retention never drops what an unreadable cursor may not have consumed
// (only the hard caps do). Errors: the I/O error of listing the folder.
absl::StatusOr<std::optional<uint64_t>> LowestPosition(Env* env, const std::string& dir,
                                                       uint32_t collection_id);

// Removes the cursor `name`: takes its lock (Unavailable while a handle holds it), removes the
// file and flushes the folder. Errors: NotFound, Unavailable, or the I/O error.
absl::Status Drop(const Place& place, const std::string& name);

// Removes the cursor folder `dir` and every file in it; OK when it does not exist. Handles
// still open in other processes keep their (now unlinked) files.
absl::Status RemoveFolder(Env* env, const std::string& dir);

}  // namespace recstore::cursor

#endif  // RECSTORE_SRC_CURSOR_CURSOR_DIR_H_
