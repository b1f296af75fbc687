#include <platform/gifts.h>

#include <platform/testing/drops_fixture.h>

namespace jiancang::platform {
namespace {

using testing::identityNumber;

// A published series whose tokens must be held a day before their first gift, one token minted
// to a verified collector, and a second verified collector to give it to.
class GiftsTest : public testing::CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    if (HasFatalFailure()) return;
    SeriesDraft published;
    publishSeries(20, &published);
    if (HasFatalFailure()) return;
    token_ = chain::TokenId{chain::SeriesId(published.seriesId), 1};

    ASSERT_TRUE(accounts_->verifyIdentity(collector_, {"张三", identityNumber(1)}).ok());
    auto friendAccount = accounts_->registerCollector("13800138004", "friend password");
    ASSERT_TRUE(friendAccount.ok());
    friend_ = friendAccount->id;
    auto holder = accounts_->user(collector_);
    auto issuerKey = accounts_->signingKey(issuer_);
    ASSERT_TRUE(holder.ok() && issuerKey.ok());
    auto minted = writer_->submit(*issuerKey, chain::Mint{token_.series, {holder->address}});
    ASSERT_TRUE(minted.ok() && minted->receipt.ok()) << minted->receipt.message;
    gifts_ = std::make_unique<Gifts>(*accounts_, *writer_);
  }

  core::Address ownerOnChain() {
    auto bytes = ledger_->get(chain::state_keys::token(token_));
    EXPECT_TRUE(bytes.has_value());
    return core::decode<chain::TokenRecord>(*bytes)->owner;
  }

  chain::TokenId token_;
  std::int64_t friend_ = 0;
  std::unique_ptr<Gifts> gifts_;
};

TEST_P(GiftsTest, AVerifiedHolderGivesATokenOnceTheHoldingPeriodIsOver) {
  // The recipient must have a verified real name.
  EXPECT_EQ(gifts_->give(collector_, token_, "13800138004").status().reason(),
            "recipient-not-verified");
  ASSERT_TRUE(accounts_->verifyIdentity(friend_, {"李四", identityNumber(2)}).ok());

  // The series says a day: the chain refuses before it, whatever the platform is asked.
  EXPECT_EQ(gifts_->give(collector_, token_, "13800138004").status().reason(),
            "hold-period-active");
  clock_.advance(std::chrono::hours(25));
  auto gift = gifts_->give(collector_, token_, "13800138004");
  ASSERT_TRUE(gift.ok()) << gift.status().toString();
  auto recipient = accounts_->user(friend_);
  EXPECT_EQ(gift->to, recipient->address);
  EXPECT_EQ(gift->toUserId, friend_);
  EXPECT_GT(gift->height, 0u);
  EXPECT_EQ(ownerOnChain(), recipient->address);

  // It is no longer the giver's to give; its new holder cannot give it to themselves.
  EXPECT_EQ(gifts_->give(collector_, token_, "13800138004").status().reason(), "not-owner");
  EXPECT_EQ(gifts_->give(friend_, token_, "13800138004").status().reason(), "gift-to-self");
}

TEST_P(GiftsTest, RefusalsNameTheirReason) {
  clock_.advance(std::chrono::hours(25));
  ASSERT_TRUE(accounts_->verifyIdentity(friend_, {"李四", identityNumber(2)}).ok());
  EXPECT_EQ(gifts_->give(collector_, token_, "13900000000").status().reason(), "no-such-recipient");
  EXPECT_EQ(gifts_->give(collector_, token_, "1380013800").status().reason(),
            "no-such-recipient");  // a prefix is not a phone number
  EXPECT_EQ(gifts_->give(collector_, token_, "13800138003").status().reason(), "gift-to-self");
  // An unverified account gives nothing, even what it does not hold.
  EXPECT_EQ(gifts_->give(issuer_, token_, "13800138004").status().reason(), "identity-required");
  chain::TokenId missing{token_.series, 2};
  EXPECT_EQ(gifts_->give(collector_, missing, "13800138004").status().reason(), "token-not-found");
  EXPECT_EQ(ownerOnChain(), accounts_->user(collector_)->address);
}

INSTANTIATE_TEST_SUITE_P(Both, GiftsTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
