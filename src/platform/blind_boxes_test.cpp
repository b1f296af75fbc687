#include <platform/blind_boxes.h>

#include <nlohmann/json.hpp>

#include <chain/fair_random.h>
#include <platform/testing/drops_fixture.h>

namespace jiancang::platform {
namespace {

// The drops fixture's published series (cap 20) is item A; a second series (cap 10) is item B;
// a blind box of 4 holds three As and one B, sold through a drop.
class BlindBoxesTest : public testing::DropsTest {
 protected:
  void SetUp() override {
    DropsTest::SetUp();
    if (HasFatalFailure()) return;
    auto second = approvedDraft(fields(10));
    ASSERT_TRUE(second.ok()) << second.status().toString();
    auto published = catalog_->publish(issuer_, second->id);
    ASSERT_TRUE(published.ok()) << published.status().toString();
    itemB_ = *published;
    boxes_ =
        std::make_unique<BlindBoxes>(*database_, *accounts_, *catalog_, *drops_, *writer_, clock_);
  }

  core::Result<SeriesDraft> approvedDraft(const SeriesFields& given) {
    auto draft = catalog_->draft(issuer_, given);
    if (!draft) return draft;
    if (auto submitted = catalog_->submitForReview(issuer_, draft->id); !submitted) {
      return submitted;
    }
    return catalog_->review(secondReviewer_, draft->id, true, "");
  }

  SeriesFields boxFields() const {
    SeriesFields box = fields(4);
    box.title = "飞天盲盒";
    box.blindBox = {BlindBoxItem{draftId_, 3, 0}, BlindBoxItem{itemB_.id, 1, 0}};
    box.revealDeadline = clock_.now() + std::chrono::hours(2);
    return box;
  }

  // Publishes the box and sells it through a drop of `stock` to `buyers` paying buyers.
  SeriesDraft publishAndSell(int buyers, std::vector<std::int64_t>* holders) {
    auto draft = approvedDraft(boxFields());
    EXPECT_TRUE(draft.ok()) << draft.status().toString();
    auto box = catalog_->publish(issuer_, draft->id);
    EXPECT_TRUE(box.ok()) << box.status().toString();
    DropFields sale = dropFields(4);
    sale.seriesDraftId = box->id;
    sale.perIdentityLimit = 1;
    auto drop = drops_->create(operator_, sale);
    EXPECT_TRUE(drop.ok()) << drop.status().toString();
    for (int i = 0; i < buyers; ++i) {
      std::int64_t user = buyer(40 + i);
      holders->push_back(user);
      EXPECT_EQ(buyAndPay(user, drop->id, "box").state, OrderState::kPaid);
    }
    auto minted = minter_->runOnce();
    EXPECT_TRUE(minted.ok() && *minted == buyers);
    return *box;
  }

  std::unique_ptr<BlindBoxes> boxes_;
  SeriesDraft itemB_;
};

TEST_P(BlindBoxesTest, DraftsRefuseContentsThatDoNotMakeABox) {
  SeriesFields box = boxFields();
  box.editionCap = 5;
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "blind-box-size-mismatch");
  box = boxFields();
  box.blindBox[1].seriesDraftId = draftId_;
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "blind-box-items");  // twice
  box = boxFields();
  box.blindBox[0].count = 0;
  box.blindBox[1].count = 4;
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "blind-box-items");
  box = boxFields();
  box.revealDeadline = core::Timestamp::fromUnixMillis(clock_.now().unixMillis() - 1'000);
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "reveal-deadline-invalid");
  // An unpublished item, and a box inside a box.
  auto unpublished = catalog_->draft(issuer_, fields(7));
  ASSERT_TRUE(unpublished.ok());
  box = boxFields();
  box.blindBox[1].seriesDraftId = unpublished->id;
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "blind-box-items");
  auto outer = approvedDraft(boxFields());
  ASSERT_TRUE(outer.ok());
  auto published = catalog_->publish(issuer_, outer->id);
  ASSERT_TRUE(published.ok()) << published.status().toString();
  box = boxFields();
  box.blindBox[1].seriesDraftId = published->id;
  EXPECT_EQ(catalog_->draft(issuer_, box).status().reason(), "blind-box-items");
  // Another issuer's series is not this issuer's to box.
  EXPECT_EQ(catalog_->draft(collector_, boxFields()).status().reason(), "not-issuer");
}

