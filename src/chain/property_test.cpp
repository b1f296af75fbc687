// Long random sequences (3 × 300 blocks) of operations (many of them invalid) with the chain's
// invariants checked after every block: minted ≤ cap, minted − burned = live tokens, one owner per
// live token; at the end every entry's proof verifies, a replay on a fresh chain gives the same
// roots, and the root equals one rebuilt from scratch from the final contents.
#include <random>

#include <gtest/gtest.h>

#include <chain/testing/test_chain.h>

namespace jiancang::chain {
namespace {

using testing::TestChain;

class RandomOperations {
 public:
  explicit RandomOperations(std::uint64_t seed) : random_(seed) {}

  std::vector<SignedTransaction> block(TestChain& t) {
    std::vector<SignedTransaction> transactions;
    std::map<Address, std::uint64_t> nonces;
    auto nextNonce = [&](const core::KeyPair& pair) -> std::uint64_t {
      Address address = TestChain::address(pair);
      auto found = nonces.find(address);
      std::uint64_t nonce = found == nonces.end() ? t.nonceOf(pair) : found->second;
      nonces[address] = nonce + 1;
      return nonce;
    };
    std::size_t count = 1 + pick(8);
    for (std::size_t i = 0; i < count; ++i) {
      auto [signer, operation] = operation_(t);
      std::uint64_t nonce = nextNonce(*signer);
      if (pick(20) == 0) nonce += 1 + pick(3);  // a stale or future nonce
      SignedTransaction signedTransaction = t.signWithNonce(*signer, operation, nonce);
      if (pick(25) == 0) signedTransaction.signature.mutableArray()[pick(64)] ^= 1;
      transactions.push_back(std::move(signedTransaction));
    }
    return transactions;
  }

 private:
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(random_() % n); }

