#include <chain/transaction.h>

#include <set>

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
using core::Status;
using core::Writer;
namespace lim = limits;

namespace {

constexpr std::string_view kSigningDomain = "jiancang/transaction/v1";

Status invalid(std::string reason, std::string message) {
  return core::invalidArgument(std::move(reason), std::move(message));
}

bool textFits(const std::string& text, std::size_t maxBytes) {
  return !text.empty() && text.size() <= maxBytes && core::isValidUtf8(text);
}

Status checkText(const std::string& text, std::size_t maxBytes, const std::string& reason,
                 std::string_view what) {
  if (textFits(text, maxBytes)) return {};
  return invalid(
      reason, std::string(what) + " must be 1 to " + std::to_string(maxBytes) + " bytes of UTF-8");
}

Status checkAddress(const Address& address, std::string_view what) {
  if (!address.isZero()) return {};
  return invalid("address-missing", std::string(what) + " is the zero address");
}

Status checkHash(const Hash256& hash, const std::string& reason, std::string_view what) {
  if (!hash.isZero()) return {};
  return invalid(reason, std::string(what) + " is missing (all zero)");
}

Status checkToken(const TokenId& token) {
  if (token.series.value() != 0 && token.serial != 0) return {};
  return invalid("token-invalid", "token " + token.toString() +
                                      " does not exist: series and "
                                      "serial start at 1");
}

Status checkPolicy(const SeriesPolicy& policy) {
  if (policy.priceCeiling.value() < 0) {
    return invalid("price-ceiling-negative", "the price ceiling cannot be negative");
  }
  return {};
}

// Checks a list of (series, count): 1..maxKinds distinct series, counts ≥ 1, total ≤ maxTotal.
Status checkSeriesCounts(const std::vector<SeriesCount>& entries, std::size_t maxKinds,
                         std::uint64_t maxTotal, const std::string& prefix) {
  if (entries.empty() || entries.size() > maxKinds) {
    return invalid(prefix + "-size", "needs 1 to " + std::to_string(maxKinds) + " series");
  }
  std::set<SeriesId> seen;
  std::uint64_t total = 0;
  for (const SeriesCount& entry : entries) {
    if (entry.series.value() == 0 || entry.count == 0) {
      return invalid(prefix + "-entry-invalid",
                     "every entry needs a series and a count of 1 or more");
    }
    if (!seen.insert(entry.series).second) {
      return invalid(prefix + "-duplicate",
                     "series " + entry.series.toString() + " is listed twice");
    }
    total += entry.count;
  }
  if (total > maxTotal) {
    return invalid(prefix + "-size", "the counts add up to " + std::to_string(total) +
                                         ", more than " + std::to_string(maxTotal));
  }
  return {};
}

Status firstFailure(std::initializer_list<Status> checks) {
  for (const Status& status : checks) {
    if (!status.isOk()) return status;
  }
  return {};
}

template <std::size_t Index = 0>
Operation decodeOperationAt(std::size_t index, Reader& reader) {
  if constexpr (Index < std::variant_size_v<Operation>) {
    if (index == Index) return std::variant_alternative_t<Index, Operation>::decodeFrom(reader);
    return decodeOperationAt<Index + 1>(index, reader);
  } else {
    return Operation{};  // unreachable: the tag was range-checked
  }
}

}  // namespace

// ---- Encodings ----

void RegisterIssuer::encodeTo(Writer& writer) const {
  writer.fixed(issuer.view());
  writer.string(displayName);
  writer.fixed(licenceHash.view());
}
RegisterIssuer RegisterIssuer::decodeFrom(Reader& reader) {
  RegisterIssuer op;
  op.issuer = readFixed<Address>(reader);
  op.displayName = reader.string(lim::kMaxNameBytes, "display name");
  op.licenceHash = readFixed<Hash256>(reader);
  return op;
}

