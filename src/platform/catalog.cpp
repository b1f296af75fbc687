#include <platform/catalog.h>

#include <algorithm>
#include <set>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include <chain/fair_random.h>
#include <chain/state_keys.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;
using nlohmann::json;

constexpr std::size_t kMaxDescriptionBytes = 4'000;
constexpr std::size_t kMaxDocuments = 16;

core::Bytes bytesOf(core::ByteView view) { return {view.begin(), view.end()}; }

Status permissionDenied(std::string reason, std::string message) {
  return {ErrorCode::kPermissionDenied, std::move(reason), std::move(message)};
}

Status noSuchSeries(std::int64_t id) {
  return core::notFound("no-such-series", "there is no series draft " + std::to_string(id));
}

json rightsJson(const std::vector<chain::RightDefinition>& rights) {
  json out = json::array();
  for (const auto& right : rights) {
    out.push_back({{"id", right.id}, {"kind", right.kind}, {"uses", right.uses}});
  }
  return out;
}

std::vector<chain::RightDefinition> parseRights(const std::string& text) {
  std::vector<chain::RightDefinition> rights;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) return rights;
  for (const json& right : parsed) {
    rights.push_back(
        {right.value("id", 0u), right.value("kind", std::string()), right.value("uses", 0u)});
  }
  return rights;
}

json blindBoxJson(const std::vector<BlindBoxItem>& items) {
  json out = json::array();
  for (const auto& item : items) {
    out.push_back(
        {{"draft", item.seriesDraftId}, {"series", item.seriesId}, {"count", item.count}});
  }
  return out;
}

std::vector<BlindBoxItem> parseBlindBox(const std::string& text) {
  std::vector<BlindBoxItem> items;
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) return items;
  for (const json& item : parsed) {
    items.push_back({item.value("draft", std::int64_t{0}), item.value("count", 0u),
                     item.value("series", std::uint64_t{0})});
  }
  return items;
}

constexpr const char* kDraftColumns =
    "id, issuer_id, drafted_by, title, description, media, media_type, edition_cap, royalty_bp, "
    "transferable, hold_first_ms, hold_between_ms, tradable, price_ceiling_fen, rights, state, "
    "reviewer_id, review_reason, metadata, series_id, publication_tx, publication_height, "
    "created_at, updated_at, blind_box, reveal_deadline, box_commitment";

SeriesDraft readDraft(const SqlRow& row) {
  SeriesDraft draft;
  draft.id = row.integer(0);
  draft.issuerId = row.integer(1);
  draft.draftedBy = row.integer(2);
  draft.fields.title = row.text(3);
  draft.fields.description = row.text(4);
  if (auto hash = core::Hash256::fromView(row.bytes(5))) draft.fields.media = *hash;
  draft.mediaType = row.text(6);
  draft.fields.editionCap = static_cast<std::uint64_t>(row.integer(7));
  draft.fields.royaltyBasisPoints = static_cast<std::uint32_t>(row.integer(8));
  draft.fields.policy.transferable = row.integer(9) != 0;
  draft.fields.policy.holdBeforeFirstTransferMillis = static_cast<std::uint64_t>(row.integer(10));
  draft.fields.policy.holdBetweenTransfersMillis = static_cast<std::uint64_t>(row.integer(11));
  draft.fields.policy.tradable = row.integer(12) != 0;
  draft.fields.policy.priceCeiling = core::Fen(row.integer(13));
  draft.fields.rights = parseRights(row.text(14));
  draft.state = static_cast<SeriesState>(row.integer(15));
  if (!row.isNull(16)) draft.reviewerId = row.integer(16);
  draft.reviewReason = row.text(17);
  draft.metadata = row.text(18);
  draft.seriesId = static_cast<std::uint64_t>(row.integer(19));
  if (auto hash = core::TxHash::fromView(row.bytes(20))) draft.publicationTx = *hash;
  draft.publicationHeight = static_cast<std::uint64_t>(row.integer(21));
  draft.createdAt = core::Timestamp::fromUnixMillis(row.integer(22));
  draft.updatedAt = core::Timestamp::fromUnixMillis(row.integer(23));
  draft.fields.blindBox = parseBlindBox(row.text(24));
  draft.fields.revealDeadline = core::Timestamp::fromUnixMillis(row.integer(25));
  if (!row.isNull(26)) {
    if (auto hash = core::Hash256::fromView(row.bytes(26))) draft.boxSeedCommitment = *hash;
  }
  return draft;
}