  std::pair<const core::KeyPair*, Operation> operation_(TestChain& t) {
    std::uint64_t seriesCount = t.read<ChainHeadRecord>(state_keys::chainHead())->nextSeriesId - 1;
    const core::KeyPair* anyCollector = &t.collector(pick(TestChain::kCollectors));
    auto anyAddress = [&] { return TestChain::address(t.collector(pick(TestChain::kCollectors))); };
    std::size_t issuer = pick(2);
    if (seriesCount == 0 || pick(12) == 0) {
      SeriesPolicy policy;
      policy.transferable = pick(5) != 0;
      policy.tradable = pick(2) == 0;
      policy.holdBeforeFirstTransferMillis = pick(3) * 5;
      return {&t.issuer(issuer), TestChain::seriesTemplate(1 + pick(15), policy)};
    }
    SeriesId series(1 + pick(seriesCount));
    auto record = t.read<SeriesRecord>(state_keys::series(series));
    // Mostly the series' own issuer and minted serials, so that operations often succeed.
    if (record && pick(5) != 0) issuer = record->issuer == TestChain::address(t.issuer(0)) ? 0 : 1;
    std::uint64_t minted = record ? record->minted : 0;
    TokenId token{series, 1 + (minted > 0 && pick(6) != 0 ? pick(minted) : pick(16))};
    switch (pick(9)) {
      case 0:
      case 1: {
        Mint op{series, {}};
        for (std::size_t i = 0; i <= pick(4); ++i) op.recipients.push_back(anyAddress());
        return {&t.issuer(issuer), op};
      }
      case 2:
      case 3: {
        // Usually the owner transfers; sometimes someone else tries.
        auto owner = t.read<TokenRecord>(state_keys::token(token));
        const core::KeyPair* signer = anyCollector;
        if (owner && pick(4) != 0) {
          for (std::size_t i = 0; i < TestChain::kCollectors; ++i) {
            if (TestChain::address(t.collector(i)) == owner->owner) signer = &t.collector(i);
          }
        }
        return {signer, Transfer{token, anyAddress()}};
      }
      case 4: {
        auto owner = t.read<TokenRecord>(state_keys::token(token));
        const core::KeyPair* signer = anyCollector;
        for (std::size_t i = 0; owner && i < TestChain::kCollectors; ++i) {
          if (TestChain::address(t.collector(i)) == owner->owner) signer = &t.collector(i);
        }
        return {signer, Burn{token}};
      }
      case 5:
        return {&t.governance(),
                SetFrozen{FreezeTarget::kToken, token, {}, pick(2) == 0, "random"}};
      case 6:
        return {&t.governance(),
                SetFrozen{FreezeTarget::kAddress, {}, anyAddress(), pick(4) == 0, "random"}};
      case 7: {
        auto owner = t.read<TokenRecord>(state_keys::token(token));
        Address seller = owner ? owner->owner : anyAddress();
        Fen price(1 + static_cast<std::int64_t>(pick(10'000)));
        return {&t.market(), SettleTrade{token, seller, anyAddress(), price, *price.share(500),
                                         Fen(0), "pay-" + std::to_string(random_())}};
      }
      default: {
        SeriesPolicy policy;
        policy.transferable = pick(4) != 0;
        policy.tradable = pick(2) == 0;
        return {&t.issuer(issuer), UpdateSeriesPolicy{series, policy}};
      }
    }
  }

  std::mt19937_64 random_;
};

TEST(ChainPropertyTest, RandomSequencesKeepTheInvariants) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TestChain t;
    t.registerIssuer(0);
    t.registerIssuer(1);
    TestChain replay;
    replay.registerIssuer(0);
    replay.registerIssuer(1);
    ASSERT_EQ(replay.chain().stateRoot(), t.chain().stateRoot());
    RandomOperations operations(seed);
    std::vector<Block> blocks;
    std::vector<Hash256> roots;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::map<std::string, std::size_t> reasons;
    for (int height = 0; height < 300; ++height) {
      t.advance(3);
      Block block = t.chain().nextBlock(operations.block(t), t.now());
      auto outcome = t.chain().apply(block);
      ASSERT_TRUE(outcome.ok()) << outcome.status().toString();
      for (const Receipt& receipt : outcome->receipts) {
        (receipt.ok() ? succeeded : failed) += 1;
        if (!receipt.ok()) ++reasons[receipt.reason];
      }
      blocks.push_back(block);
      roots.push_back(outcome->stateRoot);
      core::Status invariants = testing::checkChainInvariants(t.chain());
      ASSERT_TRUE(invariants.isOk()) << invariants.message() << " after block " << height + 1;
    }
    // The sequence must exercise both sides: many successes and many kinds of refusal.
    EXPECT_GT(succeeded, 300u);
    EXPECT_GT(failed, 100u);
    EXPECT_GE(reasons.size(), 10u);

    // Every entry proves, and a key that does not exist proves absent.
    const core::CryptoSuite& suite = t.parameters().crypto();
    for (const auto& [key, value] : t.chain().entries()) {
      auto proof = t.chain().prove(key);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(verifyStateProof(suite, t.chain().stateRoot(), *proof).isOk());
    }
    auto absent = t.chain().prove(state_keys::token(TokenId{SeriesId(999), 1}));
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->value.has_value());
    EXPECT_TRUE(verifyStateProof(suite, t.chain().stateRoot(), *absent).isOk());

    // An independent replay reaches the same root after every block.
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      auto outcome = replay.chain().apply(blocks[i]);
      ASSERT_TRUE(outcome.ok());
      ASSERT_EQ(outcome->stateRoot, roots[i]) << "block " << i + 1;
    }

    // The incremental root equals a root built in one go from the final contents.
    std::vector<MerkleUpdate> all;
    for (const auto& [key, value] : t.chain().entries()) {
      all.push_back({merkleKeyHash(suite, key), merkleValueHash(suite, value)});
    }
    MemoryMerkleNodes fresh;
    EXPECT_EQ(updateMerkleTree(suite, fresh, Hash256(), all)->root, t.chain().stateRoot());
  }
}

}  // namespace
}  // namespace jiancang::chain
