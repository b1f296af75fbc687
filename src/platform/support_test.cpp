#include <platform/support.h>

#include <gtest/gtest.h>
#include <sodium.h>

#include <platform/testing/databases.h>

namespace jiancang::platform {
namespace {

class SupportTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    database_ = testing::freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    accounts_ = std::make_unique<Accounts>(*database_, masterKey_,
                                           core::cryptoSuite(core::SuiteId::kEd25519Sha256),
                                           verifier_, clock_, testing::fastAccountsOptions());
    support_ = std::make_unique<Support>(*database_, *accounts_, clock_);
    auto password = accounts_->ensureOperator("13000000000");
    ASSERT_TRUE(password.ok() && password->has_value());
    operator_ = accounts_->login("13000000000", **password, "t")->first.id;
    alice_ = accounts_->registerCollector("13800138000", "alice password")->id;
    bob_ = accounts_->registerCollector("13800138001", "bob password")->id;
  }

  std::unique_ptr<Database> database_;
  MasterKey masterKey_ = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 4));
  LocalIdentityVerifier verifier_;
  core::ManualClock clock_{core::Timestamp::fromUnixMillis(1'795'435'200'000)};
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<Support> support_;
  std::int64_t operator_ = 0;
  std::int64_t alice_ = 0;
  std::int64_t bob_ = 0;
};

TEST_P(SupportTest, OperatorsAnnouncePinnedFirstThenNewest) {
  EXPECT_EQ(support_->announce(alice_, "x", "y", false).status().reason(), "not-operator");
  EXPECT_EQ(support_->announce(operator_, "", "y", false).status().reason(), "title-length");
  EXPECT_EQ(support_->announce(operator_, "x", std::string(10'001, 'y'), false).status().reason(),
            "body-length");
  auto first = support_->announce(operator_, "首发公告", "敦煌飞天 8 月 1 日开售", false);
  clock_.set(clock_.now() + std::chrono::minutes(1));
  auto pinned = support_->announce(operator_, "平台规则", "实名认证后方可购买", true);
  clock_.set(clock_.now() + std::chrono::minutes(1));
  auto latest = support_->announce(operator_, "维护通知", "今晚 23:00 维护", false);
  ASSERT_TRUE(first.ok() && pinned.ok() && latest.ok());
  auto list = support_->announcements(10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, pinned->id);
  EXPECT_EQ((*list)[1].id, latest->id);
  EXPECT_EQ((*list)[2].id, first->id);
  EXPECT_EQ(support_->announcements(1)->size(), 1u);
  EXPECT_EQ(support_->withdraw(alice_, first->id).reason(), "not-operator");
  EXPECT_TRUE(support_->withdraw(operator_, first->id).isOk());
  EXPECT_EQ(support_->withdraw(operator_, first->id).reason(), "no-such-announcement");
  EXPECT_EQ(support_->announcements(10)->size(), 2u);
}

TEST_P(SupportTest, TicketsAreSeenByTheirOpenerAndStaffOnly) {
  EXPECT_EQ(support_->openTicket(alice_, "", "body").status().reason(), "subject-length");
  auto ticket = support_->openTicket(alice_, "订单未到账", "付款后藏品没有出现");
  ASSERT_TRUE(ticket.ok()) << ticket.status().toString();
  EXPECT_TRUE(ticket->open);
  ASSERT_EQ(ticket->messages.size(), 1u);

  // Bob cannot see, answer or close Alice's ticket: to him it does not exist.
  EXPECT_EQ(support_->ticket(bob_, ticket->id).status().reason(), "no-such-ticket");
  EXPECT_EQ(support_->reply(bob_, ticket->id, "me too").status().reason(), "no-such-ticket");
  EXPECT_EQ(support_->close(bob_, ticket->id).status().reason(), "no-such-ticket");
  EXPECT_TRUE(support_->tickets(bob_, false)->empty());
  EXPECT_EQ(support_->tickets(bob_, true).status().reason(), "not-operator");

  auto answered = support_->reply(operator_, ticket->id, "已为您补发，请刷新");
  ASSERT_TRUE(answered.ok());
  ASSERT_EQ(answered->messages.size(), 2u);
  EXPECT_TRUE(answered->messages[1].fromStaff);
  EXPECT_FALSE(answered->messages[0].fromStaff);
  EXPECT_EQ(support_->tickets(operator_, true)->size(), 1u);
  EXPECT_TRUE(support_->reply(alice_, ticket->id, "收到，谢谢").ok());
  auto closed = support_->close(alice_, ticket->id);
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(closed->open);
  EXPECT_EQ(support_->reply(operator_, ticket->id, "late").status().reason(), "ticket-closed");
  EXPECT_EQ(support_->ticket(alice_, ticket->id)->messages.size(), 3u);
  EXPECT_EQ(support_->ticket(alice_, 999).status().reason(), "no-such-ticket");
}

TEST_P(SupportTest, OneUserCannotFloodSupport) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(support_->openTicket(alice_, "问题 " + std::to_string(i), "内容").ok());
  }
  auto refused = support_->openTicket(alice_, "one more", "内容");
  EXPECT_EQ(refused.status().reason(), "too-many-open-tickets");
  EXPECT_EQ(refused.status().code(), core::ErrorCode::kResourceExhausted);
  ASSERT_TRUE(support_->close(alice_, support_->tickets(alice_, false)->front().id).ok());
  EXPECT_TRUE(support_->openTicket(alice_, "one more", "内容").ok());
}

INSTANTIATE_TEST_SUITE_P(Both, SupportTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