void CreateSeries::encodeTo(Writer& writer) const {
  writer.string(title);
  writer.fixed(mediaHash.view());
  writer.string(mediaType);
  writer.fixed(metadataHash.view());
  writer.fixed(licenceHash.view());
  writer.varint(editionCap);
  writer.fixed(creator.view());
  writer.varint(royaltyBasisPoints);
  policy.encodeTo(writer);
  writeList(writer, rights);
}
CreateSeries CreateSeries::decodeFrom(Reader& reader) {
  CreateSeries op;
  op.title = reader.string(lim::kMaxTitleBytes, "title");
  op.mediaHash = readFixed<Hash256>(reader);
  op.mediaType = reader.string(lim::kMaxMediaTypeBytes, "media type");
  op.metadataHash = readFixed<Hash256>(reader);
  op.licenceHash = readFixed<Hash256>(reader);
  op.editionCap = reader.varint();
  op.creator = readFixed<Address>(reader);
  op.royaltyBasisPoints = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "royalty"));
  op.policy = SeriesPolicy::decodeFrom(reader);
  op.rights = readList<RightDefinition>(reader, lim::kMaxRights, "rights");
  return op;
}

void UpdateSeriesPolicy::encodeTo(Writer& writer) const {
  writeId(writer, series);
  policy.encodeTo(writer);
}
UpdateSeriesPolicy UpdateSeriesPolicy::decodeFrom(Reader& reader) {
  UpdateSeriesPolicy op;
  op.series = readId<SeriesId>(reader);
  op.policy = SeriesPolicy::decodeFrom(reader);
  return op;
}

void Mint::encodeTo(Writer& writer) const {
  writeId(writer, series);
  writer.count(recipients.size());
  for (const Address& recipient : recipients) writer.fixed(recipient.view());
}
Mint Mint::decodeFrom(Reader& reader) {
  Mint op;
  op.series = readId<SeriesId>(reader);
  std::size_t count = reader.count(lim::kMaxMintBatch, "recipients");
  op.recipients.reserve(count);
  for (std::size_t i = 0; i < count && !reader.failed(); ++i) {
    op.recipients.push_back(readFixed<Address>(reader));
  }
  return op;
}

void Transfer::encodeTo(Writer& writer) const {
  token.encodeTo(writer);
  writer.fixed(to.view());
}
Transfer Transfer::decodeFrom(Reader& reader) {
  Transfer op;
  op.token = TokenId::decodeFrom(reader);
  op.to = readFixed<Address>(reader);
  return op;
}

void Burn::encodeTo(Writer& writer) const { token.encodeTo(writer); }
Burn Burn::decodeFrom(Reader& reader) { return Burn{TokenId::decodeFrom(reader)}; }

void CommitBlindBox::encodeTo(Writer& writer) const {
  writeId(writer, boxSeries);
  writeList(writer, contents);
  writer.fixed(seedCommitment.view());
  writeTime(writer, revealDeadline);
}
CommitBlindBox CommitBlindBox::decodeFrom(Reader& reader) {
  CommitBlindBox op;
  op.boxSeries = readId<SeriesId>(reader);
  op.contents = readList<SeriesCount>(reader, lim::kMaxBlindBoxItemKinds, "contents");
  op.seedCommitment = readFixed<Hash256>(reader);
  op.revealDeadline = readTime(reader);
  return op;
}

void SealBlindBox::encodeTo(Writer& writer) const { writeId(writer, boxSeries); }
SealBlindBox SealBlindBox::decodeFrom(Reader& reader) {
  return SealBlindBox{readId<SeriesId>(reader)};
}

void RevealBlindBox::encodeTo(Writer& writer) const {
  writeId(writer, boxSeries);
  writer.fixed(seed.view());
}
RevealBlindBox RevealBlindBox::decodeFrom(Reader& reader) {
  RevealBlindBox op;
  op.boxSeries = readId<SeriesId>(reader);
  op.seed = readFixed<Hash256>(reader);
  return op;
}

void OpenBlindBox::encodeTo(Writer& writer) const { box.encodeTo(writer); }
OpenBlindBox OpenBlindBox::decodeFrom(Reader& reader) {
  return OpenBlindBox{TokenId::decodeFrom(reader)};
}

void RefundBlindBox::encodeTo(Writer& writer) const { box.encodeTo(writer); }
RefundBlindBox RefundBlindBox::decodeFrom(Reader& reader) {
  return RefundBlindBox{TokenId::decodeFrom(reader)};
}