// Publishing a box takes two transactions; a failure between them, or an answer lost after the
// second, is finished by publishing again: one series, the seed committed once.
TEST_P(BlindBoxesTest, PublishingAgainFinishesABoxWithoutASecondSeries) {
  // Item A has room for 2 more copies only: the box's commit (3 As) is refused after its series
  // was created.
  auto key = accounts_->signingKey(issuer_);
  ASSERT_TRUE(key.ok());
  std::vector<core::Address> recipients(18, accounts_->user(collector_)->address);
  auto minted = writer_->submit(*key, chain::Mint{chain::SeriesId(seriesId_), recipients});
  ASSERT_TRUE(minted.ok() && minted->receipt.ok());
  auto draft = approvedDraft(boxFields());
  ASSERT_TRUE(draft.ok()) << draft.status().toString();
  EXPECT_EQ(catalog_->publish(issuer_, draft->id).status().reason(), "item-cap-insufficient");
  auto halfway = catalog_->find(issuer_, draft->id);
  ASSERT_TRUE(halfway.ok());
  EXPECT_EQ(halfway->state, SeriesState::kApproved);
  const std::uint64_t boxSeries = halfway->seriesId;
  ASSERT_GT(boxSeries, 0u);
  EXPECT_EQ(catalog_->publish(issuer_, draft->id).status().reason(), "item-cap-insufficient");
  EXPECT_FALSE(seriesOnChain(boxSeries + 1).has_value()) << "a second series was created";
  EXPECT_TRUE(catalog_->find(std::nullopt, draft->id).status().reason() == "no-such-series");

  // A box whose commit landed but whose answer was lost (the row still says approved).
  auto second = approvedDraft([&] {
    SeriesFields box = boxFields();
    box.editionCap = 3;
    box.blindBox = {BlindBoxItem{draftId_, 2, 0}, BlindBoxItem{itemB_.id, 1, 0}};
    return box;
  }());
  ASSERT_TRUE(second.ok()) << second.status().toString();
  auto published = catalog_->publish(issuer_, second->id);
  ASSERT_TRUE(published.ok()) << published.status().toString();
  ASSERT_TRUE(database_
                  ->transaction([&](SqlSession& session) {
                    return session
                        .execute(
                            "UPDATE series_drafts SET state = ? WHERE id = ?",
                            {std::int64_t{static_cast<int>(SeriesState::kApproved)}, second->id})
                        .status();
                  })
                  .isOk());
  auto again = catalog_->publish(issuer_, second->id);
  ASSERT_TRUE(again.ok()) << again.status().toString();
  EXPECT_EQ(again->seriesId, published->seriesId);
  EXPECT_EQ(again->boxSeedCommitment, published->boxSeedCommitment);
  EXPECT_EQ(boxes_->record(again->seriesId)->seedCommitment, published->boxSeedCommitment);
}

TEST_P(BlindBoxesTest, ABoxIsCommittedSoldRevealedAndOpenedAsAnyoneCanRecompute) {
  std::vector<std::int64_t> holders;
  SeriesDraft box = publishAndSell(3, &holders);
  ASSERT_FALSE(HasFailure());
  // Published with its contents and H(seed) on chain, and in the metadata its hash covers.
  auto record = boxes_->record(box.seriesId);
  ASSERT_TRUE(record.ok()) << record.status().toString();
  EXPECT_EQ(record->stage, chain::BlindBoxStage::kCommitted);
  EXPECT_EQ(record->seedCommitment, box.boxSeedCommitment);
  ASSERT_EQ(record->contents.size(), 2u);
  EXPECT_EQ(record->contents[0].series.value(), seriesId_);
  EXPECT_EQ(record->contents[0].count, 3u);
  EXPECT_EQ(record->contents[1].series.value(), itemB_.seriesId);
  auto metadata = nlohmann::json::parse(box.metadata);
  EXPECT_EQ(metadata["blind_box"]["seed_commitment"], box.boxSeedCommitment.hex());
  EXPECT_EQ(metadata["blind_box"]["contents"][0]["count"], 3);
  EXPECT_EQ(seriesOnChain(seriesId_)->reserved, 3u);
  // Boxes cannot be opened before the reveal, nor revealed while the drop is on.
  chain::TokenId first{chain::SeriesId(box.seriesId), 1};
  EXPECT_EQ(boxes_->open(holders[0], first).status().reason(), "blind-box-wrong-stage");
  EXPECT_EQ(boxes_->reveal(issuer_, box.id).status().reason(), "sale-still-open");
  EXPECT_EQ(boxes_->reveal(collector_, box.id).status().reason(), "not-issuer");

  clock_.advance(std::chrono::minutes(61));
  auto revealed = boxes_->reveal(issuer_, box.id);
  ASSERT_TRUE(revealed.ok()) << revealed.status().toString();
  EXPECT_EQ(revealed->stage, chain::BlindBoxStage::kRevealed);
  EXPECT_EQ(boxes_->reveal(issuer_, box.id).status().reason(), "already-revealed");
  const core::CryptoSuite& suite = core::cryptoSuite(core::SuiteId::kEd25519Sha256);
  EXPECT_EQ(chain::seedCommitment(suite, revealed->seed), box.boxSeedCommitment);
  // The fourth box was never sold: its item goes back to its series.
  EXPECT_EQ(seriesOnChain(seriesId_)->reserved + seriesOnChain(itemB_.seriesId)->reserved, 3u);

  // Anyone can recompute each box's item from public values: the seed, the sealing block's hash.
  auto sealing = ledger_->blockAt(revealed->sealedAtHeight);
  ASSERT_TRUE(sealing.has_value());
  const core::BlockHash sealingHash = chain::blockHash(ledger_->parameters(), sealing->header);
  const core::Hash256 shuffle =
      chain::blindBoxShuffleSeed(suite, revealed->seed, sealingHash, chain::SeriesId(box.seriesId));
  EXPECT_EQ(shuffle, revealed->shuffleSeed);
  std::vector<chain::SeriesId> expected =
      chain::assignBlindBoxItems(suite, shuffle, revealed->contents);
  EXPECT_EQ(boxes_->open(holders[1], first).status().reason(), "not-owner");
  for (std::uint64_t serial = 1; serial <= 3; ++serial) {
    chain::TokenId token{chain::SeriesId(box.seriesId), serial};
    auto opened = boxes_->open(holders[serial - 1], token);
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    EXPECT_EQ(opened->item.series, expected[serial - 1]);
    auto item = ledger_->get(chain::state_keys::token(opened->item));
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(core::decode<chain::TokenRecord>(*item)->owner,
              accounts_->user(holders[serial - 1])->address);
  }
  EXPECT_EQ(boxes_->open(holders[0], first).status().reason(), "token-burned");
  EXPECT_EQ(boxes_->refund(holders[0], first).status().reason(), "token-burned");
}

