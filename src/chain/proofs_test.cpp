// Proofs anyone can check against a state root.
#include <random>

#include <gtest/gtest.h>

#include <chain/fair_random.h>
#include <chain/proofs.h>
#include <chain/testing/test_chain.h>

namespace jiancang::chain {
namespace {

using testing::TestChain;
using testing::testHash;

class ProofsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    series = t.createSeries(0, 8888);
    t.mint(0, series, {0, 1, 2});
    ASSERT_TRUE(t.run(t.collector(1), Burn{TokenId{series, 2}}).ok());
  }
  const core::CryptoSuite& suite() { return t.parameters().crypto(); }
  const Hash256& root() { return t.chain().stateRoot(); }
  StateProof proof(const Bytes& key) { return t.chain().prove(key).value(); }

  TestChain t;
  SeriesId series;
};

TEST_F(ProofsTest, TokenOwnership) {
  TokenId token{series, 1};
  StateProof p = proof(state_keys::token(token));
  EXPECT_TRUE(
      verifyTokenOwner(suite(), root(), token, TestChain::address(t.collector(0)), p).isOk());
  EXPECT_EQ(
      verifyTokenOwner(suite(), root(), token, TestChain::address(t.collector(1)), p).reason(),
      "owner-mismatch");
  EXPECT_EQ(
      verifyTokenOwner(suite(), root(), TokenId{series, 3}, TestChain::address(t.collector(0)), p)
          .reason(),
      "proof-wrong-key");
  TokenId burned{series, 2};
  EXPECT_EQ(verifyTokenOwner(suite(), root(), burned, TestChain::address(t.collector(1)),
                             proof(state_keys::token(burned)))
                .reason(),
            "token-burned");
  TokenId unminted{series, 4};
  EXPECT_EQ(verifyTokenOwner(suite(), root(), unminted, TestChain::address(t.collector(1)),
                             proof(state_keys::token(unminted)))
                .reason(),
            "proof-entry-absent");
}

TEST_F(ProofsTest, SeriesSupply) {
  StateProof p = proof(state_keys::series(series));
  EXPECT_TRUE(verifySeriesSupply(suite(), root(), series, 8888, 3, 1, p).isOk());
  EXPECT_EQ(verifySeriesSupply(suite(), root(), series, 500, 3, 1, p).reason(), "supply-mismatch");
  EXPECT_EQ(verifySeriesSupply(suite(), root(), series, 8888, 2, 1, p).reason(), "supply-mismatch");
}

// Any single-byte change to a proof or to the root fails verification.
TEST_F(ProofsTest, EveryCorruptionIsDetected) {
  TokenId token{series, 1};
  Address owner = TestChain::address(t.collector(0));
  StateProof p = proof(state_keys::token(token));
  Bytes encoded = core::encode(p);
  std::size_t decodedCorruptions = 0;
  for (std::size_t at = 0; at < encoded.size(); ++at) {
    for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
      Bytes corrupted = encoded;
      corrupted[at] ^= flip;
      auto decoded = core::decode<StateProof>(corrupted);
      if (!decoded) continue;
      ++decodedCorruptions;
      EXPECT_FALSE(verifyTokenOwner(suite(), root(), token, owner, *decoded).isOk())
          << "byte " << at;
    }
  }
  EXPECT_GT(decodedCorruptions, encoded.size());  // most corruptions decode; all of those fail
  for (std::size_t byte = 0; byte < 32; ++byte) {
    Hash256 wrongRoot = root();
    wrongRoot.mutableArray()[byte] ^= 0x10;
    EXPECT_FALSE(verifyTokenOwner(suite(), wrongRoot, token, owner, p).isOk());
  }
}

TEST_F(ProofsTest, BoxContentAndLotteryWinners) {
  SeriesId items = t.createSeries(0, 5);
  SeriesId rare = t.createSeries(0, 5);
  SeriesId boxes = t.createSeries(0, 6);
  Hash256 seed = testHash("seed");
  ASSERT_TRUE(t.run(t.issuer(0), CommitBlindBox{boxes,
                                                {{items, 5}, {rare, 1}},
                                                seedCommitment(suite(), seed),
                                                t.now() + core::Duration(100'000)})
                  .ok());
  t.mint(0, boxes, {0, 1, 2, 3, 4, 5});
  ASSERT_TRUE(t.run(t.issuer(0), SealBlindBox{boxes}).ok());
  ASSERT_TRUE(t.run(t.issuer(0), RevealBlindBox{boxes, seed}).ok());
  auto box = t.read<BlindBoxRecord>(state_keys::blindBox(boxes));
  StateProof boxProof = proof(state_keys::blindBox(boxes));
  StateProof sealProof = proof(state_keys::blockHash(box->sealedAtHeight));
  for (std::uint64_t serial = 1; serial <= 6; ++serial) {
    SeriesId held =
        t.read<BoxAssignmentRecord>(state_keys::boxAssignment(boxes, serial))->itemSeries;
    SeriesId other = held == items ? rare : items;
    EXPECT_TRUE(verifyBoxContent(suite(), root(), TokenId{boxes, serial}, held, boxProof, sealProof)
                    .isOk());
    EXPECT_EQ(verifyBoxContent(suite(), root(), TokenId{boxes, serial}, other, boxProof, sealProof)
                  .reason(),
              "item-mismatch");
  }
  StateProof wrongBlock = proof(state_keys::blockHash(box->sealedAtHeight - 1));
  EXPECT_EQ(
      verifyBoxContent(suite(), root(), TokenId{boxes, 1}, items, boxProof, wrongBlock).reason(),
      "proof-wrong-key");

  Hash256 lotterySeed = testHash("lottery");
  LotteryId lottery(t.run(t.issuer(0), CommitLottery{series, testHash("entrants"), 300, 7,
                                                     seedCommitment(suite(), lotterySeed)})
                        .createdId);
  ASSERT_TRUE(t.run(t.issuer(0), DrawLottery{lottery, lotterySeed}).ok());
  auto record = t.read<LotteryRecord>(state_keys::lottery(lottery));
  StateProof lotteryProof = proof(state_keys::lottery(lottery));
  StateProof commitProof = proof(state_keys::blockHash(record->committedAtHeight));
  EXPECT_TRUE(
      verifyLotteryWinners(suite(), root(), lottery, record->winners, lotteryProof, commitProof)
          .isOk());
  auto otherWinners = record->winners;
  otherWinners[0] = (otherWinners[0] + 1) % 300;
  EXPECT_EQ(verifyLotteryWinners(suite(), root(), lottery, otherWinners, lotteryProof, commitProof)
                .reason(),
            "winners-mismatch");
}

}  // namespace
}  // namespace jiancang::chain
