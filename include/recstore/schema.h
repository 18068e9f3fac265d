// Record schemas: what recstore knows about the fields of a fixed-size record type.
//
// A record type is a trivially copyable, standard-layout struct. Declaring it with
//
//   struct Trade { uint64_t ts_ns; uint32_t symbol_id; char venue[8]; double px[4]; };
//   RECSTORE_RECORD(Trade, ts_ns, symbol_id, venue, px);
//
// captures, at compile time, the type's fully qualified name (such as "app::v2::Trade"), size
// and alignment and each listed field's name, type, offset, size and element count.
// RECSTORE_RECORD must appear in the namespace that declares the struct (it defines a function
// found by argument-dependent lookup) and must list every field of the struct, up to 32, each
// once (any order): a struct with a field left out fails to compile, as its bytes would be in
// no schema. The fields must be the struct's own public members (or all in one base class),
// not bit-fields or an anonymous union. The manifest stores the schema, so tools can render
// records without the C++ type, and reopening a collection with a type whose schema differs
// fails.
//
// Supported field types: int8..int64, uint8..uint64, float, double, bool, char (use char arrays
// for fixed-size strings), enums (stored as their underlying integer), and arrays (of any
// dimension) of those. Anything else fails to compile with a static_assert.
#ifndef RECSTORE_SCHEMA_H_
#define RECSTORE_SCHEMA_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "recstore/config.h"  // first: fails clearly below C++20

namespace recstore {

// On-disk codes: never reuse or renumber a value.
enum class FieldType : uint8_t {
  kInt8 = 1,
  kInt16 = 2,
  kInt32 = 3,
  kInt64 = 4,
  kUInt8 = 5,
  kUInt16 = 6,
  kUInt32 = 7,
  kUInt64 = 8,
  kFloat = 9,
  kDouble = 10,
  kBool = 11,
  kChar = 12,
};

// "int64", "char", ... ; "unknown" for values this version does not know.
std::string_view FieldTypeName(FieldType type);
// Size in bytes of one element of `type`; 0 for unknown values.
uint32_t FieldTypeSize(FieldType type);

struct FieldInfo {
  std::string name;
  FieldType type;
  uint32_t offset;  // from the start of the record, in bytes
  uint32_t size;    // total bytes: FieldTypeSize(type) * count
  uint32_t count;   // array elements (1 for a scalar)

  friend bool operator==(const FieldInfo&, const FieldInfo&) = default;
};

struct RecordSchema {
  // The C++ type's fully qualified name as the compiler spells it ("app::v2::Trade"; a type
  // in an anonymous namespace reads "{anonymous}::Trade" with GCC, "(anonymous
  // namespace)::Trade" with clang), or the name given to RECSTORE_RECORD if the compiler's
  // spelling cannot be read. For messages and tools only: schemas are compared without it,
  // so collections created when it held the unqualified name open as before.
  std::string type_name;
  uint32_t size = 0;   // sizeof(T)
  uint32_t align = 0;  // alignof(T)
  std::vector<FieldInfo> fields;