std::vector<SqlValue> fieldValues(const SeriesFields& fields, const std::string& mediaType) {
  return {fields.title,
          fields.description,
          bytesOf(fields.media.view()),
          mediaType,
          static_cast<std::int64_t>(fields.editionCap),
          std::int64_t{fields.royaltyBasisPoints},
          std::int64_t{fields.policy.transferable ? 1 : 0},
          static_cast<std::int64_t>(fields.policy.holdBeforeFirstTransferMillis),
          static_cast<std::int64_t>(fields.policy.holdBetweenTransfersMillis),
          std::int64_t{fields.policy.tradable ? 1 : 0},
          fields.policy.priceCeiling.value(),
          rightsJson(fields.rights).dump(),
          fields.isBlindBox() ? blindBoxJson(fields.blindBox).dump() : std::string(),
          fields.isBlindBox() ? fields.revealDeadline.unixMillis() : std::int64_t{0}};
}

constexpr const char* kIssuerColumns =
    "id, user_id, display_name, address, licence_hash, documents, registration_tx, "
    "registration_height, created_at";

Issuer readIssuer(const SqlRow& row) {
  Issuer issuer;
  issuer.id = row.integer(0);
  issuer.userId = row.integer(1);
  issuer.displayName = row.text(2);
  if (auto address = core::Address::fromView(row.bytes(3))) issuer.address = *address;
  if (auto hash = core::Hash256::fromView(row.bytes(4))) issuer.licenceHash = *hash;
  std::string_view documents = row.text(5);
  while (documents.size() >= 64) {
    if (auto hash = core::Hash256::fromHex(documents.substr(0, 64))) {
      issuer.documents.push_back(*hash);
    }
    documents.remove_prefix(std::min<std::size_t>(documents.size(), 65));
  }
  if (auto hash = core::TxHash::fromView(row.bytes(6))) issuer.registrationTx = *hash;
  issuer.registrationHeight = static_cast<std::uint64_t>(row.integer(7));
  issuer.createdAt = core::Timestamp::fromUnixMillis(row.integer(8));
  return issuer;
}

}  // namespace

std::string_view seriesStateName(SeriesState state) {
  switch (state) {
    case SeriesState::kDraft:
      return "draft";
    case SeriesState::kInReview:
      return "in-review";
    case SeriesState::kRejected:
      return "rejected";
    case SeriesState::kApproved:
      return "approved";
    case SeriesState::kPublished:
      return "published";
  }
  return "unknown";
}

