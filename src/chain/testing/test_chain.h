// A chain with named actors for tests, fuzz targets and benchmarks: an admin, governance,
// verifier and market keys, three members, two issuers and collectors, all with deterministic
// keys. run() signs an operation with the actor's next nonce and commits it in its own block.
// Test support only: production code never includes it.
#pragma once

#include <chain/memory_chain.h>
#include <chain/state_keys.h>

namespace jiancang::chain::testing {

// A second KeyPair with the same keys (a KeyPair cannot be copied: its secret is wiped once).
core::KeyPair copyKeyPair(const core::KeyPair& pair);

class TestChain {
 public:
  static constexpr std::size_t kCollectors = 8;

  explicit TestChain(core::SuiteId suite = core::SuiteId::kEd25519Sha256);

  // Deterministic key pairs: actor n's secret is H("actor" ‖ n).
  const core::KeyPair& admin() const { return keys_[0]; }
  const core::KeyPair& governance() const { return keys_[1]; }
  const core::KeyPair& verifier() const { return keys_[2]; }
  const core::KeyPair& market() const { return keys_[3]; }
  const core::KeyPair& member(std::size_t i) const { return keys_[4 + i]; }  // 0..2
  const core::KeyPair& issuer(std::size_t i) const { return keys_[7 + i]; }  // 0..1
  const core::KeyPair& collector(std::size_t i) const { return keys_[9 + i]; }
  static Address address(const core::KeyPair& pair) { return core::addressOf(pair.publicKey); }

  const Genesis& genesis() const { return genesis_; }
  MemoryChain& chain() { return chain_; }
  const MemoryChain& chain() const { return chain_; }
  const ChainParameters& parameters() const { return chain_.parameters(); }
  Timestamp now() const { return now_; }
  void advance(std::int64_t millis) { now_ = now_ + core::Duration(millis); }

  std::uint64_t nonceOf(const core::KeyPair& pair) const;
  SignedTransaction sign(const core::KeyPair& signer, Operation operation) const;
  SignedTransaction signWithNonce(const core::KeyPair& signer, Operation operation,
                                  std::uint64_t nonce) const;
  // Signs and commits in a block of its own, one millisecond after the previous; returns the
  // receipt.
  Receipt run(const core::KeyPair& signer, Operation operation);

  // Shortcuts for the common set-up: a registered issuer's series with a policy.
  void registerIssuer(std::size_t issuerIndex);
  SeriesId createSeries(std::size_t issuerIndex, std::uint64_t cap, SeriesPolicy policy = {},
                        std::vector<RightDefinition> rights = {}, std::uint32_t royalty = 500);
  // Mints to the given collectors; returns the first serial.
  std::uint64_t mint(std::size_t issuerIndex, SeriesId series,
                     const std::vector<std::size_t>& collectors);

  template <typename Record>
  std::optional<Record> read(const Bytes& key) const {
    auto bytes = chain_.get(key);
    if (!bytes) return std::nullopt;
    auto record = core::decode<Record>(*bytes);
    if (!record) return std::nullopt;
    return std::move(record).value();
  }
  SeriesRecord series(SeriesId id) const {
    return read<SeriesRecord>(state_keys::series(id)).value();
  }
  TokenRecord token(TokenId id) const { return read<TokenRecord>(state_keys::token(id)).value(); }

  static CreateSeries seriesTemplate(std::uint64_t cap, SeriesPolicy policy = {},
                                     std::vector<RightDefinition> rights = {},
                                     std::uint32_t royalty = 500);

 private:
  std::vector<core::KeyPair> keys_;
  Genesis genesis_;
  MemoryChain chain_;
  Timestamp now_;
};

// The invariants every state must keep: for each series minted + reserved ≤ cap, every serial
// 1..minted exists, minted − burned tokens are live, and every live token has an owner.
core::Status checkChainInvariants(const MemoryChain& chain);

// A 32-byte value from a label, for seeds and hashes in tests.
Hash256 testHash(std::string_view label);

}  // namespace jiancang::chain::testing
