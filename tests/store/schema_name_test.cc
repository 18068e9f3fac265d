// The type name a schema carries: the record type's fully qualified C++ name, read at compile
// time from __PRETTY_FUNCTION__, so that a mismatch between two types of one name in
// different namespaces names both. The name is informational: schemas are compared without
// it, so a collection created when it held the unqualified name opens as before.
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "src/store/manifest_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace app::v1 {
struct Reading {
  uint64_t ts;
  double value;
};
RECSTORE_RECORD(Reading, ts, value);
}  // namespace app::v1

namespace app::v2 {
struct Reading {
  uint64_t ts;
  float value;
  uint32_t quality;
};
RECSTORE_RECORD(Reading, ts, value, quality);

template <int N>
struct Sized {
  char bytes[N];
};
RECSTORE_RECORD(Sized<4>, bytes);
}  // namespace app::v2

namespace {
struct Local {
  int32_t v;
};
RECSTORE_RECORD(Local, v);
}  // namespace

namespace recstore {
namespace {

using ::recstore::schema_internal::RawName;
using ::recstore::schema_internal::TypeNameFrom;
using ::recstore::testing::StatusIs;
using ::recstore::testing::TestDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Read at compile time.
static_assert(TypeNameFrom(RawName<app::v1::Reading>()) == "app::v1::Reading");
static_assert(TypeNameFrom(RawName<app::v2::Sized<4>>()) == "app::v2::Sized<4>");

TEST(SchemaNameTest, SchemasCarryTheQualifiedName) {
  EXPECT_EQ(SchemaOf<app::v1::Reading>().type_name, "app::v1::Reading");
  EXPECT_EQ(SchemaOf<app::v2::Reading>().type_name, "app::v2::Reading");
  EXPECT_EQ(SchemaOf<app::v2::Sized<4>>().type_name, "app::v2::Sized<4>");
  // GCC: "{anonymous}::Local"; clang: "(anonymous namespace)::Local".
  EXPECT_THAT(SchemaOf<Local>().type_name, AllOf(HasSubstr("anonymous"), HasSubstr("::Local")));
}

TEST(SchemaNameTest, ParsesGccAndClangSpellings) {
  EXPECT_EQ(TypeNameFrom("constexpr std::string_view recstore::schema_internal::RawName() "
                         "[with T = app::v2::Reading; std::string_view = "
                         "std::basic_string_view<char>]"),
            "app::v2::Reading");
  EXPECT_EQ(TypeNameFrom("std::string_view recstore::schema_internal::RawName() [T = "
                         "app::v2::Reading]"),
            "app::v2::Reading");
  // A ']' or ';' inside the name does not end it.
  EXPECT_EQ(TypeNameFrom("f() [with T = a::Rec<int [2]>; X = y]"), "a::Rec<int [2]>");
  EXPECT_EQ(TypeNameFrom("f() [T = a::Rec<b::C<(0 < 1)>, d::E[3]>]"),
            "a::Rec<b::C<(0 < 1)>, d::E[3]>");
  // Other shapes give nothing, and QualifiedTypeName falls back to the written name.
  EXPECT_EQ(TypeNameFrom("f()"), "");
  EXPECT_EQ(TypeNameFrom("f() [T = ]"), "");
  EXPECT_EQ(TypeNameFrom("f() [T = a::Rec<int"), "");
}

TEST(SchemaNameTest, MismatchNamesBothQualifiedTypes) {
  const std::string dir = TestDir();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
  ASSERT_OK_AND_ASSIGN(auto v1, store->OpenLog<app::v1::Reading>("readings"));
  EXPECT_EQ(v1.info().schema.type_name, "app::v1::Reading");
  EXPECT_THAT(
      store->OpenLog<app::v2::Reading>("readings"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("created with record type 'app::v1::Reading'"),
                     HasSubstr("opening it as 'app::v2::Reading'"), HasSubstr("field 'value'"))));
}

TEST(SchemaNameTest, CollectionsWithTheUnqualifiedNameStillOpen) {
  const std::string dir = TestDir();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, {.create_if_missing = true}));
    ASSERT_OK_AND_ASSIGN(auto v1, store->OpenLog<app::v1::Reading>("readings"));
    ASSERT_OK(v1.Append({.ts = 1, .value = 2.5}).status());
    ASSERT_OK(v1.Sync().status());
  }
  // As an earlier version wrote it: the name given to RECSTORE_RECORD.
  ASSERT_OK_AND_ASSIGN(format::Manifest m, store::ReadManifest(Env::Default(), dir));
  ASSERT_EQ(m.collections.size(), 1u);
  m.collections[0].schema.type_name = "Reading";
  ASSERT_OK(store::WriteManifest(Env::Default(), dir, m, 0644));

  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto v1, store->OpenLog<app::v1::Reading>("readings"));
  EXPECT_EQ(v1.info().schema.type_name, "Reading");  // the stored name stays
  ASSERT_OK_AND_ASSIGN(const app::v1::Reading* r, v1.Get(0));
  EXPECT_EQ(r->value, 2.5);
  EXPECT_THAT(store->OpenLog<app::v2::Reading>("readings"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("'Reading'"), HasSubstr("'app::v2::Reading'"))));
}

}  // namespace
}  // namespace recstore