core::Result<Issuer> Catalog::onboardIssuer(std::int64_t operatorId, std::int64_t userId,
                                            const std::string& displayName,
                                            const std::vector<core::Hash256>& documents) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) {
    return permissionDenied("not-operator", "only an operator onboards issuers");
  }
  if (displayName.empty() || displayName.size() > chain::limits::kMaxNameBytes) {
    return core::invalidArgument("issuer-name", "an issuer's name is 1 to 64 bytes");
  }
  if (documents.empty()) {
    return core::invalidArgument("documents-missing",
                                 "an issuer needs its copyright authorisation documents");
  }
  if (documents.size() > kMaxDocuments) {
    return core::invalidArgument("documents-too-many", "at most 16 documents per issuer");
  }
  for (const core::Hash256& document : documents) {
    if (auto found = media_.find(document); !found) return found.status();
  }
  auto user = accounts_.user(userId);
  if (!user) return user.status();
  if (auto existing = issuerOfUser(userId); existing) {
    return Status(ErrorCode::kAlreadyExists, "issuer-exists", "this user is an issuer already");
  }
  std::vector<core::Hash256> sorted = documents;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  core::Bytes concatenated;
  std::string documentList;
  for (const core::Hash256& document : sorted) {
    concatenated.insert(concatenated.end(), document.view().begin(), document.view().end());
    if (!documentList.empty()) documentList += ',';
    documentList += document.hex();
  }
  const core::Hash256 licence = core::sha256(concatenated);

  // On chain first: the issuer exists for the platform only once the chain says so.
  auto outcome =
      chain_.submit(chainAdmin_, chain::RegisterIssuer{user->address, displayName, licence});
  if (!outcome) return outcome.status();
  if (Status refused = outcome->refusal(); !refused.isOk()) return refused;

  Issuer issuer;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("INSERT INTO issuers (user_id, display_name, address, licence_hash, "
                    "documents, registration_tx, registration_height, created_at) VALUES (?, ?, "
                    "?, ?, ?, ?, ?, ?) RETURNING ") +
            kIssuerColumns,
        {userId, displayName, bytesOf(user->address.view()), bytesOf(licence.view()), documentList,
         bytesOf(outcome->txHash.view()), static_cast<std::int64_t>(outcome->height),
         clock_.now().unixMillis()});
    if (!rows) return rows.status();
    issuer = readIssuer(rows->front());
    return session
        .execute("UPDATE users SET roles = roles | ? WHERE id = ?",
                 {std::int64_t{kRoleIssuer}, userId})
        .status();
  });
  accounts_.forgetSessions();  // the user's new role counts from their next request
  if (status.reason() == "sql-unique-violation") {
    return Status(ErrorCode::kAlreadyExists, "issuer-exists", "this user is an issuer already");
  }
  if (!status.isOk()) return status;
  return issuer;
}

core::Result<Issuer> Catalog::issuerOfUser(std::int64_t userId) {
  std::optional<Issuer> found;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("SELECT ") + kIssuerColumns + " FROM issuers WHERE user_id = ?", {userId});
    if (!rows) return rows.status();
    if (!rows->empty()) found = readIssuer(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  if (!found) return permissionDenied("not-issuer", "this account is not an onboarded issuer");
  return *found;
}

core::Result<std::vector<Issuer>> Catalog::issuers() {
  std::vector<Issuer> out;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows =
        session.query(std::string("SELECT ") + kIssuerColumns + " FROM issuers ORDER BY id", {});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) out.push_back(readIssuer(row));
    return {};
  });
  if (!status.isOk()) return status;
  return out;
}

Status Catalog::checkBlindBox(std::int64_t issuerId, SeriesFields& fields) {
  if (fields.blindBox.size() > chain::limits::kMaxBlindBoxItemKinds) {
    return core::invalidArgument("blind-box-items", "a blind box holds at most 64 kinds of item");
  }
  std::uint64_t total = 0;
  std::set<std::int64_t> seen;
  for (BlindBoxItem& item : fields.blindBox) {
    if (item.count == 0) {
      return core::invalidArgument("blind-box-items", "each item is in at least one box");
    }
    if (!seen.insert(item.seriesDraftId).second) {
      return core::invalidArgument(
          "blind-box-items",
          "series " + std::to_string(item.seriesDraftId) + " is listed twice in the contents");
    }
    auto found = list("id = ?", {item.seriesDraftId});
    if (!found) return found.status();
    if (found->empty() || found->front().issuerId != issuerId ||
        found->front().state != SeriesState::kPublished) {
      return core::invalidArgument("blind-box-items",
                                   "item " + std::to_string(item.seriesDraftId) +
                                       " is not a published series of this issuer");
    }
    if (found->front().fields.isBlindBox()) {
      return core::invalidArgument("blind-box-items", "a blind box cannot contain boxes");
    }
    item.seriesId = found->front().seriesId;
    total += item.count;
  }
  if (total != fields.editionCap || total > chain::limits::kMaxBlindBoxSize) {
    return core::invalidArgument(
        "blind-box-size-mismatch",
        "the contents hold " + std::to_string(total) + " items, the box series has " +
            std::to_string(fields.editionCap) + " boxes (they must be equal, at most 100,000)");
  }
  constexpr std::int64_t kYearMillis = 366LL * 24 * 3'600'000;
  const std::int64_t now = clock_.now().unixMillis();
  if (fields.revealDeadline.unixMillis() <= now ||
      fields.revealDeadline.unixMillis() > now + kYearMillis) {
    return core::invalidArgument("reveal-deadline-invalid",
                                 "a blind box's reveal deadline is in the future, within a year");
  }
  return {};
}

