// The chain's vocabulary: ids, limits, series policy and rights, and the records kept in state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <core/clock.h>
#include <core/crypto.h>
#include <core/encoding.h>
#include <core/hash.h>
#include <core/ids.h>
#include <core/money.h>

namespace jiancang::chain {

using core::Address;
using core::Bytes;
using core::ByteView;
using core::Fen;
using core::Hash256;
using core::Timestamp;

using SeriesId = core::NumericId<struct SeriesIdTag>;
using LotteryId = core::NumericId<struct LotteryIdTag>;
using RecipeId = core::NumericId<struct RecipeIdTag>;

// A token is the n-th serial of a series: "#0001/8888" is serial 1 of a series capped at 8,888.
struct TokenId {
  SeriesId series;
  std::uint64_t serial = 0;

  std::string toString() const;  // "12#1"
  void encodeTo(core::Writer& writer) const;
  static TokenId decodeFrom(core::Reader& reader);
  friend auto operator<=>(const TokenId&, const TokenId&) = default;
};

// "#0001/8888": a serial as collectors see it, padded to the width of the edition cap.
std::string serialLabel(std::uint64_t serial, std::uint64_t cap);

// Limits every member enforces. Changing one is a consensus change.
namespace limits {
inline constexpr std::uint64_t kMaxEditionCap = 10'000'000;
inline constexpr std::uint32_t kMaxRoyaltyBasisPoints = 3'000;
inline constexpr std::size_t kMaxMintBatch = 1'000;
inline constexpr std::size_t kMaxTitleBytes = 128;
inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::size_t kMaxMediaTypeBytes = 64;
inline constexpr std::size_t kMaxReasonBytes = 64;
inline constexpr std::size_t kMaxPaymentReferenceBytes = 64;
inline constexpr std::size_t kMaxRights = 16;
inline constexpr std::uint32_t kMaxRightUses = 1'000'000;
inline constexpr std::size_t kMaxPolicyVersions = 64;
inline constexpr std::size_t kMaxBlindBoxItemKinds = 64;
inline constexpr std::uint64_t kMaxBlindBoxSize = 100'000;
inline constexpr std::uint64_t kMaxLotteryEntrants = 10'000'000;
inline constexpr std::uint32_t kMaxLotteryWinners = 10'000;
inline constexpr std::size_t kMaxRecipeInputKinds = 8;
inline constexpr std::uint32_t kMaxRecipeInputTokens = 50;
inline constexpr std::size_t kMaxMembers = 64;
inline constexpr std::size_t kMaxTransactionBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxBlockTransactions = 10'000;
}  // namespace limits

// What may be done with a series' tokens. Changes append a new version; old ones are kept.
struct SeriesPolicy {
  bool transferable = true;
  std::uint64_t holdBeforeFirstTransferMillis = 0;
  std::uint64_t holdBetweenTransfersMillis = 0;
  bool tradable = false;  // on the consignment market
  Fen priceCeiling;       // 0: no ceiling

  void encodeTo(core::Writer& writer) const;
  static SeriesPolicy decodeFrom(core::Reader& reader);
  friend bool operator==(const SeriesPolicy&, const SeriesPolicy&) = default;
};

struct PolicyVersion {
  std::uint32_t version = 0;  // 1, 2, ...
  std::uint64_t effectiveFromHeight = 0;
  SeriesPolicy policy;

  void encodeTo(core::Writer& writer) const;
  static PolicyVersion decodeFrom(core::Reader& reader);
  friend bool operator==(const PolicyVersion&, const PolicyVersion&) = default;
};

// A right attached to every token of a series (a ticket, a discount), usable `uses` times.
struct RightDefinition {
  std::uint32_t id = 0;
  std::string kind;
  std::uint32_t uses = 0;

  void encodeTo(core::Writer& writer) const;
  static RightDefinition decodeFrom(core::Reader& reader);
  friend bool operator==(const RightDefinition&, const RightDefinition&) = default;
};

// "count tokens of series": blind-box contents and synthesis inputs.
struct SeriesCount {
  SeriesId series;
  std::uint32_t count = 0;

  void encodeTo(core::Writer& writer) const;
  static SeriesCount decodeFrom(core::Reader& reader);
  friend bool operator==(const SeriesCount&, const SeriesCount&) = default;
};

// Roles held by an address, as bits.
enum RoleBits : std::uint32_t {
  kRoleAdmin = 1u << 0,       // registers issuers, grants the roles below
  kRoleGovernance = 1u << 1,  // freezes and unfreezes tokens and addresses
  kRoleVerifier = 1u << 2,    // redeems rights (with the holder's consent)
  kRoleMarket = 1u << 3,      // records consignment-market settlements
};
inline constexpr std::uint32_t kAllRoles =
    kRoleAdmin | kRoleGovernance | kRoleVerifier | kRoleMarket;

// ---- Records kept in state. Each has a version byte of its own (core/encoding.h). ----

struct AccountRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "account";
  std::uint64_t nonce = 0;  // the nonce the next transaction must carry
  std::uint32_t roles = 0;
  bool frozen = false;
  std::string frozenReason;

  void encodeTo(core::Writer& writer) const;
  static AccountRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const AccountRecord&, const AccountRecord&) = default;
};

struct IssuerRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "issuer";
  Address issuer;
  std::string displayName;
  Hash256 licenceHash;  // sha256 of the copyright authorisation documents
  Timestamp registeredAt;

  void encodeTo(core::Writer& writer) const;
  static IssuerRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const IssuerRecord&, const IssuerRecord&) = default;
};

