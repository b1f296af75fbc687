// Every operation through the state machine: what it does, and each way it is refused.
#include <gtest/gtest.h>

#include <chain/fair_random.h>
#include <chain/testing/test_chain.h>

namespace jiancang::chain {
namespace {

using testing::TestChain;
using testing::testHash;

#define EXPECT_OK(receipt) \
  EXPECT_TRUE((receipt).ok()) << (receipt).reason << ": " << (receipt).message
#define EXPECT_REJECTED(receipt, expected)        \
  do {                                            \
    Receipt r_ = (receipt);                       \
    EXPECT_FALSE(r_.ok());                        \
    EXPECT_EQ(r_.reason, expected) << r_.message; \
    EXPECT_FALSE(r_.message.empty());             \
  } while (false)

constexpr std::int64_t kDay = std::int64_t{24} * 60 * 60 * 1000;

class OperationsTest : public ::testing::Test {
 protected:
  Address addressOf(const core::KeyPair& pair) { return TestChain::address(pair); }
  Address collector(std::size_t i) { return addressOf(t.collector(i)); }

  TestChain t;
};

TEST_F(OperationsTest, RegisterIssuerNeedsAdminAndHappensOnce) {
  RegisterIssuer op{addressOf(t.issuer(0)), "Dunhuang Museum", testHash("licence")};
  EXPECT_REJECTED(t.run(t.collector(0), op), "not-admin");
  EXPECT_OK(t.run(t.admin(), op));
  auto issuer = t.read<IssuerRecord>(state_keys::issuer(op.issuer));
  ASSERT_TRUE(issuer.has_value());
  EXPECT_EQ(issuer->displayName, "Dunhuang Museum");
  EXPECT_REJECTED(t.run(t.admin(), op), "issuer-exists");
}

TEST_F(OperationsTest, CreateSeriesNeedsARegisteredIssuer) {
  EXPECT_REJECTED(t.run(t.issuer(0), TestChain::seriesTemplate(10)), "issuer-not-registered");
  SeriesId id = t.createSeries(0, 8888);
  SeriesRecord series = t.series(id);
  EXPECT_EQ(series.editionCap, 8888u);
  EXPECT_EQ(series.issuer, addressOf(t.issuer(0)));
  EXPECT_EQ(series.policyVersions.size(), 1u);
  EXPECT_EQ(t.createSeries(0, 5).value(), id.value() + 1);
}

TEST_F(OperationsTest, PolicyChangesAppendVersions) {
  SeriesId id = t.createSeries(0, 10);
  SeriesPolicy stricter;
  stricter.holdBeforeFirstTransferMillis = kDay;
  EXPECT_REJECTED(t.run(t.issuer(1), UpdateSeriesPolicy{id, stricter}), "not-series-issuer");
  EXPECT_REJECTED(t.run(t.issuer(0), UpdateSeriesPolicy{SeriesId(99), stricter}),
                  "series-not-found");
  Receipt receipt = t.run(t.issuer(0), UpdateSeriesPolicy{id, stricter});
  EXPECT_OK(receipt);
  EXPECT_EQ(receipt.policyVersion, 2u);
  SeriesRecord series = t.series(id);
  ASSERT_EQ(series.policyVersions.size(), 2u);
  EXPECT_EQ(series.policyVersions[0].policy, SeriesPolicy{});  // the old rule is kept
  EXPECT_EQ(series.currentPolicy().policy, stricter);
  for (std::size_t i = series.policyVersions.size(); i < limits::kMaxPolicyVersions; ++i) {
    ASSERT_TRUE(t.run(t.issuer(0), UpdateSeriesPolicy{id, stricter}).ok());
  }
  EXPECT_REJECTED(t.run(t.issuer(0), UpdateSeriesPolicy{id, stricter}),
                  "policy-versions-exhausted");
}

TEST_F(OperationsTest, MintNeverPassesTheCap) {
  SeriesId id = t.createSeries(0, 3);
  EXPECT_REJECTED(t.run(t.issuer(1), Mint{id, {collector(0)}}), "not-series-issuer");
  EXPECT_EQ(t.mint(0, id, {0, 1}), 1u);
  // Three more would pass the cap: the whole batch is refused, nothing is minted.
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{id, {collector(2), collector(3)}}), "series-cap-reached");
  EXPECT_EQ(t.series(id).minted, 2u);
  EXPECT_EQ(t.mint(0, id, {2}), 3u);
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{id, {collector(3)}}), "series-cap-reached");
  EXPECT_EQ(t.token(TokenId{id, 3}).owner, collector(2));
}

