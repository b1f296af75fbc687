#include <ledger/certificate.h>

#include <nlohmann/json.hpp>

#include <chain/state_keys.h>

namespace jiancang::ledger {
namespace {

using nlohmann::json;

Status failed(std::string reason, std::string message) {
  return {core::ErrorCode::kCorruption, std::move(reason), std::move(message)};
}

template <typename T>
core::Result<T> decodeHex(const json& value, std::string_view what) {
  if (!value.is_string()) {
    return failed("certificate-malformed", std::string(what) + " is missing or not a string");
  }
  auto bytes = core::fromHex(value.get<std::string>());
  if (!bytes) return failed("certificate-malformed", std::string(what) + " is not hex");
  auto decoded = core::decode<T>(*bytes);
  if (!decoded) {
    return failed("certificate-malformed",
                  std::string(what) + " does not decode: " + decoded.status().message());
  }
  return decoded;
}

// The binary parts a certificate is made of; every other field is derived from them, so a
// verifier can rebuild the whole document and refuse any field that differs.
struct Parts {
  chain::Genesis genesis;
  chain::BlockHeader header;
  chain::Hash256 stateRoot;
  std::vector<chain::Attestation> attestations;
  chain::TokenId token;
  chain::StateProof tokenProof;
  chain::StateProof seriesProof;
  // The membership changes before the block, oldest first: they lead from the genesis members
  // to those who sign it. Empty while the members are the genesis ones.
  std::vector<MembershipChangeEntry> membership;
};

std::string_view actionName(chain::MembershipAction action) {
  switch (action) {
    case chain::MembershipAction::kAddMember:
      return "add-member";
    case chain::MembershipAction::kRemoveMember:
      return "remove-member";
    case chain::MembershipAction::kAddAdmin:
      return "add-admin";
    case chain::MembershipAction::kRemoveAdmin:
      return "remove-admin";
  }
  return "unknown";
}

// Every name a member key has had, from the genesis and the changes that added members.
std::string memberName(const Parts& parts, const core::PublicKey& key) {
  std::string name;
  for (const chain::Member& member : parts.genesis.members) {
    if (member.key == key) name = member.name;
  }
  for (const MembershipChangeEntry& entry : parts.membership) {
    if (entry.change.action == chain::MembershipAction::kAddMember && entry.change.key == key) {
      name = entry.change.name;
    }
  }
  return name;
}

core::Result<json> describe(const Parts& parts) {
  chain::ChainParameters parameters = chain::chainParametersOf(parts.genesis);
  auto tokenRecord = core::decode<chain::TokenRecord>(parts.tokenProof.value.value_or(Bytes{}));
  auto seriesRecord = core::decode<chain::SeriesRecord>(parts.seriesProof.value.value_or(Bytes{}));
  if (!tokenRecord || !seriesRecord) {
    return failed("certificate-malformed", "a proven record is absent or does not decode");
  }
  json attestations = json::array();
  for (const chain::Attestation& attestation : parts.attestations) {
    attestations.push_back({{"member", memberName(parts, attestation.member)},
                            {"key", attestation.member.hex()},
                            {"attestation", core::toHex(core::encode(attestation))}});
  }
  const chain::TokenId& token = parts.token;
  json document{
      {"format", kCertificateFormat},
      {"chain",
       {{"id", parameters.chainId.hex()},
        {"name", parts.genesis.chainName},
        {"suite", core::suiteName(parameters.suite)},
        {"genesis", core::toHex(core::encode(parts.genesis))}}},
      {"token",
       {{"id", token.toString()},
        {"series", token.series.value()},
        {"serial", token.serial},
        {"label", chain::serialLabel(token.serial, seriesRecord->editionCap)},
        {"owner", tokenRecord->owner.hex()},
        {"minted_at", tokenRecord->mintedAt.unixMillis()},
        {"transfer_count", tokenRecord->transferCount},
        {"frozen", tokenRecord->frozen}}},
      {"series",
       {{"id", token.series.value()},
        {"title", seriesRecord->title},
        {"issuer", seriesRecord->issuer.hex()},
        {"edition_cap", seriesRecord->editionCap},
        {"minted", seriesRecord->minted},
        {"burned", seriesRecord->burned},
        {"media_hash", seriesRecord->mediaHash.hex()},
        {"media_type", seriesRecord->mediaType},
        {"metadata_hash", seriesRecord->metadataHash.hex()},
        {"licence_hash", seriesRecord->licenceHash.hex()}}},
      {"state",
       {{"height", parts.header.height},
        {"block_hash", chain::blockHash(parameters, parts.header).hex()},
        {"state_root", parts.stateRoot.hex()},
        {"timestamp", parts.header.timestamp.unixMillis()},
        {"header", core::toHex(core::encode(parts.header))}}},
      {"proofs",
       {{"token", core::toHex(core::encode(parts.tokenProof))},
        {"series", core::toHex(core::encode(parts.seriesProof))}}},
      {"attestations", attestations},
  };
  if (!parts.membership.empty()) {
    json membership = json::array();
    for (const MembershipChangeEntry& entry : parts.membership) {
      json item{{"height", entry.height},
                {"action", actionName(entry.change.action)},
                {"key", entry.change.key.hex()},
                {"change", core::toHex(chain::encodeMembershipChange(entry.change))}};
      if (entry.change.action == chain::MembershipAction::kAddMember) {
        item["name"] = entry.change.name;
      }
      membership.push_back(std::move(item));
    }
    document["membership"] = std::move(membership);
  }
  return document;
}

}  // namespace

core::Result<std::string> buildCertificate(
    const Ledger& ledger, const chain::TokenId& token,
    const std::function<void(std::uint64_t height)>& awaitSignatures) {
  auto proven = ledger.proveAtHead(
      {chain::state_keys::token(token), chain::state_keys::series(token.series)});
  if (!proven) return proven.status();
  const Head& head = proven->head;
  if (awaitSignatures) awaitSignatures(head.height);
  Parts parts{ledger.genesis(),
              {},
              head.stateRoot,
              ledger.attestationsAt(head.height),
              token,
              proven->proofs[0],
              proven->proofs[1],
              {}};
  if (!parts.tokenProof.value) {
    return core::notFound("token-not-found", "token " + token.toString() + " does not exist");
  }
  auto tokenRecord = core::decode<chain::TokenRecord>(*parts.tokenProof.value);
  if (tokenRecord && tokenRecord->burned) {
    return core::failedPrecondition("token-burned",
                                    "token " + token.toString() + " was burned: it has no holder");
  }
  auto block = ledger.blockAt(head.height);
  if (!block) {
    return core::failedPrecondition("no-block-yet",
                                    "the chain has no block yet to certify a state under");
  }
  parts.header = block->header;
  auto membership = ledger.membershipChangesBelow(head.height);
  if (!membership) return membership.status();
  parts.membership = std::move(membership).value();
  auto document = describe(parts);
  if (!document) return document.status();
  // Compact on purpose: no insignificant whitespace, so every byte of the file means something
  // and any change to it is caught.
  return document->dump();
}

core::Status verifyCertificate(std::string_view document, std::string_view expectedChainId,
                               CertificateReport* report) {
  CertificateReport scratch;
  CertificateReport& out = report != nullptr ? *report : scratch;
  json doc = json::parse(document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return failed("certificate-malformed", "the certificate is not a JSON object");
  }
  try {
    if (doc.value("format", "") != kCertificateFormat) {
      return failed("certificate-format", "not a " + std::string(kCertificateFormat) + " document");
    }
    // 1. The chain: its id is the hash of its genesis, which names the members.
    auto genesis = decodeHex<chain::Genesis>(doc.at("chain").at("genesis"), "chain.genesis");
    if (!genesis) return genesis.status();
    chain::ChainParameters parameters = chain::chainParametersOf(*genesis);
    const core::CryptoSuite& suite = parameters.crypto();
    out.chainId = parameters.chainId.hex();
    if (doc.at("chain").value("id", "") != out.chainId) {
      return failed("certificate-chain-id", "chain.id is not the hash of chain.genesis");
    }
    if (!expectedChainId.empty() && expectedChainId != out.chainId) {
      return failed("certificate-other-chain", "the certificate is for chain " + out.chainId +
                                                   ", not " + std::string(expectedChainId));
    }
    out.checks.push_back("chain " + out.chainId + " (\"" + genesis->chainName +
                         "\") is the hash of the genesis in the certificate, which lists " +
                         std::to_string(genesis->members.size()) + " member(s)");

    // 2. The block: its hash follows from its header.
    const json& state = doc.at("state");
    auto header = decodeHex<chain::BlockHeader>(state.at("header"), "state.header");
    if (!header) return header.status();
    if (header->chainId != parameters.chainId) {
      return failed("certificate-header-chain", "the block header belongs to another chain");
    }
    core::BlockHash blockHash = chain::blockHash(parameters, *header);
    out.height = header->height;
    if (state.at("block_hash").get<std::string>() != blockHash.hex() ||
        state.at("height").get<std::uint64_t>() != header->height) {
      return failed("certificate-block-hash",
                    "state.block_hash or state.height does not match the block header");
    }
    out.checks.push_back("block " + std::to_string(header->height) + " has hash " +
                         blockHash.hex() + ", recomputed from its header");

    // 3. The members who sign that block: the genesis members, changed by each membership
    //    change before it, each approved by a quorum of the members before it.
    chain::ConsortiumRecord consortium{genesis->members, 0};
    std::vector<MembershipChangeEntry> membership;
    if (doc.contains("membership")) {
      for (const json& entry : doc.at("membership")) {
        auto bytes = core::fromHex(entry.at("change").get<std::string>());
        auto change = bytes ? chain::decodeMembershipChange(*bytes)
                            : core::Result<chain::ChangeMembership>(bytes.status());
        if (!change) {
          return failed("certificate-malformed",
                        "a membership change does not decode: " + change.status().message());
        }
        const std::uint64_t at = entry.at("height").get<std::uint64_t>();
        if (at >= header->height || (!membership.empty() && at < membership.back().height)) {
          return failed("certificate-membership",
                        "the membership changes are not in block order before block " +
                            std::to_string(header->height));
        }
        if (Status applied = chain::applyMembershipChange(parameters, consortium, *change);
            !applied.isOk()) {
          return failed("certificate-membership", "membership change " +
                                                      std::to_string(membership.size() + 1) +
                                                      " (block " + std::to_string(at) +
                                                      ") does not follow from the members "
                                                      "before it: " +
                                                      applied.message());
        }
        membership.push_back({at, std::move(change).value()});
      }
      std::string names;
      for (const chain::Member& member : consortium.members) {
        names += (names.empty() ? "" : ", ") + member.name;
      }
      out.checks.push_back(std::to_string(membership.size()) +
                           " membership change(s) since the genesis, each approved by a quorum "
                           "of the members before it, leave " +
                           std::to_string(consortium.members.size()) + " members: " + names);
    }

    // 4. The members' signatures on (height, block hash, state root).
    auto root = chain::Hash256::fromHex(state.at("state_root").get<std::string>());
    if (!root) return failed("certificate-malformed", "state.state_root is not a 32-byte hex");
    std::vector<chain::Attestation> attestations;
    for (const json& entry : doc.at("attestations")) {
      auto attestation = decodeHex<chain::Attestation>(entry.at("attestation"), "attestation");
      if (!attestation) return attestation.status();
      attestations.push_back(std::move(attestation).value());
    }
    if (Status signatures =
            chain::verifyAttestations(parameters, consortium.members, consortium.quorum(),
                                      header->height, blockHash, *root, attestations);
        !signatures.isOk()) {
      return signatures;
    }
    out.checks.push_back(std::to_string(attestations.size()) + " of " +
                         std::to_string(consortium.members.size()) + " members signed state root " +
                         root->hex() + " at this block (quorum " +
                         std::to_string(consortium.quorum()) + ")");

    // 5. The token: its record is proven under that root, and says who holds it.
    const json& token = doc.at("token");
    chain::TokenId tokenId{chain::SeriesId(token.at("series").get<std::uint64_t>()),
                           token.at("serial").get<std::uint64_t>()};
    out.token = tokenId.toString();
    auto tokenProof = decodeHex<chain::StateProof>(doc.at("proofs").at("token"), "proofs.token");
    if (!tokenProof) return tokenProof.status();
    if (tokenProof->key != chain::state_keys::token(tokenId)) {
      return failed("certificate-wrong-key", "the token proof is for another key");
    }
    auto owner = core::Address::fromHex(token.at("owner").get<std::string>());
    if (!owner) return failed("certificate-malformed", "token.owner is not an address");
    if (Status status = chain::verifyTokenOwner(suite, *root, tokenId, *owner, *tokenProof);
        !status.isOk()) {
      return status;
    }
    out.owner = owner->hex();
    out.checks.push_back("token " + out.token + " is held by " + out.owner +
                         " and not burned: its record's Merkle proof leads to that root");

    // 6. The series: cap and counts, and every field the certificate displays.
    const json& series = doc.at("series");
    auto seriesProof = decodeHex<chain::StateProof>(doc.at("proofs").at("series"), "proofs.series");
    if (!seriesProof) return seriesProof.status();
    if (seriesProof->key != chain::state_keys::series(tokenId.series)) {
      return failed("certificate-wrong-key", "the series proof is for another key");
    }
    std::uint64_t cap = series.at("edition_cap").get<std::uint64_t>();
    std::uint64_t minted = series.at("minted").get<std::uint64_t>();
    std::uint64_t burned = series.at("burned").get<std::uint64_t>();
    if (Status status = chain::verifySeriesSupply(suite, *root, tokenId.series, cap, minted, burned,
                                                  *seriesProof);
        !status.isOk()) {
      return status;
    }
    auto record = core::decode<chain::SeriesRecord>(seriesProof->value.value_or(Bytes{}));
    if (!record) return failed("certificate-malformed", "the series record does not decode");
    out.checks.push_back("series " + std::to_string(tokenId.series.value()) + " \"" +
                         record->title + "\": edition cap " + std::to_string(cap) + ", " +
                         std::to_string(minted) + " minted, " + std::to_string(burned) +
                         " burned; media " + record->mediaHash.hex() + ", licence " +
                         record->licenceHash.hex());
    // 7. Every other field: the document must be exactly what its proven parts describe.
    Parts parts{std::move(genesis).value(),
                *header,
                *root,
                attestations,
                tokenId,
                std::move(tokenProof).value(),
                std::move(seriesProof).value(),
                std::move(membership)};
    auto expected = describe(parts);
    if (!expected) return expected.status();
    if (*expected != doc) {
      return failed("certificate-display-mismatch",
                    "a field differs from what the proven records and signatures say");
    }
    out.checks.push_back("every displayed field matches the proven records");
  } catch (const json::exception& error) {
    return failed("certificate-malformed",
                  std::string("a field is missing or of the wrong type: ") + error.what());
  }
  return {};
}

}  // namespace jiancang::ledger
