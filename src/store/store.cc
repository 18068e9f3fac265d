// The public Store, over StoreState.
#include "recstore/store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "src/cursor/cursor_dir.h"
#include "src/cursor/cursor_file.h"
#include "src/format/manifest.h"
#include "src/log/collection.h"
#include "src/store/store_state.h"

namespace recstore {

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::StoreState> state,
                            internal::StoreState::Open(path, options));
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

Store::Store(std::shared_ptr<internal::StoreState> state) : state_(std::move(state)) {}
Store::~Store() = default;

absl::StatusOr<std::shared_ptr<internal::Collection>> Store::OpenCollection(
    std::string_view name, CollectionKind kind, const RecordSchema* schema,
    const CollectionOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            state_->OpenCollection(name, kind, schema, options, state_));
  // The writer applies the collection's retention policy at open.
  if (!c->read_only() && !c->info().retention.empty()) {
    RECSTORE_RETURN_IF_ERROR(c->ApplyRetention().status());
  }
  return c;
}

absl::StatusOr<ByteLog> Store::OpenByteLog(std::string_view name,
                                           const CollectionOptions& options) {
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            OpenCollection(name, CollectionKind::kVariable, nullptr, options));
  return ByteLog(std::move(c));
}

absl::StatusOr<UntypedLog> Store::OpenUntyped(std::string_view name) {
  CollectionOptions options;
  options.create_if_missing = false;
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            OpenCollection(name, CollectionKind::kFixed, nullptr, options));
  return UntypedLog(std::move(c));
}

absl::StatusOr<UntypedLog> Store::OpenUntyped(std::string_view name, CollectionKind kind,
                                              const RecordSchema& schema,
                                              const CollectionOptions& options) {
  if (kind == CollectionKind::kVariable) {
    RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                              OpenCollection(name, kind, nullptr, options));
    return UntypedLog(std::move(c));
  }
  if (kind != CollectionKind::kFixed) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown collection kind ", static_cast<int>(kind)));
  }
  // The checks a schema read from a file gets: nothing later computes with a bad value.
  if (absl::StatusOr<RecordSchema> checked =
          format::DecodeSchema(format::EncodeSchema(schema), "schema", 0);
      !checked.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid schema for collection '", std::string(name), "': ", checked.status().message()));
  }
  RECSTORE_ASSIGN_OR_RETURN(std::shared_ptr<internal::Collection> c,
                            OpenCollection(name, kind, &schema, options));
  return UntypedLog(std::move(c));
}

absl::StatusOr<Cursor> Store::OpenCursor(std::string_view collection, std::string_view name,
                                         const CursorOptions& options) {
  RECSTORE_RETURN_IF_ERROR(internal::ValidateNameOf("cursor", name));
  RECSTORE_ASSIGN_OR_RETURN(cursor::Place place, state_->CursorPlace(collection));
  RECSTORE_ASSIGN_OR_RETURN(
      std::unique_ptr<internal::CursorFile> file,
      internal::CursorFile::Open(place, std::string(name), options.create_if_missing));
  return Cursor(std::move(file));
}

absl::StatusOr<std::vector<CursorInfo>> Store::ListCursors(std::string_view collection) const {
  RECSTORE_ASSIGN_OR_RETURN(cursor::Place place, state_->CursorPlace(collection));
  return cursor::List(place);
}

absl::Status Store::DropCursor(std::string_view collection, std::string_view name) {
  RECSTORE_RETURN_IF_ERROR(internal::ValidateNameOf("cursor", name));
  RECSTORE_ASSIGN_OR_RETURN(cursor::Place place, state_->CursorPlace(collection));
  return cursor::Drop(place, std::string(name));
}

std::vector<CollectionInfo> Store::ListCollections() const { return state_->ListCollections(); }

absl::Status Store::DropCollection(std::string_view name) { return state_->Drop(name); }

const std::string& Store::path() const { return state_->path(); }
std::string Store::id() const { return state_->id(); }
const StoreOptions& Store::options() const { return state_->options(); }

absl::Status Store::ValidateName(std::string_view name) {
  return internal::ValidateNameOf("collection", name);
}

namespace internal {

absl::Status ValidateNameOf(std::string_view what, std::string_view name) {
  // (Debian's Abseil has its own string_view: pass std::string.)
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " name is empty"));
  }
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", std::string(what), " name '",
                                                   absl::CEscape(std::string(name)),
                                                   "': ", std::string(why)));
  };
  if (name.size() > 128) return bad("longer than 128 bytes");
  if (name == "." || name.find("..") != std::string_view::npos) return bad("'.' or '..'");
  for (char c : name) {
    if (c == '/') return bad("contains '/'");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return bad("contains a NUL or control character");
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

}  // namespace recstore