void CommitLottery::encodeTo(Writer& writer) const {
  writeId(writer, series);
  writer.fixed(entrantsRoot.view());
  writer.varint(entrantCount);
  writer.varint(winnerCount);
  writer.fixed(seedCommitment.view());
}
CommitLottery CommitLottery::decodeFrom(Reader& reader) {
  CommitLottery op;
  op.series = readId<SeriesId>(reader);
  op.entrantsRoot = readFixed<Hash256>(reader);
  op.entrantCount = reader.varint();
  op.winnerCount = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "winner count"));
  op.seedCommitment = readFixed<Hash256>(reader);
  return op;
}

void DrawLottery::encodeTo(Writer& writer) const {
  writeId(writer, lottery);
  writer.fixed(seed.view());
}
DrawLottery DrawLottery::decodeFrom(Reader& reader) {
  DrawLottery op;
  op.lottery = readId<LotteryId>(reader);
  op.seed = readFixed<Hash256>(reader);
  return op;
}

void CreateRecipe::encodeTo(Writer& writer) const {
  writeList(writer, inputs);
  writeId(writer, output);
  writeTime(writer, opensAt);
  writeTime(writer, closesAt);
  writer.varint(maxSyntheses);
}
CreateRecipe CreateRecipe::decodeFrom(Reader& reader) {
  CreateRecipe op;
  op.inputs = readList<SeriesCount>(reader, lim::kMaxRecipeInputKinds, "recipe inputs");
  op.output = readId<SeriesId>(reader);
  op.opensAt = readTime(reader);
  op.closesAt = readTime(reader);
  op.maxSyntheses = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "max syntheses"));
  return op;
}

void Synthesise::encodeTo(Writer& writer) const {
  writeId(writer, recipe);
  writeList(writer, inputs);
}
Synthesise Synthesise::decodeFrom(Reader& reader) {
  Synthesise op;
  op.recipe = readId<RecipeId>(reader);
  op.inputs = readList<TokenId>(reader, lim::kMaxRecipeInputTokens, "synthesis inputs");
  return op;
}

void SettleTrade::encodeTo(Writer& writer) const {
  token.encodeTo(writer);
  writer.fixed(seller.view());
  writer.fixed(buyer.view());
  codec::writeFen(writer, price);
  codec::writeFen(writer, royalty);
  codec::writeFen(writer, platformFee);
  writer.string(paymentReference);
}
SettleTrade SettleTrade::decodeFrom(Reader& reader) {
  SettleTrade op;
  op.token = TokenId::decodeFrom(reader);
  op.seller = readFixed<Address>(reader);
  op.buyer = readFixed<Address>(reader);
  op.price = codec::readFen(reader);
  op.royalty = codec::readFen(reader);
  op.platformFee = codec::readFen(reader);
  op.paymentReference = reader.string(lim::kMaxPaymentReferenceBytes, "payment reference");
  return op;
}

void RedemptionConsent::encodeTo(Writer& writer) const {
  holderKey.encodeTo(writer);
  writer.fixed(verifier.view());
  writeTime(writer, expiresAt);
  writer.varint(consentNonce);
  writer.fixed(signature.view());
}
RedemptionConsent RedemptionConsent::decodeFrom(Reader& reader) {
  RedemptionConsent consent;
  consent.holderKey = core::PublicKey::decodeFrom(reader);
  consent.verifier = readFixed<Address>(reader);
  consent.expiresAt = readTime(reader);
  consent.consentNonce = reader.varint();
  consent.signature = readFixed<core::Signature>(reader);
  return consent;
}

void RedeemRight::encodeTo(Writer& writer) const {
  token.encodeTo(writer);
  writer.varint(rightId);
  consent.encodeTo(writer);
}
RedeemRight RedeemRight::decodeFrom(Reader& reader) {
  RedeemRight op;
  op.token = TokenId::decodeFrom(reader);
  op.rightId = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "right id"));
  op.consent = RedemptionConsent::decodeFrom(reader);
  return op;
}