  friend bool operator==(const RecordSchema&, const RecordSchema&) = default;
};

namespace schema_internal {

template <typename T>
struct FieldTraits {
  static constexpr bool kSupported = false;
};
#define RECSTORE_SCALAR_FIELD_(T, code)                 \
  template <>                                           \
  struct FieldTraits<T> {                               \
    static constexpr bool kSupported = true;            \
    static constexpr FieldType kType = FieldType::code; \
    static constexpr uint32_t kCount = 1;               \
  }
RECSTORE_SCALAR_FIELD_(int8_t, kInt8);
RECSTORE_SCALAR_FIELD_(int16_t, kInt16);
RECSTORE_SCALAR_FIELD_(int32_t, kInt32);
RECSTORE_SCALAR_FIELD_(int64_t, kInt64);
RECSTORE_SCALAR_FIELD_(uint8_t, kUInt8);
RECSTORE_SCALAR_FIELD_(uint16_t, kUInt16);
RECSTORE_SCALAR_FIELD_(uint32_t, kUInt32);
RECSTORE_SCALAR_FIELD_(uint64_t, kUInt64);
RECSTORE_SCALAR_FIELD_(float, kFloat);
RECSTORE_SCALAR_FIELD_(double, kDouble);
RECSTORE_SCALAR_FIELD_(bool, kBool);
RECSTORE_SCALAR_FIELD_(char, kChar);
#undef RECSTORE_SCALAR_FIELD_
// `long long` and `long` are distinct types of the same width on LP64.
template <>
struct FieldTraits<long long> : FieldTraits<int64_t> {};
template <>
struct FieldTraits<unsigned long long> : FieldTraits<uint64_t> {};

template <typename T>
requires std::is_enum_v<T>
struct FieldTraits<T> : FieldTraits<std::underlying_type_t<T>> {
};

template <typename T, size_t N>
struct FieldTraits<T[N]> {
  static constexpr bool kSupported = FieldTraits<T>::kSupported;
  static constexpr FieldType kType = FieldTraits<T>::kType;
  static constexpr uint32_t kCount = static_cast<uint32_t>(N) * FieldTraits<T>::kCount;
};

// The fully qualified name of T, read at compile time from __PRETTY_FUNCTION__ of a
// function template: GCC writes "... RawName() [with T = app::v2::Trade; ...]", clang "...
// RawName() [T = app::v2::Trade]". Empty if the text has another shape.
template <typename T>
constexpr std::string_view RawName() {
  return __PRETTY_FUNCTION__;
}

constexpr std::string_view TypeNameFrom(std::string_view pretty) {
  constexpr std::string_view kMarker = "T = ";
  const size_t at = pretty.find(kMarker);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + kMarker.size();
  // The name ends at the ';' or ']' that closes the list, not at a ']' inside the name (an
  // array bound in a template argument: "Rec<int [2]>"). No ';' appears in a type's name.
  int depth = 0;
  for (size_t i = begin; i < pretty.size(); ++i) {
    const char c = pretty[i];
    if (c == '[' || c == '(') {
      ++depth;
    } else if (depth > 0 && (c == ']' || c == ')')) {
      --depth;
    } else if (depth == 0 && (c == ';' || c == ']')) {
      return i == begin ? std::string_view() : pretty.substr(begin, i - begin);
    }
  }
  return {};
}

// The fully qualified name of T, or `fallback` if the compiler's text cannot be read.
template <typename T>
constexpr std::string_view QualifiedTypeName(std::string_view fallback) {
  constexpr std::string_view name = TypeNameFrom(RawName<T>());
  return name.empty() ? fallback : name;
}

template <typename Field>
FieldInfo MakeField(const char* name, size_t offset) {
  using F = std::remove_cv_t<Field>;
  static_assert(FieldTraits<F>::kSupported,
                "recstore: unsupported field type (use integers, float, double, bool, char, "
                "enums or fixed-size arrays of them)");
  return FieldInfo{name, FieldTraits<F>::kType, static_cast<uint32_t>(offset),
                   static_cast<uint32_t>(sizeof(F)), FieldTraits<F>::kCount};
}

// RECSTORE_FOR_EACH_(M, T, a, b, c) -> M(T, a) M(T, b) M(T, c), up to 32 arguments.
#define RECSTORE_NARGS_(...)                                                                    \
  RECSTORE_NARGS_IMPL_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, \
                       17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define RECSTORE_NARGS_IMPL_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15,     \
                             _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, \
                             _30, _31, _32, N, ...)                                                \
  N
#define RECSTORE_CAT_(a, b) RECSTORE_CAT_IMPL_(a, b)
#define RECSTORE_CAT_IMPL_(a, b) a##b
#define RECSTORE_FE_1(M, T, x) M(T, x)
#define RECSTORE_FE_2(M, T, x, ...) M(T, x) RECSTORE_FE_1(M, T, __VA_ARGS__)
#define RECSTORE_FE_3(M, T, x, ...) M(T, x) RECSTORE_FE_2(M, T, __VA_ARGS__)
#define RECSTORE_FE_4(M, T, x, ...) M(T, x) RECSTORE_FE_3(M, T, __VA_ARGS__)
#define RECSTORE_FE_5(M, T, x, ...) M(T, x) RECSTORE_FE_4(M, T, __VA_ARGS__)
#define RECSTORE_FE_6(M, T, x, ...) M(T, x) RECSTORE_FE_5(M, T, __VA_ARGS__)
#define RECSTORE_FE_7(M, T, x, ...) M(T, x) RECSTORE_FE_6(M, T, __VA_ARGS__)
#define RECSTORE_FE_8(M, T, x, ...) M(T, x) RECSTORE_FE_7(M, T, __VA_ARGS__)
#define RECSTORE_FE_9(M, T, x, ...) M(T, x) RECSTORE_FE_8(M, T, __VA_ARGS__)
#define RECSTORE_FE_10(M, T, x, ...) M(T, x) RECSTORE_FE_9(M, T, __VA_ARGS__)
#define RECSTORE_FE_11(M, T, x, ...) M(T, x) RECSTORE_FE_10(M, T, __VA_ARGS__)
#define RECSTORE_FE_12(M, T, x, ...) M(T, x) RECSTORE_FE_11(M, T, __VA_ARGS__)
#define RECSTORE_FE_13(M, T, x, ...) M(T, x) RECSTORE_FE_12(M, T, __VA_ARGS__)
#define RECSTORE_FE_14(M, T, x, ...) M(T, x) RECSTORE_FE_13(M, T, __VA_ARGS__)
#define RECSTORE_FE_15(M, T, x, ...) M(T, x) RECSTORE_FE_14(M, T, __VA_ARGS__)
#define RECSTORE_FE_16(M, T, x, ...) M(T, x) RECSTORE_FE_15(M, T, __VA_ARGS__)
#define RECSTORE_FE_17(M, T, x, ...) M(T, x) RECSTORE_FE_16(M, T, __VA_ARGS__)
#define RECSTORE_FE_18(M, T, x, ...) M(T, x) RECSTORE_FE_17(M, T, __VA_ARGS__)
#define RECSTORE_FE_19(M, T, x, ...) M(T, x) RECSTORE_FE_18(M, T, __VA_ARGS__)
#define RECSTORE_FE_20(M, T, x, ...) M(T, x) RECSTORE_FE_19(M, T, __VA_ARGS__)
#define RECSTORE_FE_21(M, T, x, ...) M(T, x) RECSTORE_FE_20(M, T, __VA_ARGS__)
#define RECSTORE_FE_22(M, T, x, ...) M(T, x) RECSTORE_FE_21(M, T, __VA_ARGS__)
#define RECSTORE_FE_23(M, T, x, ...) M(T, x) RECSTORE_FE_22(M, T, __VA_ARGS__)
#define RECSTORE_FE_24(M, T, x, ...) M(T, x) RECSTORE_FE_23(M, T, __VA_ARGS__)
#define RECSTORE_FE_25(M, T, x, ...) M(T, x) RECSTORE_FE_24(M, T, __VA_ARGS__)
#define RECSTORE_FE_26(M, T, x, ...) M(T, x) RECSTORE_FE_25(M, T, __VA_ARGS__)
#define RECSTORE_FE_27(M, T, x, ...) M(T, x) RECSTORE_FE_26(M, T, __VA_ARGS__)
#define RECSTORE_FE_28(M, T, x, ...) M(T, x) RECSTORE_FE_27(M, T, __VA_ARGS__)
#define RECSTORE_FE_29(M, T, x, ...) M(T, x) RECSTORE_FE_28(M, T, __VA_ARGS__)
#define RECSTORE_FE_30(M, T, x, ...) M(T, x) RECSTORE_FE_29(M, T, __VA_ARGS__)
#define RECSTORE_FE_31(M, T, x, ...) M(T, x) RECSTORE_FE_30(M, T, __VA_ARGS__)
#define RECSTORE_FE_32(M, T, x, ...) M(T, x) RECSTORE_FE_31(M, T, __VA_ARGS__)
#define RECSTORE_FOR_EACH_(M, T, ...) \
  RECSTORE_CAT_(RECSTORE_FE_, RECSTORE_NARGS_(__VA_ARGS__))(M, T, __VA_ARGS__)

#define RECSTORE_FIELD_(T, f) \
  fields.push_back(::recstore::schema_internal::MakeField<decltype(T::f)>(#f, offsetof(T, f)));

}  // namespace schema_internal

// Declares the schema of record type `Type` (see the top of this file).
#define RECSTORE_RECORD(Type, ...)                                                            \
  [[maybe_unused]] inline const ::recstore::RecordSchema& RecstoreSchemaOf(const Type*) {     \
    static_assert(std::is_trivially_copyable_v<Type>,                                         \
                  "recstore: a record type must be trivially copyable");                      \
    static_assert(std::is_standard_layout_v<Type>,                                            \
                  "recstore: a record type must be standard-layout");                         \
    static_assert(alignof(Type) <= 4096, "recstore: record alignment above 4096");            \
    /* Every field listed: the names bind to the struct's fields in declaration order, so */  \
    /* a missing or extra name fails to compile ("only N names provided for structured     */ \
    /* binding"): RECSTORE_RECORD must list every field of Type.                           */ \
    [[maybe_unused]] auto every_field_listed = [](const Type& record_) {                      \
      [[maybe_unused]] const auto& [__VA_ARGS__] = record_;                                   \
    };                                                                                        \
    static const ::recstore::RecordSchema schema = [] {                                       \
      ::recstore::RecordSchema s{                                                             \
          std::string(::recstore::schema_internal::QualifiedTypeName<Type>(#Type)),           \
          sizeof(Type),                                                                       \
          alignof(Type),                                                                      \
          {}};                                                                                \
      auto& fields = s.fields;                                                                \
      RECSTORE_FOR_EACH_(RECSTORE_FIELD_, Type, __VA_ARGS__)                                  \
      return s;                                                                               \
    }();                                                                                      \
    return schema;                                                                            \
  }                                                                                           \
  static_assert(true, "")

// True for types declared with RECSTORE_RECORD.
template <typename T>
concept RecordType = requires(const T* p) {
  { RecstoreSchemaOf(p) } -> std::same_as<const RecordSchema&>;
};

// The schema of a RECSTORE_RECORD type. The reference stays valid for the program's life.
template <RecordType T>
const RecordSchema& SchemaOf() {
  return RecstoreSchemaOf(static_cast<const T*>(nullptr));
}

}  // namespace recstore

#endif  // RECSTORE_SCHEMA_H_
