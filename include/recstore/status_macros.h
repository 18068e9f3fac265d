// Copyright recstore authors.
//
// Early-return helpers for absl::Status and absl::StatusOr<T>.
//
//   RECSTORE_RETURN_IF_ERROR(expr);
//     Evaluates `expr` (an absl::Status or absl::StatusOr<T>) once; if it is not OK, returns
//     its status from the enclosing function, which must return absl::Status or
//     absl::StatusOr<U>.
//
//   RECSTORE_ASSIGN_OR_RETURN(lhs, expr);
//     Evaluates `expr` (an absl::StatusOr<T>) once; if it holds a value, moves the value into
//     `lhs` (which may declare a variable: `auto x`, `const T* p`, or a structured binding in
//     parentheses is not supported); otherwise returns its status.
//
// The short names RETURN_IF_ERROR and ASSIGN_OR_RETURN are defined too unless another
// library already defined them or RECSTORE_NO_SHORT_STATUS_MACROS is defined before this
// header is included.
#ifndef RECSTORE_STATUS_MACROS_H_
#define RECSTORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recstore/config.h"  // first: fails clearly below C++20

namespace recstore::status_internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace recstore::status_internal

#define RECSTORE_STATUS_CONCAT_INNER_(a, b) a##b
#define RECSTORE_STATUS_CONCAT_(a, b) RECSTORE_STATUS_CONCAT_INNER_(a, b)

#define RECSTORE_RETURN_IF_ERROR(expr)                                       \
  do {                                                                       \
    const auto& recstore_status_value_ = (expr);                             \
    if (!recstore_status_value_.ok()) {                                      \
      return ::recstore::status_internal::GetStatus(recstore_status_value_); \
    }                                                                        \
  } while (false)

#define RECSTORE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#define RECSTORE_ASSIGN_OR_RETURN(lhs, expr) \
  RECSTORE_ASSIGN_OR_RETURN_IMPL_(RECSTORE_STATUS_CONCAT_(recstore_statusor_, __LINE__), lhs, expr)

#ifndef RECSTORE_NO_SHORT_STATUS_MACROS
#ifndef RETURN_IF_ERROR
#define RETURN_IF_ERROR(expr) RECSTORE_RETURN_IF_ERROR(expr)
#endif
#ifndef ASSIGN_OR_RETURN
#define ASSIGN_OR_RETURN(lhs, expr) RECSTORE_ASSIGN_OR_RETURN(lhs, expr)
#endif
#endif  // RECSTORE_NO_SHORT_STATUS_MACROS

#endif  // RECSTORE_STATUS_MACROS_H_