Status Catalog::checkFields(std::int64_t issuerId, SeriesFields& fields, std::string* mediaType) {
  if (fields.isBlindBox()) {
    if (Status status = checkBlindBox(issuerId, fields); !status.isOk()) return status;
  }
  if (fields.description.size() > kMaxDescriptionBytes) {
    return core::invalidArgument("description-too-long", "a description is at most 4,000 bytes");
  }
  auto media = media_.find(fields.media);
  if (!media) return media.status();
  if (media->kind == MediaKind::kDocument) {
    return core::invalidArgument("media-not-a-work",
                                 "a series shows an image, video, audio or 3D model, not a PDF");
  }
  *mediaType = media->mime;
  // The chain's own shape checks, with stand-ins for what only publishing fixes.
  chain::CreateSeries candidate;
  candidate.title = fields.title;
  candidate.mediaHash = fields.media;
  candidate.mediaType = media->mime;
  candidate.metadataHash = core::sha256(core::asBytes("stand-in"));
  candidate.licenceHash = candidate.metadataHash;
  candidate.creator.mutableArray()[0] = 1;
  candidate.editionCap = fields.editionCap;
  candidate.royaltyBasisPoints = fields.royaltyBasisPoints;
  candidate.policy = fields.policy;
  candidate.rights = fields.rights;
  return candidate.check();
}

