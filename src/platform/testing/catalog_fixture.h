// The catalogue's test fixture, shared with the drops tests that build on it: a real ledger
// and solo orderer under the platform, on both databases (the test parameter), with an
// operator, an issuer-to-be, a second reviewer, a collector, an authorisation document and a
// work already uploaded.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>
#include <sodium.h>
#include <stb_image_write.h>

#include <chain/state_keys.h>
#include <chain/testing/test_chain.h>
#include <ordering/solo_orderer.h>
#include <platform/catalog.h>
#include <platform/testing/databases.h>

namespace jiancang::platform::testing {

namespace fs = std::filesystem;
using chain::testing::TestChain;

inline void append(void* context, void* data, int size) {
  auto* out = static_cast<core::Bytes*>(context);
  out->insert(out->end(), static_cast<std::uint8_t*>(data),
              static_cast<std::uint8_t*>(data) + size);
}

inline core::Bytes tinyPng(std::uint8_t shade) {
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
    database_ = freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    accounts_ = std::make_unique<Accounts>(*database_, masterKey_,
                                           core::cryptoSuite(core::SuiteId::kEd25519Sha256),
                                           verifier_, clock_, fastAccountsOptions());
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

  // Onboards the issuer and takes a series of `fields(cap)` through review to the chain.
  void publishSeries(std::uint64_t cap, SeriesDraft* published) {
    ASSERT_TRUE(catalog_->onboardIssuer(operator_, issuer_, "敦煌研究院", {document_}).ok());
    auto draft = catalog_->draft(issuer_, fields(cap));
    ASSERT_TRUE(draft.ok());
    ASSERT_TRUE(catalog_->submitForReview(issuer_, draft->id).ok());
    ASSERT_TRUE(catalog_->review(secondReviewer_, draft->id, true, "").ok());
    auto publication = catalog_->publish(issuer_, draft->id);
    ASSERT_TRUE(publication.ok()) << publication.status().toString();
    *published = *publication;
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

}  // namespace jiancang::platform::testing
