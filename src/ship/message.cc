#include "src/ship/message.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "src/format/manifest.h"

namespace recstore::ship {

std::string MessageId(std::string_view store_id, std::string_view collection, uint64_t seq) {
  std::string out;
  out.reserve(store_id.size() + collection.size() + 22);
  out.append(store_id).append("/").append(collection).append("/");
  absl::StrAppend(&out, seq);
  return out;
}

std::optional<ParsedId> ParseMessageId(std::string_view id) {
  const size_t first = id.find('/');
  const size_t last = id.rfind('/');
  if (first == std::string_view::npos || first == last || first == 0 || last == first + 1) {
    return std::nullopt;
  }
  ParsedId out;
  out.store_id = std::string(id.substr(0, first));
  out.collection = std::string(id.substr(first + 1, last - first - 1));
  const std::string_view seq = id.substr(last + 1);
  if (seq.empty() || seq.size() > 20) return std::nullopt;
  for (char c : seq) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (!absl::SimpleAtoi(absl::string_view(seq.data(), seq.size()), &out.seq)) return std::nullopt;
  return out;
}

namespace {

bool TokenChar(char c) {
  return static_cast<unsigned char>(c) > ' ' && c != 0x7f && c != '.' && c != '*' && c != '>';
}

}  // namespace

std::string DefaultSubject(std::string_view collection) {
  std::string out = "recstore.";
  for (char c : collection) out.push_back(TokenChar(c) ? c : '_');
  return out;
}

absl::Status CheckSubject(std::string_view subject) {
  if (subject.empty()) return absl::InvalidArgumentError("subject is empty");
  for (absl::string_view token :
       absl::StrSplit(absl::string_view(subject.data(), subject.size()), '.')) {
    bool ok = !token.empty();
    for (char c : token) ok = ok && TokenChar(c);
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid subject '", absl::CEscape(absl::string_view(subject.data(), subject.size())),
          "': tokens are separated by single dots and hold no space, control character or "
          "wildcard ('*', '>')"));
    }
  }
  return absl::OkStatus();
}

bool SubjectMatches(std::string_view filter, std::string_view subject) {
  std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(filter.data(), filter.size()), '.');
  std::vector<absl::string_view> s =
      absl::StrSplit(absl::string_view(subject.data(), subject.size()), '.');
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == ">") return i < s.size();
    if (i >= s.size()) return false;
    if (f[i] != "*" && f[i] != s[i]) return false;
  }
  return f.size() == s.size();
}

const char* KindName(CollectionKind kind) {
  return kind == CollectionKind::kFixed ? kKindFixed : kKindBytes;
}

std::string SchemaHeader(const RecordSchema& schema) {
  return absl::Base64Escape(format::EncodeSchema(schema));
}

absl::StatusOr<RecordSchema> ParseSchemaHeader(std::string_view value, std::string_view what_view) {
  const std::string what(what_view);
  std::string bytes;
  if (!absl::Base64Unescape(absl::string_view(value.data(), value.size()), &bytes)) {
    return absl::DataLossError(absl::StrCat(what, ": header ", kSchemaHeader, " is not base64"));
  }
  absl::StatusOr<RecordSchema> schema =
      format::DecodeSchema(bytes, absl::StrCat(what, " header ", kSchemaHeader), 0);
  if (!schema.ok()) return absl::DataLossError(schema.status().message());
  return schema;
}

}  // namespace recstore::ship