core::Result<SeriesDraft> Catalog::draft(std::int64_t userId, const SeriesFields& given) {
  auto issuer = issuerOfUser(userId);
  if (!issuer) return issuer.status();
  SeriesFields fields = given;
  std::string mediaType;
  if (Status status = checkFields(issuer->id, fields, &mediaType); !status.isOk()) return status;
  SeriesDraft created;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    std::vector<SqlValue> values = {issuer->id, userId};
    for (auto& value : fieldValues(fields, mediaType)) values.push_back(std::move(value));
    values.emplace_back(std::int64_t{static_cast<int>(SeriesState::kDraft)});
    values.emplace_back(clock_.now().unixMillis());
    values.emplace_back(clock_.now().unixMillis());
    auto rows = session.query(
        std::string("INSERT INTO series_drafts (issuer_id, drafted_by, title, description, media, "
                    "media_type, edition_cap, royalty_bp, transferable, hold_first_ms, "
                    "hold_between_ms, tradable, price_ceiling_fen, rights, blind_box, "
                    "reveal_deadline, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING ") +
            kDraftColumns,
        values);
    if (!rows) return rows.status();
    created = readDraft(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  return created;
}

core::Result<SeriesDraft> Catalog::ownDraft(std::int64_t userId, std::int64_t draftId) {
  auto issuer = issuerOfUser(userId);
  if (!issuer) return issuer.status();
  auto found = find(userId, draftId);
  if (!found) return found.status();
  // Another issuer's draft is answered as if it did not exist.
  if (found->issuerId != issuer->id) return noSuchSeries(draftId);
  return found;
}

core::Result<SeriesDraft> Catalog::edit(std::int64_t userId, std::int64_t draftId,
                                        const SeriesFields& given) {
  auto existing = ownDraft(userId, draftId);
  if (!existing) return existing.status();
  SeriesFields fields = given;
  std::string mediaType;
  if (Status status = checkFields(existing->issuerId, fields, &mediaType); !status.isOk()) {
    return status;
  }
  SeriesDraft updated;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    std::vector<SqlValue> values = fieldValues(fields, mediaType);
    values.emplace_back(std::int64_t{static_cast<int>(SeriesState::kDraft)});
    values.emplace_back(clock_.now().unixMillis());
    values.emplace_back(draftId);
    values.emplace_back(std::int64_t{static_cast<int>(SeriesState::kDraft)});
    values.emplace_back(std::int64_t{static_cast<int>(SeriesState::kRejected)});
    auto rows = session.query(
        std::string("UPDATE series_drafts SET title = ?, description = ?, media = ?, media_type = "
                    "?, edition_cap = ?, royalty_bp = ?, transferable = ?, hold_first_ms = ?, "
                    "hold_between_ms = ?, tradable = ?, price_ceiling_fen = ?, rights = ?, "
                    "blind_box = ?, reveal_deadline = ?, state = ?, updated_at = ? WHERE id = ? "
                    "AND state IN (?, ?) RETURNING ") +
            kDraftColumns,
        values);
    if (!rows) return rows.status();
    if (rows->empty()) {
      return core::failedPrecondition("not-editable",
                                      "only a draft or a rejected series can be edited");
    }
    updated = readDraft(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  return updated;
}

core::Result<SeriesDraft> Catalog::submitForReview(std::int64_t userId, std::int64_t draftId) {
  auto existing = ownDraft(userId, draftId);
  if (!existing) return existing.status();
  SeriesDraft updated;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("UPDATE series_drafts SET state = ?, updated_at = ? WHERE id = ? AND state IN "
                    "(?, ?) RETURNING ") +
            kDraftColumns,
        {std::int64_t{static_cast<int>(SeriesState::kInReview)}, clock_.now().unixMillis(), draftId,
         std::int64_t{static_cast<int>(SeriesState::kDraft)},
         std::int64_t{static_cast<int>(SeriesState::kRejected)}});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return core::failedPrecondition("not-submittable",
                                      "only a draft or a rejected series can be submitted");
    }
    updated = readDraft(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  return updated;
}

core::Result<SeriesDraft> Catalog::review(std::int64_t reviewerId, std::int64_t draftId,
                                          bool approve, const std::string& reason) {
  auto reviewer = accounts_.user(reviewerId);
  if (!reviewer) return reviewer.status();
  if (!reviewer->hasRole(kRoleReviewer)) {
    return permissionDenied("not-reviewer", "only reviewers review series");
  }
  if (!approve && reason.empty()) {
    return core::invalidArgument("reason-required", "a rejection says why, for the issuer");
  }
  if (reason.size() > 1'000) {
    return core::invalidArgument("reason-too-long", "a review reason is at most 1,000 bytes");
  }
  SeriesDraft updated;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("SELECT ") + kDraftColumns + " FROM series_drafts WHERE id = ?", {draftId});
    if (!rows) return rows.status();
    if (rows->empty()) return noSuchSeries(draftId);
    SeriesDraft current = readDraft(rows->front());
    // Two people: whoever drafted it cannot approve it, whatever roles they hold.
    if (current.draftedBy == reviewerId) {
      return permissionDenied("reviewer-is-drafter",
                              "a series is reviewed by someone other than who drafted it");
    }
    if (current.state != SeriesState::kInReview) {
      return core::failedPrecondition("not-in-review", "this series is not waiting for review");
    }
    auto changed = session.query(
        std::string("UPDATE series_drafts SET state = ?, reviewer_id = ?, review_reason = ?, "
                    "updated_at = ? WHERE id = ? AND state = ? RETURNING ") +
            kDraftColumns,
        {std::int64_t{static_cast<int>(approve ? SeriesState::kApproved : SeriesState::kRejected)},
         reviewerId, reason, clock_.now().unixMillis(), draftId,
         std::int64_t{static_cast<int>(SeriesState::kInReview)}});
    if (!changed) return changed.status();
    if (changed->empty()) {
      return core::failedPrecondition("not-in-review", "this series is not waiting for review");
    }
    updated = readDraft(changed->front());
    return session
        .execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                 {clock_.now().unixMillis(), reviewerId,
                  std::string(approve ? "series-approved" : "series-rejected"),
                  "draft " + std::to_string(draftId) + ": " + reason})
        .status();
  });
  if (!status.isOk()) return status;
  return updated;
}