void SetFrozen::encodeTo(Writer& writer) const {
  writer.varint(static_cast<std::uint8_t>(target));
  if (target == FreezeTarget::kToken) {
    token.encodeTo(writer);
  } else {
    writer.fixed(address.view());
  }
  writer.boolean(frozen);
  writer.string(reason);
}
SetFrozen SetFrozen::decodeFrom(Reader& reader) {
  SetFrozen op;
  op.target = codec::readEnum<FreezeTarget>(reader, 1, 2, "freeze target");
  if (op.target == FreezeTarget::kToken) {
    op.token = TokenId::decodeFrom(reader);
  } else {
    op.address = readFixed<Address>(reader);
  }
  op.frozen = reader.boolean();
  op.reason = reader.string(lim::kMaxReasonBytes, "reason");
  return op;
}

void GrantRoles::encodeTo(Writer& writer) const {
  writer.fixed(account.view());
  writer.varint(roles);
}
GrantRoles GrantRoles::decodeFrom(Reader& reader) {
  GrantRoles op;
  op.account = readFixed<Address>(reader);
  op.roles = static_cast<std::uint32_t>(reader.varintAtMost(UINT32_MAX, "roles"));
  return op;
}

void MembershipApproval::encodeTo(Writer& writer) const {
  member.encodeTo(writer);
  writer.fixed(signature.view());
}
MembershipApproval MembershipApproval::decodeFrom(Reader& reader) {
  MembershipApproval approval;
  approval.member = core::PublicKey::decodeFrom(reader);
  approval.signature = readFixed<core::Signature>(reader);
  return approval;
}

void ChangeMembership::encodeTo(Writer& writer) const {
  writer.varint(static_cast<std::uint8_t>(action));
  key.encodeTo(writer);
  writer.string(name);
  writeList(writer, approvals);
}
ChangeMembership ChangeMembership::decodeFrom(Reader& reader) {
  ChangeMembership op;
  op.action = codec::readEnum<MembershipAction>(reader, 1, 4, "membership action");
  op.key = core::PublicKey::decodeFrom(reader);
  op.name = reader.string(lim::kMaxNameBytes, "member name");
  op.approvals = readList<MembershipApproval>(reader, lim::kMaxMembers, "approvals");
  return op;
}

// ---- Context-free checks ----

Status RegisterIssuer::check() const {
  return firstFailure(
      {checkAddress(issuer, "the issuer"),
       checkText(displayName, lim::kMaxNameBytes, "display-name-invalid", "the display name"),
       checkHash(licenceHash, "licence-hash-missing", "the licence hash")});
}

Status CreateSeries::check() const {
  if (Status status = firstFailure(
          {checkText(title, lim::kMaxTitleBytes, "title-invalid", "the title"),
           checkHash(mediaHash, "media-hash-missing", "the media hash"),
           checkText(mediaType, lim::kMaxMediaTypeBytes, "media-type-invalid", "the media type"),
           checkHash(metadataHash, "metadata-hash-missing", "the metadata hash"),
           checkHash(licenceHash, "licence-hash-missing", "the licence hash"),
           checkAddress(creator, "the creator"), checkPolicy(policy)});
      !status.isOk()) {
    return status;
  }
  if (mediaType.find('/') == std::string::npos) {
    return invalid("media-type-invalid", "the media type must look like image/png");
  }
  if (editionCap < 1 || editionCap > lim::kMaxEditionCap) {
    return invalid("edition-cap-out-of-range",
                   "the edition cap must be 1 to " + std::to_string(lim::kMaxEditionCap));
  }
  if (royaltyBasisPoints > lim::kMaxRoyaltyBasisPoints) {
    return invalid("royalty-too-high", "the royalty is at most " +
                                           std::to_string(lim::kMaxRoyaltyBasisPoints) +
                                           " basis points (30%)");
  }
  if (rights.size() > lim::kMaxRights) {
    return invalid("rights-too-many",
                   "a series has at most " + std::to_string(lim::kMaxRights) + " rights");
  }
  std::set<std::uint32_t> ids;
  for (const RightDefinition& right : rights) {
    if (!ids.insert(right.id).second) {
      return invalid("right-duplicate", "right " + std::to_string(right.id) + " is listed twice");
    }
    if (Status status =
            checkText(right.kind, lim::kMaxNameBytes, "right-kind-invalid", "a right's kind");
        !status.isOk()) {
      return status;
    }
    if (right.uses < 1 || right.uses > lim::kMaxRightUses) {
      return invalid("right-uses-out-of-range",
                     "a right has 1 to " + std::to_string(lim::kMaxRightUses) + " uses");
    }
  }
  return {};
}

