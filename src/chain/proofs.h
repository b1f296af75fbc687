// Claims anyone can check against a state root, with no node and no trust in the platform:
// who owns a token, a series' supply, what a blind box held, who won a lottery. Each verifier
// returns ok or says exactly which check failed.
//
// A state root is trusted through a block header and the members' signatures on it (the
// certificate, built by the node); these functions check everything beneath the root.
#pragma once

#include <chain/executor.h>

namespace jiancang::chain {

// A state entry (or its absence) with the Merkle path that proves it.
struct StateProof {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "state-proof";
  Bytes key;
  std::optional<Bytes> value;
  MerkleProof proof;

  void encodeTo(core::Writer& writer) const;
  static StateProof decodeFrom(core::Reader& reader);
  friend bool operator==(const StateProof&, const StateProof&) = default;
};

// Builds the proof for `key`, whose current value is `value`, under `root`.
core::Result<StateProof> proveState(const MerkleNodeSource& nodes, const Hash256& root,
                                    const core::CryptoSuite& suite, Bytes key,
                                    std::optional<Bytes> value);

core::Status verifyStateProof(const core::CryptoSuite& suite, const Hash256& root,
                              const StateProof& proof);

// "Token `token` is owned by `owner` (and not burned)."
core::Status verifyTokenOwner(const core::CryptoSuite& suite, const Hash256& root,
                              const TokenId& token, const Address& owner, const StateProof& proof);

// "Series `series` has cap `cap`, `minted` minted and `burned` burned."
core::Status verifySeriesSupply(const core::CryptoSuite& suite, const Hash256& root,
                                SeriesId series, std::uint64_t cap, std::uint64_t minted,
                                std::uint64_t burned, const StateProof& proof);

// "Box `box` contained `item`": recomputed from the revealed seed, the sealing block's hash and
// the committed contents, not read from the stored assignment.
core::Status verifyBoxContent(const core::CryptoSuite& suite, const Hash256& root,
                              const TokenId& box, SeriesId item, const StateProof& boxProof,
                              const StateProof& sealingBlockHashProof);

// "These were the winners of the lottery": recomputed from the revealed seed, the commit block's
// hash and the entrants root.
core::Status verifyLotteryWinners(const core::CryptoSuite& suite, const Hash256& root,
                                  LotteryId lottery, const std::vector<std::uint64_t>& winners,
                                  const StateProof& lotteryProof,
                                  const StateProof& commitBlockHashProof);

}  // namespace jiancang::chain
