// Blind-box and lottery fairness: the committed odds hold, outcomes are recomputable, and the
// parties that docs/FAIRNESS.md says cannot steer an outcome have no lever to do it.
#include <array>
#include <map>

#include <gtest/gtest.h>

#include <chain/fair_random.h>
#include <chain/merkle_list.h>
#include <chain/testing/test_chain.h>

namespace jiancang::chain {
namespace {

using testing::TestChain;
using testing::testHash;

const core::CryptoSuite& suite() { return core::cryptoSuite(core::SuiteId::kEd25519Sha256); }

// Pearson's chi-square statistic of observed counts against expected counts.
double chiSquare(const std::vector<double>& observed, const std::vector<double>& expected) {
  double sum = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    double difference = observed[i] - expected[i];
    sum += difference * difference / expected[i];
  }
  return sum;
}

TEST(DeterministicRandomTest, UniformBelowIsInRangeAndReproducible) {
  DeterministicRandom a(suite(), testHash("seed"));
  DeterministicRandom b(suite(), testHash("seed"));
  for (std::uint64_t bound : {1ull, 2ull, 3ull, 10ull, 1000ull, (1ull << 63) + 1}) {
    for (int i = 0; i < 100; ++i) {
      std::uint64_t x = a.uniformBelow(bound);
      EXPECT_LT(x, bound);
      EXPECT_EQ(x, b.uniformBelow(bound));
    }
  }
  DeterministicRandom other(suite(), testHash("other"));
  DeterministicRandom again(suite(), testHash("seed"));
  EXPECT_NE(other.next(), again.next());
}

// 100,000 boxes of one sale: every tenth of the serials (early and late buyers alike) gets the
// committed odds. Contingency table of 10 serial ranges × 4 items, 27 degrees of freedom; the
// critical value for p = 0.01 is 46.96.
TEST(BlindBoxFairnessTest, HundredThousandBoxesMatchTheCommittedOdds) {
  const std::vector<SeriesCount> contents{
      {SeriesId(1), 60'000}, {SeriesId(2), 30'000}, {SeriesId(3), 9'000}, {SeriesId(4), 1'000}};
  std::vector<SeriesId> items = assignBlindBoxItems(suite(), testHash("sale"), contents);
  ASSERT_EQ(items.size(), 100'000u);
  std::array<std::array<double, 4>, 10> table{};
  for (std::size_t serial = 0; serial < items.size(); ++serial) {
    table[serial / 10'000][items[serial].value() - 1] += 1;
  }
  double statistic = 0;
  for (const auto& range : table) {
    std::vector<double> observed(range.begin(), range.end());
    statistic += chiSquare(observed, {6'000, 3'000, 900, 100});
  }
  EXPECT_LT(statistic, 46.96) << "the shuffle favours some serial ranges";
  // The totals are exact: a shuffle cannot change the published counts.
  std::map<std::uint64_t, std::uint64_t> totals;
  for (SeriesId item : items) ++totals[item.value()];
  EXPECT_EQ(totals, (std::map<std::uint64_t, std::uint64_t>{
                        {1, 60'000}, {2, 30'000}, {3, 9'000}, {4, 1'000}}));
}

// Across 10,000 sales of 10 boxes, the first box (the fastest buyer's) gets each item with the
// committed probability: 3 degrees of freedom, critical value 11.34 for p = 0.01.
TEST(BlindBoxFairnessTest, FirstBoxOfEverySaleHasTheCommittedOdds) {
  const std::vector<SeriesCount> contents{{SeriesId(1), 6}, {SeriesId(2), 3}, {SeriesId(3), 1}};
  std::vector<double> observed(3, 0);
  for (int sale = 0; sale < 10'000; ++sale) {
    Hash256 sealingHash = testHash("sealing block " + std::to_string(sale));
    auto items =
        assignBlindBoxItems(suite(),
                            blindBoxShuffleSeed(suite(), testHash("seed"),
                                                core::BlockHash(sealingHash.array()), SeriesId(9)),
                            contents);
    observed[items[0].value() - 1] += 1;
  }
  EXPECT_LT(chiSquare(observed, {6'000, 3'000, 1'000}), 11.34);
}

class BlindBoxAttackTest : public ::testing::Test {
 protected:
  // Runs a sale of 12 boxes bought by collectors in `order`, seals and reveals it; returns the
  // item series of each box serial.
  std::vector<SeriesId> runSale(TestChain& t, const std::vector<std::size_t>& order) {
    SeriesId common = t.createSeries(0, 100);
    SeriesId rare = t.createSeries(0, 100);
    SeriesId boxes = t.createSeries(0, 12);
    Hash256 seed = testHash("issuer's secret seed");
    EXPECT_TRUE(t.run(t.issuer(0), CommitBlindBox{boxes,
                                                  {{common, 11}, {rare, 1}},
                                                  seedCommitment(suite(), seed),
                                                  t.now() + core::Duration(1'000'000)})
                    .ok());
    for (std::size_t buyer : order) t.mint(0, boxes, {buyer});
    EXPECT_TRUE(t.run(t.issuer(0), SealBlindBox{boxes}).ok());
    EXPECT_TRUE(t.run(t.issuer(0), RevealBlindBox{boxes, seed}).ok());
    std::vector<SeriesId> result;
    for (std::uint64_t serial = 1; serial <= order.size(); ++serial) {
      auto assignment = t.read<BoxAssignmentRecord>(state_keys::boxAssignment(boxes, serial));
      result.push_back(assignment->itemSeries);
    }
    rareSeries = rare;
    return result;
  }
  SeriesId rareSeries;
};

// The issuer knows the seed when it commits, but not the sealing block's hash, which depends on
// every purchase: the same seed gives a different assignment when purchases differ, so the
// issuer cannot know in advance which serial (and so which buyer) gets the rare item.
TEST_F(BlindBoxAttackTest, IssuerCannotPredictAssignmentsAtCommitTime) {
  TestChain first;
  TestChain second;
  auto a = runSale(first, {0, 1, 2, 3, 4, 5, 6, 7});
  auto b = runSale(second, {0, 1, 2, 3, 4, 5, 7, 6});  // the last two purchases swapped
  EXPECT_NE(a, b);
}

// An orderer that reorders or drops the last purchases changes only which buyer holds which
// serial and the sealing hash; the serial → item map then comes from a hash it cannot evaluate
// without the seed. What it cannot do is choose between outcomes after the reveal: a reveal with
// any other seed is refused, so there is exactly one outcome per sealed sale.
TEST_F(BlindBoxAttackTest, OneSealedSaleHasExactlyOneOutcome) {
  TestChain t;
  SeriesId items = t.createSeries(0, 10);
  SeriesId boxes = t.createSeries(0, 10);
  Hash256 seed = testHash("seed");
  ASSERT_TRUE(t.run(t.issuer(0), CommitBlindBox{boxes,
                                                {{items, 10}},
                                                seedCommitment(suite(), seed),
                                                t.now() + core::Duration(1'000'000)})
                  .ok());
  t.mint(0, boxes, {0, 1, 2});
  ASSERT_TRUE(t.run(t.issuer(0), SealBlindBox{boxes}).ok());
  for (int attempt = 0; attempt < 50; ++attempt) {
    Receipt receipt =
        t.run(t.issuer(0), RevealBlindBox{boxes, testHash("guess " + std::to_string(attempt))});
    ASSERT_EQ(receipt.reason, "seed-mismatch");
  }
  EXPECT_TRUE(t.run(t.issuer(0), RevealBlindBox{boxes, seed}).ok());
}

// The issuer cannot bend the odds after committing: contents are fixed at commit and the items
// are reserved, so no later mint can exhaust them and no box can hold an uncommitted item.
TEST_F(BlindBoxAttackTest, CommittedItemsAreReservedAndExact) {
  TestChain t;
  auto items = runSale(t, {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3});
  std::size_t rare = std::count(items.begin(), items.end(), rareSeries);
  EXPECT_EQ(rare, 1u);  // sold out: exactly the committed single rare item exists among the boxes
}

// ---- Lotteries ----

TEST(LotteryFairnessTest, WinnersAreRecomputableFromThePublishedEntrants) {
  TestChain t;
  SeriesId series = t.createSeries(0, 100);
  // The platform publishes the entrant list (here, hashes of entrant ids) and commits its root.
  std::vector<Hash256> entrants;
  entrants.reserve(5000);
  for (int i = 0; i < 5000; ++i) entrants.push_back(testHash("entrant " + std::to_string(i)));
  Hash256 root = listMerkleRoot(suite(), entrants);
  Hash256 seed = testHash("lottery seed");
  Receipt committed = t.run(t.issuer(0), CommitLottery{series, root, entrants.size(), 100,
                                                       seedCommitment(suite(), seed)});
  ASSERT_TRUE(committed.ok());
  LotteryId lottery(committed.createdId);
  ASSERT_TRUE(t.run(t.issuer(0), DrawLottery{lottery, seed}).ok());
  auto record = t.read<LotteryRecord>(state_keys::lottery(lottery));

  // Anyone: rebuild the root from the published list, then the winners from seed and block hash.
  EXPECT_EQ(listMerkleRoot(suite(), entrants), record->entrantsRoot);
  auto commitBlock = t.read<BlockHashRecord>(state_keys::blockHash(record->committedAtHeight));
  auto recomputed = drawLotteryWinners(
      suite(), lotteryDrawSeed(suite(), record->seed, commitBlock->hash, root, lottery),
      entrants.size(), 100);
  EXPECT_EQ(recomputed, record->winners);
  // Each winner can show it was on the committed list.
  for (std::uint64_t winner : record->winners) {
    ListMerkleProof proof = listMerkleProof(suite(), entrants, winner);
    EXPECT_TRUE(verifyListMerkleProof(suite(), root, entrants[winner], proof));
  }
}

// 2,000 draws of 10 winners among 100 entrants: every entrant wins about 200 times.
// 99 degrees of freedom, critical value 134.6 for p = 0.01.
TEST(LotteryFairnessTest, EveryEntrantHasTheSameChance) {
  std::vector<double> wins(100, 0);
  for (int draw = 0; draw < 2000; ++draw) {
    for (std::uint64_t winner :
         drawLotteryWinners(suite(), testHash("draw " + std::to_string(draw)), 100, 10)) {
      wins[winner] += 1;
    }
  }
  EXPECT_LT(chiSquare(wins, std::vector<double>(100, 200)), 134.6);
}

TEST(LotteryFairnessTest, WinnersAreDistinctEvenForHugeLists) {
  auto winners = drawLotteryWinners(suite(), testHash("big"), limits::kMaxLotteryEntrants,
                                    limits::kMaxLotteryWinners);
  std::set<std::uint64_t> distinct(winners.begin(), winners.end());
  EXPECT_EQ(distinct.size(), limits::kMaxLotteryWinners);
  EXPECT_LT(*distinct.rbegin(), limits::kMaxLotteryEntrants);
  // Everyone wins when there are as many winners as entrants.
  auto all = drawLotteryWinners(suite(), testHash("all"), 50, 50);
  EXPECT_EQ(std::set<std::uint64_t>(all.begin(), all.end()).size(), 50u);
}

}  // namespace
}  // namespace jiancang::chain
