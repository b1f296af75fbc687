#include <platform/lottery.h>

#include <set>
#include <thread>

#include <chain/fair_random.h>
#include <chain/merkle_list.h>
#include <chain/state_keys.h>
#include <platform/testing/drops_fixture.h>

namespace jiancang::platform {
namespace {

class LotteryTest : public testing::DropsTest {
 protected:
  void SetUp() override {
    DropsTest::SetUp();
    if (HasFatalFailure()) return;
    lotteries_ = std::make_unique<Lotteries>(*database_, *accounts_, *ledger_, *orderer_, clock_);
  }
  void TearDown() override {
    lotteries_.reset();
    DropsTest::TearDown();
  }

  DropFields lotteryFields(std::uint64_t stock) const {
    DropFields fields = dropFields(stock);
    fields.mode = DropMode::kLottery;
    fields.perIdentityLimit = 1;
    fields.startsAt = clock_.now() + std::chrono::minutes(1);
    fields.endsAt = fields.startsAt + std::chrono::hours(1);
    return fields;
  }

  // Runs the lottery worker until it has nothing left to do.
  void runUntilIdle() {
    for (int round = 0; round < 20; ++round) {
      auto steps = lotteries_->runDue();
      ASSERT_TRUE(steps.ok()) << steps.status().toString();
      if (*steps == 0) return;
    }
    FAIL() << "the lottery worker never went idle";
  }

  std::optional<chain::LotteryRecord> lotteryOnChain(std::uint64_t id) {
    auto bytes = ledger_->get(chain::state_keys::lottery(chain::LotteryId(id)));
    if (!bytes) return std::nullopt;
    auto record = core::decode<chain::LotteryRecord>(*bytes);
    if (!record) return std::nullopt;
    return *record;
  }

  std::unique_ptr<Lotteries> lotteries_;
};

TEST_P(LotteryTest, WinnersAreDrawnOnChainAndRecomputedFromThePublishedEntrants) {
  auto drop = drops_->create(operator_, lotteryFields(3));
  ASSERT_TRUE(drop.ok()) << drop.status().toString();
  EXPECT_EQ(drop->mode, DropMode::kLottery);
  ASSERT_TRUE(drop->lottery.has_value());
  EXPECT_EQ(drop->lottery->state, "open");
  EXPECT_FALSE(drop->lottery->seed.has_value());  // only the commitment, until the draw
  EXPECT_FALSE(drop->queue.enabled);              // no waiting room: nothing to race for
  const core::Hash256 commitment = drop->lottery->commitment;

  std::vector<std::int64_t> entrants;
  for (int n = 1; n <= 8; ++n) entrants.push_back(buyer(n));
  EXPECT_EQ(lotteries_->enter(entrants[0], drop->id).status().reason(), "entries-not-open");
  clock_.advance(std::chrono::minutes(2));
  for (std::int64_t user : entrants) {
    auto entry = lotteries_->enter(user, drop->id);
    ASSERT_TRUE(entry.ok()) << entry.status().toString();
    EXPECT_FALSE(entry->index.has_value());
    clock_.advance(std::chrono::milliseconds(10));
  }
  // Entering again is the same entry; ordering is not how a lottery sells.
  EXPECT_EQ(lotteries_->enter(entrants[0], drop->id)->enteredAt,
            lotteries_->entry(entrants[0], drop->id)->enteredAt);
  EXPECT_EQ(drops_->placeOrder(entrants[0], drop->id, "k").status().reason(), "not-for-sale");
  EXPECT_EQ(drops_->find(drop->id)->lottery->entrants, 8u);
  // Nothing happens before the end.
  ASSERT_TRUE(lotteries_->runDue().ok());
  EXPECT_EQ(drops_->find(drop->id)->lottery->state, "open");

  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(lotteries_->enter(buyer(9), drop->id).status().reason(), "entries-closed");
  runUntilIdle();

  auto drawn = drops_->find(drop->id);
  ASSERT_TRUE(drawn.ok());
  ASSERT_EQ(drawn->lottery->state, "settled") << drawn->lottery->reason;
  EXPECT_EQ(drawn->lottery->entrants, 8u);
  EXPECT_EQ(drawn->lottery->winners, 3u);
  EXPECT_EQ(drawn->reserved, 3u);
  ASSERT_TRUE(drawn->lottery->seed.has_value());
  ASSERT_TRUE(drawn->lottery->commitTx.has_value());
  ASSERT_TRUE(drawn->lottery->drawTx.has_value());

  // What anyone can do: rebuild the root from the published list, check the seed against the
  // commitment shown since the drop was made, and recompute the winners.
  auto published = lotteries_->entrants(drop->id, 0, 100);
  ASSERT_TRUE(published.ok());
  ASSERT_EQ(published->page.size(), 8u);
  std::vector<core::Hash256> leaves;
  for (std::size_t i = 0; i < published->page.size(); ++i) {
    EXPECT_EQ(published->page[i].index, i);
    leaves.push_back(suite().hash(
        {core::asBytes("jiancang/lottery-entrant/v1"), published->page[i].address.view()}));
  }
  const core::Hash256 root = chain::listMerkleRoot(suite(), leaves);
  EXPECT_EQ(root, *drawn->lottery->root);
  EXPECT_EQ(chain::seedCommitment(suite(), *drawn->lottery->seed), commitment);
  auto record = lotteryOnChain(drawn->lottery->chainLotteryId);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->entrantsRoot, root);
  EXPECT_EQ(record->seedCommitment, commitment);
  EXPECT_EQ(record->entrantCount, 8u);
  ASSERT_TRUE(record->drawn);
  auto commitBlock = ledger_->blockAt(record->committedAtHeight);
  ASSERT_TRUE(commitBlock.has_value());
  const auto drawSeed = chain::lotteryDrawSeed(
      suite(), *drawn->lottery->seed, chain::blockHash(ledger_->parameters(), commitBlock->header),
      root, record->id);
  const auto winners = chain::drawLotteryWinners(suite(), drawSeed, 8, 3);
  EXPECT_EQ(winners, record->winners);