core::Result<SeriesDraft> Catalog::publish(std::int64_t userId, std::int64_t draftId) {
  auto issuer = issuerOfUser(userId);
  if (!issuer) return issuer.status();
  auto current = ownDraft(userId, draftId);
  if (!current) return current.status();
  if (current->state != SeriesState::kApproved) {
    return core::failedPrecondition("not-approved",
                                    "a series is published once a reviewer has approved it");
  }
  const SeriesFields& fields = current->fields;
  const bool blindBox = fields.isBlindBox();
  // A blind box's seed is drawn once and kept: a publication finished after a failure commits
  // the same one.
  core::Hash256 seedCommitment;
  if (blindBox) {
    core::Hash256 fresh;
    randombytes_buf(fresh.mutableArray().data(), fresh.mutableArray().size());
    Status stored = database_.transaction([&](SqlSession& session) -> Status {
      auto updated =
          session.execute("UPDATE series_drafts SET box_seed = ? WHERE id = ? AND box_seed IS NULL",
                          {bytesOf(fresh.view()), draftId});
      return updated ? Status() : updated.status();
    });
    if (!stored.isOk()) return stored;
    auto seed = blindBoxSeed(draftId);
    if (!seed) return seed.status();
    seedCommitment = chain::seedCommitment(chain_.parameters().crypto(), *seed);
  }

  json policy = {{"transferable", fields.policy.transferable},
                 {"hold_before_first_transfer_ms", fields.policy.holdBeforeFirstTransferMillis},
                 {"hold_between_transfers_ms", fields.policy.holdBetweenTransfersMillis},
                 {"tradable", fields.policy.tradable},
                 {"price_ceiling_fen", fields.policy.priceCeiling.value()}};
  json document = {{"format", "jiancang-series-metadata-v1"},
                   {"title", fields.title},
                   {"description", fields.description},
                   {"media_sha256", fields.media.hex()},
                   {"media_type", current->mediaType},
                   {"edition_cap", fields.editionCap},
                   {"royalty_basis_points", fields.royaltyBasisPoints},
                   {"policy", policy},
                   {"rights", rightsJson(fields.rights)},
                   {"issuer", issuer->displayName},
                   {"licence_hash", issuer->licenceHash.hex()}};
  if (blindBox) {
    json contents = json::array();
    for (const BlindBoxItem& item : fields.blindBox) {
      contents.push_back({{"series_id", item.seriesId}, {"count", item.count}});
    }
    document["blind_box"] = {{"contents", contents},
                             {"reveal_deadline_ms", fields.revealDeadline.unixMillis()},
                             {"seed_commitment", seedCommitment.hex()}};
  }
  // A publication finished after a failure keeps the metadata its series was created with.
  const std::string metadata = current->seriesId != 0 ? current->metadata : document.dump();
  // Signed with the issuer's own key, inside the issuer's own request.
  auto key = accounts_.signingKey(userId);
  if (!key) return key.status();

  if (current->seriesId == 0) {
    chain::CreateSeries operation;
    operation.title = fields.title;
    operation.mediaHash = fields.media;
    operation.mediaType = current->mediaType;
    operation.metadataHash = core::sha256(core::asBytes(metadata));
    operation.licenceHash = issuer->licenceHash;
    operation.editionCap = fields.editionCap;
    operation.creator = issuer->address;
    operation.royaltyBasisPoints = fields.royaltyBasisPoints;
    operation.policy = fields.policy;
    operation.rights = fields.rights;
    auto outcome = chain_.submit(*key, std::move(operation));
    if (!outcome) return outcome.status();
    if (Status refused = outcome->refusal(); !refused.isOk()) return refused;
    current->seriesId = outcome->receipt.createdId;
    // Recorded at once: a blind box is public only once its contents are committed too.
    Status recorded = database_.transaction([&](SqlSession& session) -> Status {
      auto updated = session.execute(
          "UPDATE series_drafts SET metadata = ?, series_id = ?, publication_tx = ?, "
          "publication_height = ?, updated_at = ? WHERE id = ?",
          {metadata, static_cast<std::int64_t>(current->seriesId), bytesOf(outcome->txHash.view()),
           static_cast<std::int64_t>(outcome->height), clock_.now().unixMillis(), draftId});
      return updated ? Status() : updated.status();
    });
    if (!recorded.isOk()) return recorded;
  }

  if (blindBox) {
    chain::CommitBlindBox commit;
    commit.boxSeries = chain::SeriesId(current->seriesId);
    for (const BlindBoxItem& item : fields.blindBox) {
      commit.contents.push_back({chain::SeriesId(item.seriesId), item.count});
    }
    commit.seedCommitment = seedCommitment;
    commit.revealDeadline = fields.revealDeadline;
    auto outcome = chain_.submit(*key, std::move(commit));
    // The orderer refuses at admission what the chain would refuse: either way, the same reasons.
    Status refused = outcome ? outcome->refusal() : outcome.status();
    // Committed by an earlier attempt whose answer was lost: the same contents and seed.
    if (!refused.isOk() && refused.reason() != "blind-box-exists") return refused;
  }

  SeriesDraft published;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("UPDATE series_drafts SET state = ?, box_commitment = ?, updated_at = ? "
                    "WHERE id = ? RETURNING ") +
            kDraftColumns,
        {std::int64_t{static_cast<int>(SeriesState::kPublished)},
         blindBox ? SqlValue(bytesOf(seedCommitment.view())) : SqlValue(),
         clock_.now().unixMillis(), draftId});
    if (!rows) return rows.status();
    published = readDraft(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  return published;
}

