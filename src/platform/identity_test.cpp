#include <platform/identity.h>

#include <gtest/gtest.h>

namespace jiancang::platform {
namespace {

// 2026-11-23 12:00 UTC.
const core::Timestamp kNow = core::Timestamp::fromUnixMillis(1'795'435'200'000);

std::string reasonOf(const std::string& name, const std::string& number) {
  return checkIdentityClaim({name, number}).status().reason();
}

// The example GB 11643-1999 itself gives: Beijing, born 1949-12-31, check character X.
TEST(IdentityTest, AcceptsTheStandardsOwnExample) {
  auto checked = checkIdentityClaim({"张三", "11010519491231002X"});
  ASSERT_TRUE(checked.ok()) << checked.status().toString();
  EXPECT_EQ(checked->birthYear, 1949);
  EXPECT_EQ(checked->birthMonth, 12);
  EXPECT_EQ(checked->birthDay, 31);
  EXPECT_EQ(ageOn(*checked, kNow), 76);
  // A lower-case x is the same number.
  auto lower = checkIdentityClaim({"张三", "11010519491231002x"});
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->idNumber, "11010519491231002X");
}

TEST(IdentityTest, EveryWrongCheckCharacterIsRefused) {
  const std::string good = "11010519491231002X";
  for (char c : std::string("0123456789")) {
    std::string number = good.substr(0, 17) + c;
    EXPECT_EQ(reasonOf("张三", number), "identity-check-digit") << number;
  }
  // A single changed digit anywhere changes the check.
  for (std::size_t i = 6; i < 17; ++i) {
    std::string number = good;
    number[i] = number[i] == '9' ? '8' : static_cast<char>(number[i] + 1);
    std::string reason = reasonOf("张三", number);
    EXPECT_TRUE(reason == "identity-check-digit" || reason == "identity-birth-date") << number;
  }
}

TEST(IdentityTest, RefusesMalformedNumbers) {
  EXPECT_EQ(reasonOf("张三", ""), "identity-number-format");
  EXPECT_EQ(reasonOf("张三", "11010519491231002"), "identity-number-format");
  EXPECT_EQ(reasonOf("张三", "11010519491231002XX"), "identity-number-format");
  EXPECT_EQ(reasonOf("张三", "1101051949123100X2"), "identity-number-format");
  EXPECT_EQ(reasonOf("张三", "11010519491231002Y"), "identity-number-format");
  EXPECT_EQ(reasonOf("张三", "１１010519491231002X"), "identity-number-format");  // full-width
  EXPECT_EQ(reasonOf("张三", "99010519491231002X"), "identity-region");
  EXPECT_EQ(reasonOf("张三", "00010519491231002X"), "identity-region");
}

TEST(IdentityTest, RefusesImpossibleBirthDates) {
  // Check characters do not matter here: the date is refused first.
  EXPECT_EQ(reasonOf("张三", "110105194902300020"), "identity-birth-date");  // 30 February
  EXPECT_EQ(reasonOf("张三", "110105190002290020"), "identity-birth-date");  // 1900: no 29 Feb
  EXPECT_EQ(reasonOf("张三", "110105194913010020"), "identity-birth-date");  // month 13
  EXPECT_EQ(reasonOf("张三", "110105194900010020"), "identity-birth-date");  // month 0
  EXPECT_EQ(reasonOf("张三", "110105194901000020"), "identity-birth-date");  // day 0
  EXPECT_EQ(reasonOf("张三", "110105189912310020"), "identity-birth-date");  // before 1900
}

TEST(IdentityTest, RefusesBadNames) {
  const std::string number = "11010519491231002X";
  EXPECT_EQ(reasonOf("", number), "identity-name");
  EXPECT_EQ(reasonOf("张", number), "identity-name");
  EXPECT_EQ(reasonOf("张三3", number), "identity-name");
  EXPECT_EQ(reasonOf("<script>", number), "identity-name");
  EXPECT_EQ(reasonOf(std::string("张\x01三"), number), "identity-name");
  EXPECT_EQ(reasonOf("\xff\xfe", number), "identity-name");  // not UTF-8
  EXPECT_EQ(reasonOf(std::string(31, 'a'), number), "identity-name");
  EXPECT_TRUE(checkIdentityClaim({"阿依古丽·买买提", number}).ok());
}

TEST(IdentityTest, AgeCountsWholeYearsInChinaTime) {
  CheckedIdentity born{"x", "x", 2008, 11, 24};
  // 2026-11-23 12:00 UTC is 20:00 in Beijing: still 17.
  EXPECT_EQ(ageOn(born, kNow), 17);
  // 16:00 UTC is midnight in Beijing: the 24th, 18 years old.
  EXPECT_EQ(ageOn(born, kNow + std::chrono::hours(4)), 18);
  EXPECT_EQ(ageOn(born, kNow + std::chrono::hours(3)), 17);
  CheckedIdentity leap{"x", "x", 2000, 2, 29};
  EXPECT_EQ(ageOn(leap, core::Timestamp::fromUnixMillis(1'771'977'600'000)), 25);  // 2026-02-25
}

}  // namespace
}  // namespace jiancang::platform
