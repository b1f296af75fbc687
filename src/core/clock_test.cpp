#include <core/clock.h>

#include <gtest/gtest.h>

namespace jiancang::core {
namespace {

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(Timestamp::fromUnixMillis(1'000));
  EXPECT_EQ(clock.now().unixMillis(), 1'000);
  clock.advance(Duration(250));
  EXPECT_EQ(clock.now().unixMillis(), 1'250);
  clock.set(Timestamp::fromUnixMillis(5));
  EXPECT_EQ(clock.now(), Timestamp::fromUnixMillis(5));
}

TEST(TimestampTest, ArithmeticAndOrder) {
  Timestamp start = Timestamp::fromUnixMillis(10'000);
  Timestamp later = start + Duration(500);
  EXPECT_LT(start, later);
  EXPECT_EQ(later - start, Duration(500));
}

TEST(SystemClockTest, ReadsAPlausibleTime) {
  // After 2024-01-01 and before 2100-01-01: catches a clock in seconds or microseconds.
  std::int64_t now = SystemClock().now().unixMillis();
  EXPECT_GT(now, 1'704'067'200'000);
  EXPECT_LT(now, 4'102'444'800'000);
}

}  // namespace
}  // namespace jiancang::core
