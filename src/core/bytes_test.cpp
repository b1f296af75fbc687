#include <core/bytes.h>

#include <gtest/gtest.h>

#include <core/ids.h>

namespace jiancang::core {
namespace {

TEST(HexTest, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  std::string hex = toHex(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  auto back = fromHex(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(HexTest, AcceptsUppercase) {
  auto bytes = fromHex("ABcd");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, (Bytes{0xab, 0xcd}));
}

TEST(HexTest, RejectsMalformedText) {
  EXPECT_EQ(fromHex("abc").status().reason(), "hex-odd-length");
  EXPECT_EQ(fromHex("0x12").status().reason(), "hex-invalid-digit");
  EXPECT_EQ(fromHex("zz").status().reason(), "hex-invalid-digit");
  EXPECT_EQ(fromHex("12 3").status().reason(), "hex-invalid-digit");
  EXPECT_EQ(fromHex("123").status().reason(), "hex-odd-length");
  EXPECT_EQ(fromHex("1 23").status().reason(), "hex-invalid-digit");
  EXPECT_TRUE(fromHex("").ok());
}

TEST(FixedBytesTest, ChecksLengthAndCompares) {
  auto hash = TxHash::fromHex(std::string(64, 'a'));
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->hex(), std::string(64, 'a'));
  EXPECT_EQ(TxHash::fromHex("aa").status().reason(), "hex-wrong-length");
  EXPECT_FALSE(Address::fromView(Bytes(19)).has_value());
  EXPECT_TRUE(Address().isZero());
  EXPECT_LT(*TxHash::fromHex(std::string(64, '0')), *hash);
}

TEST(BytesTest, ConstantTimeEqualComparesContentAndLength) {
  Bytes a{1, 2, 3};
  EXPECT_TRUE(constantTimeEqual(a, Bytes{1, 2, 3}));
  EXPECT_FALSE(constantTimeEqual(a, Bytes{1, 2, 4}));
  EXPECT_FALSE(constantTimeEqual(a, Bytes{1, 2}));
  EXPECT_TRUE(constantTimeEqual(Bytes{}, Bytes{}));
}

TEST(BytesTest, SecureWipeZeroes) {
  Bytes secret{9, 9, 9};
  secureWipe(secret);
  EXPECT_EQ(secret, (Bytes{0, 0, 0}));
}

}  // namespace
}  // namespace jiancang::core