TEST_F(OperationsTest, BurnedTokensStayCountedAgainstTheCap) {
  SeriesId id = t.createSeries(0, 1);
  t.mint(0, id, {0});
  EXPECT_REJECTED(t.run(t.collector(1), Burn{TokenId{id, 1}}), "not-owner");
  EXPECT_OK(t.run(t.collector(0), Burn{TokenId{id, 1}}));
  EXPECT_REJECTED(t.run(t.collector(0), Burn{TokenId{id, 1}}), "token-burned");
  SeriesRecord series = t.series(id);
  EXPECT_EQ(series.burned, 1u);
  EXPECT_EQ(series.live(), 0u);
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{id, {collector(0)}}), "series-cap-reached");
}

TEST_F(OperationsTest, TransferFollowsTheHoldingPeriods) {
  SeriesPolicy policy;
  policy.holdBeforeFirstTransferMillis = 7 * kDay;
  policy.holdBetweenTransfersMillis = 30 * kDay;
  SeriesId id = t.createSeries(0, 5, policy);
  t.mint(0, id, {0});
  TokenId token{id, 1};
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{token, collector(1)}), "hold-period-active");
  t.advance(7 * kDay);
  Receipt gift = t.run(t.collector(0), Transfer{token, collector(1)});
  EXPECT_OK(gift);
  EXPECT_EQ(gift.policyVersion, 1u);
  EXPECT_EQ(t.token(token).owner, collector(1));
  EXPECT_EQ(t.token(token).transferCount, 1u);
  t.advance(29 * kDay);
  EXPECT_REJECTED(t.run(t.collector(1), Transfer{token, collector(2)}), "hold-period-active");
  t.advance(kDay);
  EXPECT_OK(t.run(t.collector(1), Transfer{token, collector(2)}));
}

TEST_F(OperationsTest, TransferRefusals) {
  SeriesPolicy locked;
  locked.transferable = false;
  SeriesId lockedSeries = t.createSeries(0, 5, locked);
  SeriesId open = t.createSeries(0, 5);
  t.mint(0, lockedSeries, {0});
  t.mint(0, open, {0, 0});
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{lockedSeries, 1}, collector(1)}),
                  "not-transferable");
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{open, 9}, collector(1)}),
                  "token-not-found");
  EXPECT_REJECTED(t.run(t.collector(1), Transfer{TokenId{open, 1}, collector(2)}), "not-owner");
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{open, 1}, collector(0)}), "same-owner");

  EXPECT_OK(
      t.run(t.governance(), SetFrozen{FreezeTarget::kAddress, {}, collector(3), true, "dispute"}));
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{open, 1}, collector(3)}),
                  "recipient-frozen");
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{open, {collector(3)}}), "recipient-frozen");

  EXPECT_OK(t.run(t.governance(),
                  SetFrozen{FreezeTarget::kToken, TokenId{open, 2}, {}, true, "court-order"}));
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{open, 2}, collector(1)}), "token-frozen");
  EXPECT_OK(t.run(t.collector(0), Burn{TokenId{open, 1}}));
  EXPECT_REJECTED(t.run(t.collector(0), Transfer{TokenId{open, 1}, collector(1)}), "token-burned");
}

TEST_F(OperationsTest, FreezesNeedGovernanceAndAreVisible) {
  SeriesId id = t.createSeries(0, 2);
  t.mint(0, id, {0});
  SetFrozen freeze{FreezeTarget::kToken, TokenId{id, 1}, {}, true, "dispute-42"};
  EXPECT_REJECTED(t.run(t.admin(), freeze), "not-governance");
  EXPECT_OK(t.run(t.governance(), freeze));
  EXPECT_TRUE(t.token(TokenId{id, 1}).frozen);
  EXPECT_EQ(t.token(TokenId{id, 1}).frozenReason, "dispute-42");
  EXPECT_REJECTED(t.run(t.governance(), freeze), "freeze-no-change");
  freeze.frozen = false;
  EXPECT_OK(t.run(t.governance(), freeze));
  EXPECT_FALSE(t.token(TokenId{id, 1}).frozen);

  // A frozen account can do nothing, but its nonce still moves so nothing can be replayed.
  EXPECT_OK(
      t.run(t.governance(), SetFrozen{FreezeTarget::kAddress, {}, collector(0), true, "fraud"}));
  std::uint64_t nonce = t.nonceOf(t.collector(0));
  EXPECT_REJECTED(t.run(t.collector(0), Burn{TokenId{id, 1}}), "account-frozen");
  EXPECT_EQ(t.nonceOf(t.collector(0)), nonce + 1);
  EXPECT_FALSE(t.token(TokenId{id, 1}).burned);
}

