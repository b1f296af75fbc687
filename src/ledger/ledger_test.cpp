#include <ledger/ledger.h>

#include <ledger/certificate.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <chain/state_keys.h>
#include <chain/testing/test_chain.h>

namespace jiancang::ledger {
namespace {

namespace fs = std::filesystem;
using chain::testing::TestChain;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("jiancang-ledger-test-" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             std::to_string(counter_++) + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Runs each transaction through a TestChain (the reference) and the ledger, block by block.
class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    ledger_.reset();
    auto opened = Ledger::open(dir_.path(), t_.genesis(), LedgerOptions{64u << 20, false});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    ledger_ = std::move(opened).value();
  }

  chain::Receipt run(const core::KeyPair& signer, chain::Operation operation) {
    return runAll({t_.sign(signer, std::move(operation))}).front();
  }

  std::vector<chain::Receipt> runAll(std::vector<chain::SignedTransaction> transactions) {
    t_.advance(1000);
    chain::Block block = t_.chain().nextBlock(std::move(transactions), t_.now());
    auto outcome =
        chain::applyBlock(ledger_->parameters(), *ledger_, *ledger_, ledger_->head().stateRoot,
                          block, chain::ApplyOptions{true, true});
    EXPECT_TRUE(outcome.ok()) << outcome.status().message();
    std::vector<chain::Attestation> attestations;
    for (std::size_t m = 0; m < 3; ++m) {
      attestations.push_back(chain::signAttestation(ledger_->parameters(), block.header.height,
                                                    outcome->blockHash, outcome->stateRoot,
                                                    t_.member(m)));
    }
    auto committed = ledger_->commit(block, *outcome, attestations);
    EXPECT_TRUE(committed.ok()) << committed.status().message();
    lastEvents_ = committed->accountEvents;
    auto reference = t_.chain().apply(block);
    EXPECT_TRUE(reference.ok());
    EXPECT_EQ(ledger_->head().stateRoot, t_.chain().stateRoot());
    return outcome->receipts;
  }

  // An issuer with a series of `cap` and `count` tokens minted to collector 0.
  chain::SeriesId seriesWithTokens(std::uint64_t cap, std::size_t count) {
    run(t_.admin(), chain::RegisterIssuer{TestChain::address(t_.issuer(0)), "敦煌研究院",
                                          chain::testing::testHash("licence")});
    run(t_.issuer(0), TestChain::seriesTemplate(cap));
    chain::SeriesId series(1);
    chain::Mint mint{series, {}};
    for (std::size_t i = 0; i < count; ++i)
      mint.recipients.push_back(TestChain::address(t_.collector(0)));
    EXPECT_TRUE(run(t_.issuer(0), mint).ok());
    return series;
  }

  TempDir dir_;
  TestChain t_;
  std::unique_ptr<Ledger> ledger_;
  std::vector<AccountEvent> lastEvents_;
};

TEST_F(LedgerTest, StartsAtGenesisWithTheReferenceRoot) {
  EXPECT_EQ(ledger_->head().height, 0u);
  EXPECT_EQ(ledger_->head().stateRoot, t_.chain().stateRoot());
  EXPECT_EQ(ledger_->parameters().chainId, t_.parameters().chainId);
}

TEST_F(LedgerTest, RefusesAnotherChainsGenesis) {
  ledger_.reset();
  chain::Genesis other = t_.genesis();
  other.chainName = "another chain";
  auto opened = Ledger::open(dir_.path(), other);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ledger-other-chain");
  auto without = Ledger::open(dir_.path() / "nothing-here", std::nullopt);
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.status().reason(), "ledger-empty");
}

