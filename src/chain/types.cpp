#include <chain/types.h>

#include <chain/codec_internal.h>

namespace jiancang::chain {

using codec::readFixed;
using codec::readId;
using codec::readList;
using codec::readTime;
using codec::writeId;
using codec::writeList;
using codec::writeTime;
using core::Reader;
using core::Writer;
namespace lim = limits;

std::string TokenId::toString() const {
  return std::to_string(series.value()) + "#" + std::to_string(serial);
}

std::string serialLabel(std::uint64_t serial, std::uint64_t cap) {
  std::string number = std::to_string(serial);
  std::string capText = std::to_string(cap);
  if (number.size() < capText.size()) number.insert(0, capText.size() - number.size(), '0');
  return "#" + number + "/" + capText;
}

void TokenId::encodeTo(Writer& writer) const {
  writeId(writer, series);
  writer.varint(serial);
}
TokenId TokenId::decodeFrom(Reader& reader) {
  TokenId id;
  id.series = readId<SeriesId>(reader);
  id.serial = reader.varint();
  return id;
}

void SeriesPolicy::encodeTo(Writer& writer) const {
  writer.boolean(transferable);
  writer.varint(holdBeforeFirstTransferMillis);
  writer.varint(holdBetweenTransfersMillis);
  writer.boolean(tradable);
  codec::writeFen(writer, priceCeiling);
}
SeriesPolicy SeriesPolicy::decodeFrom(Reader& reader) {
  SeriesPolicy policy;
  policy.transferable = reader.boolean();
  policy.holdBeforeFirstTransferMillis = reader.varint();
  policy.holdBetweenTransfersMillis = reader.varint();
  policy.tradable = reader.boolean();
  policy.priceCeiling = codec::readFen(reader);
  return policy;
}

void PolicyVersion::encodeTo(Writer& writer) const {
  writer.varint(version);
  writer.varint(effectiveFromHeight);
  policy.encodeTo(writer);
}
PolicyVersion PolicyVersion::decodeFrom(Reader& reader) {
  PolicyVersion entry;
  entry.version =
      static_cast<std::uint32_t>(reader.varintAtMost(lim::kMaxPolicyVersions, "policy version"));
  entry.effectiveFromHeight = reader.varint();
  entry.policy = SeriesPolicy::decodeFrom(reader);
  return entry;
}

void RightDefinition::encodeTo(Writer& writer) const {
  writer.varint(id);
  writer.string(kind);
  writer.varint(uses);
}
RightDefinition RightDefinition::decodeFrom(Reader& reader) {
  RightDefinition right;
  right.id = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "right id"));
  right.kind = reader.string(lim::kMaxNameBytes, "right kind");
  right.uses = static_cast<std::uint32_t>(reader.varintAtMost(lim::kMaxRightUses, "right uses"));
  return right;
}

void SeriesCount::encodeTo(Writer& writer) const {
  writeId(writer, series);
  writer.varint(count);
}
SeriesCount SeriesCount::decodeFrom(Reader& reader) {
  SeriesCount entry;
  entry.series = readId<SeriesId>(reader);
  entry.count = static_cast<std::uint32_t>(reader.varintAtMost(lim::kMaxBlindBoxSize, "count"));
  return entry;
}

void AccountRecord::encodeTo(Writer& writer) const {
  writer.varint(nonce);
  writer.varint(roles);
  writer.boolean(frozen);
  writer.string(frozenReason);
}
AccountRecord AccountRecord::decodeFrom(Reader& reader) {
  AccountRecord account;
  account.nonce = reader.varint();
  account.roles = static_cast<std::uint32_t>(reader.varintAtMost(kAllRoles, "roles"));
  account.frozen = reader.boolean();
  account.frozenReason = reader.string(lim::kMaxReasonBytes, "frozen reason");
  return account;
}

void IssuerRecord::encodeTo(Writer& writer) const {
  writer.fixed(issuer.view());
  writer.string(displayName);
  writer.fixed(licenceHash.view());
  writeTime(writer, registeredAt);
}
IssuerRecord IssuerRecord::decodeFrom(Reader& reader) {
  IssuerRecord record;
  record.issuer = readFixed<Address>(reader);
  record.displayName = reader.string(lim::kMaxNameBytes, "display name");
  record.licenceHash = readFixed<Hash256>(reader);
  record.registeredAt = readTime(reader);
  return record;
}