TEST_F(OperationsTest, NoncesPreventReplay) {
  SeriesId id = t.createSeries(0, 5);
  SignedTransaction mint = t.sign(t.issuer(0), Mint{id, {collector(0)}});
  t.advance(1);
  auto first = t.chain().commit({mint}, t.now());
  ASSERT_TRUE(first.ok());
  EXPECT_OK(first->receipts[0]);
  t.advance(1);
  auto replay = t.chain().commit({mint}, t.now());
  ASSERT_TRUE(replay.ok());
  EXPECT_REJECTED(replay->receipts[0], "nonce-mismatch");
  EXPECT_EQ(t.series(id).minted, 1u);

  // Within one block, a duplicate is refused too.
  SignedTransaction next = t.sign(t.issuer(0), Mint{id, {collector(1)}});
  t.advance(1);
  auto duplicate = t.chain().commit({next, next}, t.now());
  ASSERT_TRUE(duplicate.ok());
  EXPECT_OK(duplicate->receipts[0]);
  EXPECT_REJECTED(duplicate->receipts[1], "nonce-mismatch");
}

TEST_F(OperationsTest, FailedOperationsChangeNothingButTheNonce) {
  SeriesId id = t.createSeries(0, 1);
  t.mint(0, id, {0});
  Hash256 before = t.chain().stateRoot();
  auto entriesBefore = t.chain().entries();
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{id, {collector(1)}}), "series-cap-reached");
  auto entriesAfter = t.chain().entries();
  EXPECT_NE(t.chain().stateRoot(), before);  // the nonce and the head moved
  std::size_t differing = 0;
  for (const auto& [key, value] : entriesAfter) {
    auto old = entriesBefore.find(key);
    if (old == entriesBefore.end() || old->second != value) {
      ++differing;
      EXPECT_TRUE(key[0] == 'a' || key[0] == 'h' || key[0] == 'k')
          << "unexpected change to a '" << static_cast<char>(key[0]) << "' entry";
    }
  }
  EXPECT_EQ(differing, 3u);  // the issuer's nonce, the chain head, the new block hash
}

TEST_F(OperationsTest, RolesAreGrantedByAdmins) {
  GrantRoles grant{collector(5), kRoleVerifier};
  EXPECT_REJECTED(t.run(t.collector(0), grant), "not-admin");
  EXPECT_OK(t.run(t.admin(), grant));
  EXPECT_EQ(t.read<AccountRecord>(state_keys::account(collector(5)))->roles, kRoleVerifier);
  EXPECT_OK(t.run(t.admin(), GrantRoles{collector(5), 0}));
  EXPECT_EQ(t.read<AccountRecord>(state_keys::account(collector(5)))->roles, 0u);
}

// ---- Blind boxes ----

class BlindBoxTest : public OperationsTest {
 protected:
  void SetUp() override {
    common = t.createSeries(0, 100);
    rare = t.createSeries(0, 10);
    boxes = t.createSeries(0, 12);
  }
  CommitBlindBox commitment() {
    return CommitBlindBox{boxes,
                          {{common, 10}, {rare, 2}},
                          seedCommitment(suite(), seed),
                          t.now() + core::Duration(30 * kDay)};
  }
  const core::CryptoSuite& suite() { return t.parameters().crypto(); }

  SeriesId common, rare, boxes;
  Hash256 seed = testHash("box seed");
};

TEST_F(BlindBoxTest, CommitChecksContentsAndReserves) {
  CommitBlindBox op = commitment();
  op.contents[0].count = 9;
  EXPECT_REJECTED(t.run(t.issuer(0), op), "blind-box-size-mismatch");
  op = commitment();
  op.revealDeadline = t.now();
  EXPECT_REJECTED(t.run(t.issuer(0), op), "reveal-deadline-passed");
  EXPECT_REJECTED(t.run(t.issuer(1), commitment()), "not-series-issuer");
  op = commitment();
  op.contents[1].count = 2;
  t.mint(0, rare, {0, 0, 0, 0, 0, 0, 0, 0, 0});  // 9 of 10 rare minted: 1 left
  EXPECT_REJECTED(t.run(t.issuer(0), op), "item-cap-insufficient");
}

TEST_F(BlindBoxTest, CommitRefusedOnceBoxesExist) {
  t.mint(0, boxes, {0});
  EXPECT_REJECTED(t.run(t.issuer(0), commitment()), "blind-box-series-already-minted");
}

