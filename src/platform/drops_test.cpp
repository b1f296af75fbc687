#include <platform/drops.h>

#include <array>
#include <mutex>
#include <set>
#include <thread>

#include <platform/minter.h>
#include <platform/payments.h>
#include <platform/stock_gate.h>
#include <platform/testing/drops_fixture.h>

#include "support/reference_servers.h"

namespace jiancang::platform {
namespace {

using testing::DropsTest;

TEST_P(DropsTest, AnOrderIsReservedPaidMintedAndDelivered) {
  auto drop = drops_->create(operator_, dropFields());
  ASSERT_TRUE(drop.ok()) << drop.status().toString();
  EXPECT_EQ(drop->seriesId, seriesId_);
  EXPECT_EQ(drop->issuerUserId, issuer_);
  const std::int64_t alice = buyer(1);

  auto order = placeOrder(alice, drop->id, "k-1");
  ASSERT_TRUE(order.ok()) << order.status().toString();
  EXPECT_EQ(order->state, OrderState::kPending);
  EXPECT_EQ(order->amount, core::Fen(1990));
  EXPECT_EQ(order->expiresAt, clock_.now() + std::chrono::minutes(5));
  EXPECT_EQ(drops_->find(drop->id)->reserved, 1u);

  auto started = drops_->pay(alice, order->id, "http://shop.test/orders");
  ASSERT_TRUE(started.ok()) << started.status().toString();
  EXPECT_EQ(started->paymentUrl, "/sandbox/pay/" + started->paymentId);
  // Asking again gives the same payment, not a second one.
  EXPECT_EQ(drops_->pay(alice, order->id, "x")->paymentId, started->paymentId);
  auto page = sandbox_->payment(started->paymentId);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->amount, core::Fen(1990));
  EXPECT_EQ(page->state, "open");

  ASSERT_TRUE(sandbox_->pay(started->paymentId).ok());
  EXPECT_EQ(sandbox_->pay(started->paymentId).status().reason(), "payment-closed");
  EXPECT_EQ(deliverCallbacks(), 2);  // the same notice twice: applied once
  EXPECT_EQ(drops_->order(alice, order->id)->state, OrderState::kPaid);

  auto minted = minter_->runOnce();
  ASSERT_TRUE(minted.ok()) << minted.status().toString();
  EXPECT_EQ(*minted, 1);
  auto delivered = drops_->order(alice, order->id);
  ASSERT_TRUE(delivered.ok());
  EXPECT_EQ(delivered->state, OrderState::kDelivered);
  EXPECT_EQ(delivered->serial, 1u);
  EXPECT_FALSE(delivered->mintTx.isZero());
  EXPECT_GT(delivered->mintHeight, 0u);
  std::vector<OrderState> states;
  for (const OrderEvent& event : delivered->history) states.push_back(event.state);
  EXPECT_EQ(states, (std::vector<OrderState>{OrderState::kPending, OrderState::kPaid,
                                             OrderState::kMinting, OrderState::kDelivered}));
  // On chain: the token is Alice's.
  auto token = ledger_->get(chain::state_keys::token({chain::SeriesId(seriesId_), 1}));
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(core::decode<chain::TokenRecord>(*token)->owner, accounts_->user(alice)->address);
  EXPECT_EQ(*minter_->runOnce(), 0);  // nothing minted twice
  EXPECT_EQ(seriesOnChain(seriesId_)->minted, 1u);

  auto figures = drops_->figures(drop->id);
  ASSERT_TRUE(figures.ok());
  EXPECT_EQ(figures->delivered, 1u);
  EXPECT_EQ(figures->available, 9u);
}

TEST_P(DropsTest, TheSameIdempotencyKeyGivesTheSameOrder) {
  auto drop = drops_->create(operator_, dropFields());
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  auto first = placeOrder(alice, drop->id, "retry-me");
  auto again = placeOrder(alice, drop->id, "retry-me");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 1u);
  auto other = drops_->create(operator_, dropFields());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(placeOrder(alice, other->id, "retry-me").status().reason(), "idempotency-key-reused");
  EXPECT_EQ(placeOrder(alice, drop->id, "").status().reason(), "idempotency-key");
  EXPECT_EQ(placeOrder(alice, drop->id, "has space").status().reason(), "idempotency-key");
}

