// The messages a shipped collection becomes (docs/format.md section 11): their ids, subjects
// and headers. Pure functions, no NATS calls.
#ifndef RECSTORE_SRC_SHIP_MESSAGE_H_
#define RECSTORE_SRC_SHIP_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/log.h"
#include "recstore/schema.h"

namespace recstore::ship {

inline constexpr char kMsgIdHeader[] = "Nats-Msg-Id";
inline constexpr char kExpectedLastSeqHeader[] = "Nats-Expected-Last-Sequence";
inline constexpr char kKindHeader[] = "Recstore-Kind";
inline constexpr char kSchemaHeader[] = "Recstore-Schema";
inline constexpr char kKindFixed[] = "fixed";
inline constexpr char kKindBytes[] = "bytes";

// "<store id>/<collection>/<seq>". Collection names hold no '/', store ids are hex.
std::string MessageId(std::string_view store_id, std::string_view collection, uint64_t seq);

struct ParsedId {
  std::string store_id;
  std::string collection;
  uint64_t seq = 0;
};
// The parts of a message id MessageId made; nullopt for anything else.
std::optional<ParsedId> ParseMessageId(std::string_view id);

// "recstore.<collection>", every character a subject token may not hold replaced by '_'.
std::string DefaultSubject(std::string_view collection);
// InvalidArgument unless `subject` is a valid subject to publish on: dot-separated
// non-empty tokens of printable characters other than space, no wildcards.
absl::Status CheckSubject(std::string_view subject);
// Whether a stream subject (which may hold the wildcards '*' and '>') captures `subject`.
bool SubjectMatches(std::string_view filter, std::string_view subject);

// The Recstore-Kind header's value for a collection kind.
const char* KindName(CollectionKind kind);
// The Recstore-Schema header's value: the schema in the manifest's encoding (type name and
// fields, docs/format.md 10.1), base64.
std::string SchemaHeader(const RecordSchema& schema);
// The schema a Recstore-Schema header carries, checked as a manifest's schema is.
// DataLoss naming `what` when it is not valid base64 or not a valid schema.
absl::StatusOr<RecordSchema> ParseSchemaHeader(std::string_view value, std::string_view what);

}  // namespace recstore::ship

#endif  // RECSTORE_SRC_SHIP_MESSAGE_H_
