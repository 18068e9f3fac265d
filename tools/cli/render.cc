#include "tools/cli/render.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <utility>

#include "fmt/format.h"

namespace recstore::cli {

namespace {

template <typename T>
T Load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// NaN and infinities have no JSON number form.
template <typename F>
void AppendFloat(F v, Format format, std::string* out) {
  std::string_view special;
  if (std::isnan(v)) {
    special = "NaN";
  } else if (std::isinf(v)) {
    special = v > 0 ? "Infinity" : "-Infinity";
  }
  if (special.empty()) {
    fmt::format_to(std::back_inserter(*out), "{}", v);
  } else if (format == Format::kJson) {
    AppendJsonString(special, out);
  } else {
    out->append(special);
  }
}

// One element of a non-char field.
void AppendScalar(FieldType type, const std::byte* p, Format format, std::string* out) {
  auto put = [out](auto v) { fmt::format_to(std::back_inserter(*out), "{}", v); };
  switch (type) {
    case FieldType::kInt8:
      return put(static_cast<int>(Load<int8_t>(p)));
    case FieldType::kInt16:
      return put(Load<int16_t>(p));
    case FieldType::kInt32:
      return put(Load<int32_t>(p));
    case FieldType::kInt64:
      return put(Load<int64_t>(p));
    case FieldType::kUInt8:
      return put(static_cast<unsigned>(Load<uint8_t>(p)));
    case FieldType::kUInt16:
      return put(Load<uint16_t>(p));
    case FieldType::kUInt32:
      return put(Load<uint32_t>(p));
    case FieldType::kUInt64:
      return put(Load<uint64_t>(p));
    case FieldType::kFloat:
      return AppendFloat(Load<float>(p), format, out);
    case FieldType::kDouble:
      return AppendFloat(Load<double>(p), format, out);
    case FieldType::kBool:
      out->append(Load<uint8_t>(p) != 0 ? "true" : "false");
      return;
    case FieldType::kChar:
      return put(static_cast<int>(Load<char>(p)));  // not reached: chars render as strings
  }
}

std::string_view AsChars(const std::byte* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c > 0x7e) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendCsvString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::StatusOr<RecordRenderer> RecordRenderer::Create(const CollectionInfo& info, Format format,
                                                      uint64_t max_bytes, std::string key) {
  if (info.kind == CollectionKind::kFixed) {
    for (const FieldInfo& f : info.schema.fields) {
      if (uint64_t{f.offset} + f.size > info.record_size) {
        return absl::InvalidArgumentError(fmt::format(
            "collection '{}': field '{}' (offset {}, size {}) lies outside the {}-byte record",
            info.name, f.name, f.offset, f.size, info.record_size));
      }
      const uint32_t elem = FieldTypeSize(f.type);
      if (elem != 0 && uint64_t{elem} * f.count != f.size) {
        return absl::InvalidArgumentError(
            fmt::format("collection '{}': field '{}' has {} elements of {} bytes but size {}",
                        info.name, f.name, f.count, elem, f.size));
      }
    }
  }
  return RecordRenderer(info, format, max_bytes, std::move(key));
}

std::string RecordRenderer::Header() const {
  if (format_ != Format::kCsv) return "";
  std::string out = key_;
  if (info_.kind == CollectionKind::kVariable) {
    out += ",bytes";
  } else {
    for (const FieldInfo& f : info_.schema.fields) {
      out.push_back(',');
      // Field names are C++ identifiers; quote them only if they somehow are not.
      if (f.name.find_first_of(",\"\r\n") != std::string::npos) {
        AppendCsvString(f.name, &out);
      } else {
        out += f.name;
      }
    }
  }
  out.push_back('\n');
  return out;
}

void RecordRenderer::RenderField(const FieldInfo& field, const std::byte* data,
                                 std::string* out) const {
  const std::byte* p = data + field.offset;
  const uint32_t elem = FieldTypeSize(field.type);
  if (elem == 0) {
    const bool json = format_ == Format::kJson;
    const uint32_t shown = Capped(field.size) ? static_cast<uint32_t>(max_bytes_) : field.size;
    out->append(json ? "\"hex:" : "hex:");
    for (uint32_t i = 0; i < shown; ++i) {
      fmt::format_to(std::back_inserter(*out), "{:02x}", static_cast<unsigned>(p[i]));
    }
    if (shown < field.size) AppendCutMark(field.size - shown, out);
    if (json) out->push_back('"');
    return;
  }
  if (field.type == FieldType::kChar) {
    std::string_view s = AsChars(p, field.size);
    RenderBytes(s.substr(0, s.find('\0')), out);
    return;
  }
  if (field.count == 1) {
    AppendScalar(field.type, p, format_, out);
    return;
  }
  const char sep = format_ == Format::kJson ? ',' : ';';
  out->push_back('[');
  for (uint32_t i = 0; i < field.count; ++i) {
    if (i > 0) out->push_back(sep);
    AppendScalar(field.type, p + uint64_t{i} * elem, format_, out);
  }
  out->push_back(']');
}

bool RecordRenderer::Capped(uint64_t size) const { return max_bytes_ != 0 && size > max_bytes_; }

void RecordRenderer::AppendCutMark(uint64_t left_out, std::string* out) const {
  fmt::format_to(std::back_inserter(*out), "{}(+{} bytes)",
                 format_ == Format::kJson ? "\\u2026" : "\u2026", left_out);
}

void RecordRenderer::RenderBytes(std::string_view bytes, std::string* out) const {
  const bool json = format_ == Format::kJson;
  const bool cut = Capped(bytes.size());
  const std::string_view shown = cut ? bytes.substr(0, max_bytes_) : bytes;
  if (json) {
    AppendJsonString(shown, out);
  } else {
    AppendCsvString(shown, out);
  }
  if (!cut) return;
  // The mark goes inside the string: replace its closing quote.
  out->pop_back();
  AppendCutMark(bytes.size() - shown.size(), out);
  out->push_back('"');
}

void RecordRenderer::Render(uint64_t seq, std::span<const std::byte> record,
                            std::string* out) const {
  const bool json = format_ == Format::kJson;
  if (json) {
    out->append("{\"");
    out->append(key_);
    out->append("\":");
  }
  fmt::format_to(std::back_inserter(*out), "{}", seq);
  if (info_.kind == CollectionKind::kVariable) {
    out->append(json ? ",\"bytes\":" : ",");
    RenderBytes(AsChars(record.data(), record.size()), out);
  } else {
    for (const FieldInfo& f : info_.schema.fields) {
      out->push_back(',');
      if (json) {
        AppendJsonString(f.name, out);
        out->push_back(':');
      }
      RenderField(f, record.data(), out);
    }
  }
  out->append(json ? "}\n" : "\n");
}

}  // namespace recstore::cli
