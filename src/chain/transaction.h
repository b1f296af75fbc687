// Transactions: what can be asked of the chain, in their canonical, signed form.
//
// Every transaction names the chain (chain id), its signer (a public key of the chain's suite),
// and the signer's next nonce, so a signed transaction is valid once, on one chain. Checks come
// in two kinds: checkTransaction() here needs no state (shape, sizes, ranges, signature) and runs
// before ordering; the contextual checks in chain/executor.h run against the state when applied.
#pragma once

#include <variant>

#include <chain/types.h>

namespace jiancang::chain {

// ---- Operations. The position in `Operation` is the operation's number on the wire. ----

// By an admin: lets `issuer` create series.
struct RegisterIssuer {
  Address issuer;
  std::string displayName;
  Hash256 licenceHash;  // sha256 of the copyright authorisation documents
  void encodeTo(core::Writer& writer) const;
  static RegisterIssuer decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const RegisterIssuer&, const RegisterIssuer&) = default;
};

// By a registered issuer. The edition cap never changes afterwards.
struct CreateSeries {
  std::string title;
  Hash256 mediaHash;
  std::string mediaType;
  Hash256 metadataHash;
  Hash256 licenceHash;
  std::uint64_t editionCap = 0;
  Address creator;
  std::uint32_t royaltyBasisPoints = 0;
  SeriesPolicy policy;
  std::vector<RightDefinition> rights;
  void encodeTo(core::Writer& writer) const;
  static CreateSeries decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const CreateSeries&, const CreateSeries&) = default;
};

// By the series' issuer: appends a policy version, in force from the block that applies it.
struct UpdateSeriesPolicy {
  SeriesId series;
  SeriesPolicy policy;
  void encodeTo(core::Writer& writer) const;
  static UpdateSeriesPolicy decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const UpdateSeriesPolicy&, const UpdateSeriesPolicy&) = default;
};

// By the series' issuer: the next serials, one per recipient, all or none.
struct Mint {
  SeriesId series;
  std::vector<Address> recipients;
  void encodeTo(core::Writer& writer) const;
  static Mint decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const Mint&, const Mint&) = default;
};

// By the owner: a gift (转赠).
struct Transfer {
  TokenId token;
  Address to;
  void encodeTo(core::Writer& writer) const;
  static Transfer decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const Transfer&, const Transfer&) = default;
};

// By the owner.
struct Burn {
  TokenId token;
  void encodeTo(core::Writer& writer) const;
  static Burn decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const Burn&, const Burn&) = default;
};

// By the issuer of `boxSeries`, before any box is minted: the exact contents and H(seed).
struct CommitBlindBox {
  SeriesId boxSeries;
  std::vector<SeriesCount> contents;
  Hash256 seedCommitment;
  Timestamp revealDeadline;
  void encodeTo(core::Writer& writer) const;
  static CommitBlindBox decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const CommitBlindBox&, const CommitBlindBox&) = default;
};

// By the issuer when the sale closes: no more boxes; the sealing block's hash becomes entropy.
struct SealBlindBox {
  SeriesId boxSeries;
  void encodeTo(core::Writer& writer) const;
  static SealBlindBox decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const SealBlindBox&, const SealBlindBox&) = default;
};

// By the issuer, in a later block than the seal and before the deadline: the seed.
struct RevealBlindBox {
  SeriesId boxSeries;
  Hash256 seed;
  void encodeTo(core::Writer& writer) const;
  static RevealBlindBox decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const RevealBlindBox&, const RevealBlindBox&) = default;
};

// By a box's owner after the reveal: burns the box, mints its item to the owner.
struct OpenBlindBox {
  TokenId box;
  void encodeTo(core::Writer& writer) const;
  static OpenBlindBox decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const OpenBlindBox&, const OpenBlindBox&) = default;
};

// By a box's owner when the deadline passed without a reveal: burns the box; the receipt is
// the platform's instruction to refund.
struct RefundBlindBox {
  TokenId box;
  void encodeTo(core::Writer& writer) const;
  static RefundBlindBox decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const RefundBlindBox&, const RefundBlindBox&) = default;
};

// By the issuer when entry closes: the entrant list's root and H(seed).
struct CommitLottery {
  SeriesId series;
  Hash256 entrantsRoot;
  std::uint64_t entrantCount = 0;
  std::uint32_t winnerCount = 0;
  Hash256 seedCommitment;
  void encodeTo(core::Writer& writer) const;
  static CommitLottery decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const CommitLottery&, const CommitLottery&) = default;
};

// By the issuer, in a later block than the commit: the seed; winners follow deterministically.
struct DrawLottery {
  LotteryId lottery;
  Hash256 seed;
  void encodeTo(core::Writer& writer) const;
  static DrawLottery decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const DrawLottery&, const DrawLottery&) = default;
};

// By the issuer of `output`: "burn these → mint one of output", in a window, up to a limit.
struct CreateRecipe {
  std::vector<SeriesCount> inputs;
  SeriesId output;
  Timestamp opensAt;
  Timestamp closesAt;
  std::uint32_t maxSyntheses = 0;
  void encodeTo(core::Writer& writer) const;
  static CreateRecipe decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const CreateRecipe&, const CreateRecipe&) = default;
};

// By the owner of every input: all inputs burned and the output minted, or nothing.
struct Synthesise {
  RecipeId recipe;
  std::vector<TokenId> inputs;
  void encodeTo(core::Writer& writer) const;
  static Synthesise decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const Synthesise&, const Synthesise&) = default;
};

// By a market key: a consignment sale paid off chain; moves the token from seller to buyer.
struct SettleTrade {
  TokenId token;
  Address seller;
  Address buyer;
  Fen price;
  Fen royalty;
  Fen platformFee;
  std::string paymentReference;  // unique: a payment settles once
  void encodeTo(core::Writer& writer) const;
  static SettleTrade decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const SettleTrade&, const SettleTrade&) = default;
};