TEST_P(DropsTest, EveryRefusalHasItsReasonAndStoresNothing) {
  DropFields fields = dropFields();
  EXPECT_EQ(drops_->create(collector_, fields).status().reason(), "not-operator");
  fields.stock = 21;
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "stock-out-of-range");
  fields = dropFields();
  fields.price = core::Fen(0);
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "price-out-of-range");
  fields = dropFields();
  fields.endsAt = fields.startsAt;
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "window-invalid");
  fields = dropFields();
  fields.perIdentityLimit = 0;
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "limit-out-of-range");
  fields = dropFields();
  fields.seriesDraftId = 999;
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "no-such-series");
  ASSERT_TRUE(drops_->create(operator_, dropFields(15)).ok());
  EXPECT_EQ(drops_->create(operator_, dropFields(6)).status().reason(), "stock-over-cap");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM drops"), 1);

  fields = dropFields(3);
  fields.startsAt = clock_.now() + std::chrono::minutes(10);
  fields.endsAt = clock_.now() + std::chrono::minutes(20);
  auto later = drops_->create(operator_, fields);
  ASSERT_TRUE(later.ok());
  const std::int64_t alice = buyer(1);
  EXPECT_EQ(placeOrder(collector_, later->id, "a").status().reason(), "identity-required");
  EXPECT_EQ(placeOrder(alice, later->id, "a").status().reason(), "drop-not-started");
  EXPECT_EQ(placeOrder(alice, 999, "a").status().reason(), "no-such-drop");
  clock_.advance(std::chrono::minutes(10));
  ASSERT_TRUE(placeOrder(alice, later->id, "a").ok());
  ASSERT_TRUE(placeOrder(alice, later->id, "b").ok());
  EXPECT_EQ(placeOrder(alice, later->id, "c").status().reason(), "identity-limit");
  ASSERT_TRUE(placeOrder(buyer(2), later->id, "a").ok());
  EXPECT_EQ(placeOrder(buyer(3), later->id, "a").status().reason(), "sold-out");
  clock_.advance(std::chrono::minutes(10));
  EXPECT_EQ(placeOrder(buyer(4), later->id, "a").status().reason(), "drop-ended");
  // Someone else's order does not exist for them.
  auto mine = drops_->ordersOf(alice);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ(drops_->order(collector_, mine->front().id).status().reason(), "no-such-order");
  EXPECT_EQ(drops_->pay(collector_, mine->front().id, "x").status().reason(), "no-such-order");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM orders"), 3);
}

// After a sell-out the crowd is answered from memory (on SQLite, the database being this
// instance's alone), except a request with the key of an order placed before: it is a retry.
TEST_P(DropsTest, ASoldOutDropAnswersTheCrowdFromMemoryAndARetryStillGetsItsOrder) {
  auto drop = drops_->create(operator_, dropFields(1));
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  const std::int64_t bob = buyer(2);
  auto order = placeOrder(alice, drop->id, "a");
  ASSERT_TRUE(order.ok());
  // The order that took the last copy read every order in the drop (SQLite only).
  const bool exclusive = GetParam() == "sqlite";
  EXPECT_EQ(drops_->soldOutFromMemory(bob, drop->id, "b").has_value(), exclusive);
  EXPECT_EQ(placeOrder(bob, drop->id, "b").status().reason(), "sold-out");
  auto fromMemory = drops_->soldOutFromMemory(bob, drop->id, "b");
  EXPECT_EQ(fromMemory.has_value(), exclusive);
  if (fromMemory) {
    EXPECT_EQ(fromMemory->reason(), "sold-out");
  }
  // Alice's key "a" is her order's: the database is asked, and gives her the order again.
  // Bob's "a" is not his.
  EXPECT_FALSE(drops_->soldOutFromMemory(alice, drop->id, "a").has_value());
  EXPECT_EQ(drops_->soldOutFromMemory(bob, drop->id, "a").has_value(), exclusive);
  auto retried = placeOrder(alice, drop->id, "a");
  ASSERT_TRUE(retried.ok()) << retried.status().toString();
  EXPECT_EQ(retried->id, order->id);
  EXPECT_EQ(drops_->soldOutFromMemory(alice, drop->id, "another").has_value(), exclusive);
  EXPECT_EQ(placeOrder(alice, drop->id, "another").status().reason(), "sold-out");
  EXPECT_EQ(drops_->figures(drop->id)->attempts, exclusive ? 8u : 4u);
  // With a database of its own, this instance is the only one that can release a copy (and
  // forgets the sold-out at once when it does, see the next test): memory still answers after
  // a few seconds, and the database is asked again after half a minute.
  clock_.advance(std::chrono::seconds(2));
  EXPECT_EQ(drops_->soldOutFromMemory(bob, drop->id, "b").has_value(), exclusive);
  clock_.advance(std::chrono::seconds(30));
  EXPECT_FALSE(drops_->soldOutFromMemory(bob, drop->id, "b").has_value());
}