void SeriesRecord::encodeTo(Writer& writer) const {
  writeId(writer, id);
  writer.fixed(issuer.view());
  writer.string(title);
  writer.fixed(mediaHash.view());
  writer.string(mediaType);
  writer.fixed(metadataHash.view());
  writer.fixed(licenceHash.view());
  writer.varint(editionCap);
  writer.fixed(creator.view());
  writer.varint(royaltyBasisPoints);
  writeList(writer, policyVersions);
  writeList(writer, rights);
  writer.varint(minted);
  writer.varint(burned);
  writer.varint(reserved);
  writer.boolean(isBlindBox);
  writeTime(writer, createdAt);
}
SeriesRecord SeriesRecord::decodeFrom(Reader& reader) {
  SeriesRecord record;
  record.id = readId<SeriesId>(reader);
  record.issuer = readFixed<Address>(reader);
  record.title = reader.string(lim::kMaxTitleBytes, "title");
  record.mediaHash = readFixed<Hash256>(reader);
  record.mediaType = reader.string(lim::kMaxMediaTypeBytes, "media type");
  record.metadataHash = readFixed<Hash256>(reader);
  record.licenceHash = readFixed<Hash256>(reader);
  record.editionCap = reader.varintAtMost(lim::kMaxEditionCap, "edition cap");
  record.creator = readFixed<Address>(reader);
  record.royaltyBasisPoints =
      static_cast<std::uint32_t>(reader.varintAtMost(lim::kMaxRoyaltyBasisPoints, "royalty"));
  record.policyVersions =
      readList<PolicyVersion>(reader, lim::kMaxPolicyVersions, "policy versions");
  record.rights = readList<RightDefinition>(reader, lim::kMaxRights, "rights");
  record.minted = reader.varint();
  record.burned = reader.varint();
  record.reserved = reader.varint();
  record.isBlindBox = reader.boolean();
  record.createdAt = readTime(reader);
  if (!reader.failed() && record.policyVersions.empty()) {
    reader.fail(core::invalidArgument("decode-invalid-value", "a series has no policy"));
  }
  return record;
}

void TokenRecord::encodeTo(Writer& writer) const {
  writer.fixed(owner.view());
  writeTime(writer, mintedAt);
  writeTime(writer, lastTransferAt);
  writer.varint(transferCount);
  writer.boolean(burned);
  writer.boolean(frozen);
  writer.string(frozenReason);
  codec::writeIntegers(writer, rightUsesLeft);
}
TokenRecord TokenRecord::decodeFrom(Reader& reader) {
  TokenRecord record;
  record.owner = readFixed<Address>(reader);
  record.mintedAt = readTime(reader);
  record.lastTransferAt = readTime(reader);
  record.transferCount =
      static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "transfer count"));
  record.burned = reader.boolean();
  record.frozen = reader.boolean();
  record.frozenReason = reader.string(lim::kMaxReasonBytes, "frozen reason");
  record.rightUsesLeft = codec::readIntegers<std::uint32_t>(reader, lim::kMaxRights, "right uses");
  return record;
}

void BlindBoxRecord::encodeTo(Writer& writer) const {
  writeId(writer, boxSeries);
  writeList(writer, contents);
  writer.fixed(seedCommitment.view());
  writeTime(writer, revealDeadline);
  writer.varint(static_cast<std::uint8_t>(stage));
  writer.varint(sealedAtHeight);
  writer.fixed(seed.view());
  writer.fixed(shuffleSeed.view());
  writer.varint(opened);
}
BlindBoxRecord BlindBoxRecord::decodeFrom(Reader& reader) {
  BlindBoxRecord record;
  record.boxSeries = readId<SeriesId>(reader);
  record.contents = readList<SeriesCount>(reader, lim::kMaxBlindBoxItemKinds, "contents");
  record.seedCommitment = readFixed<Hash256>(reader);
  record.revealDeadline = readTime(reader);
  record.stage = codec::readEnum<BlindBoxStage>(reader, 1, 4, "blind box stage");
  record.sealedAtHeight = reader.varint();
  record.seed = readFixed<Hash256>(reader);
  record.shuffleSeed = readFixed<Hash256>(reader);
  record.opened = reader.varint();
  return record;
}

void BoxAssignmentRecord::encodeTo(Writer& writer) const {
  writeId(writer, itemSeries);
  writer.boolean(opened);
}
BoxAssignmentRecord BoxAssignmentRecord::decodeFrom(Reader& reader) {
  BoxAssignmentRecord record;
  record.itemSeries = readId<SeriesId>(reader);
  record.opened = reader.boolean();
  return record;
}