// The holder's signed permission for one redemption by one verifier (the QR code's content).
struct RedemptionConsent {
  core::PublicKey holderKey;
  Address verifier;
  Timestamp expiresAt;
  std::uint64_t consentNonce = 0;
  core::Signature signature;  // over redemptionConsentMessage()
  void encodeTo(core::Writer& writer) const;
  static RedemptionConsent decodeFrom(core::Reader& reader);
  friend bool operator==(const RedemptionConsent&, const RedemptionConsent&) = default;
};

// By a verifier key: consumes one use of a right, with the holder's consent.
struct RedeemRight {
  TokenId token;
  std::uint32_t rightId = 0;
  RedemptionConsent consent;
  void encodeTo(core::Writer& writer) const;
  static RedeemRight decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const RedeemRight&, const RedeemRight&) = default;
};

enum class FreezeTarget : std::uint8_t { kToken = 1, kAddress = 2 };

// By a governance key: freezes or unfreezes a token or an address, with a reason code.
struct SetFrozen {
  FreezeTarget target = FreezeTarget::kToken;
  TokenId token;    // when target is kToken
  Address address;  // when target is kAddress
  bool frozen = true;
  std::string reason;
  void encodeTo(core::Writer& writer) const;
  static SetFrozen decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const SetFrozen&, const SetFrozen&) = default;
};

// By an admin: sets the governance, verifier and market roles of an address (not admin).
struct GrantRoles {
  Address account;
  std::uint32_t roles = 0;
  void encodeTo(core::Writer& writer) const;
  static GrantRoles decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const GrantRoles&, const GrantRoles&) = default;
};

enum class MembershipAction : std::uint8_t {
  kAddMember = 1,
  kRemoveMember = 2,
  kAddAdmin = 3,
  kRemoveAdmin = 4,
};

struct MembershipApproval {
  core::PublicKey member;
  core::Signature signature;  // over membershipChangeMessage()
  void encodeTo(core::Writer& writer) const;
  static MembershipApproval decodeFrom(core::Reader& reader);
  friend bool operator==(const MembershipApproval&, const MembershipApproval&) = default;
};

// Anyone may submit it; it takes effect with approvals from a quorum of current members.
struct ChangeMembership {
  MembershipAction action = MembershipAction::kAddMember;
  core::PublicKey key;
  std::string name;  // for kAddMember
  std::vector<MembershipApproval> approvals;
  void encodeTo(core::Writer& writer) const;
  static ChangeMembership decodeFrom(core::Reader& reader);
  core::Status check() const;
  friend bool operator==(const ChangeMembership&, const ChangeMembership&) = default;
};

using Operation = std::variant<RegisterIssuer, CreateSeries, UpdateSeriesPolicy, Mint, Transfer,
                               Burn, CommitBlindBox, SealBlindBox, RevealBlindBox, OpenBlindBox,
                               RefundBlindBox, CommitLottery, DrawLottery, CreateRecipe, Synthesise,
                               SettleTrade, RedeemRight, SetFrozen, GrantRoles, ChangeMembership>;

// "register-issuer", "mint", ...: the operation's name in receipts and the API.
std::string_view operationName(const Operation& operation);

struct Transaction {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "transaction";
  core::ChainId chainId;
  core::PublicKey signer;
  std::uint64_t nonce = 0;
  Operation operation;

  void encodeTo(core::Writer& writer) const;
  static Transaction decodeFrom(core::Reader& reader);
  friend bool operator==(const Transaction&, const Transaction&) = default;
};

struct SignedTransaction {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "signed-transaction";
  Transaction transaction;
  core::Signature signature;

  Address signerAddress() const { return core::addressOf(transaction.signer); }
  void encodeTo(core::Writer& writer) const;
  static SignedTransaction decodeFrom(core::Reader& reader);
  friend bool operator==(const SignedTransaction&, const SignedTransaction&) = default;
};

// What every member knows without reading state: the chain's id and crypto suite.
struct ChainParameters {
  core::ChainId chainId;
  core::SuiteId suite = core::SuiteId::kEd25519Sha256;
  const core::CryptoSuite& crypto() const { return core::cryptoSuite(suite); }
};

// The bytes a signer signs: a domain tag, then the canonical transaction.
Bytes transactionSigningMessage(const Transaction& transaction);
SignedTransaction signTransaction(const ChainParameters& chain, Transaction transaction,
                                  const core::SecretKey& key);
// The suite hash of the signed transaction's canonical encoding.
core::TxHash transactionHash(const ChainParameters& chain, const SignedTransaction& transaction);
// Decodes a signed transaction, refusing more than limits::kMaxTransactionBytes first.
core::Result<SignedTransaction> decodeSignedTransaction(ByteView bytes);

// Context-free checks: chain id, suite, every field's shape and range, and (unless told not to)
// the signature. Runs before ordering; apply runs it again. A caller that already holds the
// canonical encoding of `transaction` (the executor, from hashing it) passes it in
// `encodedTransaction` to spare encoding it again for the signature.
core::Status checkTransaction(const ChainParameters& chain, const SignedTransaction& transaction,
                              bool verifySignature = true, ByteView encodedTransaction = {});

// The messages signed off-transaction: a holder's redemption consent, a member's approval.
Bytes redemptionConsentMessage(const core::ChainId& chainId, const TokenId& token,
                               std::uint32_t rightId, const RedemptionConsent& consent);
Bytes membershipChangeMessage(const core::ChainId& chainId, std::uint64_t membershipVersion,
                              MembershipAction action, const core::PublicKey& key,
                              std::string_view name);

}  // namespace jiancang::chain