Status UpdateSeriesPolicy::check() const { return checkPolicy(policy); }

Status Mint::check() const {
  if (recipients.empty() || recipients.size() > lim::kMaxMintBatch) {
    return invalid("mint-batch-size",
                   "a mint names 1 to " + std::to_string(lim::kMaxMintBatch) + " recipients");
  }
  for (const Address& recipient : recipients) {
    if (Status status = checkAddress(recipient, "a recipient"); !status.isOk()) return status;
  }
  return {};
}

Status Transfer::check() const {
  return firstFailure({checkToken(token), checkAddress(to, "the recipient")});
}

Status Burn::check() const { return checkToken(token); }

Status CommitBlindBox::check() const {
  if (Status status = checkSeriesCounts(contents, lim::kMaxBlindBoxItemKinds, lim::kMaxBlindBoxSize,
                                        "blind-box");
      !status.isOk()) {
    return status;
  }
  for (const SeriesCount& item : contents) {
    if (item.series == boxSeries) {
      return invalid("blind-box-contains-itself", "a box series cannot be one of its items");
    }
  }
  return checkHash(seedCommitment, "seed-commitment-missing", "the seed commitment");
}

Status SealBlindBox::check() const { return {}; }
Status RevealBlindBox::check() const { return {}; }
Status OpenBlindBox::check() const { return checkToken(box); }
Status RefundBlindBox::check() const { return checkToken(box); }

Status CommitLottery::check() const {
  if (entrantCount < 1 || entrantCount > lim::kMaxLotteryEntrants) {
    return invalid("lottery-entrants-out-of-range",
                   "a lottery has 1 to " + std::to_string(lim::kMaxLotteryEntrants) + " entrants");
  }
  if (winnerCount < 1 || winnerCount > lim::kMaxLotteryWinners || winnerCount > entrantCount) {
    return invalid("lottery-winners-out-of-range",
                   "a lottery has 1 to " + std::to_string(lim::kMaxLotteryWinners) +
                       " winners, and no more winners than entrants");
  }
  return firstFailure(
      {checkHash(entrantsRoot, "entrants-root-missing", "the entrants root"),
       checkHash(seedCommitment, "seed-commitment-missing", "the seed commitment")});
}

Status DrawLottery::check() const { return {}; }

Status CreateRecipe::check() const {
  if (Status status = checkSeriesCounts(inputs, lim::kMaxRecipeInputKinds,
                                        lim::kMaxRecipeInputTokens, "recipe-inputs");
      !status.isOk()) {
    return status;
  }
  for (const SeriesCount& input : inputs) {
    if (input.series == output) {
      return invalid("recipe-output-is-input", "a recipe cannot burn its own output series");
    }
  }
  if (!(opensAt < closesAt)) {
    return invalid("recipe-window-invalid", "a recipe must open before it closes");
  }
  if (maxSyntheses < 1)
    return invalid("recipe-limit-invalid", "a recipe allows at least one synthesis");
  return {};
}

Status Synthesise::check() const {
  if (inputs.empty())
    return invalid("synthesis-inputs-missing", "a synthesis burns at least one token");
  std::set<TokenId> seen;
  for (const TokenId& token : inputs) {
    if (Status status = checkToken(token); !status.isOk()) return status;
    if (!seen.insert(token).second) {
      return invalid("synthesis-duplicate-input", "token " + token.toString() + " is listed twice");
    }
  }
  return {};
}

