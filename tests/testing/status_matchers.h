// GoogleTest matchers and macros for absl::Status and absl::StatusOr<T>.
//
//   EXPECT_OK(expr);                    ASSERT_OK(expr);
//   ASSERT_OK_AND_ASSIGN(auto v, expr);
//   EXPECT_THAT(expr, IsOk());
//   EXPECT_THAT(expr, StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(expr, StatusIs(absl::StatusCode::kNotFound, HasSubstr("MANIFEST")));
//   EXPECT_THAT(statusor, IsOkAndHolds(Eq(3)));
#ifndef RECSTORE_TESTS_TESTING_STATUS_MATCHERS_H_
#define RECSTORE_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recstore::testing {

inline const absl::Status& ToStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& s = ToStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "does not have" : "has") + " code " +
              absl::StatusCodeToString(code)) {
  const absl::Status& s = ToStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string(negation ? "does not have" : "has") + " code " +
               absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& s = ToStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace recstore::testing

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::recstore::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::recstore::testing::IsOk())

#define RECSTORE_TESTING_CONCAT_INNER_(a, b) a##b
#define RECSTORE_TESTING_CONCAT_(a, b) RECSTORE_TESTING_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_THAT(tmp, ::recstore::testing::IsOk());   \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(RECSTORE_TESTING_CONCAT_(statusor_, __LINE__), lhs, expr)

#endif  // RECSTORE_TESTS_TESTING_STATUS_MATCHERS_H_
