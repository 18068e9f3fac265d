// Rendering records as JSON lines or CSV using only the schema the manifest stores.
//
// JSON: one object per record and line, {"seq":N,<field>:<value>,...}; byte records are
// {"seq":N,"bytes":"..."}.
// CSV: a header line "seq,<field>,..." (or "seq,bytes"), then one line per record.
// The first column is "seq" unless the caller names another key (dump of a vector file:
// "index").
//
// Values, by field type:
//   integers     decimal
//   float/double the shortest decimal that reads back to the same value; NaN and infinities
//                as "NaN", "Infinity", "-Infinity" (JSON strings, bare words in CSV)
//   bool         true / false (any non-zero byte is true)
//   char[N]      a string cut at the first NUL byte
//   other arrays JSON: [a,b,c]; CSV: [a;b;c] (';' keeps the cell free of commas), whole
//   unknown type the raw bytes as a string "hex:<two digits per byte>"
// Byte records, char arrays (their bytes before the first NUL) and unknown-type fields longer
// than the renderer's cap (max_bytes; kDefaultMaxBytes unless the caller chose another, 0 for
// none) show their first max_bytes bytes, then the mark "…(+N bytes)" for the N bytes left
// out, inside the same string: in JSON as \u2026(+N bytes), which no payload byte can produce
// (those are at most \u00ff), in CSV as the UTF-8 "…".
// Strings (char arrays, byte records): JSON escapes '"', '\\' and \b \f \n \r \t, and writes
// every other byte outside 0x20-0x7e as \u00XX, so each byte maps to the code point of the
// same value and the output is plain ASCII. CSV always quotes them, doubles embedded quotes
// and writes the bytes as they are (RFC 4180).
#ifndef RECSTORE_TOOLS_CLI_RENDER_H_
#define RECSTORE_TOOLS_CLI_RENDER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "recstore/recstore.h"

namespace recstore::cli {

enum class Format { kJson, kCsv };

// The cap on the bytes printed of one byte record (or of one char array or unknown-type field
// of a fixed-size record), unless the caller sets another.
inline constexpr uint64_t kDefaultMaxBytes = 4096;

// Appends `s` as a JSON string literal (quotes included) to `out`.
void AppendJsonString(std::string_view s, std::string* out);
// Appends `s` as a quoted CSV field to `out`.
void AppendCsvString(std::string_view s, std::string* out);

class RecordRenderer {
 public:
  // InvalidArgument when the schema describes fields outside the record. `max_bytes`: the
  // cap on the bytes of a byte record, char array or unknown-type field (0: no cap). `key`: the
  // name of the first column, the number Render() is given (a C++ identifier).
  static absl::StatusOr<RecordRenderer> Create(const CollectionInfo& info, Format format,
                                               uint64_t max_bytes = kDefaultMaxBytes,
                                               std::string key = "seq");

  // The CSV header line, newline included; empty for JSON.
  std::string Header() const;
  // Appends record `seq` (its bytes as the collection stores them), newline included.
  void Render(uint64_t seq, std::span<const std::byte> record, std::string* out) const;

 private:
  RecordRenderer(const CollectionInfo& info, Format format, uint64_t max_bytes, std::string key)
      : info_(info), format_(format), max_bytes_(max_bytes), key_(std::move(key)) {}
  void RenderField(const FieldInfo& field, const std::byte* data, std::string* out) const;
  // A string (byte record, char array) with the cap applied.
  void RenderBytes(std::string_view bytes, std::string* out) const;
  // Whether a value of `size` bytes is cut.
  bool Capped(uint64_t size) const;
  // Appends the mark "…(+N bytes)" (JSON: \u2026 escaped).
  void AppendCutMark(uint64_t left_out, std::string* out) const;

  CollectionInfo info_;
  Format format_;
  uint64_t max_bytes_;
  std::string key_;
};

}  // namespace recstore::cli

#endif  // RECSTORE_TOOLS_CLI_RENDER_H_