TEST_F(LedgerTest, CommitsSurviveReopeningWithTheirQueries) {
  chain::SeriesId series = seriesWithTokens(100, 5);
  auto receipt = run(t_.collector(0), chain::Transfer{chain::TokenId{series, 2},
                                                      TestChain::address(t_.collector(1))});
  ASSERT_TRUE(receipt.ok()) << receipt.message;
  Head before = ledger_->head();
  reopen();
  EXPECT_EQ(ledger_->head(), before);
  EXPECT_EQ(before.height, 4u);

  auto block = ledger_->blockAt(4);
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(ledger_->heightOf(before.blockHash), 4u);
  EXPECT_EQ(ledger_->attestationsAt(4).size(), 3u);

  auto entry = ledger_->transaction(receipt.txHash);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->height, 4u);
  EXPECT_EQ(entry->receipt, receipt);

  auto history = ledger_->tokenHistory(chain::TokenId{series, 2}, "", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->items.size(), 2u);
  EXPECT_EQ(history->items[0].kind, OwnershipEvent::Kind::kMint);
  EXPECT_EQ(history->items[0].to, TestChain::address(t_.collector(0)));
  EXPECT_EQ(history->items[1].kind, OwnershipEvent::Kind::kTransfer);
  EXPECT_EQ(history->items[1].from, TestChain::address(t_.collector(0)));
  EXPECT_EQ(history->items[1].to, TestChain::address(t_.collector(1)));
  EXPECT_EQ(history->items[1].txHash, receipt.txHash);

  auto mine = ledger_->tokensOf(TestChain::address(t_.collector(1)), "", 10);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(mine->items[0].serial, 2u);
  EXPECT_TRUE(mine->nextCursor.empty());
  EXPECT_EQ(ledger_->holdersOf(series), 2u);
}

TEST_F(LedgerTest, RecordsTheFinalHeightWithAttestationsAndNeverLowersIt) {
  seriesWithTokens(10, 1);  // three blocks
  EXPECT_EQ(ledger_->finalHeight(), 0u);
  auto again = ledger_->attestationsAt(2);
  ASSERT_EQ(again.size(), 3u);
  // Signatures already stored are kept once; the final height moves on in the same write.
  ASSERT_TRUE(ledger_->addAttestations(2, {again[0]}, 2).isOk());
  EXPECT_EQ(ledger_->attestationsAt(2).size(), 3u);
  EXPECT_EQ(ledger_->finalHeight(), 2u);
  ASSERT_TRUE(ledger_->addAttestations(1, {}, 1).isOk());
  EXPECT_EQ(ledger_->finalHeight(), 2u);
  Status beyond = ledger_->addAttestations(3, {}, 9);
  EXPECT_EQ(beyond.reason(), "ledger-wrong-height");
  EXPECT_EQ(ledger_->finalHeight(), 2u);
  reopen();
  EXPECT_EQ(ledger_->finalHeight(), 2u);
}

TEST_F(LedgerTest, PagesThroughAnAddressesTokens) {
  chain::SeriesId series = seriesWithTokens(100, 10);
  std::vector<std::uint64_t> serials;
  std::string cursor;
  int pages = 0;
  do {
    auto page = ledger_->tokensOf(TestChain::address(t_.collector(0)), cursor, 3);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (const auto& token : page->items) {
      EXPECT_EQ(token.series, series);
      serials.push_back(token.serial);
    }
    cursor = page->nextCursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(serials.size(), 10u);
  for (std::size_t i = 0; i < serials.size(); ++i) EXPECT_EQ(serials[i], i + 1);

  auto bad = ledger_->tokensOf(TestChain::address(t_.collector(0)), "zz", 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "bad-cursor");
  auto foreign =
      ledger_->tokensOf(TestChain::address(t_.collector(1)), cursor.empty() ? "6f00" : cursor, 3);
  EXPECT_FALSE(foreign.ok());
}

TEST_F(LedgerTest, HoldersAndEventsFollowBurnsAndTransfers) {
  chain::SeriesId series = seriesWithTokens(100, 2);
  EXPECT_EQ(ledger_->holdersOf(series), 1u);
  run(t_.collector(0),
      chain::Transfer{chain::TokenId{series, 1}, TestChain::address(t_.collector(1))});
  EXPECT_EQ(ledger_->holdersOf(series), 2u);
  ASSERT_EQ(lastEvents_.size(), 2u);
  EXPECT_EQ(lastEvents_[0].address, TestChain::address(t_.collector(0)));
  EXPECT_EQ(lastEvents_[1].address, TestChain::address(t_.collector(1)));
  run(t_.collector(1), chain::Burn{chain::TokenId{series, 1}});
  EXPECT_EQ(ledger_->holdersOf(series), 1u);
  auto tokens = ledger_->tokensOf(TestChain::address(t_.collector(1)), "", 10);
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->items.empty());
}

