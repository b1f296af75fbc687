#include <core/money.h>

#include <limits>

#include <gtest/gtest.h>

namespace jiancang::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

TEST(FenTest, ParsesYuan) {
  EXPECT_EQ(*Fen::parseYuan("12.34"), Fen(1234));
  EXPECT_EQ(*Fen::parseYuan("12.3"), Fen(1230));
  EXPECT_EQ(*Fen::parseYuan("12"), Fen(1200));
  EXPECT_EQ(*Fen::parseYuan("0.05"), Fen(5));
  EXPECT_EQ(*Fen::parseYuan("-0.05"), Fen(-5));
  EXPECT_EQ(*Fen::parseYuan("92233720368547758.07"), Fen(kMax));
  EXPECT_EQ(*Fen::parseYuan("-92233720368547758.08"), Fen(kMin));
}

TEST(FenTest, RefusesMalformedAmounts) {
  for (const char* text :
       {"", "-", ".5", "12.", "1e3", "+1", " 1", "1 ", "1,000", "¥1", "0x10", "1.2.3", "--1"}) {
    EXPECT_EQ(Fen::parseYuan(text).status().reason(), "money-malformed") << text;
  }
  EXPECT_EQ(Fen::parseYuan("1.234").status().reason(), "money-too-precise");
  EXPECT_EQ(Fen::parseYuan("92233720368547758.08").status().reason(), "money-overflow");
  EXPECT_EQ(Fen::parseYuan("99999999999999999999").status().reason(), "money-overflow");
}

TEST(FenTest, FormatsYuan) {
  EXPECT_EQ(Fen(1234).toYuanString(), "12.34");
  EXPECT_EQ(Fen(5).toYuanString(), "0.05");
  EXPECT_EQ(Fen(-5).toYuanString(), "-0.05");
  EXPECT_EQ(Fen(0).toYuanString(), "0.00");
  EXPECT_EQ(Fen(kMin).toYuanString(), "-92233720368547758.08");
  for (std::int64_t fen : {kMin, kMax, std::int64_t{-1}, std::int64_t{100}, std::int64_t{99}}) {
    EXPECT_EQ(*Fen::parseYuan(Fen(fen).toYuanString()), Fen(fen));
  }
}

TEST(FenTest, ArithmeticIsChecked) {
  EXPECT_EQ(*Fen(100).plus(Fen(23)), Fen(123));
  EXPECT_EQ(*Fen(100).minus(Fen(123)), Fen(-23));
  EXPECT_EQ(*Fen(199).times(3), Fen(597));
  EXPECT_EQ(Fen(kMax).plus(Fen(1)).status().reason(), "money-overflow");
  EXPECT_EQ(Fen(kMin).minus(Fen(1)).status().reason(), "money-overflow");
  EXPECT_EQ(Fen(kMax / 2 + 1).times(2).status().reason(), "money-overflow");
}

TEST(FenTest, SharesRoundTowardZero) {
  EXPECT_EQ(*Fen(9999).share(1000), Fen(999));  // 10% of 99.99 is 9.999 → 9.99
  EXPECT_EQ(*Fen(-9999).share(1000), Fen(-999));
  EXPECT_EQ(*Fen(kMax).share(10000), Fen(kMax));
  EXPECT_EQ(*Fen(kMax).share(3000), Fen(kMax / 10000 * 3000 + (kMax % 10000) * 3000 / 10000));
  EXPECT_EQ(Fen(100).share(10001).status().reason(), "basis-points-out-of-range");
}

}  // namespace
}  // namespace jiancang::core
