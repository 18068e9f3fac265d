#include "src/store/manifest_file.h"

#include <fcntl.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "recstore/status_macros.h"
#include "recstore/store.h"
#include "src/os/file.h"

namespace recstore::store {

namespace {
constexpr uint64_t kMaxManifestSize = uint64_t{64} << 20;
}  // namespace

absl::StatusOr<format::Manifest> ReadManifest(Env* env, const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kManifestName);
  RECSTORE_ASSIGN_OR_RETURN(os::File file, os::File::Open(env, path, O_RDONLY | O_NOFOLLOW));
  RECSTORE_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(file.fd(), path));
  if (size > kMaxManifestSize) {
    return absl::DataLossError(absl::StrCat(path, ": offset 0: manifest of ", size,
                                            " bytes is larger than any recstore writes"));
  }
  std::string bytes(size, '\0');
  RECSTORE_ASSIGN_OR_RETURN(size_t got, env->PRead(file.fd(), path, bytes.data(), size, 0));
  bytes.resize(got);
  RECSTORE_ASSIGN_OR_RETURN(format::Manifest m, format::DecodeManifest(bytes, path));
  // Names become folder names: refuse any name the API refuses (a "../x" would reach outside
  // the store), and two collections of one name.
  absl::flat_hash_set<std::string_view> names;
  for (const CollectionInfo& c : m.collections) {
    if (absl::Status s = Store::ValidateName(c.name); !s.ok()) {
      return absl::DataLossError(absl::StrCat(path, ": collection ", c.id, " has an invalid name '",
                                              absl::CEscape(c.name), "'"));
    }
    if (!names.insert(c.name).second) {
      return absl::DataLossError(
          absl::StrCat(path, ": two collections are named '", absl::CEscape(c.name), "'"));
    }
  }
  return m;
}

absl::Status WriteManifest(Env* env, const std::string& dir, const format::Manifest& m, mode_t mode,
                           bool* replaced) {
  const std::string path = absl::StrCat(dir, "/", kManifestName);
  const std::string tmp = path + ".tmp";
  const std::string bytes = format::EncodeManifest(m);
  {
    RECSTORE_ASSIGN_OR_RETURN(
        os::File file, os::File::Open(env, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode));
    RECSTORE_RETURN_IF_ERROR(env->PWrite(file.fd(), tmp, bytes, 0));
    RECSTORE_RETURN_IF_ERROR(env->SyncAll(file.fd(), tmp));
  }
  RECSTORE_RETURN_IF_ERROR(env->Rename(tmp, path));
  if (replaced != nullptr) *replaced = true;
  return os::SyncDir(env, dir);
}

}  // namespace recstore::store