TEST_P(DropsTest, UnpaidOrdersExpireClosingTheirPaymentAndGiveTheirStockBack) {
  auto drop = drops_->create(operator_, dropFields(1));
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  const std::int64_t bob = buyer(2);
  auto order = placeOrder(alice, drop->id, "a");
  ASSERT_TRUE(order.ok());
  auto started = drops_->pay(alice, order->id, "x");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(placeOrder(bob, drop->id, "b").status().reason(), "sold-out");
  EXPECT_EQ(*drops_->expireDue(), 0);
  clock_.advance(std::chrono::minutes(5));
  EXPECT_EQ(*drops_->expireDue(), 1);
  EXPECT_EQ(drops_->order(alice, order->id)->state, OrderState::kExpired);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 0u);
  EXPECT_EQ(drops_->pay(alice, order->id, "x").status().reason(), "order-not-pending");
  // The stock is free again, at once (the sold-out memory was dropped).
  auto bobs = placeOrder(bob, drop->id, "b");
  ASSERT_TRUE(bobs.ok()) << bobs.status().toString();

  // The old payment page was closed with the order: Alice cannot pay for Bob's copy.
  EXPECT_EQ(sandbox_->payment(started->paymentId)->state, "cancelled");
  EXPECT_EQ(sandbox_->pay(started->paymentId).status().reason(), "payment-closed");
  EXPECT_EQ(deliverCallbacks(), 0);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 1u);  // Bob's, untouched
}

TEST_P(DropsTest, APaymentMadeInTimeCountsEvenWhenItsCallbackComesAfterTheDeadline) {
  auto drop = drops_->create(operator_, dropFields(1));
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  auto order = placeOrder(alice, drop->id, "a");
  auto started = drops_->pay(alice, order->id, "x");
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(sandbox_->pay(started->paymentId).ok());  // its callback is not delivered yet
  clock_.advance(std::chrono::minutes(5));
  EXPECT_EQ(*drops_->expireDue(), 0);
  auto paid = drops_->order(alice, order->id);
  EXPECT_EQ(paid->state, OrderState::kPaid);
  EXPECT_GT(deliverCallbacks(), 0);  // the late callback changes nothing more
  paid = drops_->order(alice, order->id);
  EXPECT_EQ(paid->state, OrderState::kPaid);
  EXPECT_EQ(paid->history.size(), 2u);
  EXPECT_EQ(sandbox_->payment(started->paymentId)->state, "paid");
  EXPECT_EQ(drops_->find(drop->id)->reserved, 1u);
}

