#include "src/base/endian.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace recstore::base {
namespace {

TEST(EndianTest, EncodesLeastSignificantByteFirst) {
  unsigned char buf[8];
  EncodeFixed32(buf, 0x04030201u);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[1], 0x02);
  EXPECT_EQ(buf[2], 0x03);
  EXPECT_EQ(buf[3], 0x04);
  EncodeFixed64(buf, 0x0807060504030201ull);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(buf[i], i + 1) << "byte " << i;
  EncodeFixed16(buf, 0xBEEF);
  EXPECT_EQ(buf[0], 0xEF);
  EXPECT_EQ(buf[1], 0xBE);
}

TEST(EndianTest, RoundTripsExtremesAtUnalignedAddresses) {
  unsigned char buf[17] = {};
  for (uint64_t v : {0ull, 1ull, 0xffull, 0x8000000000000000ull, ~0ull, 0x0123456789abcdefull}) {
    EncodeFixed64(buf + 1, v);
    EXPECT_EQ(DecodeFixed64(buf + 1), v);
    EncodeFixed32(buf + 3, static_cast<uint32_t>(v));
    EXPECT_EQ(DecodeFixed32(buf + 3), static_cast<uint32_t>(v));
    EncodeFixed16(buf + 5, static_cast<uint16_t>(v));
    EXPECT_EQ(DecodeFixed16(buf + 5), static_cast<uint16_t>(v));
  }
}

TEST(EndianTest, PutFixedAppends) {
  std::string s = "x";
  PutFixed<uint32_t>(&s, 7);
  PutFixed<uint16_t>(&s, 0x0102);
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[0], 'x');
  EXPECT_EQ(DecodeFixed32(s.data() + 1), 7u);
  EXPECT_EQ(DecodeFixed16(s.data() + 5), 0x0102);
}

}  // namespace
}  // namespace recstore::base
