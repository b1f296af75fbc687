// The drops tests' fixture, shared with the waiting room's: a published series (cap 20) of an
// onboarded issuer, a sandbox provider, a waiting room, drops and a minter, on both databases.
#pragma once

#include <array>
#include <string>

#include <platform/drops.h>
#include <platform/minter.h>
#include <platform/payments.h>
#include <platform/testing/catalog_fixture.h>
#include <platform/waiting_room.h>

namespace jiancang::platform::testing {

// A valid resident identity number for person `n` (GB 11643 check digit), born 1990-01-01.
inline std::string identityNumber(int n) {
  std::string sequence = std::to_string(1000 + n % 1000).substr(1);
  std::string body = "11010519900101" + sequence;
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < kWeights.size(); ++i) sum += (body[i] - '0') * kWeights[i];
  return body + "10X98765432"[sum % 11];
}

// A published series (cap 20) of an onboarded issuer, a sandbox provider, drops and a minter.
class DropsTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    if (HasFatalFailure()) return;
    SeriesDraft published;
    publishSeries(20, &published);
    if (HasFatalFailure()) return;
    draftId_ = published.id;
    seriesId_ = published.seriesId;
    auto sandbox = SandboxPayments::open(*database_, clock_, {"http://shop.test", 2});
    ASSERT_TRUE(sandbox.ok());
    sandbox_ = std::move(sandbox).value();
    waitingRoom_ = std::make_unique<WaitingRoom>(*database_, *accounts_, suite(), clock_);
    drops_ = std::make_unique<Drops>(*database_, *accounts_, *catalog_, *sandbox_, *waitingRoom_,
                                     *ledger_, clock_);
    minter_ =
        std::make_unique<Minter>(*database_, *accounts_, *drops_, *ledger_, *orderer_, clock_);
  }
  void TearDown() override {
    minter_.reset();
    drops_.reset();
    CatalogTest::TearDown();
  }

  DropFields dropFields(std::uint64_t stock = 10) const {
    DropFields out;
    out.seriesDraftId = draftId_;
    out.title = "飞天首发";
    out.price = core::Fen(1990);
    out.stock = stock;
    out.perIdentityLimit = 2;
    out.startsAt = clock_.now();
    out.endsAt = clock_.now() + std::chrono::hours(1);
    return out;
  }

  // A collector with a verified real name.
  std::int64_t buyer(int n) {
    auto user = accounts_->registerCollector("139" + std::to_string(10'000'000 + n), "buyer pw 1");
    EXPECT_TRUE(user.ok()) << user.status().toString();
    auto verified = accounts_->verifyIdentity(user->id, {"张三", identityNumber(n)});
    EXPECT_TRUE(verified.ok()) << verified.status().toString();
    return user->id;
  }

  // The provider's callbacks, delivered to the drops as the API would: verified, then applied.
  int deliverCallbacks() {
    auto delivered = sandbox_->deliverDue(
        [&](const std::string&, const std::string& body, const std::string& signature) {
          auto notice = sandbox_->verifyCallback(body, {{kSandboxSignatureHeader, signature}});
          return notice.ok() && drops_->applyNotice(*notice).isOk();
        });
    EXPECT_TRUE(delivered.ok());
    return delivered.ok() ? delivered->acknowledged : -1;
  }

  // Places and pays an order; returns it paid.
  Order buyAndPay(std::int64_t user, std::int64_t dropId, const std::string& key) {
    auto order = placeOrder(user, dropId, key);
    EXPECT_TRUE(order.ok()) << order.status().toString();
    auto started = drops_->pay(user, order->id, "http://shop.test/orders");
    EXPECT_TRUE(started.ok()) << started.status().toString();
    EXPECT_TRUE(sandbox_->pay(started->paymentId).ok());
    deliverCallbacks();
    return *drops_->order(user, order->id);
  }

  std::int64_t draftId_ = 0;
  std::uint64_t seriesId_ = 0;
  static const core::CryptoSuite& suite() {
    return core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  }

  // What a buyer does: joins the drop's waiting room (a refusal there shows again in the
  // order's answer), then orders.
  core::Result<Order> placeOrder(std::int64_t user, std::int64_t dropId, const std::string& key) {
    (void)waitingRoom_->join(user, dropId);
    return drops_->placeOrder(user, dropId, key);
  }

  // Joins `user` to the drop's waiting room.
  QueuePlace join(std::int64_t user, std::int64_t dropId) {
    auto place = waitingRoom_->join(user, dropId);
    EXPECT_TRUE(place.ok()) << place.status().toString();
    return place.ok() ? *place : QueuePlace();
  }

  std::unique_ptr<SandboxPayments> sandbox_;
  std::unique_ptr<WaitingRoom> waitingRoom_;
  std::unique_ptr<Drops> drops_;
  std::unique_ptr<Minter> minter_;
};

}  // namespace jiancang::platform::testing