  // The winners, and only they, have an order to pay, with the drop's time to pay.
  std::set<core::Address> winningAddresses;
  for (std::uint64_t index : winners) winningAddresses.insert(published->page[index].address);
  std::set<core::Address> ordered;
  for (std::int64_t user : entrants) {
    auto entry = lotteries_->entry(user, drop->id);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->won, winningAddresses.count(entry->address) == 1);
    auto orders = drops_->ordersOf(user);
    ASSERT_TRUE(orders.ok());
    if (!entry->won) {
      EXPECT_TRUE(orders->empty());
      continue;
    }
    ASSERT_EQ(orders->size(), 1u);
    EXPECT_EQ(orders->front().id, entry->orderId);
    EXPECT_EQ(orders->front().state, OrderState::kPending);
    EXPECT_EQ(orders->front().expiresAt, clock_.now() + std::chrono::minutes(5));
    ordered.insert(entry->address);
  }
  EXPECT_EQ(ordered, winningAddresses);

  // A winner pays and is minted like any buyer; running the worker again changes nothing.
  std::int64_t winner = 0;
  for (std::int64_t user : entrants) {
    if (lotteries_->entry(user, drop->id)->won) winner = user;
  }
  const std::int64_t orderId = lotteries_->entry(winner, drop->id)->orderId;
  auto started = drops_->pay(winner, orderId, "http://shop.test/orders");
  ASSERT_TRUE(started.ok()) << started.status().toString();
  ASSERT_TRUE(sandbox_->pay(started->paymentId).ok());
  deliverCallbacks();
  ASSERT_TRUE(minter_->runOnce().ok());
  EXPECT_EQ(drops_->order(winner, orderId)->state, OrderState::kDelivered);
  runUntilIdle();
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM orders"), 3);
  EXPECT_EQ(lotteryOnChain(drawn->lottery->chainLotteryId + 1), std::nullopt);
}

TEST_P(LotteryTest, TwoInstancesDrawingAtOnceCommitOneLottery) {
  auto drop = drops_->create(operator_, lotteryFields(2));
  ASSERT_TRUE(drop.ok()) << drop.status().toString();
  clock_.advance(std::chrono::minutes(2));
  for (int n = 1; n <= 5; ++n) ASSERT_TRUE(lotteries_->enter(buyer(n), drop->id).ok());
  clock_.advance(std::chrono::hours(2));
  Lotteries other(*database_, *accounts_, *ledger_, *orderer_, clock_);
  std::thread second([&] {
    for (int round = 0; round < 20; ++round) {
      auto steps = other.runDue();
      if (!steps.ok() || *steps == 0) break;
    }
  });
  runUntilIdle();
  second.join();
  runUntilIdle();
  auto drawn = drops_->find(drop->id);
  ASSERT_TRUE(drawn.ok());
  EXPECT_EQ(drawn->lottery->state, "settled") << drawn->lottery->reason;
  EXPECT_EQ(drawn->lottery->chainLotteryId, 1u);
  EXPECT_EQ(lotteryOnChain(2), std::nullopt);  // never a second commit
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM orders"), 2);
}

