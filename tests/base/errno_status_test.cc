#include "src/base/errno_status.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace recstore::base {
namespace {

using ::recstore::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ErrnoStatusTest, MapsCommonErrors) {
  EXPECT_EQ(ErrnoToCode(ENOENT), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToCode(EEXIST), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrnoToCode(EACCES), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToCode(ENOSPC), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(EDQUOT), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(EAGAIN), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToCode(EINVAL), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToCode(EIO), absl::StatusCode::kInternal);  // an I/O error is not damage
  EXPECT_EQ(ErrnoToCode(EXDEV), absl::StatusCode::kInternal);
}

TEST(ErrnoStatusTest, MessageNamesCallPathAndErrno) {
  absl::Status s = ErrnoToStatus(EIO, "fdatasync", "data/trades/0.seg");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal,
                          AllOf(HasSubstr("fdatasync"), HasSubstr("data/trades/0.seg"),
                                HasSubstr("Input/output error"), HasSubstr("errno 5"))));
}

}  // namespace
}  // namespace recstore::base
