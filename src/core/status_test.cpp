#include <core/status.h>

#include <memory>

#include <gtest/gtest.h>

namespace jiancang::core {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.isOk());
  EXPECT_EQ(status.code(), ErrorCode::kOk);
  EXPECT_EQ(status.toString(), "ok");
}

TEST(StatusTest, ErrorKeepsCodeReasonAndMessage) {
  Status status = invalidArgument("decode-trailing-bytes", "3 bytes follow the value");
  EXPECT_FALSE(status.isOk());
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(status.reason(), "decode-trailing-bytes");
  EXPECT_EQ(status.toString(), "invalid-argument/decode-trailing-bytes: 3 bytes follow the value");
}

TEST(StatusTest, CodeNamesAreStable) {
  // These strings are part of the API; changing one breaks clients.
  EXPECT_EQ(errorCodeName(ErrorCode::kNotFound), "not-found");
  EXPECT_EQ(errorCodeName(ErrorCode::kFailedPrecondition), "failed-precondition");
  EXPECT_EQ(errorCodeName(ErrorCode::kResourceExhausted), "resource-exhausted");
  EXPECT_EQ(static_cast<int>(ErrorCode::kInternal), 11);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  EXPECT_TRUE(good.status().isOk());

  Result<int> bad = notFound("no-such-token", "token 7 does not exist");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "no-such-token");
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(7);
  std::unique_ptr<int> value = std::move(result).value();
  EXPECT_EQ(*value, 7);
}

}  // namespace
}  // namespace jiancang::core