TEST_F(BlindBoxTest, FullLifecycle) {
  EXPECT_OK(t.run(t.issuer(0), commitment()));
  EXPECT_REJECTED(t.run(t.issuer(0), commitment()), "blind-box-exists");
  EXPECT_EQ(t.series(rare).reserved, 2u);
  // Reserved items cannot be minted around the box.
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{rare, std::vector<Address>(9, collector(0))}),
                  "series-cap-reached");
  for (std::size_t i = 0; i < 8; ++i) t.mint(0, boxes, {i});  // 8 of 12 boxes sold
  EXPECT_REJECTED(t.run(t.collector(0), OpenBlindBox{TokenId{boxes, 1}}), "blind-box-wrong-stage");
  EXPECT_OK(t.run(t.issuer(0), SealBlindBox{boxes}));
  EXPECT_REJECTED(t.run(t.issuer(0), Mint{boxes, {collector(0)}}), "series-sealed");
  EXPECT_REJECTED(t.run(t.issuer(0), SealBlindBox{boxes}), "blind-box-wrong-stage");
  EXPECT_REJECTED(t.run(t.issuer(0), RevealBlindBox{boxes, testHash("wrong seed")}),
                  "seed-mismatch");
  EXPECT_OK(t.run(t.issuer(0), RevealBlindBox{boxes, seed}));
  // 4 unsold boxes: their items went back to their series.
  SeriesRecord commonSeries = t.series(common);
  SeriesRecord rareSeries = t.series(rare);
  EXPECT_EQ(commonSeries.reserved + rareSeries.reserved, 8u);

  std::uint64_t rareOpened = 0;
  for (std::uint64_t serial = 1; serial <= 8; ++serial) {
    Receipt opened = t.run(t.collector(serial - 1), OpenBlindBox{TokenId{boxes, serial}});
    EXPECT_OK(opened);
    if (opened.createdId == rare.value()) ++rareOpened;
    SeriesId item(opened.createdId);
    EXPECT_EQ(t.token(TokenId{item, opened.firstSerial}).owner, collector(serial - 1));
  }
  EXPECT_REJECTED(t.run(t.collector(0), OpenBlindBox{TokenId{boxes, 1}}), "token-burned");
  EXPECT_EQ(t.series(boxes).burned, 8u);
  EXPECT_EQ(t.series(common).reserved + t.series(rare).reserved, 0u);
  EXPECT_EQ(t.series(rare).minted, rareOpened);
  EXPECT_EQ(t.read<BlindBoxRecord>(state_keys::blindBox(boxes))->opened, 8u);
}

TEST_F(BlindBoxTest, RevealMustFollowTheSealingBlock) {
  EXPECT_OK(t.run(t.issuer(0), commitment()));
  t.mint(0, boxes, {0});
  SignedTransaction seal = t.sign(t.issuer(0), SealBlindBox{boxes});
  SignedTransaction reveal =
      t.signWithNonce(t.issuer(0), RevealBlindBox{boxes, seed}, t.nonceOf(t.issuer(0)) + 1);
  t.advance(1);
  auto block = t.chain().commit({seal, reveal}, t.now());
  ASSERT_TRUE(block.ok());
  EXPECT_OK(block->receipts[0]);
  EXPECT_REJECTED(block->receipts[1], "reveal-too-early");
}

TEST_F(BlindBoxTest, UnrevealedBoxesBecomeRefundable) {
  EXPECT_OK(t.run(t.issuer(0), commitment()));
  t.mint(0, boxes, {0, 1});
  EXPECT_OK(t.run(t.issuer(0), SealBlindBox{boxes}));
  EXPECT_REJECTED(t.run(t.collector(0), RefundBlindBox{TokenId{boxes, 1}}), "refund-not-available");
  t.advance(31 * kDay);
  EXPECT_REJECTED(t.run(t.issuer(0), RevealBlindBox{boxes, seed}), "reveal-deadline-passed");
  EXPECT_OK(t.run(t.collector(0), RefundBlindBox{TokenId{boxes, 1}}));
  EXPECT_EQ(t.read<BlindBoxRecord>(state_keys::blindBox(boxes))->stage, BlindBoxStage::kExpired);
  EXPECT_EQ(t.series(rare).reserved, 0u);
  EXPECT_OK(t.run(t.collector(1), RefundBlindBox{TokenId{boxes, 2}}));
  EXPECT_EQ(t.series(boxes).burned, 2u);
}

TEST_F(BlindBoxTest, RevealedBoxesAreNotRefundable) {
  EXPECT_OK(t.run(t.issuer(0), commitment()));
  t.mint(0, boxes, {0});
  EXPECT_OK(t.run(t.issuer(0), SealBlindBox{boxes}));
  EXPECT_OK(t.run(t.issuer(0), RevealBlindBox{boxes, seed}));
  t.advance(31 * kDay);
  EXPECT_REJECTED(t.run(t.collector(0), RefundBlindBox{TokenId{boxes, 1}}), "refund-not-available");
  EXPECT_REJECTED(t.run(t.issuer(0), SealBlindBox{SeriesId(common)}), "blind-box-not-found");
}

