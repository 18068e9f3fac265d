// The message layer of shipping (src/ship/message.h): ids, subjects and the schema header,
// including the example of docs/format.md section 11 and hostile header values.
#include "src/ship/message.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recstore/recstore.h"
#include "tests/testing/status_matchers.h"

namespace recstore::ship {
namespace {

using ::recstore::testing::IsOk;
using ::recstore::testing::StatusIs;

struct Tick {
  int64_t ts;
  double px;
};
RECSTORE_RECORD(Tick, ts, px);

TEST(MessageTest, IdsRoundTripAndForeignIdsAreRefused) {
  const std::string id = MessageId("3f9ca1", "trades.v2 (eu)", 18446744073709551615u);
  EXPECT_EQ(id, "3f9ca1/trades.v2 (eu)/18446744073709551615");
  std::optional<ParsedId> p = ParseMessageId(id);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->store_id, "3f9ca1");
  EXPECT_EQ(p->collection, "trades.v2 (eu)");
  EXPECT_EQ(p->seq, 18446744073709551615u);
  for (const char* bad : {"", "x", "a/b", "/c/1", "a//1", "a/b/", "a/b/-1", "a/b/1x",
                          "a/b/18446744073709551616", "a/b/ 1"}) {
    EXPECT_FALSE(ParseMessageId(bad).has_value()) << bad;
  }
}

TEST(MessageTest, SubjectsAreValidAndMatchStreamFilters) {
  EXPECT_EQ(DefaultSubject("trades.v2 (eu)*>"), "recstore.trades_v2_(eu)__");
  EXPECT_THAT(CheckSubject(DefaultSubject("a.b c\t*>")), IsOk());
  EXPECT_THAT(CheckSubject("orders.eu"), IsOk());
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a.*", "a.>", "a\x01"}) {
    EXPECT_THAT(CheckSubject(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_TRUE(SubjectMatches("recstore.events", "recstore.events"));
  EXPECT_TRUE(SubjectMatches("recstore.*", "recstore.events"));
  EXPECT_TRUE(SubjectMatches("recstore.>", "recstore.events.eu"));
  EXPECT_TRUE(SubjectMatches(">", "a"));
  EXPECT_FALSE(SubjectMatches("recstore.*", "recstore.events.eu"));
  EXPECT_FALSE(SubjectMatches("recstore.>", "recstore"));
  EXPECT_FALSE(SubjectMatches("recstore.events", "recstore.event"));
}

TEST(MessageTest, SchemaHeaderIsTheFormatDocumentsExample) {
  RecordSchema schema = SchemaOf<Tick>();
  schema.type_name = "Tick";
  const std::string header = SchemaHeader(schema);
  EXPECT_EQ(header,
            "BABUaWNrEAAAAAgAAAACAAAAAgB0cwQAAAAAAAAACAAAAAEAAAACAHB4CgAAAAgAAAAIAAAAAQAAAA==");
  absl::StatusOr<RecordSchema> back = ParseSchemaHeader(header, "message 1");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->size, sizeof(Tick));
  ASSERT_EQ(back->fields.size(), 2u);
  EXPECT_EQ(back->fields[1].name, "px");
  EXPECT_EQ(back->fields[1].offset, 8u);
}

TEST(MessageTest, HostileSchemaHeadersAreDataLoss) {
  EXPECT_THAT(ParseSchemaHeader("not base64!", "m"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ParseSchemaHeader("", "m"), StatusIs(absl::StatusCode::kDataLoss));
  // Valid base64 of a schema whose field lies outside the record, and of one truncated.
  RecordSchema schema = SchemaOf<Tick>();
  schema.fields[1].offset = 12;
  EXPECT_THAT(ParseSchemaHeader(SchemaHeader(schema), "m"), StatusIs(absl::StatusCode::kDataLoss));
  const std::string good = SchemaHeader(SchemaOf<Tick>());
  EXPECT_THAT(ParseSchemaHeader(good.substr(0, 20), "m"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace recstore::ship