// A gateway that says it closed a payment but did not (a race on its side): the platform must
// still never keep money for a copy it gave back.
class GatewayThatFailsToClose final : public PaymentProvider {
 public:
  explicit GatewayThatFailsToClose(SandboxPayments& sandbox) : sandbox_(sandbox) {}
  std::string_view name() const override { return "leaky"; }
  core::Result<PaymentSession> createPayment(const PaymentRequest& request) override {
    return sandbox_.createPayment(request);
  }
  core::Result<PaymentNotice> verifyCallback(
      std::string_view body, const std::map<std::string, std::string>& headers) override {
    return sandbox_.verifyCallback(body, headers);
  }
  core::Status refund(const std::string& paymentId, const std::string& reason) override {
    return sandbox_.refund(paymentId, reason);
  }
  core::Result<std::optional<PaymentNotice>> close(const std::string&) override {
    return std::optional<PaymentNotice>();
  }

 private:
  SandboxPayments& sandbox_;
};

TEST_P(DropsTest, APaymentThatArrivesAfterTheOrderExpiredIsRefunded) {
  GatewayThatFailsToClose gateway(*sandbox_);
  Drops drops(*database_, *accounts_, *catalog_, gateway, *waitingRoom_, *ledger_, clock_);
  auto drop = drops.create(operator_, dropFields(1));
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  join(alice, drop->id);
  auto order = drops.placeOrder(alice, drop->id, "a");
  auto started = drops.pay(alice, order->id, "x");
  ASSERT_TRUE(started.ok());
  clock_.advance(std::chrono::minutes(5));
  EXPECT_EQ(*drops.expireDue(), 1);
  ASSERT_TRUE(sandbox_->pay(started->paymentId).ok());
  auto delivered = sandbox_->deliverDue(
      [&](const std::string&, const std::string& body, const std::string& signature) {
        auto notice = sandbox_->verifyCallback(body, {{kSandboxSignatureHeader, signature}});
        return notice.ok() && drops.applyNotice(*notice).isOk();
      });
  ASSERT_TRUE(delivered.ok());
  EXPECT_GT(delivered->acknowledged, 0);
  EXPECT_EQ(drops.order(alice, order->id)->state, OrderState::kRefunded);
  EXPECT_EQ(sandbox_->payment(started->paymentId)->state, "refunded");
  EXPECT_EQ(drops.find(drop->id)->reserved, 0u);
}