Status SettleTrade::check() const {
  if (Status status = firstFailure(
          {checkToken(token), checkAddress(seller, "the seller"), checkAddress(buyer, "the buyer"),
           checkText(paymentReference, lim::kMaxPaymentReferenceBytes, "payment-reference-invalid",
                     "the payment reference")});
      !status.isOk()) {
    return status;
  }
  if (seller == buyer) return invalid("trade-same-party", "the seller and the buyer are the same");
  if (price.value() <= 0) return invalid("price-not-positive", "the price must be above zero");
  auto split = royalty.plus(platformFee);
  if (royalty.value() < 0 || platformFee.value() < 0 || !split.ok() || *split > price) {
    return invalid("trade-split-invalid",
                   "royalty and platform fee must be non-negative and add up to at most the price");
  }
  return {};
}

Status RedeemRight::check() const {
  return firstFailure({checkToken(token), checkAddress(consent.verifier, "the verifier")});
}

Status SetFrozen::check() const {
  if (Status status = checkText(reason, lim::kMaxReasonBytes, "reason-invalid", "the reason code");
      !status.isOk()) {
    return status;
  }
  return target == FreezeTarget::kToken ? checkToken(token) : checkAddress(address, "the address");
}

Status GrantRoles::check() const {
  constexpr std::uint32_t grantable = kRoleGovernance | kRoleVerifier | kRoleMarket;
  if ((roles & ~grantable) != 0) {
    return invalid("roles-invalid",
                   "only governance, verifier and market roles can be granted; "
                   "admins change by membership quorum");
  }
  return checkAddress(account, "the account");
}

Status ChangeMembership::check() const {
  if (action == MembershipAction::kAddMember && !textFits(name, lim::kMaxNameBytes)) {
    return invalid("member-name-invalid", "a new member needs a name of 1 to " +
                                              std::to_string(lim::kMaxNameBytes) + " bytes");
  }
  if (approvals.empty()) return invalid("approvals-missing", "a membership change needs approvals");
  std::set<core::PublicKey> approvers;
  for (const MembershipApproval& approval : approvals) {
    if (!approvers.insert(approval.member).second) {
      return invalid("approval-duplicate", "a member approved twice");
    }
  }
  return {};
}

// ---- Transactions ----

std::string_view operationName(const Operation& operation) {
  static constexpr std::string_view kNames[] = {
      "register-issuer",  "create-series",  "update-series-policy", "mint",
      "transfer",         "burn",           "commit-blind-box",     "seal-blind-box",
      "reveal-blind-box", "open-blind-box", "refund-blind-box",     "commit-lottery",
      "draw-lottery",     "create-recipe",  "synthesise",           "settle-trade",
      "redeem-right",     "set-frozen",     "grant-roles",          "change-membership"};
  static_assert(std::size(kNames) == std::variant_size_v<Operation>);
  return kNames[operation.index()];
}

void Transaction::encodeTo(Writer& writer) const {
  writer.fixed(chainId.view());
  signer.encodeTo(writer);
  writer.varint(nonce);
  writer.varint(operation.index() + 1);
  std::visit([&](const auto& op) { op.encodeTo(writer); }, operation);
}

Transaction Transaction::decodeFrom(Reader& reader) {
  Transaction transaction;
  transaction.chainId = readFixed<core::ChainId>(reader);
  transaction.signer = core::PublicKey::decodeFrom(reader);
  transaction.nonce = reader.varint();
  std::size_t at = reader.position();
  std::uint64_t tag = reader.varint();
  if (reader.failed()) return transaction;
  if (tag < 1 || tag > std::variant_size_v<Operation>) {
    reader.fail(core::invalidArgument("decode-unknown-operation",
                                      "operation number " + std::to_string(tag) + " at offset " +
                                          std::to_string(at) + " is not known"));
    return transaction;
  }
  transaction.operation = decodeOperationAt(static_cast<std::size_t>(tag - 1), reader);
  return transaction;
}

void SignedTransaction::encodeTo(Writer& writer) const {
  transaction.encodeTo(writer);
  writer.fixed(signature.view());
}

SignedTransaction SignedTransaction::decodeFrom(Reader& reader) {
  SignedTransaction signedTransaction;
  signedTransaction.transaction = Transaction::decodeFrom(reader);
  signedTransaction.signature = readFixed<core::Signature>(reader);
  return signedTransaction;
}

