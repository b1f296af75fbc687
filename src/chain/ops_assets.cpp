// Issuers, series, minting, gifts and burns.
#include <chain/executor_internal.h>

namespace jiancang::chain::detail {

Status apply(TxContext& context, const RegisterIssuer& op) {
  if (Status status = context.requireRole(kRoleAdmin, "admin"); !status.isOk()) return status;
  Bytes key = state_keys::issuer(op.issuer);
  if (context.exists(key)) {
    return refused("issuer-exists", "address " + op.issuer.hex() + " is already an issuer");
  }
  context.save(key, IssuerRecord{op.issuer, op.displayName, op.licenceHash, context.now()});
  return {};
}

Status apply(TxContext& context, const CreateSeries& op) {
  if (!context.exists(state_keys::issuer(context.signer))) {
    return denied("issuer-not-registered", "only a registered issuer can create a series");
  }
  ChainHeadRecord head = context.head();
  SeriesRecord series;
  series.id = SeriesId(head.nextSeriesId++);
  series.issuer = context.signer;
  series.title = op.title;
  series.mediaHash = op.mediaHash;
  series.mediaType = op.mediaType;
  series.metadataHash = op.metadataHash;
  series.licenceHash = op.licenceHash;
  series.editionCap = op.editionCap;
  series.creator = op.creator;
  series.royaltyBasisPoints = op.royaltyBasisPoints;
  series.policyVersions.push_back(PolicyVersion{1, context.height(), op.policy});
  series.rights = op.rights;
  series.createdAt = context.now();
  context.save(state_keys::series(series.id), series);
  context.save(state_keys::chainHead(), head);
  context.receipt.createdId = series.id.value();
  return {};
}

Status apply(TxContext& context, const UpdateSeriesPolicy& op) {
  auto series = context.ownSeries(op.series);
  if (!series) return series.status();
  if (series->policyVersions.size() >= limits::kMaxPolicyVersions) {
    return refused(
        "policy-versions-exhausted",
        "a series has at most " + std::to_string(limits::kMaxPolicyVersions) + " policy versions");
  }
  auto version = static_cast<std::uint32_t>(series->policyVersions.size() + 1);
  series->policyVersions.push_back(PolicyVersion{version, context.height(), op.policy});
  context.save(state_keys::series(op.series), *series);
  context.receipt.policyVersion = version;
  return {};
}

Status apply(TxContext& context, const Mint& op) {
  auto series = context.ownSeries(op.series);
  if (!series) return series.status();
  if (series->isBlindBox) {
    auto box = context.load<BlindBoxRecord>(state_keys::blindBox(op.series));
    if (box && box->stage != BlindBoxStage::kCommitted) {
      return refused("series-sealed",
                     "the blind-box sale of series " + op.series.toString() + " is closed");
    }
  }
  if (Status status = context.mintTokens(*series, op.recipients, false); !status.isOk()) {
    return status;
  }
  context.save(state_keys::series(op.series), *series);
  return {};
}

Status apply(TxContext& context, const Transfer& op) {
  auto token = context.signersToken(op.token);
  if (!token) return token.status();
  auto series = context.series(op.token.series);
  if (!series) return series.status();
  return context.moveToken(op.token, *token, *series, op.to, false);
}

Status apply(TxContext& context, const Burn& op) {
  auto token = context.signersToken(op.token);
  if (!token) return token.status();
  auto series = context.series(op.token.series);
  if (!series) return series.status();
  context.burnToken(op.token, *token);
  ++series->burned;
  context.save(state_keys::series(op.token.series), *series);
  return {};
}

}  // namespace jiancang::chain::detail
