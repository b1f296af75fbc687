#include <chain/attestation.h>

#include <algorithm>
#include <set>

#include <chain/codec_internal.h>
#include <chain/executor_internal.h>

namespace jiancang::chain {
namespace {

constexpr std::string_view kAttestationDomain = "jiancang/attestation/v1";

core::Status attestationError(std::string reason, std::string message) {
  return {core::ErrorCode::kUnauthenticated, std::move(reason), std::move(message)};
}

}  // namespace

void Attestation::encodeTo(core::Writer& writer) const {
  writer.varint(height);
  writer.fixed(blockHash.view());
  writer.fixed(stateRoot.view());
  member.encodeTo(writer);
  writer.fixed(signature.view());
}

Attestation Attestation::decodeFrom(core::Reader& reader) {
  Attestation attestation;
  attestation.height = reader.varint();
  attestation.blockHash = codec::readFixed<core::BlockHash>(reader);
  attestation.stateRoot = codec::readFixed<Hash256>(reader);
  attestation.member = core::PublicKey::decodeFrom(reader);
  attestation.signature = codec::readFixed<core::Signature>(reader);
  return attestation;
}

Bytes attestationMessage(const core::ChainId& chainId, std::uint64_t height,
                         const core::BlockHash& blockHash, const Hash256& stateRoot) {
  core::Writer writer;
  writer.string(kAttestationDomain);
  writer.fixed(chainId.view());
  writer.varint(height);
  writer.fixed(blockHash.view());
  writer.fixed(stateRoot.view());
  return std::move(writer).take();
}

Attestation signAttestation(const ChainParameters& chain, std::uint64_t height,
                            const core::BlockHash& blockHash, const Hash256& stateRoot,
                            const core::KeyPair& member) {
  Attestation attestation{height, blockHash, stateRoot, member.publicKey, {}};
  attestation.signature = chain.crypto().sign(
      member.secretKey, attestationMessage(chain.chainId, height, blockHash, stateRoot));
  return attestation;
}

core::Status verifyAttestations(const ChainParameters& chain, const std::vector<Member>& members,
                                std::size_t quorum, std::uint64_t height,
                                const core::BlockHash& blockHash, const Hash256& stateRoot,
                                const std::vector<Attestation>& attestations) {
  Bytes message = attestationMessage(chain.chainId, height, blockHash, stateRoot);
  std::vector<core::PublicKey> seen;
  for (const Attestation& attestation : attestations) {
    const std::string who = attestation.member.hex();
    auto member = std::find_if(members.begin(), members.end(),
                               [&](const Member& m) { return m.key == attestation.member; });
    if (member == members.end()) {
      return attestationError("attestation-not-member",
                              "key " + who + " is not a member of the consortium");
    }
    if (std::find(seen.begin(), seen.end(), attestation.member) != seen.end()) {
      return attestationError("attestation-duplicate", "member " + member->name + " signed twice");
    }
    if (attestation.height != height || attestation.blockHash != blockHash ||
        attestation.stateRoot != stateRoot) {
      return attestationError("attestation-other-block",
                              "member " + member->name + " signed another height, block or root");
    }
    if (!chain.crypto().verify(attestation.member, message, attestation.signature)) {
      return attestationError("attestation-bad-signature",
                              "member " + member->name + "'s signature does not verify");
    }
    seen.push_back(attestation.member);
  }
  if (seen.size() < quorum) {
    return attestationError("attestation-no-quorum",
                            std::to_string(seen.size()) + " of " + std::to_string(members.size()) +
                                " members signed; the quorum is " + std::to_string(quorum));
  }
  return {};
}

core::Status applyMembershipChange(const ChainParameters& chain, ConsortiumRecord& consortium,
                                   const ChangeMembership& change) {
  using detail::denied;
  using detail::missing;
  using detail::refused;
  Bytes message = membershipChangeMessage(chain.chainId, consortium.membershipVersion,
                                          change.action, change.key, change.name);
  std::set<core::PublicKey> approvers;
  for (const MembershipApproval& approval : change.approvals) {
    bool isMember = std::any_of(consortium.members.begin(), consortium.members.end(),
                                [&](const Member& m) { return m.key == approval.member; });
    if (!isMember) return denied("approver-not-member", "an approval comes from a non-member key");
    if (!chain.crypto().verify(approval.member, message, approval.signature)) {
      return denied("approval-bad-signature",
                    "a member's approval signature does not verify "
                    "(approvals sign the current membership version)");
    }
    approvers.insert(approval.member);
  }
  if (approvers.size() < consortium.quorum()) {
    return denied("quorum-not-reached", std::to_string(approvers.size()) + " approvals, " +
                                            std::to_string(consortium.quorum()) + " of " +
                                            std::to_string(consortium.members.size()) +
                                            " members needed");
  }
  auto memberWithKey = std::find_if(consortium.members.begin(), consortium.members.end(),
                                    [&](const Member& m) { return m.key == change.key; });
  switch (change.action) {
    case MembershipAction::kAddMember:
      if (change.key.suite() != chain.suite) {
        return refused("member-wrong-suite", "a member's key must use the chain's crypto suite");
      }
      if (memberWithKey != consortium.members.end()) {
        return refused("member-exists", "the key is a member already");
      }
      if (consortium.members.size() >= limits::kMaxMembers) {
        return refused("members-full", "a consortium has at most " +
                                           std::to_string(limits::kMaxMembers) + " members");
      }
      consortium.members.push_back(Member{change.name, change.key});
      break;
    case MembershipAction::kRemoveMember:
      if (memberWithKey == consortium.members.end()) {
        return missing("member-not-found", "the key is not a member");
      }
      if (consortium.members.size() == 1) {
        return refused("last-member", "the last member cannot be removed");
      }
      consortium.members.erase(memberWithKey);
      break;
    case MembershipAction::kAddAdmin:
    case MembershipAction::kRemoveAdmin:
      break;
  }
  ++consortium.membershipVersion;
  return {};
}

Bytes encodeMembershipChange(const ChangeMembership& change) {
  core::Writer writer;
  change.encodeTo(writer);
  return std::move(writer).take();
}

core::Result<ChangeMembership> decodeMembershipChange(ByteView bytes) {
  core::Reader reader(bytes);
  ChangeMembership change = ChangeMembership::decodeFrom(reader);
  if (core::Status status = reader.finish(); !status.isOk()) return status;
  return change;
}

}  // namespace jiancang::chain