Bytes transactionSigningMessage(const Transaction& transaction) {
  Bytes message(kSigningDomain.begin(), kSigningDomain.end());
  Bytes encoded = core::encode(transaction);
  message.insert(message.end(), encoded.begin(), encoded.end());
  return message;
}

SignedTransaction signTransaction(const ChainParameters& chain, Transaction transaction,
                                  const core::SecretKey& key) {
  core::Signature signature = chain.crypto().sign(key, transactionSigningMessage(transaction));
  return SignedTransaction{std::move(transaction), signature};
}

core::TxHash transactionHash(const ChainParameters& chain, const SignedTransaction& transaction) {
  return core::TxHash(chain.crypto().hash(core::encode(transaction)).array());
}

core::Result<SignedTransaction> decodeSignedTransaction(ByteView bytes) {
  if (bytes.size() > lim::kMaxTransactionBytes) {
    return invalid("transaction-too-large",
                   "a transaction is at most " + std::to_string(lim::kMaxTransactionBytes) +
                       " bytes, this one is " + std::to_string(bytes.size()));
  }
  return core::decode<SignedTransaction>(bytes);
}

Status checkTransaction(const ChainParameters& chain, const SignedTransaction& signedTransaction,
                        bool verifySignature, ByteView encodedTransaction) {
  const Transaction& transaction = signedTransaction.transaction;
  if (transaction.chainId != chain.chainId) {
    return invalid("wrong-chain", "the transaction is for chain " + transaction.chainId.hex() +
                                      ", this is chain " + chain.chainId.hex());
  }
  if (transaction.signer.suite() != chain.suite) {
    return invalid("signer-wrong-suite",
                   std::string("the signer's key is ") +
                       std::string(core::suiteName(transaction.signer.suite())) +
                       ", this chain uses " + std::string(core::suiteName(chain.suite)));
  }
  if (Status status = std::visit([](const auto& op) { return op.check(); }, transaction.operation);
      !status.isOk()) {
    return status;
  }
  if (!verifySignature) return {};
  Bytes message;
  if (encodedTransaction.empty()) {
    message = transactionSigningMessage(transaction);
  } else {
    // The canonical Transaction is the canonical SignedTransaction without its signature: both
    // start with the same version byte and the same fields.
    static_assert(Transaction::kEncodingVersion == SignedTransaction::kEncodingVersion);
    assert(encodedTransaction.size() > core::Signature::kSize);
    ByteView unsigned_ =
        encodedTransaction.first(encodedTransaction.size() - core::Signature::kSize);
    message.reserve(kSigningDomain.size() + unsigned_.size());
    message.assign(kSigningDomain.begin(), kSigningDomain.end());
    message.insert(message.end(), unsigned_.begin(), unsigned_.end());
  }
  if (!chain.crypto().verify(transaction.signer, message, signedTransaction.signature)) {
    return {core::ErrorCode::kUnauthenticated, "bad-signature",
            "the signature does not match the transaction and its signer"};
  }
  return {};
}

Bytes redemptionConsentMessage(const core::ChainId& chainId, const TokenId& token,
                               std::uint32_t rightId, const RedemptionConsent& consent) {
  Writer writer;
  writer.string("jiancang/redemption-consent/v1");
  writer.fixed(chainId.view());
  token.encodeTo(writer);
  writer.varint(rightId);
  consent.holderKey.encodeTo(writer);
  writer.fixed(consent.verifier.view());
  writeTime(writer, consent.expiresAt);
  writer.varint(consent.consentNonce);
  return std::move(writer).take();
}

Bytes membershipChangeMessage(const core::ChainId& chainId, std::uint64_t membershipVersion,
                              MembershipAction action, const core::PublicKey& key,
                              std::string_view name) {
  Writer writer;
  writer.string("jiancang/membership-change/v1");
  writer.fixed(chainId.view());
  writer.varint(membershipVersion);
  writer.varint(static_cast<std::uint8_t>(action));
  key.encodeTo(writer);
  writer.string(name);
  return std::move(writer).take();
}

}  // namespace jiancang::chain