struct SeriesRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "series";
  SeriesId id;
  Address issuer;
  std::string title;
  Hash256 mediaHash;
  std::string mediaType;
  Hash256 metadataHash;
  Hash256 licenceHash;
  std::uint64_t editionCap = 0;
  Address creator;
  std::uint32_t royaltyBasisPoints = 0;
  std::vector<PolicyVersion> policyVersions;  // never empty; the last one is in force
  std::vector<RightDefinition> rights;
  std::uint64_t minted = 0;
  std::uint64_t burned = 0;    // burned tokens stay counted against the cap
  std::uint64_t reserved = 0;  // serials promised to committed blind boxes, not yet minted
  bool isBlindBox = false;     // its tokens are boxes (see BlindBoxRecord)
  Timestamp createdAt;

  const PolicyVersion& currentPolicy() const { return policyVersions.back(); }
  std::uint64_t live() const { return minted - burned; }

  void encodeTo(core::Writer& writer) const;
  static SeriesRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const SeriesRecord&, const SeriesRecord&) = default;
};

struct TokenRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "token";
  Address owner;
  Timestamp mintedAt;
  Timestamp lastTransferAt;  // equals mintedAt until the first transfer
  std::uint32_t transferCount = 0;
  bool burned = false;
  bool frozen = false;
  std::string frozenReason;
  std::vector<std::uint32_t> rightUsesLeft;  // one entry per series right, same order

  void encodeTo(core::Writer& writer) const;
  static TokenRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const TokenRecord&, const TokenRecord&) = default;
};

enum class BlindBoxStage : std::uint8_t {
  kCommitted = 1,
  kSealed = 2,
  kRevealed = 3,
  kExpired = 4
};

struct BlindBoxRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "blind-box";
  SeriesId boxSeries;
  std::vector<SeriesCount> contents;  // exactly how many of each item: the published odds
  Hash256 seedCommitment;             // suite hash of the 32-byte seed
  Timestamp revealDeadline;
  BlindBoxStage stage = BlindBoxStage::kCommitted;
  std::uint64_t sealedAtHeight = 0;
  Hash256 seed;         // zero until revealed
  Hash256 shuffleSeed;  // from the seed and the sealing block's hash; zero until revealed
  std::uint64_t opened = 0;

  void encodeTo(core::Writer& writer) const;
  static BlindBoxRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const BlindBoxRecord&, const BlindBoxRecord&) = default;
};

// Which item series box serial n holds, written at reveal.
struct BoxAssignmentRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "box-assignment";
  SeriesId itemSeries;
  bool opened = false;

  void encodeTo(core::Writer& writer) const;
  static BoxAssignmentRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const BoxAssignmentRecord&, const BoxAssignmentRecord&) = default;
};

struct LotteryRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "lottery";
  LotteryId id;
  Address issuer;
  SeriesId series;       // the series the lottery sells
  Hash256 entrantsRoot;  // list Merkle root of the entrant list (chain/merkle_list.h)
  std::uint64_t entrantCount = 0;
  std::uint32_t winnerCount = 0;
  Hash256 seedCommitment;
  std::uint64_t committedAtHeight = 0;
  bool drawn = false;
  Hash256 seed;
  std::vector<std::uint64_t> winners;  // entrant indices in draw order

  void encodeTo(core::Writer& writer) const;
  static LotteryRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const LotteryRecord&, const LotteryRecord&) = default;
};

struct RecipeRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "recipe";
  RecipeId id;
  Address issuer;
  std::vector<SeriesCount> inputs;
  SeriesId output;
  Timestamp opensAt;
  Timestamp closesAt;
  std::uint32_t maxSyntheses = 0;
  std::uint32_t synthesised = 0;

  void encodeTo(core::Writer& writer) const;
  static RecipeRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const RecipeRecord&, const RecipeRecord&) = default;
};

struct Member {
  std::string name;
  core::PublicKey key;

  void encodeTo(core::Writer& writer) const;
  static Member decodeFrom(core::Reader& reader);
  friend bool operator==(const Member&, const Member&) = default;
};

// The consortium: who signs blocks and approves membership changes.
struct ConsortiumRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "consortium";
  std::vector<Member> members;
  std::uint64_t membershipVersion = 0;  // bumped by every change; approvals sign it

  // More than two thirds of the members.
  std::size_t quorum() const { return members.size() * 2 / 3 + 1; }

  void encodeTo(core::Writer& writer) const;
  static ConsortiumRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const ConsortiumRecord&, const ConsortiumRecord&) = default;
};

// Counters from which new ids are taken, and the chain's head.
struct ChainHeadRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "chain-head";
  std::uint64_t height = 0;
  core::BlockHash blockHash;
  Timestamp timestamp;
  std::uint64_t nextSeriesId = 1;
  std::uint64_t nextLotteryId = 1;
  std::uint64_t nextRecipeId = 1;

  void encodeTo(core::Writer& writer) const;
  static ChainHeadRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const ChainHeadRecord&, const ChainHeadRecord&) = default;
};

struct BlockHashRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "block-hash";
  core::BlockHash hash;

  void encodeTo(core::Writer& writer) const;
  static BlockHashRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const BlockHashRecord&, const BlockHashRecord&) = default;
};

// Marks a one-time value (a payment reference, a redemption consent) as used.
struct UsedMarkerRecord {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "used-marker";
  std::uint64_t height = 0;

  void encodeTo(core::Writer& writer) const;
  static UsedMarkerRecord decodeFrom(core::Reader& reader);
  friend bool operator==(const UsedMarkerRecord&, const UsedMarkerRecord&) = default;
};

}  // namespace jiancang::chain
