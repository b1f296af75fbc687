#include <platform/catalog.h>

#include <unistd.h>

#include <gtest/gtest.h>
#include <sodium.h>
#include <stb_image_write.h>

#include <chain/state_keys.h>
#include <chain/testing/test_chain.h>
#include <ordering/solo_orderer.h>
#include <platform/testing/databases.h>

namespace jiancang::platform {
namespace {

namespace fs = std::filesystem;
using chain::testing::TestChain;

void append(void* context, void* data, int size) {
  auto* out = static_cast<core::Bytes*>(context);
  out->insert(out->end(), static_cast<std::uint8_t*>(data),
              static_cast<std::uint8_t*>(data) + size);
}

core::Bytes tinyPng(std::uint8_t shade) {
  std::vector<std::uint8_t> pixels(std::size_t{16} * 16 * 3, shade);
  core::Bytes out;
  stbi_write_png_to_func(append, &out, 16, 16, 3, pixels.data(), 16 * 3);
  return out;
}

// The whole path: a real ledger and solo orderer under the catalogue, on both databases.
class CatalogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    directory_ = fs::temp_directory_path() /
                 ("jiancang-catalog-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(directory_);
    chain::Genesis genesis;
    genesis.chainName = "catalog-test";
    genesis.timestamp = core::Timestamp::fromUnixMillis(1'700'000'000'000);
    genesis.members = {chain::Member{"solo", chain_.member(0).publicKey}};
    genesis.roleGrants = {{TestChain::address(chain_.admin()), chain::kRoleAdmin}};
    auto opened = ledger::Ledger::open(directory_ / "ledger", genesis,
                                       ledger::LedgerOptions{64u << 20, false});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    ledger_ = std::move(opened).value();
    ordering::SoloOrdererOptions ordererOptions;
    ordererOptions.blockInterval = std::chrono::milliseconds(2);
    orderer_ = std::make_unique<ordering::SoloOrderer>(
        *ledger_, chain::testing::copyKeyPair(chain_.member(0)), clock_, ordererOptions);
    writer_ = std::make_unique<ChainWriter>(*ledger_, *orderer_);
    database_ = testing::freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    accounts_ = std::make_unique<Accounts>(*database_, masterKey_,
                                           core::cryptoSuite(core::SuiteId::kEd25519Sha256),
                                           verifier_, clock_, testing::fastAccountsOptions());
    store_ = std::make_unique<DiskMediaStore>(directory_ / "media");
    media_ = std::make_unique<MediaLibrary>(*database_, *store_, clock_);
    catalog_ = std::make_unique<Catalog>(*database_, *accounts_, *media_, *writer_, chain_.admin(),
                                         clock_);

    auto created = accounts_->ensureOperator("13000000000");
    ASSERT_TRUE(created.ok() && created->has_value());
    operator_ = accounts_->login("13000000000", **created, "t")->first.id;
    issuer_ = accounts_->registerCollector("13800138001", "issuer password")->id;
    secondReviewer_ = accounts_->registerCollector("13800138002", "reviewer password")->id;
    ASSERT_TRUE(
        accounts_->setRoles(operator_, secondReviewer_, kRoleCollector | kRoleReviewer).ok());
    collector_ = accounts_->registerCollector("13800138003", "collector password")->id;
    auto document = media_->upload(operator_, core::asBytes("%PDF-1.7\nauthorisation\n"));
    ASSERT_TRUE(document.ok()) << document.status().toString();
    document_ = document->sha256;
    auto work = media_->upload(operator_, tinyPng(200));
    ASSERT_TRUE(work.ok());
    work_ = work->sha256;
  }
  void TearDown() override {
    catalog_.reset();
    orderer_.reset();
    ledger_.reset();
    fs::remove_all(directory_);
  }

  SeriesFields fields(std::uint64_t cap = 500) const {
    SeriesFields out;
    out.title = "敦煌飞天";
    out.description = "莫高窟第 320 窟的飞天";
    out.media = work_;
    out.editionCap = cap;
    out.royaltyBasisPoints = 500;
    out.policy.holdBeforeFirstTransferMillis = std::uint64_t{24} * 3'600'000;
    out.rights = {chain::RightDefinition{1, "museum-entry", 1}};
    return out;
  }

  std::optional<chain::SeriesRecord> seriesOnChain(std::uint64_t id) {
    auto bytes = ledger_->get(chain::state_keys::series(chain::SeriesId(id)));
    if (!bytes) return std::nullopt;
    auto decoded = core::decode<chain::SeriesRecord>(*bytes);
    if (!decoded) return std::nullopt;
    return *decoded;
  }

  TestChain chain_;
  core::ManualClock clock_{core::Timestamp::fromUnixMillis(1'795'435'200'000)};
  fs::path directory_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ordering::SoloOrderer> orderer_;
  std::unique_ptr<ChainWriter> writer_;
  std::unique_ptr<Database> database_;
  MasterKey masterKey_ = MasterKey::fromBytes(std::vector<std::uint8_t>(32, 3));
  LocalIdentityVerifier verifier_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<DiskMediaStore> store_;
  std::unique_ptr<MediaLibrary> media_;
  std::unique_ptr<Catalog> catalog_;
  std::int64_t operator_ = 0;
  std::int64_t issuer_ = 0;
  std::int64_t secondReviewer_ = 0;
  std::int64_t collector_ = 0;
  core::Hash256 document_;
  core::Hash256 work_;
};

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