TEST_F(LedgerTest, ProvesOwnershipAtTheHead) {
  chain::SeriesId series = seriesWithTokens(100, 3);
  chain::TokenId token{series, 3};
  auto proven = ledger_->proveAtHead({chain::state_keys::token(token)});
  ASSERT_TRUE(proven.ok());
  EXPECT_TRUE(chain::verifyTokenOwner(ledger_->parameters().crypto(), proven->head.stateRoot, token,
                                      TestChain::address(t_.collector(0)), proven->proofs[0])
                  .isOk());
  EXPECT_FALSE(chain::verifyTokenOwner(ledger_->parameters().crypto(), proven->head.stateRoot,
                                       token, TestChain::address(t_.collector(1)),
                                       proven->proofs[0])
                   .isOk());
}

TEST_F(LedgerTest, RefusesABlockAtTheWrongHeight) {
  chain::Block block = t_.chain().nextBlock({}, t_.now());
  block.header.height = 7;
  chain::BlockOutcome outcome;
  auto committed = ledger_->commit(block, outcome, {});
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().reason(), "ledger-wrong-height");
  EXPECT_EQ(ledger_->head().height, 0u);
}

TEST_F(LedgerTest, CheckReplaysTheChainAndFindsTampering) {
  seriesWithTokens(100, 4);
  std::uint64_t reported = 0;
  Status status = ledger_->check([&](std::uint64_t done, std::uint64_t) { reported = done; });
  EXPECT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(reported, 3u);

  // Change one stored token's bytes behind the ledger's back.
  ledger_.reset();
  {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name : {"default", "meta", "blocks", "attestations", "transactions", "state",
                             "nodes", "indexes"}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), dir_.path().string(), families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    Bytes key = chain::state_keys::token(chain::TokenId{chain::SeriesId(1), 2});
    std::string value;
    rocksdb::Slice keySlice(reinterpret_cast<const char*>(key.data()), key.size());
    ASSERT_TRUE(db->Get({}, handles[5], keySlice, &value).ok());
    value.back() = static_cast<char>(value.back() ^ 1);
    ASSERT_TRUE(db->Put({}, handles[5], keySlice, value).ok());
    for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  }
  reopen();
  status = ledger_->check({});
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.reason(), "check-state-entry");
}

TEST_F(LedgerTest, CertificateVerifiesAndAnySingleByteChangeIsRefused) {
  chain::SeriesId series = seriesWithTokens(8888, 3);
  auto certificate = buildCertificate(*ledger_, chain::TokenId{series, 2});
  ASSERT_TRUE(certificate.ok()) << certificate.status().message();
  CertificateReport report;
  Status status = verifyCertificate(*certificate, "", &report);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_EQ(report.owner, TestChain::address(t_.collector(0)).hex());
  EXPECT_EQ(report.token, "1#2");
  EXPECT_GE(report.checks.size(), 5u);
  EXPECT_NE(certificate->find("#0002/8888"), std::string::npos);

  EXPECT_EQ(verifyCertificate(*certificate, std::string(64, '0'), nullptr).reason(),
            "certificate-other-chain");

  std::mt19937_64 random(20261121);
  for (int i = 0; i < 1000; ++i) {
    std::string corrupted = *certificate;
    std::size_t at = random() % corrupted.size();
    char replacement;
    do {
      replacement = static_cast<char>(random() % 256);
    } while (replacement == corrupted[at]);
    corrupted[at] = replacement;
    EXPECT_FALSE(verifyCertificate(corrupted, "", nullptr).isOk())
        << "byte " << at << " changed to " << static_cast<int>(replacement) << " was accepted";
  }
}

TEST_F(LedgerTest, CertificatesNeedALiveToken) {
  chain::SeriesId series = seriesWithTokens(10, 1);
  EXPECT_EQ(buildCertificate(*ledger_, chain::TokenId{series, 5}).status().reason(),
            "token-not-found");
  run(t_.collector(0), chain::Burn{chain::TokenId{series, 1}});
  EXPECT_EQ(buildCertificate(*ledger_, chain::TokenId{series, 1}).status().reason(),
            "token-burned");
}

}  // namespace
}  // namespace jiancang::ledger
