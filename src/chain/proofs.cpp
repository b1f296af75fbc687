#include <chain/proofs.h>

#include <chain/fair_random.h>
#include <chain/state_keys.h>

namespace jiancang::chain {
namespace {

core::Status claimFails(std::string reason, std::string message) {
  return {core::ErrorCode::kFailedPrecondition, std::move(reason), std::move(message)};
}

// Checks the proof and that it is about `key`, then decodes its value as a Record.
template <typename Record>
core::Result<Record> provenRecord(const core::CryptoSuite& suite, const Hash256& root,
                                  const StateProof& proof, const Bytes& key) {
  if (proof.key != key) return claimFails("proof-wrong-key", "the proof is about another entry");
  if (core::Status status = verifyStateProof(suite, root, proof); !status.isOk()) return status;
  if (!proof.value) {
    return claimFails("proof-entry-absent", std::string("the ") +
                                                std::string(Record::kEncodingName) +
                                                " does not exist under this root");
  }
  auto record = core::decode<Record>(*proof.value);
  if (!record) return record.status();
  return std::move(record).value();
}

}  // namespace

void StateProof::encodeTo(core::Writer& writer) const {
  writer.bytes(key);
  writer.boolean(value.has_value());
  if (value) writer.bytes(*value);
  proof.encodeTo(writer);
}

StateProof StateProof::decodeFrom(core::Reader& reader) {
  StateProof proof;
  proof.key = reader.bytes(256, "state key");
  if (reader.boolean()) proof.value = reader.bytes(1 << 20, "state value");
  proof.proof = MerkleProof::decodeFrom(reader);
  return proof;
}

core::Result<StateProof> proveState(const MerkleNodeSource& nodes, const Hash256& root,
                                    const core::CryptoSuite& suite, Bytes key,
                                    std::optional<Bytes> value) {
  auto path = proveMerkleKey(nodes, root, merkleKeyHash(suite, key));
  if (!path) {
    return core::Status(core::ErrorCode::kCorruption, "merkle-node-missing",
                        "the state tree lacks a node on the path to this key");
  }
  return StateProof{std::move(key), std::move(value), std::move(*path)};
}

core::Status verifyStateProof(const core::CryptoSuite& suite, const Hash256& root,
                              const StateProof& proof) {
  std::optional<Hash256> valueHash;
  if (proof.value) valueHash = merkleValueHash(suite, *proof.value);
  return verifyMerkleProof(suite, root, merkleKeyHash(suite, proof.key), valueHash, proof.proof);
}

core::Status verifyTokenOwner(const core::CryptoSuite& suite, const Hash256& root,
                              const TokenId& token, const Address& owner, const StateProof& proof) {
  auto record = provenRecord<TokenRecord>(suite, root, proof, state_keys::token(token));
  if (!record) return record.status();
  if (record->burned)
    return claimFails("token-burned", "token " + token.toString() + " was burned");
  if (record->owner != owner) {
    return claimFails("owner-mismatch", "token " + token.toString() + " is owned by " +
                                            record->owner.hex() + ", not " + owner.hex());
  }
  return {};
}

core::Status verifySeriesSupply(const core::CryptoSuite& suite, const Hash256& root,
                                SeriesId series, std::uint64_t cap, std::uint64_t minted,
                                std::uint64_t burned, const StateProof& proof) {
  auto record = provenRecord<SeriesRecord>(suite, root, proof, state_keys::series(series));
  if (!record) return record.status();
  if (record->editionCap != cap || record->minted != minted || record->burned != burned) {
    return claimFails("supply-mismatch", "series " + series.toString() + " has cap " +
                                             std::to_string(record->editionCap) + ", minted " +
                                             std::to_string(record->minted) + ", burned " +
                                             std::to_string(record->burned));
  }
  if (record->minted > record->editionCap) {
    return claimFails("supply-over-cap", "the proven state breaks the cap");
  }
  return {};
}

core::Status verifyBoxContent(const core::CryptoSuite& suite, const Hash256& root,
                              const TokenId& box, SeriesId item, const StateProof& boxProof,
                              const StateProof& sealingBlockHashProof) {
  auto record =
      provenRecord<BlindBoxRecord>(suite, root, boxProof, state_keys::blindBox(box.series));
  if (!record) return record.status();
  if (record->stage != BlindBoxStage::kRevealed) {
    return claimFails("box-not-revealed", "the blind box has not been revealed");
  }
  if (seedCommitment(suite, record->seed) != record->seedCommitment) {
    return claimFails("seed-mismatch", "the revealed seed does not match its commitment");
  }
  auto sealing = provenRecord<BlockHashRecord>(suite, root, sealingBlockHashProof,
                                               state_keys::blockHash(record->sealedAtHeight));
  if (!sealing) return sealing.status();
  Hash256 shuffleSeed = blindBoxShuffleSeed(suite, record->seed, sealing->hash, box.series);
  if (shuffleSeed != record->shuffleSeed) {
    return claimFails("shuffle-seed-mismatch", "the stored shuffle seed is not the recomputed one");
  }
  std::vector<SeriesId> items = assignBlindBoxItems(suite, shuffleSeed, record->contents);
  if (box.serial < 1 || box.serial > items.size()) {
    return claimFails("box-not-found", "the box serial is outside the box series");
  }
  if (items[box.serial - 1] != item) {
    return claimFails("item-mismatch",
                      "box " + box.toString() + " held series " + items[box.serial - 1].toString());
  }
  return {};
}

core::Status verifyLotteryWinners(const core::CryptoSuite& suite, const Hash256& root,
                                  LotteryId lottery, const std::vector<std::uint64_t>& winners,
                                  const StateProof& lotteryProof,
                                  const StateProof& commitBlockHashProof) {
  auto record =
      provenRecord<LotteryRecord>(suite, root, lotteryProof, state_keys::lottery(lottery));
  if (!record) return record.status();
  if (!record->drawn) return claimFails("lottery-not-drawn", "the lottery has not been drawn");
  if (seedCommitment(suite, record->seed) != record->seedCommitment) {
    return claimFails("seed-mismatch", "the revealed seed does not match its commitment");
  }
  auto commit = provenRecord<BlockHashRecord>(suite, root, commitBlockHashProof,
                                              state_keys::blockHash(record->committedAtHeight));
  if (!commit) return commit.status();
  Hash256 drawSeed =
      lotteryDrawSeed(suite, record->seed, commit->hash, record->entrantsRoot, lottery);
  auto recomputed = drawLotteryWinners(suite, drawSeed, record->entrantCount, record->winnerCount);
  if (recomputed != record->winners) {
    return claimFails("winners-not-recomputable",
                      "the stored winners differ from the recomputed ones");
  }
  if (recomputed != winners) {
    return claimFails("winners-mismatch", "the claimed winners are not the drawn ones");
  }
  return {};
}

}  // namespace jiancang::chain