TEST_P(DropsTest, CallbacksChangeStateOnceAndForgedOrAlteredOnesNever) {
  auto drop = drops_->create(operator_, dropFields());
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  auto order = placeOrder(alice, drop->id, "a");
  auto started = drops_->pay(alice, order->id, "x");
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(sandbox_->pay(started->paymentId).ok());
  // Capture the genuine callback instead of delivering it.
  std::string genuine;
  std::string signature;
  std::mutex captured;  // the sandbox sends from several threads
  ASSERT_TRUE(
      sandbox_
          ->deliverDue([&](const std::string&, const std::string& body, const std::string& sig) {
            std::lock_guard lock(captured);
            genuine = body;
            signature = sig;
            return true;
          })
          .ok());
  ASSERT_FALSE(genuine.empty());
  const std::map<std::string, std::string> headers{{kSandboxSignatureHeader, signature}};

  // Forged: no signature, a wrong one, a body changed after signing.
  EXPECT_EQ(sandbox_->verifyCallback(genuine, {}).status().reason(), "callback-signature");
  EXPECT_EQ(sandbox_->verifyCallback(genuine, {{kSandboxSignatureHeader, std::string(64, '0')}})
                .status()
                .reason(),
            "callback-signature");
  std::string altered = genuine;
  altered.replace(altered.find("1990"), 4, "1");
  EXPECT_EQ(sandbox_->verifyCallback(altered, headers).status().reason(), "callback-signature");
  // Signed but for the wrong amount (a provider bug or a leaked key): refused all the same.
  auto wrongAmount =
      sandbox_->verifyCallback(altered, {{kSandboxSignatureHeader, sandbox_->sign(altered)}});
  ASSERT_TRUE(wrongAmount.ok());
  EXPECT_EQ(drops_->applyNotice(*wrongAmount).reason(), "payment-mismatch");
  EXPECT_EQ(drops_->order(alice, order->id)->state, OrderState::kPending);

  // The genuine one 20 times, 10 of them at once: one state change.
  auto notice = sandbox_->verifyCallback(genuine, headers);
  ASSERT_TRUE(notice.ok());
  std::vector<std::thread> threads;
  threads.reserve(10);
  std::atomic<int> failures{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      if (!drops_->applyNotice(*notice).isOk()) ++failures;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(drops_->applyNotice(*notice).isOk());
  EXPECT_EQ(failures.load(), 0);
  auto paid = drops_->order(alice, order->id);
  EXPECT_EQ(paid->state, OrderState::kPaid);
  EXPECT_EQ(paid->history.size(), 2u);  // pending, paid: once
  PaymentNotice unknown = *notice;
  unknown.noticeId = "ntc_other";
  unknown.paymentId = "sbx_unknown";
  EXPECT_EQ(drops_->applyNotice(unknown).reason(), "payment-unknown");
}

TEST_P(DropsTest, ConcurrentBuyersNeverGetMoreThanTheStock) {
  auto drop = drops_->create(operator_, dropFields(7));
  ASSERT_TRUE(drop.ok());
  std::vector<std::int64_t> buyers;
  buyers.reserve(6);
  for (int i = 0; i < 6; ++i) buyers.push_back(buyer(i + 1));
  std::atomic<int> placed{0};
  std::atomic<int> soldOut{0};
  std::atomic<int> limited{0};
  std::vector<std::thread> threads;
  threads.reserve(buyers.size());
  for (std::int64_t user : buyers) {
    threads.emplace_back([&, user] {
      for (int attempt = 0; attempt < 4; ++attempt) {
        auto order = placeOrder(user, drop->id, "attempt-" + std::to_string(attempt));
        if (order.ok()) {
          ++placed;
        } else if (order.status().reason() == "sold-out") {
          ++soldOut;
        } else if (order.status().reason() == "identity-limit") {
          ++limited;
        } else {
          ADD_FAILURE() << order.status().toString();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(placed.load(), 7);
  EXPECT_EQ(placed + soldOut + limited, 24);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 7u);
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM orders"), 7);
  EXPECT_EQ(testing::countRows(*database_,
                               "SELECT COUNT(*) FROM (SELECT identity_hash FROM orders GROUP BY "
                               "identity_hash HAVING COUNT(*) > 2) AS over"),
            0);
}

TEST_P(DropsTest, AMintInterruptedBeforeItsAnswerIsSettledOnceAfterARestart) {
  auto drop = drops_->create(operator_, dropFields());
  ASSERT_TRUE(drop.ok());
  std::vector<std::int64_t> orders;
  orders.reserve(3);
  for (int i = 0; i < 3; ++i) {
    orders.push_back(buyAndPay(buyer(i + 1), drop->id, "k").id);
  }
  // A minter that does not wait for the commit: the batch is claimed and submitted, and the
  // process "dies" before it hears back.
  MinterOptions impatient;
  impatient.commitWait = std::chrono::milliseconds(0);
  Minter crashed(*database_, *accounts_, *drops_, *ledger_, *orderer_, clock_, impatient);
  ASSERT_TRUE(crashed.runOnce().ok());
  EXPECT_EQ(testing::countRows(*database_,
                               "SELECT COUNT(*) FROM orders WHERE state IN ('minting', "
                               "'delivered')"),
            3);
  // After the "restart" the batch is settled from the chain, or submitted again with the same
  // bytes: never a second mint.
  for (int round = 0; round < 50 && testing::countRows(*database_,
                                                       "SELECT COUNT(*) FROM orders WHERE state "
                                                       "= 'delivered'") < 3;
       ++round) {
    ASSERT_TRUE(minter_->runOnce().ok());
  }
  EXPECT_EQ(seriesOnChain(seriesId_)->minted, 3u);
  std::set<std::uint64_t> serials;
  for (std::int64_t id : orders) {
    auto order = drops_->orderById(id);
    ASSERT_TRUE(order.ok());
    EXPECT_EQ(order->state, OrderState::kDelivered);
    serials.insert(order->serial);
  }
  EXPECT_EQ(serials, (std::set<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM mint_batches"), 1);
}

TEST_P(DropsTest, AnOperatorRefundsAPaidOrderAndTheStockReturns) {
  auto drop = drops_->create(operator_, dropFields(1));
  ASSERT_TRUE(drop.ok());
  const std::int64_t alice = buyer(1);
  Order paid = buyAndPay(alice, drop->id, "a");
  ASSERT_EQ(paid.state, OrderState::kPaid);
  EXPECT_EQ(drops_->refund(alice, paid.id, "changed mind").status().reason(), "not-operator");
  EXPECT_EQ(drops_->refund(operator_, paid.id, "").status().reason(), "reason-required");
  auto refunded = drops_->refund(operator_, paid.id, "买家申请退款");
  ASSERT_TRUE(refunded.ok()) << refunded.status().toString();
  EXPECT_EQ(refunded->state, OrderState::kRefunded);
  EXPECT_EQ(sandbox_->payment(paid.paymentId)->state, "refunded");
  EXPECT_EQ(drops_->find(drop->id)->reserved, 0u);
  EXPECT_EQ(drops_->refund(operator_, paid.id, "again").status().reason(), "order-not-refundable");
  EXPECT_GT(deliverCallbacks(), 0);  // the provider's "refunded" notices change nothing more
  EXPECT_EQ(drops_->order(alice, paid.id)->state, OrderState::kRefunded);
  EXPECT_EQ(*minter_->runOnce(), 0);
}

TEST_P(DropsTest, HoldersAndTheWhitelistBuyInThePriorityWindow) {
  // Alice holds a copy of the series from an earlier drop; Bob is on the whitelist; Carol is
  // neither.
  auto earlier = drops_->create(operator_, dropFields(2));
  ASSERT_TRUE(earlier.ok());
  const std::int64_t alice = buyer(1);
  EXPECT_EQ(buyAndPay(alice, earlier->id, "a").state, OrderState::kPaid);
  ASSERT_EQ(*minter_->runOnce(), 1);
  const std::int64_t bob = buyer(2);
  const std::int64_t carol = buyer(3);

  DropFields fields = dropFields(5);
  fields.startsAt = clock_.now() + std::chrono::minutes(10);
  fields.endsAt = clock_.now() + std::chrono::hours(1);
  fields.priority = PriorityWindow{
      clock_.now() + std::chrono::minutes(5), seriesId_, {accounts_->user(bob)->phone}, 0};
  auto drop = drops_->create(operator_, fields);
  ASSERT_TRUE(drop.ok()) << drop.status().toString();
  ASSERT_TRUE(drop->priority.has_value());
  EXPECT_EQ(drop->priority->holdersOfSeries, seriesId_);
  EXPECT_EQ(drop->priority->whitelistSize, 1u);
  EXPECT_EQ(drops_->find(drop->id)->priority->whitelistSize, 1u);

  EXPECT_EQ(placeOrder(alice, drop->id, "b").status().reason(), "drop-not-started");
  clock_.advance(std::chrono::minutes(5));
  EXPECT_TRUE(placeOrder(alice, drop->id, "b").ok());  // a holder
  EXPECT_TRUE(placeOrder(bob, drop->id, "b").ok());    // whitelisted
  auto refused = placeOrder(carol, drop->id, "b");
  EXPECT_EQ(refused.status().reason(), "priority-only");
  EXPECT_NE(refused.status().message().find("holders of series"), std::string::npos);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 2u);
  // At the start, everyone else through the waiting room.
  clock_.advance(std::chrono::minutes(5));
  EXPECT_TRUE(placeOrder(carol, drop->id, "b").ok());

  // A window must start before the drop and name someone; phone numbers must be numbers.
  fields.priority = PriorityWindow{fields.startsAt, seriesId_, {}, 0};
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "priority-window-invalid");
  fields.priority = PriorityWindow{clock_.now(), 0, {}, 0};
  fields.startsAt = clock_.now() + std::chrono::minutes(1);
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "priority-window-invalid");
  fields.priority = PriorityWindow{clock_.now(), 0, {"1391000000x"}, 0};
  EXPECT_EQ(drops_->create(operator_, fields).status().reason(), "priority-window-invalid");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM drops"), 2);
}

TEST_P(DropsTest, AirdropsGiveACopyToAListOrToTheHoldersAtAHeight) {
  std::vector<std::int64_t> holders;
  std::vector<std::string> phones;
  for (int n = 1; n <= 3; ++n) {
    holders.push_back(buyer(n));
    phones.push_back(accounts_->user(holders.back())->phone);
  }
  AirdropFields byList;
  byList.seriesDraftId = draftId_;
  byList.title = "开馆纪念";
  byList.phones = phones;
  byList.phones.push_back(accounts_->user(collector_)->phone);  // not verified
  byList.phones.push_back("13900000000");                       // no account
  byList.phones.push_back(phones[0]);                           // twice: once
  auto first = drops_->airdrop(operator_, byList);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_EQ(first->drop.mode, DropMode::kAirdrop);
  EXPECT_EQ(first->drop.stock, 3u);
  EXPECT_EQ(first->orderIds.size(), 3u);
  ASSERT_EQ(first->skipped.size(), 2u);
  EXPECT_EQ(first->skipped[0].reason, "identity-required");
  EXPECT_EQ(first->skipped[1].recipient, "13900000000");
  EXPECT_EQ(first->skipped[1].reason, "no-such-account");
  auto minted = minter_->runOnce();
  ASSERT_TRUE(minted.ok()) << minted.status().toString();
  EXPECT_EQ(*minted, 3);
  for (std::int64_t user : holders) {
    auto orders = drops_->ordersOf(user);
    ASSERT_EQ(orders->size(), 1u);
    EXPECT_EQ(orders->front().state, OrderState::kDelivered);
    EXPECT_EQ(orders->front().amount, core::Fen(0));
  }
  const std::uint64_t afterFirst = ledger_->head().height;

  // Someone who comes to hold the series later is not a holder at the earlier height.
  const std::int64_t latecomer = buyer(4);
  AirdropFields one = byList;
  one.phones = {accounts_->user(latecomer)->phone};
  ASSERT_TRUE(drops_->airdrop(operator_, one).ok());
  ASSERT_EQ(*minter_->runOnce(), 1);

  AirdropFields byHolders;
  byHolders.seriesDraftId = draftId_;
  byHolders.title = "持有者回馈";
  byHolders.holdersOfSeries = seriesId_;
  byHolders.atHeight = afterFirst;
  auto atFirst = drops_->airdrop(operator_, byHolders);
  ASSERT_TRUE(atFirst.ok()) << atFirst.status().toString();
  EXPECT_EQ(atFirst->orderIds.size(), 3u);
  EXPECT_TRUE(atFirst->skipped.empty());
  ASSERT_EQ(*minter_->runOnce(), 3);
  EXPECT_EQ(drops_->ordersOf(latecomer)->size(), 1u);
  // Before anything was minted, nobody held it.
  byHolders.atHeight = afterFirst - 2;
  EXPECT_EQ(drops_->airdrop(operator_, byHolders).status().reason(), "no-recipients");
  // Now: every holder once, however many tokens they hold.
  byHolders.atHeight = ledger_->head().height;
  auto now = drops_->airdrop(operator_, byHolders);
  ASSERT_TRUE(now.ok()) << now.status().toString();
  EXPECT_EQ(now->orderIds.size(), 4u);
  ASSERT_EQ(*minter_->runOnce(), 4);
  EXPECT_EQ(seriesOnChain(seriesId_)->minted, 11u);

  // Refusals, each with nothing stored.
  const auto dropsBefore = testing::countRows(*database_, "SELECT COUNT(*) FROM drops");
  EXPECT_EQ(drops_->airdrop(holders[0], byList).status().reason(), "not-operator");
  AirdropFields both = byHolders;
  both.phones = phones;
  EXPECT_EQ(drops_->airdrop(operator_, both).status().reason(), "recipients-invalid");
  AirdropFields future = byHolders;
  future.atHeight = ledger_->head().height + 1;
  EXPECT_EQ(drops_->airdrop(operator_, future).status().reason(), "recipients-invalid");
  AirdropFields nobody = byList;
  nobody.phones = {};
  EXPECT_EQ(drops_->airdrop(operator_, nobody).status().reason(), "recipients-invalid");
  AirdropFields badPhone = byList;
  badPhone.phones = {"12345"};
  EXPECT_EQ(drops_->airdrop(operator_, badPhone).status().reason(), "recipients-invalid");
  AirdropFields untitled = byList;
  untitled.title.clear();
  EXPECT_EQ(drops_->airdrop(operator_, untitled).status().reason(), "title-length");
  // 11 of the cap of 20 are given: ten more do not fit.
  AirdropFields tooMany = byList;
  tooMany.phones.clear();
  for (int n = 5; n <= 14; ++n) tooMany.phones.push_back(accounts_->user(buyer(n))->phone);
  EXPECT_EQ(drops_->airdrop(operator_, tooMany).status().reason(), "stock-over-cap");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM drops"), dropsBefore);
  EXPECT_EQ(drops_->placeOrder(holders[0], first->drop.id, "k").status().reason(), "not-for-sale");
}

// The Redis design: the stock counted down by a Lua script in a real Redis, the database still
// the authority; a gate that drifts or goes away never sells more than the stock.
TEST_P(DropsTest, ARedisStockGateRefusesASoldOutDropAndGetsCopiesBack) {
  EXPECT_EQ(connectRedisStockGate("no port").status().reason(), "stock-redis-address");
  jiancang::testing::RedisServer redis(directory_ / "redis");
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  auto gate = connectRedisStockGate(redis.address());
  ASSERT_TRUE(gate.ok()) << gate.status().toString();
  drops_->useStockGate(gate->get());
  DropFields fields = dropFields(3);
  fields.perIdentityLimit = 1;
  auto drop = drops_->create(operator_, fields);
  ASSERT_TRUE(drop.ok());
  std::vector<std::int64_t> buyers;
  for (int n = 1; n <= 5; ++n) buyers.push_back(buyer(n));
  std::vector<Order> orders;
  for (int i = 0; i < 3; ++i) {
    auto order = placeOrder(buyers[i], drop->id, "k");
    ASSERT_TRUE(order.ok()) << order.status().toString();
    orders.push_back(*order);
    // A second order of the same identity is refused by the database, and the copy the gate
    // gave it goes back: the third buyer still gets the last one.
    if (i == 0) {
      EXPECT_EQ(placeOrder(buyers[0], drop->id, "k2").status().reason(), "identity-limit");
    }
  }
  EXPECT_EQ(placeOrder(buyers[3], drop->id, "k").status().reason(), "sold-out");
  // A retry of a placed order still answers the order, sold out or not.
  EXPECT_EQ(placeOrder(buyers[0], drop->id, "k")->id, orders[0].id);
  EXPECT_EQ(drops_->find(drop->id)->reserved, 3u);

  // An expired order's copy goes back to the gate as well as to the database.
  clock_.advance(std::chrono::minutes(6));
  ASSERT_EQ(*drops_->expireDue(), 3);
  std::vector<Order> second;
  for (int i = 2; i < 5; ++i) {
    auto order = placeOrder(buyers[i], drop->id, "again");
    ASSERT_TRUE(order.ok()) << order.status().toString();
    second.push_back(*order);
  }
  EXPECT_EQ(placeOrder(buyers[0], drop->id, "again").status().reason(), "sold-out");

  // Redis gone: the database decides alone, and still never sells a fourth copy.
  redis.kill();
  EXPECT_EQ(placeOrder(buyers[1], drop->id, "third").status().reason(), "sold-out");
  EXPECT_EQ(drops_->find(drop->id)->reserved, 3u);
}

INSTANTIATE_TEST_SUITE_P(Both, DropsTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
