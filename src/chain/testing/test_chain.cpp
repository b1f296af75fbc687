#include <chain/testing/test_chain.h>

#include <cstdlib>
#include <map>

namespace jiancang::chain::testing {
namespace {

constexpr std::size_t kActors = 9 + TestChain::kCollectors;

std::vector<core::KeyPair> deriveKeys(core::SuiteId suite) {
  std::vector<core::KeyPair> keys;
  for (std::size_t i = 0; i < kActors; ++i) {
    Hash256 secret = testHash("actor " + std::to_string(i));
    auto pair = core::cryptoSuite(suite).keyPairFromSecret(secret.view());
    if (!pair) std::abort();  // a hash is a valid secret in both suites but with negligible odds
    keys.push_back(std::move(pair).value());
  }
  return keys;
}

std::vector<core::KeyPair> makeKeys(core::SuiteId suite) {
  static const std::vector<core::KeyPair> ed25519 = deriveKeys(core::SuiteId::kEd25519Sha256);
  static const std::vector<core::KeyPair> sm2 = deriveKeys(core::SuiteId::kSm2Sm3);
  const std::vector<core::KeyPair>& source = suite == core::SuiteId::kSm2Sm3 ? sm2 : ed25519;
  std::vector<core::KeyPair> copy;
  copy.reserve(source.size());
  for (const core::KeyPair& pair : source) {
    copy.push_back(
        core::cryptoSuite(suite).keyPairFromSecret(pair.secretKey.secretBytes()).value());
  }
  return copy;
}

Genesis makeGenesis(core::SuiteId suite, const std::vector<core::KeyPair>& keys) {
  Genesis genesis;
  genesis.chainName = "jiancang-test";
  genesis.suite = suite;
  genesis.timestamp = Timestamp::fromUnixMillis(1'700'000'000'000);
  for (std::size_t i = 0; i < 3; ++i) {
    genesis.members.push_back(Member{"member-" + std::to_string(i), keys[4 + i].publicKey});
  }
  genesis.roleGrants = {
      {core::addressOf(keys[0].publicKey), kRoleAdmin},
      {core::addressOf(keys[1].publicKey), kRoleGovernance},
      {core::addressOf(keys[2].publicKey), kRoleVerifier},
      {core::addressOf(keys[3].publicKey), kRoleMarket},
  };
  return genesis;
}

MemoryChain makeChain(const Genesis& genesis) {
  auto chain = MemoryChain::create(genesis);
  if (!chain) std::abort();
  return std::move(chain).value();
}

}  // namespace

Hash256 testHash(std::string_view label) { return core::sha256(core::asBytes(label)); }

TestChain::TestChain(core::SuiteId suite)
    : keys_(makeKeys(suite)),
      genesis_(makeGenesis(suite, keys_)),
      chain_(makeChain(genesis_)),
      now_(genesis_.timestamp) {}

std::uint64_t TestChain::nonceOf(const core::KeyPair& pair) const {
  auto account = read<AccountRecord>(state_keys::account(address(pair)));
  return account ? account->nonce : 0;
}

SignedTransaction TestChain::signWithNonce(const core::KeyPair& signer, Operation operation,
                                           std::uint64_t nonce) const {
  Transaction transaction{parameters().chainId, signer.publicKey, nonce, std::move(operation)};
  return signTransaction(parameters(), std::move(transaction), signer.secretKey);
}

SignedTransaction TestChain::sign(const core::KeyPair& signer, Operation operation) const {
  return signWithNonce(signer, std::move(operation), nonceOf(signer));
}

Receipt TestChain::run(const core::KeyPair& signer, Operation operation) {
  advance(1);
  auto outcome = chain_.commit({sign(signer, std::move(operation))}, now_);
  if (!outcome) std::abort();  // a well-formed block of one transaction is never refused
  return outcome->receipts.front();
}

CreateSeries TestChain::seriesTemplate(std::uint64_t cap, SeriesPolicy policy,
                                       std::vector<RightDefinition> rights, std::uint32_t royalty) {
  CreateSeries op;
  op.title = "敦煌飞天 #" + std::to_string(cap);
  op.mediaHash = testHash("media");
  op.mediaType = "image/png";
  op.metadataHash = testHash("metadata");
  op.licenceHash = testHash("licence");
  op.editionCap = cap;
  op.creator = core::addressOf(core::cryptoSuite(core::SuiteId::kEd25519Sha256)
                                   .keyPairFromSecret(testHash("creator").view())
                                   ->publicKey);
  op.royaltyBasisPoints = royalty;
  op.policy = policy;
  op.rights = std::move(rights);
  return op;
}

void TestChain::registerIssuer(std::size_t issuerIndex) {
  Receipt receipt = run(
      admin(), RegisterIssuer{address(issuer(issuerIndex)), "Issuer " + std::to_string(issuerIndex),
                              testHash("licence documents")});
  if (!receipt.ok() && receipt.reason != "issuer-exists") std::abort();
}

SeriesId TestChain::createSeries(std::size_t issuerIndex, std::uint64_t cap, SeriesPolicy policy,
                                 std::vector<RightDefinition> rights, std::uint32_t royalty) {
  registerIssuer(issuerIndex);
  Receipt receipt =
      run(issuer(issuerIndex), seriesTemplate(cap, policy, std::move(rights), royalty));
  if (!receipt.ok()) std::abort();
  return SeriesId(receipt.createdId);
}

std::uint64_t TestChain::mint(std::size_t issuerIndex, SeriesId series,
                              const std::vector<std::size_t>& collectors) {
  Mint op{series, {}};
  for (std::size_t index : collectors) op.recipients.push_back(address(collector(index)));
  Receipt receipt = run(issuer(issuerIndex), op);
  if (!receipt.ok()) std::abort();
  return receipt.firstSerial;
}

core::Status checkChainInvariants(const MemoryChain& chain) {
  auto broken = [](std::string message) {
    return core::Status(core::ErrorCode::kInternal, "invariant-broken", std::move(message));
  };
  std::map<std::uint64_t, std::uint64_t> liveTokens;
  std::map<std::uint64_t, std::uint64_t> allTokens;
  for (const auto& [key, value] : chain.entries()) {
    if (key[0] != 't') continue;
    auto token = core::decode<TokenRecord>(value);
    if (!token) return broken("a token record does not decode");
    std::uint64_t series = 0;
    for (std::size_t i = 1; i <= 8; ++i) series = series << 8 | key[i];
    ++allTokens[series];
    if (!token->burned) {
      ++liveTokens[series];
      if (token->owner.isZero()) return broken("a live token has no owner");
    }
  }
  for (const auto& [key, value] : chain.entries()) {
    if (key[0] != 's') continue;
    auto series = core::decode<SeriesRecord>(value);
    if (!series) return broken("a series record does not decode");
    std::string id = series->id.toString();
    if (series->minted + series->reserved > series->editionCap) {
      return broken("series " + id + " exceeds its cap");
    }
    if (series->minted - series->burned != liveTokens[series->id.value()]) {
      return broken("series " + id + ": minted - burned differs from its live tokens");
    }
    if (series->minted != allTokens[series->id.value()]) {
      return broken("series " + id + ": minted differs from its token records");
    }
  }
  return {};
}

core::KeyPair copyKeyPair(const core::KeyPair& pair) {
  return core::cryptoSuite(pair.publicKey.suite())
      .keyPairFromSecret(pair.secretKey.secretBytes())
      .value();
}

}  // namespace jiancang::chain::testing
