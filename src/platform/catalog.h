// The catalogue: issuers and the series they issue, with the two-person rule between them.
//
//   operator onboards an issuer (user + copyright authorisation documents)
//       → register-issuer on chain, signed with the chain admin key, carrying the licence hash
//   issuer drafts a series (media, title, description, edition cap, royalty, policy, rights,
//       and for a blind box its contents: the published odds) → submits it for review
//   a reviewer who is not the drafter approves, or rejects with a reason (the issuer may then
//       edit and submit again)
//   the issuer publishes an approved series → create-series on chain, signed with the issuer's
//       own custodial key inside the issuer's own request; it is public from then on. A blind
//       box's contents and the hash of a fresh secret seed follow in commit-blind-box, before
//       any box is sold (blind_boxes.h seals, reveals and opens them).
//
// The licence hash is SHA-256 over the authorisation documents' SHA-256s in sorted order; the
// metadata hash is SHA-256 over the series' metadata document (stored, served, so anyone can
// recompute both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <chain/types.h>
#include <platform/accounts.h>
#include <platform/chain_writer.h>
#include <platform/media.h>

namespace jiancang::platform {

struct Issuer {
  std::int64_t id = 0;
  std::int64_t userId = 0;
  std::string displayName;
  core::Address address;
  core::Hash256 licenceHash;
  std::vector<core::Hash256> documents;
  core::TxHash registrationTx;
  std::uint64_t registrationHeight = 0;
  core::Timestamp createdAt;
};

// One kind of item in a blind box: a published series of the same issuer, and how many of the
// box series' copies hold it. The counts are the published odds (count / edition cap), exact
// rather than probabilities: the chain holds the issuer to them.
struct BlindBoxItem {
  std::int64_t seriesDraftId = 0;
  std::uint32_t count = 0;
  std::uint64_t seriesId = 0;  // the item's series on chain (set when the draft is saved)
};

struct SeriesFields {
  std::string title;
  std::string description;
  core::Hash256 media;
  std::uint64_t editionCap = 0;
  std::uint32_t royaltyBasisPoints = 0;
  chain::SeriesPolicy policy;
  std::vector<chain::RightDefinition> rights;  // ids 1, 2, ... in order
  // A blind box: its contents (empty for an ordinary series), summing to the edition cap, and
  // when the seed must be revealed at the latest (after it, the boxes are refundable).
  std::vector<BlindBoxItem> blindBox;
  core::Timestamp revealDeadline;

  bool isBlindBox() const { return !blindBox.empty(); }
};

enum class SeriesState : std::uint8_t { kDraft, kInReview, kRejected, kApproved, kPublished };
std::string_view seriesStateName(SeriesState state);

struct SeriesDraft {
  std::int64_t id = 0;
  std::int64_t issuerId = 0;
  std::int64_t draftedBy = 0;
  SeriesFields fields;
  std::string mediaType;
  SeriesState state = SeriesState::kDraft;
  std::optional<std::int64_t> reviewerId;
  std::string reviewReason;
  std::string metadata;  // the JSON document the metadata hash is taken over (once published)
  std::uint64_t seriesId = 0;
  core::TxHash publicationTx;
  std::uint64_t publicationHeight = 0;
  core::Hash256 boxSeedCommitment;  // a blind box once published: H(seed), on chain
  core::Timestamp createdAt;
  core::Timestamp updatedAt;
};

class Catalog {
 public:
  Catalog(Database& database, Accounts& accounts, MediaLibrary& media, ChainWriter& chain,
          const core::KeyPair& chainAdmin, const core::Clock& clock)
      : database_(database),
        accounts_(accounts),
        media_(media),
        chain_(chain),
        chainAdmin_(chainAdmin),
        clock_(clock) {}

  // Reasons: "not-operator", "no-such-user", "issuer-name" (1 to 64 bytes), "documents-missing",
  // "documents-too-many" (16), "no-such-media", "issuer-exists" (this user already is one), and
  // the chain's refusal.
  core::Result<Issuer> onboardIssuer(std::int64_t operatorId, std::int64_t userId,
                                     const std::string& displayName,
                                     const std::vector<core::Hash256>& documents);
  core::Result<Issuer> issuerOfUser(std::int64_t userId);
  core::Result<std::vector<Issuer>> issuers();

  // By the issuer's own account. Reasons: "not-issuer", "no-such-media", "description-too-long"
  // (4,000 bytes), the chain's shape checks of create-series ("edition-cap-out-of-range",
  // "royalty-too-high", "title-invalid", ...), and for a blind box "blind-box-items" (1 to 64
  // distinct published series of this issuer, none itself a box, each at least one copy),
  // "blind-box-size-mismatch" (the counts must sum to the edition cap, at most 100,000) and
  // "reveal-deadline-invalid" (in the future, within a year).
  core::Result<SeriesDraft> draft(std::int64_t userId, const SeriesFields& fields);
  // Edits a draft or a rejected series ("not-editable" otherwise).
  core::Result<SeriesDraft> edit(std::int64_t userId, std::int64_t draftId,
                                 const SeriesFields& fields);
  core::Result<SeriesDraft> submitForReview(std::int64_t userId, std::int64_t draftId);
  // Reasons: "not-reviewer", "reviewer-is-drafter", "not-in-review", "reason-required".
  core::Result<SeriesDraft> review(std::int64_t reviewerId, std::int64_t draftId, bool approve,
                                   const std::string& reason);
  // Reasons: "not-approved", and the chain's refusal. A blind box takes two transactions
  // (create-series, commit-blind-box); publishing again after a failure between them finishes
  // the second one with the same seed.
  core::Result<SeriesDraft> publish(std::int64_t userId, std::int64_t draftId);
  // The secret seed of a published blind box, for its reveal: never shown before it.
  core::Result<core::Hash256> blindBoxSeed(std::int64_t draftId);

  // A draft its issuer or any reviewer or operator may see; published ones anyone may
  // ("no-such-series" otherwise, the same answer as for one that does not exist).
  core::Result<SeriesDraft> find(std::optional<std::int64_t> viewerId, std::int64_t draftId);
  // The issuer's own, every one in review (reviewers), or every published one (anyone).
  core::Result<std::vector<SeriesDraft>> listOwn(std::int64_t userId);
  core::Result<std::vector<SeriesDraft>> listInReview(std::int64_t reviewerId);
  core::Result<std::vector<SeriesDraft>> listPublished();
  // The issuer's own draft ("not-issuer"; "no-such-series" for another issuer's too).
  core::Result<SeriesDraft> ownDraft(std::int64_t userId, std::int64_t draftId);

 private:
  // Checks the fields and completes them (the blind-box items' chain series ids).
  core::Status checkFields(std::int64_t issuerId, SeriesFields& fields, std::string* mediaType);
  core::Status checkBlindBox(std::int64_t issuerId, SeriesFields& fields);
  core::Result<std::vector<SeriesDraft>> list(const std::string& where,
                                              const std::vector<SqlValue>& parameters);

  Database& database_;
  Accounts& accounts_;
  MediaLibrary& media_;
  ChainWriter& chain_;
  const core::KeyPair& chainAdmin_;
  const core::Clock& clock_;
};

}  // namespace jiancang::platform
