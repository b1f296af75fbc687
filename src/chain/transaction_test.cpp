// Transactions: canonical encoding of every operation, and every context-free rejection.
#include <gtest/gtest.h>

#include <chain/block.h>
#include <chain/testing/test_chain.h>

namespace jiancang::chain {
namespace {

using testing::TestChain;
using testing::testHash;

Address someAddress(std::uint8_t fill) {
  Address address;
  address.mutableArray().fill(fill);
  return address;
}

// One example of each operation, in wire order.
std::vector<Operation> everyOperation(const TestChain& t) {
  RedemptionConsent consent{
      t.collector(0).publicKey, someAddress(3), Timestamp::fromUnixMillis(5), 9, {}};
  return {
      RegisterIssuer{someAddress(1), "博物馆", testHash("licence")},
      TestChain::seriesTemplate(8888, SeriesPolicy{true, 1, 2, true, Fen(100)},
                                {RightDefinition{1, "ticket", 3}}),
      UpdateSeriesPolicy{SeriesId(1), SeriesPolicy{false, 0, 0, false, Fen(0)}},
      Mint{SeriesId(1), {someAddress(1), someAddress(2)}},
      Transfer{TokenId{SeriesId(1), 1}, someAddress(2)},
      Burn{TokenId{SeriesId(1), 2}},
      CommitBlindBox{SeriesId(3),
                     {{SeriesId(1), 2}, {SeriesId(2), 1}},
                     testHash("c"),
                     Timestamp::fromUnixMillis(9)},
      SealBlindBox{SeriesId(3)},
      RevealBlindBox{SeriesId(3), testHash("seed")},
      OpenBlindBox{TokenId{SeriesId(3), 1}},
      RefundBlindBox{TokenId{SeriesId(3), 1}},
      CommitLottery{SeriesId(1), testHash("entrants"), 100, 10, testHash("c")},
      DrawLottery{LotteryId(1), testHash("seed")},
      CreateRecipe{{{SeriesId(1), 2}},
                   SeriesId(2),
                   Timestamp::fromUnixMillis(1),
                   Timestamp::fromUnixMillis(2),
                   3},
      Synthesise{RecipeId(1), {TokenId{SeriesId(1), 1}, TokenId{SeriesId(1), 2}}},
      SettleTrade{TokenId{SeriesId(1), 1}, someAddress(1), someAddress(2), Fen(1000), Fen(50),
                  Fen(20), "wx-123"},
      RedeemRight{TokenId{SeriesId(1), 1}, 1, consent},
      SetFrozen{FreezeTarget::kAddress, {}, someAddress(4), true, "dispute"},
      GrantRoles{someAddress(5), kRoleVerifier},
      ChangeMembership{MembershipAction::kAddMember,
                       t.collector(1).publicKey,
                       "notary",
                       {{t.member(0).publicKey, core::Signature()}}},
  };
}

TEST(TransactionTest, EveryOperationRoundTripsCanonically) {
  TestChain t;
  auto operations = everyOperation(t);
  ASSERT_EQ(operations.size(), std::variant_size_v<Operation>);
  for (std::size_t i = 0; i < operations.size(); ++i) {
    EXPECT_EQ(operations[i].index(), i);
    SignedTransaction signedTransaction = t.sign(t.admin(), operations[i]);
    Bytes encoded = core::encode(signedTransaction);
    auto decoded = decodeSignedTransaction(encoded);
    ASSERT_TRUE(decoded.ok()) << operationName(operations[i]) << ": "
                              << decoded.status().toString();
    EXPECT_EQ(*decoded, signedTransaction);
    EXPECT_EQ(core::encode(*decoded), encoded);
    EXPECT_TRUE(checkTransaction(t.parameters(), *decoded).isOk())
        << operationName(operations[i]) << ": "
        << checkTransaction(t.parameters(), *decoded).toString();
  }
}

TEST(TransactionTest, DecoderRefusesMalformedInput) {
  TestChain t;
  Bytes encoded = core::encode(t.sign(t.admin(), Burn{TokenId{SeriesId(1), 1}}));
  Bytes trailing = encoded;
  trailing.push_back(0);
  EXPECT_EQ(decodeSignedTransaction(trailing).status().reason(), "decode-trailing-bytes");
  Bytes truncated(encoded.begin(), encoded.end() - 1);
  EXPECT_EQ(decodeSignedTransaction(truncated).status().reason(), "decode-truncated");
  EXPECT_EQ(decodeSignedTransaction(Bytes(limits::kMaxTransactionBytes + 1, 1)).status().reason(),
            "transaction-too-large");
  // The operation tag follows version (1) + chain id (32) + suite and key (33) + nonce (1).
  Bytes unknownOperation = encoded;
  unknownOperation[1 + 32 + 33 + 1] = 99;
  EXPECT_EQ(decodeSignedTransaction(unknownOperation).status().reason(),
            "decode-unknown-operation");
  Bytes smallOrderKey = encoded;
  std::fill(smallOrderKey.begin() + 34, smallOrderKey.begin() + 66, 0);
  smallOrderKey[34] = 1;
  EXPECT_EQ(decodeSignedTransaction(smallOrderKey).status().reason(), "public-key-invalid-point");
}

TEST(TransactionTest, SignatureChainAndSuiteAreChecked) {
  TestChain t;
  SignedTransaction good = t.sign(t.admin(), Burn{TokenId{SeriesId(1), 1}});
  EXPECT_TRUE(checkTransaction(t.parameters(), good).isOk());
  SignedTransaction badSignature = good;
  badSignature.signature.mutableArray()[10] ^= 1;
  EXPECT_EQ(checkTransaction(t.parameters(), badSignature).reason(), "bad-signature");
  EXPECT_TRUE(checkTransaction(t.parameters(), badSignature, false).isOk());
  SignedTransaction otherNonce = good;
  otherNonce.transaction.nonce = 1;  // the signature covers the nonce
  EXPECT_EQ(checkTransaction(t.parameters(), otherNonce).reason(), "bad-signature");
  // The executor passes the encoding it already has; the verdicts must be the same.
  EXPECT_TRUE(checkTransaction(t.parameters(), good, true, core::encode(good)).isOk());
  EXPECT_EQ(
      checkTransaction(t.parameters(), badSignature, true, core::encode(badSignature)).reason(),
      "bad-signature");
  EXPECT_EQ(checkTransaction(t.parameters(), otherNonce, true, core::encode(otherNonce)).reason(),
            "bad-signature");
  ChainParameters otherChain = t.parameters();
  otherChain.chainId.mutableArray()[0] ^= 1;
  EXPECT_EQ(checkTransaction(otherChain, good).reason(), "wrong-chain");
}

// Each context-free rejection, by the check that raises it.
TEST(TransactionTest, ContextFreeRejections) {
  auto reason = [](const Operation& op) {
    return std::visit([](const auto& o) { return o.check().reason(); }, op);
  };
  CreateSeries series = TestChain::seriesTemplate(10);
  auto with = [&](auto change) {
    CreateSeries copy = series;
    change(copy);
    return reason(copy);
  };
  EXPECT_EQ(with([](CreateSeries& s) { s.title = ""; }), "title-invalid");
  EXPECT_EQ(with([](CreateSeries& s) { s.title = std::string(129, 'x'); }), "title-invalid");
  EXPECT_EQ(with([](CreateSeries& s) { s.mediaHash = Hash256(); }), "media-hash-missing");
  EXPECT_EQ(with([](CreateSeries& s) { s.mediaType = "png"; }), "media-type-invalid");
  EXPECT_EQ(with([](CreateSeries& s) { s.metadataHash = Hash256(); }), "metadata-hash-missing");
  EXPECT_EQ(with([](CreateSeries& s) { s.licenceHash = Hash256(); }), "licence-hash-missing");
  EXPECT_EQ(with([](CreateSeries& s) { s.editionCap = 0; }), "edition-cap-out-of-range");
  EXPECT_EQ(with([](CreateSeries& s) { s.editionCap = 10'000'001; }), "edition-cap-out-of-range");
  EXPECT_EQ(with([](CreateSeries& s) { s.creator = Address(); }), "address-missing");
  EXPECT_EQ(with([](CreateSeries& s) { s.royaltyBasisPoints = 3001; }), "royalty-too-high");
  EXPECT_EQ(with([](CreateSeries& s) { s.policy.priceCeiling = Fen(-1); }),
            "price-ceiling-negative");
  EXPECT_EQ(with([](CreateSeries& s) {
              s.rights = {{1, "a", 1}, {1, "b", 1}};
            }),
            "right-duplicate");
  EXPECT_EQ(with([](CreateSeries& s) { s.rights = {{1, "a", 0}}; }), "right-uses-out-of-range");
  EXPECT_EQ(with([](CreateSeries& s) { s.rights = {{1, "", 1}}; }), "right-kind-invalid");
  EXPECT_EQ(with([](CreateSeries& s) {
              s.rights.resize(17, RightDefinition{0, "x", 1});
            }),
            "rights-too-many");
  EXPECT_TRUE(with([](CreateSeries& s) { s.editionCap = 10'000'000; }).empty());

  EXPECT_EQ(reason(RegisterIssuer{Address(), "x", testHash("l")}), "address-missing");
  EXPECT_EQ(reason(RegisterIssuer{someAddress(1), "", testHash("l")}), "display-name-invalid");
  EXPECT_EQ(reason(RegisterIssuer{someAddress(1), "x", Hash256()}), "licence-hash-missing");
  EXPECT_EQ(reason(Mint{SeriesId(1), {}}), "mint-batch-size");
  EXPECT_EQ(reason(Mint{SeriesId(1), std::vector<Address>(1001, someAddress(1))}),
            "mint-batch-size");
  EXPECT_EQ(reason(Mint{SeriesId(1), {Address()}}), "address-missing");
  EXPECT_EQ(reason(Transfer{TokenId{SeriesId(1), 0}, someAddress(1)}), "token-invalid");
  EXPECT_EQ(reason(Burn{TokenId{SeriesId(0), 1}}), "token-invalid");
  EXPECT_EQ(reason(CommitBlindBox{SeriesId(3), {}, testHash("c"), {}}), "blind-box-size");
  EXPECT_EQ(reason(CommitBlindBox{SeriesId(3), {{SeriesId(1), 100'001}}, testHash("c"), {}}),
            "blind-box-size");
  EXPECT_EQ(
      reason(CommitBlindBox{SeriesId(3), {{SeriesId(1), 1}, {SeriesId(1), 1}}, testHash("c"), {}}),
      "blind-box-duplicate");
  EXPECT_EQ(reason(CommitBlindBox{SeriesId(3), {{SeriesId(1), 0}}, testHash("c"), {}}),
            "blind-box-entry-invalid");
  EXPECT_EQ(reason(CommitBlindBox{SeriesId(3), {{SeriesId(3), 1}}, testHash("c"), {}}),
            "blind-box-contains-itself");
  EXPECT_EQ(reason(CommitBlindBox{SeriesId(3), {{SeriesId(1), 1}}, Hash256(), {}}),
            "seed-commitment-missing");
  EXPECT_EQ(reason(CommitLottery{SeriesId(1), testHash("e"), 0, 1, testHash("c")}),
            "lottery-entrants-out-of-range");
  EXPECT_EQ(reason(CommitLottery{SeriesId(1), testHash("e"), 5, 6, testHash("c")}),
            "lottery-winners-out-of-range");
  EXPECT_EQ(reason(CommitLottery{SeriesId(1), Hash256(), 5, 1, testHash("c")}),
            "entrants-root-missing");
  CreateRecipe recipe{{{SeriesId(1), 2}},
                      SeriesId(2),
                      Timestamp::fromUnixMillis(1),
                      Timestamp::fromUnixMillis(2),
                      1};
  CreateRecipe backwards = recipe;
  std::swap(backwards.opensAt, backwards.closesAt);
  EXPECT_EQ(reason(backwards), "recipe-window-invalid");
  CreateRecipe selfish = recipe;
  selfish.output = SeriesId(1);
  EXPECT_EQ(reason(selfish), "recipe-output-is-input");
  CreateRecipe unlimited = recipe;
  unlimited.maxSyntheses = 0;
  EXPECT_EQ(reason(unlimited), "recipe-limit-invalid");
  EXPECT_EQ(reason(Synthesise{RecipeId(1), {}}), "synthesis-inputs-missing");
  EXPECT_EQ(reason(Synthesise{RecipeId(1), {TokenId{SeriesId(1), 1}, TokenId{SeriesId(1), 1}}}),
            "synthesis-duplicate-input");
  SettleTrade trade{
      TokenId{SeriesId(1), 1}, someAddress(1), someAddress(2), Fen(100), Fen(5), Fen(5), "ref"};
  SettleTrade copy = trade;
  copy.buyer = copy.seller;
  EXPECT_EQ(reason(copy), "trade-same-party");
  copy = trade;
  copy.price = Fen(0);
  EXPECT_EQ(reason(copy), "price-not-positive");
  copy = trade;
  copy.royalty = Fen(96);
  EXPECT_EQ(reason(copy), "trade-split-invalid");
  copy = trade;
  copy.platformFee = Fen(-1);
  EXPECT_EQ(reason(copy), "trade-split-invalid");
  copy = trade;
  copy.paymentReference = "";
  EXPECT_EQ(reason(copy), "payment-reference-invalid");
  EXPECT_EQ(reason(SetFrozen{FreezeTarget::kToken, TokenId{SeriesId(1), 1}, {}, true, ""}),
            "reason-invalid");
  EXPECT_EQ(reason(SetFrozen{FreezeTarget::kAddress, {}, Address(), true, "x"}), "address-missing");
  EXPECT_EQ(reason(GrantRoles{someAddress(1), kRoleAdmin}), "roles-invalid");
  TestChain t;
  EXPECT_EQ(reason(ChangeMembership{MembershipAction::kAddMember, t.member(0).publicKey, "", {}}),
            "member-name-invalid");
  EXPECT_EQ(
      reason(ChangeMembership{MembershipAction::kRemoveMember, t.member(0).publicKey, "", {}}),
      "approvals-missing");
  core::Signature none;
  EXPECT_EQ(
      reason(ChangeMembership{MembershipAction::kRemoveMember,
                              t.member(0).publicKey,
                              "",
                              {{t.member(1).publicKey, none}, {t.member(1).publicKey, none}}}),
      "approval-duplicate");
}

TEST(BlockTest, EncodingRoundTrips) {
  TestChain t;
  Block block =
      t.chain().nextBlock({t.sign(t.admin(), GrantRoles{someAddress(1), kRoleMarket})}, t.now());
  Bytes encoded = core::encode(block);
  auto decoded = core::decode<Block>(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
  EXPECT_EQ(*decoded, block);
  EXPECT_EQ(blockHash(t.parameters(), decoded->header), blockHash(t.parameters(), block.header));
  encoded.push_back(0);
  EXPECT_EQ(core::decode<Block>(encoded).status().reason(), "decode-trailing-bytes");
}

TEST(GenesisTest, ChecksAndNamesTheChain) {
  TestChain t;
  Genesis genesis;
  genesis.chainName = "consortium";
  genesis.members = {Member{"platform", t.member(0).publicKey}};
  genesis.roleGrants = {RoleGrant{TestChain::address(t.admin()), kRoleAdmin}};
  EXPECT_TRUE(checkGenesis(genesis).isOk());
  Genesis noAdmin = genesis;
  noAdmin.roleGrants.clear();
  EXPECT_EQ(checkGenesis(noAdmin).reason(), "admin-missing");
  Genesis noMembers = genesis;
  noMembers.members.clear();
  EXPECT_EQ(checkGenesis(noMembers).reason(), "members-invalid");
  Genesis twice = genesis;
  twice.members.push_back(twice.members[0]);
  EXPECT_EQ(checkGenesis(twice).reason(), "member-duplicate");
  Genesis wrongSuite = genesis;
  wrongSuite.suite = core::SuiteId::kSm2Sm3;
  EXPECT_EQ(checkGenesis(wrongSuite).reason(), "member-wrong-suite");
  Genesis renamed = genesis;
  renamed.chainName = "consortium-2";
  EXPECT_NE(chainParametersOf(genesis).chainId, chainParametersOf(renamed).chainId);
  auto decoded = core::decode<Genesis>(core::encode(genesis));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, genesis);
}

}  // namespace
}  // namespace jiancang::chain