core::Result<core::Hash256> Catalog::blindBoxSeed(std::int64_t draftId) {
  std::optional<core::Hash256> seed;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT box_seed FROM series_drafts WHERE id = ?", {draftId});
    if (!rows) return rows.status();
    if (!rows->empty() && !rows->front().isNull(0)) {
      if (auto hash = core::Hash256::fromView(rows->front().bytes(0))) seed = *hash;
    }
    return {};
  });
  if (!status.isOk()) return status;
  if (!seed)
    return core::notFound("no-box-seed",
                          "series draft " + std::to_string(draftId) + " has no blind-box seed");
  return *seed;
}

core::Result<SeriesDraft> Catalog::find(std::optional<std::int64_t> viewerId,
                                        std::int64_t draftId) {
  auto rows = list("id = ?", {draftId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchSeries(draftId);
  SeriesDraft draft = rows->front();
  if (draft.state == SeriesState::kPublished) return draft;
  if (!viewerId) return noSuchSeries(draftId);
  auto viewer = accounts_.user(*viewerId);
  if (!viewer) return noSuchSeries(draftId);
  if (viewer->hasRole(kRoleReviewer) || viewer->hasRole(kRoleOperator)) return draft;
  auto issuer = issuerOfUser(*viewerId);
  if (issuer && issuer->id == draft.issuerId) return draft;
  return noSuchSeries(draftId);
}

core::Result<std::vector<SeriesDraft>> Catalog::list(const std::string& where,
                                                     const std::vector<SqlValue>& parameters) {
  std::vector<SeriesDraft> out;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(std::string("SELECT ") + kDraftColumns +
                                  " FROM series_drafts WHERE " + where + " ORDER BY id",
                              parameters);
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) out.push_back(readDraft(row));
    return {};
  });
  if (!status.isOk()) return status;
  return out;
}

core::Result<std::vector<SeriesDraft>> Catalog::listOwn(std::int64_t userId) {
  auto issuer = issuerOfUser(userId);
  if (!issuer) return issuer.status();
  return list("issuer_id = ?", {issuer->id});
}

core::Result<std::vector<SeriesDraft>> Catalog::listInReview(std::int64_t reviewerId) {
  auto reviewer = accounts_.user(reviewerId);
  if (!reviewer) return reviewer.status();
  if (!reviewer->hasRole(kRoleReviewer)) {
    return permissionDenied("not-reviewer", "only reviewers see the review queue");
  }
  return list("state = ?", {std::int64_t{static_cast<int>(SeriesState::kInReview)}});
}

core::Result<std::vector<SeriesDraft>> Catalog::listPublished() {
  return list("state = ?", {std::int64_t{static_cast<int>(SeriesState::kPublished)}});
}

}  // namespace jiancang::platform