// A drop of an item series leaves room for the copies its boxes hold: the chain would refuse to
// mint them otherwise, after the buyers paid.
TEST_P(BlindBoxesTest, DropsOfAnItemLeaveRoomForItsBoxes) {
  auto draft = approvedDraft(boxFields());
  ASSERT_TRUE(draft.ok()) << draft.status().toString();
  ASSERT_TRUE(catalog_->publish(issuer_, draft->id).ok());
  ASSERT_EQ(seriesOnChain(itemB_.seriesId)->reserved, 1u);
  DropFields sale = dropFields(10);  // all of item B's cap
  sale.seriesDraftId = itemB_.id;
  auto refused = drops_->create(operator_, sale);
  EXPECT_EQ(refused.status().reason(), "stock-over-cap");
  EXPECT_NE(refused.status().message().find("1 held for blind boxes"), std::string::npos)
      << refused.status().message();
  sale.stock = 9;
  auto made = drops_->create(operator_, sale);
  ASSERT_TRUE(made.ok()) << made.status().toString();
  // Sold and minted, the drop's copies are counted once, not as minted and as stock both.
  EXPECT_EQ(buyAndPay(buyer(60), made->id, "b").state, OrderState::kPaid);
  auto minted = minter_->runOnce();
  ASSERT_TRUE(minted.ok() && *minted == 1);
  ASSERT_EQ(seriesOnChain(itemB_.seriesId)->minted, 1u);
  sale.stock = 1;
  EXPECT_EQ(drops_->create(operator_, sale).status().reason(), "stock-over-cap");
  // Item A: a cap of 20, three held for boxes.
  sale.seriesDraftId = draftId_;
  sale.stock = 18;
  EXPECT_EQ(drops_->create(operator_, sale).status().reason(), "stock-over-cap");
  sale.stock = 17;
  EXPECT_TRUE(drops_->create(operator_, sale).ok());
}

TEST_P(BlindBoxesTest, AnUnrevealedBoxIsRefundedToWhoPaidForIt) {
  std::vector<std::int64_t> holders;
  SeriesDraft box = publishAndSell(1, &holders);
  ASSERT_FALSE(HasFailure());
  chain::TokenId first{chain::SeriesId(box.seriesId), 1};
  EXPECT_EQ(boxes_->refund(holders[0], first).status().reason(), "refund-not-available");
  clock_.advance(std::chrono::hours(3));  // past the reveal deadline
  EXPECT_EQ(boxes_->reveal(issuer_, box.id).status().reason(), "reveal-deadline-passed");
  EXPECT_EQ(boxes_->refund(collector_, first).status().reason(), "not-owner");
  auto refunded = boxes_->refund(holders[0], first);
  ASSERT_TRUE(refunded.ok()) << refunded.status().toString();
  ASSERT_TRUE(refunded->order.has_value());
  EXPECT_EQ(refunded->order->state, OrderState::kRefunded);
  auto payment = sandbox_->payment(refunded->order->paymentId);
  ASSERT_TRUE(payment.ok());
  EXPECT_EQ(payment->state, "refunded");
  // Once only; every item the box had reserved is free again.
  EXPECT_EQ(boxes_->refund(holders[0], first).status().reason(), "order-not-refundable");
  EXPECT_EQ(seriesOnChain(seriesId_)->reserved, 0u);
  EXPECT_EQ(seriesOnChain(itemB_.seriesId)->reserved, 0u);
}

INSTANTIATE_TEST_SUITE_P(Both, BlindBoxesTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
