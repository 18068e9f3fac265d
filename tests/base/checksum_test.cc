#include "src/base/checksum.h"

#include <string>

#include "gtest/gtest.h"

namespace recstore::base {
namespace {

TEST(ChecksumTest, MatchesKnownXxh3Value) {
  // XXH3_64bits of the empty input with seed 0 (from the xxHash reference test vectors).
  EXPECT_EQ(StringChecksum64("", 0), 0x2D06800538D394C2ull);
}

TEST(ChecksumTest, DetectsEverySingleBitFlip) {
  std::string data(100, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  const uint64_t good = StringChecksum64(data);
  for (size_t byte = 0; byte < data.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      data[byte] ^= static_cast<char>(1 << bit);
      EXPECT_NE(StringChecksum64(data), good) << "byte " << byte << " bit " << bit;
      data[byte] ^= static_cast<char>(1 << bit);
    }
  }
  EXPECT_EQ(StringChecksum64(data), good);
}

TEST(ChecksumTest, SeedChangesTheValue) {
  EXPECT_NE(StringChecksum64("record", 1), StringChecksum64("record", 2));
  EXPECT_EQ(StringChecksum64("record", 9), StringChecksum64("record", 9));
}

TEST(ChecksumTest, BuilderEqualsOneShotOverConcatenation) {
  const std::string a = "length-prefix", b(5000, 'z'), c = "tail";
  ChecksumBuilder builder(42);
  builder.Add(a).Add(b).Add(c.data(), c.size());
  EXPECT_EQ(builder.Finish(), StringChecksum64(a + b + c, 42));
}

}  // namespace
}  // namespace recstore::base
