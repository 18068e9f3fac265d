// Out-of-line parts of the public schema header.
#include "recstore/schema.h"

namespace recstore {

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kInt8:
      return "int8";
    case FieldType::kInt16:
      return "int16";
    case FieldType::kInt32:
      return "int32";
    case FieldType::kInt64:
      return "int64";
    case FieldType::kUInt8:
      return "uint8";
    case FieldType::kUInt16:
      return "uint16";
    case FieldType::kUInt32:
      return "uint32";
    case FieldType::kUInt64:
      return "uint64";
    case FieldType::kFloat:
      return "float";
    case FieldType::kDouble:
      return "double";
    case FieldType::kBool:
      return "bool";
    case FieldType::kChar:
      return "char";
  }
  return "unknown";
}

uint32_t FieldTypeSize(FieldType type) {
  switch (type) {
    case FieldType::kInt8:
    case FieldType::kUInt8:
    case FieldType::kBool:
    case FieldType::kChar:
      return 1;
    case FieldType::kInt16:
    case FieldType::kUInt16:
      return 2;
    case FieldType::kInt32:
    case FieldType::kUInt32:
    case FieldType::kFloat:
      return 4;
    case FieldType::kInt64:
    case FieldType::kUInt64:
    case FieldType::kDouble:
      return 8;
  }
  return 0;
}

}  // namespace recstore
