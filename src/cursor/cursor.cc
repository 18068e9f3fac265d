// The public Cursor, over internal::CursorFile.
#include "recstore/cursor.h"

#include <utility>

#include "src/cursor/cursor_file.h"

namespace recstore {

Cursor::Cursor(std::unique_ptr<internal::CursorFile> file) : file_(std::move(file)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

uint64_t Cursor::position() const { return file_->position(); }
absl::Status Cursor::Commit(uint64_t next) { return file_->Commit(next); }
CursorInfo Cursor::info() const { return file_->info(); }
const std::string& Cursor::name() const { return file_->name(); }
const std::string& Cursor::collection() const { return file_->collection(); }
const std::string& Cursor::path() const { return file_->path(); }

}  // namespace recstore