void LotteryRecord::encodeTo(Writer& writer) const {
  writeId(writer, id);
  writer.fixed(issuer.view());
  writeId(writer, series);
  writer.fixed(entrantsRoot.view());
  writer.varint(entrantCount);
  writer.varint(winnerCount);
  writer.fixed(seedCommitment.view());
  writer.varint(committedAtHeight);
  writer.boolean(drawn);
  writer.fixed(seed.view());
  codec::writeIntegers(writer, winners);
}
LotteryRecord LotteryRecord::decodeFrom(Reader& reader) {
  LotteryRecord record;
  record.id = readId<LotteryId>(reader);
  record.issuer = readFixed<Address>(reader);
  record.series = readId<SeriesId>(reader);
  record.entrantsRoot = readFixed<Hash256>(reader);
  record.entrantCount = reader.varintAtMost(lim::kMaxLotteryEntrants, "entrant count");
  record.winnerCount =
      static_cast<std::uint32_t>(reader.varintAtMost(lim::kMaxLotteryWinners, "winner count"));
  record.seedCommitment = readFixed<Hash256>(reader);
  record.committedAtHeight = reader.varint();
  record.drawn = reader.boolean();
  record.seed = readFixed<Hash256>(reader);
  record.winners = codec::readIntegers<std::uint64_t>(reader, lim::kMaxLotteryWinners, "winners");
  return record;
}

void RecipeRecord::encodeTo(Writer& writer) const {
  writeId(writer, id);
  writer.fixed(issuer.view());
  writeList(writer, inputs);
  writeId(writer, output);
  writeTime(writer, opensAt);
  writeTime(writer, closesAt);
  writer.varint(maxSyntheses);
  writer.varint(synthesised);
}
RecipeRecord RecipeRecord::decodeFrom(Reader& reader) {
  RecipeRecord record;
  record.id = readId<RecipeId>(reader);
  record.issuer = readFixed<Address>(reader);
  record.inputs = readList<SeriesCount>(reader, lim::kMaxRecipeInputKinds, "recipe inputs");
  record.output = readId<SeriesId>(reader);
  record.opensAt = readTime(reader);
  record.closesAt = readTime(reader);
  record.maxSyntheses =
      static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "max syntheses"));
  record.synthesised = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "synthesised"));
  return record;
}

void Member::encodeTo(Writer& writer) const {
  writer.string(name);
  key.encodeTo(writer);
}
Member Member::decodeFrom(Reader& reader) {
  Member member;
  member.name = reader.string(lim::kMaxNameBytes, "member name");
  member.key = core::PublicKey::decodeFrom(reader);
  return member;
}

void ConsortiumRecord::encodeTo(Writer& writer) const {
  writeList(writer, members);
  writer.varint(membershipVersion);
}
ConsortiumRecord ConsortiumRecord::decodeFrom(Reader& reader) {
  ConsortiumRecord record;
  record.members = readList<Member>(reader, lim::kMaxMembers, "members");
  record.membershipVersion = reader.varint();
  return record;
}

void ChainHeadRecord::encodeTo(Writer& writer) const {
  writer.varint(height);
  writer.fixed(blockHash.view());
  writeTime(writer, timestamp);
  writer.varint(nextSeriesId);
  writer.varint(nextLotteryId);
  writer.varint(nextRecipeId);
}
ChainHeadRecord ChainHeadRecord::decodeFrom(Reader& reader) {
  ChainHeadRecord record;
  record.height = reader.varint();
  record.blockHash = readFixed<core::BlockHash>(reader);
  record.timestamp = readTime(reader);
  record.nextSeriesId = reader.varint();
  record.nextLotteryId = reader.varint();
  record.nextRecipeId = reader.varint();
  return record;
}

void BlockHashRecord::encodeTo(Writer& writer) const { writer.fixed(hash.view()); }
BlockHashRecord BlockHashRecord::decodeFrom(Reader& reader) {
  return BlockHashRecord{readFixed<core::BlockHash>(reader)};
}

void UsedMarkerRecord::encodeTo(Writer& writer) const { writer.varint(height); }
UsedMarkerRecord UsedMarkerRecord::decodeFrom(Reader& reader) {
  return UsedMarkerRecord{reader.varint()};
}

}  // namespace jiancang::chain
