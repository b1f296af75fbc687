// Attestations: a member's signature on (chain, height, block hash, state root) after it applied
// the block. With a quorum of them a state root is final, and anything proven under that root
// (a certificate) can be checked offline against the members' keys alone.
#pragma once

#include <chain/block.h>
#include <chain/types.h>

namespace jiancang::chain {

struct Attestation {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "attestation";
  std::uint64_t height = 0;
  core::BlockHash blockHash;
  Hash256 stateRoot;  // after the block
  core::PublicKey member;
  core::Signature signature;

  void encodeTo(core::Writer& writer) const;
  static Attestation decodeFrom(core::Reader& reader);
  friend bool operator==(const Attestation&, const Attestation&) = default;
};

// "jiancang/attestation/v1" ‖ chain id ‖ height ‖ block hash ‖ state root.
Bytes attestationMessage(const core::ChainId& chainId, std::uint64_t height,
                         const core::BlockHash& blockHash, const Hash256& stateRoot);

Attestation signAttestation(const ChainParameters& chain, std::uint64_t height,
                            const core::BlockHash& blockHash, const Hash256& stateRoot,
                            const core::KeyPair& member);

// Checks that at least `quorum` distinct members among `members` signed exactly this height,
// block hash and state root. Signatures by non-members, duplicates or over other values are
// errors, not silently skipped: a certificate should carry nothing unexplained.
core::Status verifyAttestations(const ChainParameters& chain, const std::vector<Member>& members,
                                std::size_t quorum, std::uint64_t height,
                                const core::BlockHash& blockHash, const Hash256& stateRoot,
                                const std::vector<Attestation>& attestations);

// A membership change as the chain applies it: approvals by a quorum of distinct current members
// over membershipChangeMessage() at the current version, then the member added or removed (an
// admin change leaves the members as they are; its roles are the executor's business). On
// success `consortium` holds the record after it, its version bumped. The executor and the
// offline certificate check both use it, so a certificate's membership history is judged
// exactly as the chain judged it.
core::Status applyMembershipChange(const ChainParameters& chain, ConsortiumRecord& consortium,
                                   const ChangeMembership& change);

// A membership change's bytes as its transaction holds them (its fields, no version byte): how
// the ledger's index and a certificate's membership history carry it.
Bytes encodeMembershipChange(const ChangeMembership& change);
core::Result<ChangeMembership> decodeMembershipChange(ByteView bytes);

}  // namespace jiancang::chain