TEST_F(BlindBoxTest, NoNestedBoxes) {
  SeriesId outer = t.createSeries(0, 12);
  EXPECT_OK(t.run(t.issuer(0), commitment()));
  CommitBlindBox nested{
      outer, {{boxes, 12}}, seedCommitment(suite(), seed), t.now() + core::Duration(kDay)};
  EXPECT_REJECTED(t.run(t.issuer(0), nested), "blind-box-nested");
}

// ---- Lotteries ----

TEST_F(OperationsTest, LotteryCommitAndDraw) {
  SeriesId id = t.createSeries(0, 100);
  Hash256 seed = testHash("lottery seed");
  CommitLottery commit{id, testHash("entrants"), 1000, 10,
                       seedCommitment(t.parameters().crypto(), seed)};
  EXPECT_REJECTED(t.run(t.issuer(1), commit), "not-series-issuer");
  Receipt committed = t.run(t.issuer(0), commit);
  EXPECT_OK(committed);
  LotteryId lottery(committed.createdId);
  EXPECT_REJECTED(t.run(t.issuer(0), DrawLottery{LotteryId(9), seed}), "lottery-not-found");
  EXPECT_REJECTED(t.run(t.issuer(1), DrawLottery{lottery, seed}), "not-lottery-issuer");
  EXPECT_REJECTED(t.run(t.issuer(0), DrawLottery{lottery, testHash("other")}), "seed-mismatch");
  EXPECT_OK(t.run(t.issuer(0), DrawLottery{lottery, seed}));
  auto record = t.read<LotteryRecord>(state_keys::lottery(lottery));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->winners.size(), 10u);
  std::set<std::uint64_t> distinct(record->winners.begin(), record->winners.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (std::uint64_t winner : record->winners) EXPECT_LT(winner, 1000u);
  EXPECT_REJECTED(t.run(t.issuer(0), DrawLottery{lottery, seed}), "lottery-already-drawn");
}

TEST_F(OperationsTest, LotteryDrawMustFollowTheCommitBlock) {
  SeriesId id = t.createSeries(0, 100);
  Hash256 seed = testHash("seed");
  SignedTransaction commit =
      t.sign(t.issuer(0), CommitLottery{id, testHash("entrants"), 50, 5,
                                        seedCommitment(t.parameters().crypto(), seed)});
  SignedTransaction draw =
      t.signWithNonce(t.issuer(0), DrawLottery{LotteryId(1), seed}, t.nonceOf(t.issuer(0)) + 1);
  t.advance(1);
  auto block = t.chain().commit({commit, draw}, t.now());
  ASSERT_TRUE(block.ok());
  EXPECT_OK(block->receipts[0]);
  EXPECT_REJECTED(block->receipts[1], "draw-too-early");
}

// ---- Synthesis ----

class SynthesisTest : public OperationsTest {
 protected:
  void SetUp() override {
    a = t.createSeries(0, 10);
    b = t.createSeries(0, 10);
    output = t.createSeries(0, 1);
    t.mint(0, a, {0, 0, 0});
    t.mint(0, b, {0});
  }
  CreateRecipe recipe() {
    return CreateRecipe{{{a, 2}, {b, 1}}, output, t.now(), t.now() + core::Duration(kDay), 5};
  }
  SeriesId a, b, output;
};

TEST_F(SynthesisTest, BurnsInputsAndMintsOutputAtomically) {
  EXPECT_REJECTED(t.run(t.issuer(1), recipe()), "not-series-issuer");
  Receipt created = t.run(t.issuer(0), recipe());
  EXPECT_OK(created);
  RecipeId id(created.createdId);
  EXPECT_REJECTED(t.run(t.collector(0), Synthesise{RecipeId(7), {TokenId{a, 1}}}),
                  "recipe-not-found");
  EXPECT_REJECTED(t.run(t.collector(0), Synthesise{id, {TokenId{a, 1}, TokenId{b, 1}}}),
                  "synthesis-inputs-mismatch");
  EXPECT_REJECTED(
      t.run(t.collector(1), Synthesise{id, {TokenId{a, 1}, TokenId{a, 2}, TokenId{b, 1}}}),
      "not-owner");
  Receipt made =
      t.run(t.collector(0), Synthesise{id, {TokenId{a, 1}, TokenId{a, 2}, TokenId{b, 1}}});
  EXPECT_OK(made);
  EXPECT_TRUE(t.token(TokenId{a, 1}).burned);
  EXPECT_TRUE(t.token(TokenId{b, 1}).burned);
  EXPECT_EQ(t.token(TokenId{output, 1}).owner, collector(0));
  EXPECT_EQ(t.series(a).burned, 2u);

  // The output series is full now: a second synthesis fails and burns nothing.
  t.mint(0, b, {0});
  EXPECT_REJECTED(
      t.run(t.collector(0), Synthesise{id, {TokenId{a, 3}, TokenId{a, 4}, TokenId{b, 2}}}),
      "token-not-found");
  t.mint(0, a, {0});
  EXPECT_REJECTED(
      t.run(t.collector(0), Synthesise{id, {TokenId{a, 3}, TokenId{a, 4}, TokenId{b, 2}}}),
      "series-cap-reached");
  EXPECT_FALSE(t.token(TokenId{a, 3}).burned);
  EXPECT_FALSE(t.token(TokenId{b, 2}).burned);
  EXPECT_EQ(t.series(a).burned, 2u);
}