TEST_P(LotteryTest, AStepCutOffBeforeItsAnswerResumesWithTheSameTransaction) {
  auto drop = drops_->create(operator_, lotteryFields(2));
  ASSERT_TRUE(drop.ok());
  clock_.advance(std::chrono::minutes(2));
  for (int n = 1; n <= 4; ++n) ASSERT_TRUE(lotteries_->enter(buyer(n), drop->id).ok());
  clock_.advance(std::chrono::hours(2));
  {
    // An instance that sends the commit and stops before hearing the answer (a crash).
    Lotteries hasty(*database_, *accounts_, *ledger_, *orderer_, clock_,
                    std::chrono::milliseconds(0));
    ASSERT_TRUE(hasty.runDue().ok());
    EXPECT_EQ(drops_->find(drop->id)->lottery->state, "committing");
  }
  // Its transaction commits meanwhile; the next instance takes it up instead of signing another.
  for (int wait = 0; wait < 200 && lotteryOnChain(1) == std::nullopt; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(lotteryOnChain(1).has_value());
  runUntilIdle();
  auto drawn = drops_->find(drop->id);
  EXPECT_EQ(drawn->lottery->state, "settled") << drawn->lottery->reason;
  EXPECT_EQ(drawn->lottery->chainLotteryId, 1u);
  EXPECT_EQ(lotteryOnChain(2), std::nullopt);
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM orders"), 2);
}

TEST_P(LotteryTest, ALotteryNobodyEnteredEndsWithoutTouchingTheChain) {
  auto drop = drops_->create(operator_, lotteryFields(2));
  ASSERT_TRUE(drop.ok());
  const std::uint64_t height = ledger_->head().height;
  clock_.advance(std::chrono::hours(2));
  runUntilIdle();
  auto ended = drops_->find(drop->id);
  EXPECT_EQ(ended->lottery->state, "settled");
  EXPECT_EQ(ended->lottery->winners, 0u);
  EXPECT_EQ(ledger_->head().height, height);
}

TEST_P(LotteryTest, RefusalsSayWhyAndStoreNothing) {
  DropFields twoEach = lotteryFields(2);
  twoEach.perIdentityLimit = 2;
  EXPECT_EQ(drops_->create(operator_, twoEach).status().reason(), "mode-invalid");
  DropFields early = lotteryFields(2);
  early.priority = PriorityWindow{clock_.now(), seriesId_, {}, 0};
  EXPECT_EQ(drops_->create(operator_, early).status().reason(), "mode-invalid");
  DropFields airdrop = dropFields(2);
  airdrop.mode = DropMode::kAirdrop;
  EXPECT_EQ(drops_->create(operator_, airdrop).status().reason(), "mode-invalid");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM drops"), 0);

  auto drop = drops_->create(operator_, lotteryFields(2));
  ASSERT_TRUE(drop.ok());
  auto firstCome = drops_->create(operator_, dropFields(2));
  ASSERT_TRUE(firstCome.ok());
  clock_.advance(std::chrono::minutes(2));
  EXPECT_EQ(lotteries_->enter(collector_, drop->id).status().reason(), "identity-required");
  const std::int64_t alice = buyer(1);
  EXPECT_EQ(lotteries_->enter(alice, 9'999).status().reason(), "no-such-drop");
  EXPECT_EQ(lotteries_->enter(alice, firstCome->id).status().reason(), "not-a-lottery");
  EXPECT_EQ(lotteries_->entry(alice, drop->id).status().reason(), "not-entered");
  EXPECT_EQ(waitingRoom_->join(alice, drop->id).status().reason(), "no-waiting-room");
  EXPECT_EQ(lotteries_->entrants(drop->id, 0, 0).status().reason(), "page-out-of-range");
  EXPECT_EQ(lotteries_->entrants(drop->id, 0, 5'001).status().reason(), "page-out-of-range");
  EXPECT_EQ(testing::countRows(*database_, "SELECT COUNT(*) FROM lottery_entries"), 0);
}

INSTANTIATE_TEST_SUITE_P(Both, LotteryTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
