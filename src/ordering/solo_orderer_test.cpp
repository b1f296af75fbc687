#include <ordering/solo_orderer.h>

#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include <chain/testing/test_chain.h>

namespace jiancang::ordering {
namespace {

namespace fs = std::filesystem;
using chain::testing::TestChain;

class SoloOrdererTest : public ::testing::Test {
 protected:
  SoloOrdererTest() {
    dir_ = fs::temp_directory_path() / ("jiancang-orderer-test-" + std::to_string(::getpid()) +
                                        "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    genesis_.chainName = "orderer-test";
    genesis_.timestamp = core::Timestamp::fromUnixMillis(1'700'000'000'000);
    genesis_.members = {chain::Member{"solo", t_.member(0).publicKey}};
    genesis_.roleGrants = {{TestChain::address(t_.admin()), chain::kRoleAdmin}};
  }
  ~SoloOrdererTest() override {
    orderer_.reset();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  void start(SoloOrdererOptions options = {}) {
    auto opened = ledger::Ledger::open(dir_, genesis_, ledger::LedgerOptions{64u << 20, false});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    ledger_ = std::move(opened).value();
    orderer_ = std::make_unique<SoloOrderer>(*ledger_, chain::testing::copyKeyPair(t_.member(0)),
                                             clock_, options);
  }

  chain::SignedTransaction sign(const core::KeyPair& signer, chain::Operation operation) {
    std::uint64_t& nonce = nonces_[TestChain::address(signer)];
    chain::Transaction transaction{ledger_->parameters().chainId, signer.publicKey, nonce++,
                                   std::move(operation)};
    return chain::signTransaction(ledger_->parameters(), std::move(transaction), signer.secretKey);
  }

  // Submits and waits for the receipt.
  std::optional<CommitNotice> run(chain::SignedTransaction transaction) {
    std::promise<std::optional<CommitNotice>> done;
    auto future = done.get_future();
    auto hash = orderer_->submit(
        std::move(transaction),
        [&](const std::optional<CommitNotice>& notice) { done.set_value(notice); });
    EXPECT_TRUE(hash.ok()) << hash.status().message();
    if (!hash.ok()) return std::nullopt;
    return future.get();
  }

  chain::SeriesId seriesWithTokens(std::size_t count) {
    EXPECT_TRUE(run(sign(t_.admin(), chain::RegisterIssuer{TestChain::address(t_.issuer(0)), "IP",
                                                           chain::testing::testHash("licence")}))
                    ->receipt.ok());
    EXPECT_TRUE(run(sign(t_.issuer(0), TestChain::seriesTemplate(10'000)))->receipt.ok());
    chain::Mint mint{chain::SeriesId(1), {}};
    for (std::size_t i = 0; i < count; ++i) {
      mint.recipients.push_back(TestChain::address(t_.collector(i % 8)));
    }
    EXPECT_TRUE(run(sign(t_.issuer(0), mint))->receipt.ok());
    return chain::SeriesId(1);
  }

  static inline int counter_ = 0;
  fs::path dir_;
  TestChain t_;
  chain::Genesis genesis_;
  core::ManualClock clock_{core::Timestamp::fromUnixMillis(1'700'000'100'000)};
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<SoloOrderer> orderer_;
  std::map<core::Address, std::uint64_t> nonces_;
};

TEST_F(SoloOrdererTest, ManyTransactionsShareBlocksAndAllCommit) {
  start();
  chain::SeriesId series = seriesWithTokens(400);
  std::uint64_t heightBefore = ledger_->head().height;
  std::vector<chain::SignedTransaction> transfers;
  for (std::size_t i = 0; i < 400; ++i) {
    transfers.push_back(
        sign(t_.collector(i % 8), chain::Transfer{chain::TokenId{series, i + 1},
                                                  TestChain::address(t_.collector((i + 1) % 8))}));
  }
  std::atomic<int> committed{0};
  std::atomic<int> failed{0};
  // Nonces must arrive in order per account: one submitter thread per account.
  std::vector<std::thread> submitters;
  for (std::size_t account = 0; account < 8; ++account) {
    submitters.emplace_back([&, account] {
      for (std::size_t i = account; i < transfers.size(); i += 8) {
        auto hash = orderer_->submit(transfers[i], [&](const std::optional<CommitNotice>& notice) {
          (notice && notice->receipt.ok() ? committed : failed)++;
        });
        if (!hash.ok()) failed++;
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  orderer_->shutdown();
  EXPECT_EQ(committed.load(), 400);
  EXPECT_EQ(failed.load(), 0);
  std::uint64_t blocks = ledger_->head().height - heightBefore;
  EXPECT_LT(blocks, 400u) << "transactions should share blocks";
  EXPECT_EQ(orderer_->stats().transactionsCommitted, 403u);
  EXPECT_TRUE(ledger_->check({}).isOk());
}

TEST_F(SoloOrdererTest, RefusesReplaysGapsAndDoubleNonces) {
  start();
  chain::SeriesId series = seriesWithTokens(4);
  auto first = sign(t_.collector(0), chain::Transfer{chain::TokenId{series, 1},
                                                     TestChain::address(t_.collector(1))});
  ASSERT_TRUE(run(first)->receipt.ok());

  auto replay = orderer_->submit(first, [](const auto&) {});
  // The committed transaction itself is recognised and answered, not re-queued.
  ASSERT_TRUE(replay.ok());

  auto reusedNonce = first;
  reusedNonce.transaction.operation =
      chain::Transfer{chain::TokenId{series, 1}, TestChain::address(t_.collector(2))};
  reusedNonce = chain::signTransaction(ledger_->parameters(), reusedNonce.transaction,
                                       t_.collector(0).secretKey);
  auto used = orderer_->submit(reusedNonce, [](const auto&) {});
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.status().reason(), "nonce-used");

  nonces_[TestChain::address(t_.collector(0))] += 5;
  auto gap = orderer_->submit(sign(t_.collector(0), chain::Burn{chain::TokenId{series, 1}}),
                              [](const auto&) {});
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().reason(), "nonce-gap");

  auto forged = sign(t_.collector(3), chain::Burn{chain::TokenId{series, 4}});
  forged.signature.mutableArray()[0] ^= 1;
  auto bad = orderer_->submit(forged, [](const auto&) {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "bad-signature");
}

TEST_F(SoloOrdererTest, SameTransactionTwiceWaitsOnce) {
  SoloOrdererOptions options;
  options.blockInterval = std::chrono::milliseconds(200);
  start(options);
  chain::SeriesId series = seriesWithTokens(2);
  auto transfer = sign(t_.collector(1), chain::Transfer{chain::TokenId{series, 2},
                                                        TestChain::address(t_.collector(0))});
  std::promise<std::optional<CommitNotice>> a;
  std::promise<std::optional<CommitNotice>> b;
  auto hashA = orderer_->submit(transfer, [&](const auto& n) { a.set_value(n); });
  auto hashB = orderer_->submit(transfer, [&](const auto& n) { b.set_value(n); });
  ASSERT_TRUE(hashA.ok());
  ASSERT_TRUE(hashB.ok());
  EXPECT_EQ(*hashA, *hashB);
  auto noticeA = a.get_future().get();
  auto noticeB = b.get_future().get();
  ASSERT_TRUE(noticeA && noticeB);
  EXPECT_EQ(noticeA->height, noticeB->height);
  EXPECT_TRUE(noticeA->receipt.ok());
}

TEST_F(SoloOrdererTest, SaysBusyInsteadOfDropping) {
  SoloOrdererOptions options;
  options.mempool.perAccount = 3;
  options.mempool.capacity = 5;
  start(options);
  chain::SeriesId series = seriesWithTokens(16);  // collector c holds serials c+1 and c+9
  // Now hold blocks back so the queue fills: no block is cut before the shutdown below, however
  // slowly a loaded machine runs this test (with 2 s, one was cut midway now and then).
  orderer_.reset();
  options.blockInterval = std::chrono::minutes(10);
  orderer_ = std::make_unique<SoloOrderer>(*ledger_, chain::testing::copyKeyPair(t_.member(0)),
                                           clock_, options);

  std::vector<std::shared_future<std::optional<CommitNotice>>> waits;
  auto submit = [&](chain::SignedTransaction transaction) {
    auto done = std::make_shared<std::promise<std::optional<CommitNotice>>>();
    auto hash = orderer_->submit(std::move(transaction),
                                 [done](const auto& notice) { done->set_value(notice); });
    if (hash.ok()) waits.push_back(done->get_future().share());
    return hash;
  };
  auto gift = [&](std::size_t from, std::uint64_t serial) {
    return sign(t_.collector(from),
                chain::Transfer{chain::TokenId{series, serial},
                                TestChain::address(t_.collector((from + 1) % 8))});
  };
  ASSERT_TRUE(submit(gift(0, 1)).ok());
  ASSERT_TRUE(submit(gift(0, 9)).ok());
  ASSERT_TRUE(submit(gift(0, 1)).ok());  // queued behind the first: the block will refuse it
  auto quota = submit(gift(0, 9));
  ASSERT_FALSE(quota.ok());
  EXPECT_EQ(quota.status().code(), core::ErrorCode::kResourceExhausted);
  EXPECT_EQ(quota.status().reason(), "account-quota");
  nonces_[TestChain::address(t_.collector(0))]--;
  ASSERT_TRUE(submit(gift(1, 2)).ok());
  ASSERT_TRUE(submit(gift(2, 3)).ok());
  auto full = submit(gift(3, 4));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().reason(), "mempool-full");
  EXPECT_EQ(orderer_->stats().rejectedBusy, 2u);
  // Shutting down commits what was admitted: every waiter hears back.
  orderer_->shutdown();
  ASSERT_EQ(waits.size(), 5u);
  std::vector<std::string> reasons;
  for (auto& wait : waits) {
    auto notice = wait.get();
    ASSERT_TRUE(notice.has_value());
    reasons.push_back(notice->receipt.reason);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"", "", "not-owner", "", ""}));
}

TEST_F(SoloOrdererTest, RefusesWhatTheChainWouldRefuseWithoutSpendingTheNonce) {
  start();
  seriesWithTokens(4);
  run(sign(t_.issuer(0), TestChain::seriesTemplate(4)));  // series 2: a cap of 4, none minted
  auto heightBefore = ledger_->head().height;
  chain::Mint tooMany{chain::SeriesId(2),
                      std::vector<core::Address>(5, TestChain::address(t_.collector(0)))};
  auto refused = orderer_->submit(sign(t_.issuer(0), tooMany), [](const auto&) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "series-cap-reached");
  EXPECT_EQ(ledger_->head().height, heightBefore);
  // The nonce was not spent: the same nonce works for a valid mint.
  nonces_[TestChain::address(t_.issuer(0))]--;
  chain::Mint fits{chain::SeriesId(2),
                   std::vector<core::Address>(4, TestChain::address(t_.collector(0)))};
  EXPECT_TRUE(run(sign(t_.issuer(0), fits))->receipt.ok());
}

}  // namespace
}  // namespace jiancang::ordering