TEST_F(SynthesisTest, WindowAndLimit) {
  CreateRecipe later = recipe();
  later.opensAt = t.now() + core::Duration(kDay);
  later.closesAt = t.now() + core::Duration(2 * kDay);
  later.maxSyntheses = 1;
  later.output = t.createSeries(0, 10);
  RecipeId id(t.run(t.issuer(0), later).createdId);
  std::vector<TokenId> inputs{TokenId{a, 1}, TokenId{a, 2}, TokenId{b, 1}};
  EXPECT_REJECTED(t.run(t.collector(0), Synthesise{id, inputs}), "recipe-not-open");
  t.advance(kDay);
  EXPECT_OK(t.run(t.collector(0), Synthesise{id, inputs}));
  t.mint(0, b, {0});
  t.mint(0, a, {0});
  EXPECT_REJECTED(
      t.run(t.collector(0), Synthesise{id, {TokenId{a, 3}, TokenId{a, 4}, TokenId{b, 2}}}),
      "recipe-exhausted");
  t.advance(kDay);
  EXPECT_REJECTED(
      t.run(t.collector(0), Synthesise{id, {TokenId{a, 3}, TokenId{a, 4}, TokenId{b, 2}}}),
      "recipe-not-open");
}

// ---- Consignment market ----

class TradeTest : public OperationsTest {
 protected:
  void SetUp() override {
    SeriesPolicy policy;
    policy.tradable = true;
    policy.priceCeiling = Fen(100'000);
    policy.holdBeforeFirstTransferMillis = kDay;
    series = t.createSeries(0, 10, policy, {}, 1000);
    t.mint(0, series, {0});
  }
  SettleTrade trade(Fen price, std::string reference = "pay-1") {
    return SettleTrade{TokenId{series, 1}, collector(0), collector(1),        price,
                       *price.share(1000), Fen(100),     std::move(reference)};
  }
  SeriesId series;
};

TEST_F(TradeTest, SettlesWithinThePolicy) {
  EXPECT_REJECTED(t.run(t.collector(0), trade(Fen(50'000))), "not-market");
  EXPECT_REJECTED(t.run(t.market(), trade(Fen(50'000))), "hold-period-active");
  t.advance(kDay);
  EXPECT_REJECTED(t.run(t.market(), trade(Fen(100'001))), "price-above-ceiling");
  SettleTrade wrongRoyalty = trade(Fen(50'000));
  wrongRoyalty.royalty = Fen(4'999);
  EXPECT_REJECTED(t.run(t.market(), wrongRoyalty), "royalty-mismatch");
  SettleTrade wrongSeller = trade(Fen(50'000));
  wrongSeller.seller = collector(2);
  EXPECT_REJECTED(t.run(t.market(), wrongSeller), "seller-not-owner");
  Receipt settled = t.run(t.market(), trade(Fen(50'000)));
  EXPECT_OK(settled);
  EXPECT_EQ(settled.policyVersion, 1u);
  EXPECT_EQ(t.token(TokenId{series, 1}).owner, collector(1));
  // The same payment cannot settle twice, even for a trade back.
  SettleTrade back = trade(Fen(50'000));
  std::swap(back.seller, back.buyer);
  t.advance(kDay);
  EXPECT_REJECTED(t.run(t.market(), back), "payment-already-settled");
  back.paymentReference = "pay-2";
  EXPECT_OK(t.run(t.market(), back));
}

TEST_F(TradeTest, NotTradableUnlessThePolicySaysSo) {
  SeriesId closed = t.createSeries(0, 10);
  t.mint(0, closed, {0});
  SettleTrade op{TokenId{closed, 1}, collector(0), collector(1), Fen(100), Fen(5), Fen(0), "p"};
  EXPECT_REJECTED(t.run(t.market(), op), "not-tradable");
}

// ---- Rights ----

class RedeemTest : public OperationsTest {
 protected:
  void SetUp() override {
    series = t.createSeries(0, 10, {}, {RightDefinition{7, "museum-ticket", 2}});
    t.mint(0, series, {0});
  }
  RedeemRight redemption(const core::KeyPair& holder, std::uint64_t consentNonce,
                         std::uint32_t rightId = 7) {
    RedemptionConsent consent;
    consent.holderKey = holder.publicKey;
    consent.verifier = addressOf(t.verifier());
    consent.expiresAt = t.now() + core::Duration(60'000);
    consent.consentNonce = consentNonce;
    TokenId token{series, 1};
    consent.signature = t.parameters().crypto().sign(
        holder.secretKey,
        redemptionConsentMessage(t.parameters().chainId, token, rightId, consent));
    return RedeemRight{token, rightId, consent};
  }
  SeriesId series;
};

TEST_F(RedeemTest, ConsumesUsesWithTheHoldersConsent) {
  EXPECT_EQ(t.token(TokenId{series, 1}).rightUsesLeft, (std::vector<std::uint32_t>{2}));
  EXPECT_REJECTED(t.run(t.collector(3), redemption(t.collector(0), 1)), "not-verifier");
  RedeemRight scanned = redemption(t.collector(0), 1);
  Receipt first = t.run(t.verifier(), scanned);
  EXPECT_OK(first);
  EXPECT_EQ(first.count, 1u);
  // Scanning the same QR code again is refused: each signed consent works once.
  EXPECT_REJECTED(t.run(t.verifier(), scanned), "consent-already-used");
  EXPECT_OK(t.run(t.verifier(), redemption(t.collector(0), 2)));
  EXPECT_REJECTED(t.run(t.verifier(), redemption(t.collector(0), 3)), "right-used-up");
}

TEST_F(RedeemTest, RefusesBadConsents) {
  EXPECT_REJECTED(t.run(t.verifier(), redemption(t.collector(1), 1)), "consent-wrong-holder");
  RedeemRight forged = redemption(t.collector(0), 1);
  forged.consent.signature.mutableArray()[0] ^= 1;
  EXPECT_REJECTED(t.run(t.verifier(), forged), "consent-bad-signature");
  RedeemRight otherVerifier = redemption(t.collector(0), 1);
  otherVerifier.consent.verifier = collector(5);
  EXPECT_REJECTED(t.run(t.verifier(), otherVerifier), "consent-wrong-verifier");
  RedeemRight expired = redemption(t.collector(0), 1);
  t.advance(120'000);
  EXPECT_REJECTED(t.run(t.verifier(), expired), "consent-expired");
  EXPECT_REJECTED(t.run(t.verifier(), redemption(t.collector(0), 2, 8)), "right-not-found");
  EXPECT_OK(
      t.run(t.governance(), SetFrozen{FreezeTarget::kToken, TokenId{series, 1}, {}, true, "x"}));
  EXPECT_REJECTED(t.run(t.verifier(), redemption(t.collector(0), 3)), "token-frozen");
}

// ---- Membership ----

class MembershipTest : public OperationsTest {
 protected:
  ChangeMembership change(MembershipAction action, const core::PublicKey& key,
                          const std::vector<std::size_t>& approvingMembers,
                          std::string name = "notary") {
    auto consortium = t.read<ConsortiumRecord>(state_keys::consortium());
    ChangeMembership op{action, key, std::move(name), {}};
    Bytes message = membershipChangeMessage(t.parameters().chainId, consortium->membershipVersion,
                                            action, key, op.name);
    for (std::size_t i : approvingMembers) {
      op.approvals.push_back(
          {t.member(i).publicKey, t.parameters().crypto().sign(t.member(i).secretKey, message)});
    }
    return op;
  }
  std::size_t memberCount() {
    return t.read<ConsortiumRecord>(state_keys::consortium())->members.size();
  }
};

TEST_F(MembershipTest, AddAndRemoveMembersWithAQuorum) {
  const core::PublicKey& newcomer = t.collector(7).publicKey;
  // 3 members: the quorum is 3 (more than two thirds).
  EXPECT_REJECTED(t.run(t.collector(0), change(MembershipAction::kAddMember, newcomer, {0, 1})),
                  "quorum-not-reached");
  ChangeMembership add = change(MembershipAction::kAddMember, newcomer, {0, 1, 2});
  EXPECT_OK(t.run(t.collector(0), add));
  EXPECT_EQ(memberCount(), 4u);
  // The same approvals cannot be replayed: they signed the old membership version.
  EXPECT_REJECTED(t.run(t.collector(0), add), "approval-bad-signature");
  EXPECT_REJECTED(t.run(t.collector(0), change(MembershipAction::kAddMember, newcomer, {0, 1, 2})),
                  "member-exists");
  EXPECT_OK(t.run(t.collector(0),
                  change(MembershipAction::kRemoveMember, t.member(2).publicKey, {0, 1, 2})));
  EXPECT_EQ(memberCount(), 3u);
  // Member 2 is gone: its approval no longer counts.
  EXPECT_REJECTED(t.run(t.collector(0),
                        change(MembershipAction::kAddMember, t.collector(6).publicKey, {0, 1, 2})),
                  "approver-not-member");
}

TEST_F(MembershipTest, RefusesBadApprovals) {
  ChangeMembership op = change(MembershipAction::kAddMember, t.collector(7).publicKey, {0, 1, 2});
  op.approvals[1].signature.mutableArray()[5] ^= 1;
  EXPECT_REJECTED(t.run(t.collector(0), op), "approval-bad-signature");
  EXPECT_REJECTED(t.run(t.collector(0), change(MembershipAction::kRemoveMember,
                                               t.collector(6).publicKey, {0, 1, 2})),
                  "member-not-found");
}

TEST_F(MembershipTest, AdminsChangeByQuorumToo) {
  const core::PublicKey& key = t.collector(4).publicKey;
  EXPECT_OK(t.run(t.collector(0), change(MembershipAction::kAddAdmin, key, {0, 1, 2})));
  EXPECT_REJECTED(t.run(t.collector(0), change(MembershipAction::kAddAdmin, key, {0, 1, 2})),
                  "admin-exists");
  EXPECT_OK(t.run(t.collector(4), RegisterIssuer{collector(6), "New issuer", testHash("l")}));
  EXPECT_OK(t.run(t.collector(0), change(MembershipAction::kRemoveAdmin, key, {0, 1, 2})));
  EXPECT_REJECTED(t.run(t.collector(0), change(MembershipAction::kRemoveAdmin, key, {0, 1, 2})),
                  "admin-not-found");
  EXPECT_REJECTED(t.run(t.collector(4), RegisterIssuer{collector(5), "Other", testHash("l")}),
                  "not-admin");
}

// ---- Blocks ----

TEST_F(OperationsTest, BlocksMustFollowTheChain) {
  Block good = t.chain().nextBlock({}, t.now() + core::Duration(1));
  auto expectRefused = [&](const Block& block, const char* reason) {
    auto outcome = t.chain().apply(block);
    EXPECT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.status().reason(), reason);
  };
  Block wrongHeight = good;
  wrongHeight.header.height += 1;
  expectRefused(wrongHeight, "block-wrong-height");
  Block wrongParent = good;
  wrongParent.header.previousHash.mutableArray()[0] ^= 1;
  expectRefused(wrongParent, "block-wrong-parent");
  Block backwards = t.chain().nextBlock({}, t.now() + core::Duration(-1));
  expectRefused(backwards, "block-time-backwards");
  Block wrongRoot = good;
  wrongRoot.header.previousStateRoot.mutableArray()[0] ^= 1;
  expectRefused(wrongRoot, "block-wrong-state-root");
  Block extraTransaction = good;
  extraTransaction.transactions.push_back(t.sign(t.admin(), GrantRoles{collector(0), 0}));
  expectRefused(extraTransaction, "block-transaction-count");
  extraTransaction.header.transactionCount = 1;
  expectRefused(extraTransaction, "block-wrong-transactions-root");
  Block wrongChain = good;
  wrongChain.header.chainId.mutableArray()[0] ^= 1;
  expectRefused(wrongChain, "block-wrong-chain");
  EXPECT_TRUE(t.chain().apply(good).ok());
}

TEST(SuiteTest, TheWholeChainRunsOnSm2) {
  TestChain sm2(core::SuiteId::kSm2Sm3);
  SeriesId id = sm2.createSeries(0, 2);
  sm2.mint(0, id, {0});
  EXPECT_TRUE(
      sm2.run(sm2.collector(0), Transfer{TokenId{id, 1}, TestChain::address(sm2.collector(1))})
          .ok());
  EXPECT_EQ(sm2.token(TokenId{id, 1}).owner, TestChain::address(sm2.collector(1)));
  // An Ed25519-signed transaction is refused on an SM2 chain.
  TestChain ed;
  Transaction foreign{sm2.parameters().chainId, ed.collector(0).publicKey, 0, Burn{TokenId{id, 1}}};
  SignedTransaction signedForeign =
      signTransaction(ed.parameters(), foreign, ed.collector(0).secretKey);
  EXPECT_EQ(checkTransaction(sm2.parameters(), signedForeign).reason(), "signer-wrong-suite");
}

}  // namespace
}  // namespace jiancang::chain
