#include <platform/catalog.h>

#include <platform/testing/catalog_fixture.h>

namespace jiancang::platform {
namespace {

using testing::CatalogTest;

TEST_P(CatalogTest, ASeriesGoesFromDraftThroughReviewToTheChain) {
  auto issuer = catalog_->onboardIssuer(operator_, issuer_, "敦煌研究院", {document_});
  ASSERT_TRUE(issuer.ok()) << issuer.status().toString();
  EXPECT_GT(issuer->registrationHeight, 0u);
  EXPECT_EQ(issuer->licenceHash, core::sha256(document_.view()));
  EXPECT_TRUE(accounts_->user(issuer_)->hasRole(kRoleIssuer));
  EXPECT_TRUE(ledger_->get(chain::state_keys::issuer(issuer->address)).has_value());

  auto draft = catalog_->draft(issuer_, fields());
  ASSERT_TRUE(draft.ok()) << draft.status().toString();
  EXPECT_EQ(draft->state, SeriesState::kDraft);
  EXPECT_EQ(draft->mediaType, "image/png");
  EXPECT_EQ(catalog_->publish(issuer_, draft->id).status().reason(), "not-approved");
  EXPECT_EQ(catalog_->review(operator_, draft->id, true, "").status().reason(), "not-in-review");
  ASSERT_TRUE(catalog_->submitForReview(issuer_, draft->id).ok());
  EXPECT_EQ(catalog_->listInReview(operator_)->size(), 1u);

  // Rejected with a reason, edited, submitted again, approved by someone else, published.
  EXPECT_EQ(catalog_->review(operator_, draft->id, false, "").status().reason(), "reason-required");
  auto rejected = catalog_->review(operator_, draft->id, false, "标题请写全称");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->state, SeriesState::kRejected);
  EXPECT_EQ(rejected->reviewReason, "标题请写全称");
  SeriesFields better = fields();
  better.title = "敦煌飞天 · 莫高窟第 320 窟";
  ASSERT_TRUE(catalog_->edit(issuer_, draft->id, better).ok());
  ASSERT_TRUE(catalog_->submitForReview(issuer_, draft->id).ok());
  EXPECT_FALSE(catalog_->find(std::nullopt, draft->id).ok());  // not public yet
  EXPECT_FALSE(catalog_->find(collector_, draft->id).ok());
  auto approved = catalog_->review(secondReviewer_, draft->id, true, "");
  ASSERT_TRUE(approved.ok()) << approved.status().toString();
  EXPECT_EQ(catalog_->edit(issuer_, draft->id, fields()).status().reason(), "not-editable");

  auto published = catalog_->publish(issuer_, draft->id);
  ASSERT_TRUE(published.ok()) << published.status().toString();
  EXPECT_EQ(published->state, SeriesState::kPublished);
  EXPECT_GT(published->seriesId, 0u);
  auto onChain = seriesOnChain(published->seriesId);
  ASSERT_TRUE(onChain.has_value());
  EXPECT_EQ(onChain->editionCap, 500u);
  EXPECT_EQ(onChain->mediaHash, work_);
  EXPECT_EQ(onChain->licenceHash, issuer->licenceHash);
  EXPECT_EQ(onChain->metadataHash, core::sha256(core::asBytes(published->metadata)));
  EXPECT_EQ(onChain->issuer, issuer->address);
  // Public now, to anyone.
  EXPECT_TRUE(catalog_->find(std::nullopt, draft->id).ok());
  EXPECT_EQ(catalog_->listPublished()->size(), 1u);
  EXPECT_EQ(catalog_->publish(issuer_, draft->id).status().reason(), "not-approved");
}

TEST_P(CatalogTest, TheTwoPersonRuleAndRolesHold) {
  // Only operators onboard.
  EXPECT_EQ(catalog_->onboardIssuer(collector_, issuer_, "x", {document_}).status().reason(),
            "not-operator");
  EXPECT_EQ(catalog_->onboardIssuer(operator_, issuer_, "", {document_}).status().reason(),
            "issuer-name");
  EXPECT_EQ(catalog_->onboardIssuer(operator_, issuer_, "x", {}).status().reason(),
            "documents-missing");
  EXPECT_EQ(catalog_->onboardIssuer(operator_, issuer_, "x", {core::sha256(core::asBytes("?"))})
                .status()
                .reason(),
            "no-such-media");
  EXPECT_EQ(catalog_->draft(issuer_, fields()).status().reason(), "not-issuer");

  // An operator who is also the issuer may not approve their own draft.
  ASSERT_TRUE(catalog_->onboardIssuer(operator_, operator_, "平台自营", {document_}).ok());
  EXPECT_EQ(catalog_->onboardIssuer(operator_, operator_, "again", {document_}).status().reason(),
            "issuer-exists");
  auto own = catalog_->draft(operator_, fields());
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(catalog_->submitForReview(operator_, own->id).ok());
  EXPECT_EQ(catalog_->review(operator_, own->id, true, "").status().reason(),
            "reviewer-is-drafter");
  EXPECT_EQ(catalog_->review(collector_, own->id, true, "").status().reason(), "not-reviewer");
  EXPECT_EQ(catalog_->listInReview(collector_).status().reason(), "not-reviewer");

  // Another issuer's draft is not there for them.
  ASSERT_TRUE(catalog_->onboardIssuer(operator_, issuer_, "另一家", {document_}).ok());
  EXPECT_EQ(catalog_->submitForReview(issuer_, own->id).status().reason(), "no-such-series");
  EXPECT_EQ(catalog_->edit(issuer_, own->id, fields()).status().reason(), "no-such-series");

  // The chain's own shape rules apply to drafts; documents are not works.
  EXPECT_EQ(catalog_->draft(issuer_, fields(0)).status().reason(), "edition-cap-out-of-range");
  SeriesFields greedy = fields();
  greedy.royaltyBasisPoints = 3'001;
  EXPECT_EQ(catalog_->draft(issuer_, greedy).status().reason(), "royalty-too-high");
  SeriesFields pdf = fields();
  pdf.media = document_;
  EXPECT_EQ(catalog_->draft(issuer_, pdf).status().reason(), "media-not-a-work");
  SeriesFields longWinded = fields();
  longWinded.description = std::string(4'001, 'x');
  EXPECT_EQ(catalog_->draft(issuer_, longWinded).status().reason(), "description-too-long");
}

INSTANTIATE_TEST_SUITE_P(Both, CatalogTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
