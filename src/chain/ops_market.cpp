// Synthesis (合成), consignment-market settlements (寄售) and right redemption (核销).
#include <map>

#include <algorithm>

#include <chain/executor_internal.h>

namespace jiancang::chain::detail {

Status apply(TxContext& context, const CreateRecipe& op) {
  auto output = context.ownSeries(op.output);
  if (!output) return output.status();
  for (const SeriesCount& input : op.inputs) {
    auto series = context.series(input.series);
    if (!series) return series.status();
  }
  ChainHeadRecord head = context.head();
  RecipeRecord recipe;
  recipe.id = RecipeId(head.nextRecipeId++);
  recipe.issuer = context.signer;
  recipe.inputs = op.inputs;
  recipe.output = op.output;
  recipe.opensAt = op.opensAt;
  recipe.closesAt = op.closesAt;
  recipe.maxSyntheses = op.maxSyntheses;
  context.save(state_keys::recipe(recipe.id), recipe);
  context.save(state_keys::chainHead(), head);
  context.receipt.createdId = recipe.id.value();
  return {};
}

Status apply(TxContext& context, const Synthesise& op) {
  auto recipe = context.load<RecipeRecord>(state_keys::recipe(op.recipe));
  if (!recipe)
    return missing("recipe-not-found", "recipe " + op.recipe.toString() + " does not exist");
  if (context.now() < recipe->opensAt || !(context.now() < recipe->closesAt)) {
    return refused("recipe-not-open", "recipe " + op.recipe.toString() + " is open from " +
                                          std::to_string(recipe->opensAt.unixMillis()) + " to " +
                                          std::to_string(recipe->closesAt.unixMillis()) +
                                          " (unix ms)");
  }
  if (recipe->synthesised >= recipe->maxSyntheses) {
    return refused("recipe-exhausted", "recipe " + op.recipe.toString() + " has been used " +
                                           std::to_string(recipe->maxSyntheses) + " times");
  }
  std::map<SeriesId, std::uint32_t> offered;
  for (const TokenId& token : op.inputs) ++offered[token.series];
  std::map<SeriesId, std::uint32_t> wanted;
  for (const SeriesCount& input : recipe->inputs) wanted[input.series] = input.count;
  if (offered != wanted) {
    return refused("synthesis-inputs-mismatch",
                   "the tokens offered do not match recipe " + op.recipe.toString() + "'s inputs");
  }
  // Burn every input, then mint the output; any failure discards all of it.
  for (const TokenId& id : op.inputs) {
    auto token = context.signersToken(id);
    if (!token) return token.status();
    auto series = context.series(id.series);
    if (!series) return series.status();
    context.burnToken(id, *token);
    ++series->burned;
    context.save(state_keys::series(id.series), *series);
  }
  auto output = context.series(recipe->output);
  if (!output) return output.status();
  if (Status status = context.mintTokens(*output, {context.signer}, false); !status.isOk()) {
    return status;
  }
  context.save(state_keys::series(recipe->output), *output);
  ++recipe->synthesised;
  context.save(state_keys::recipe(op.recipe), *recipe);
  context.receipt.createdId = recipe->output.value();
  return {};
}

Status apply(TxContext& context, const SettleTrade& op) {
  if (Status status = context.requireRole(kRoleMarket, "market"); !status.isOk()) return status;
  auto token = context.liveToken(op.token);
  if (!token) return token.status();
  if (token->owner != op.seller) {
    return refused("seller-not-owner",
                   "token " + op.token.toString() + " does not belong to the seller");
  }
  if (context.account(op.seller).frozen) {
    return refused("account-frozen", "the seller's account is frozen");
  }
  auto series = context.series(op.token.series);
  if (!series) return series.status();
  const SeriesPolicy& policy = series->currentPolicy().policy;
  if (policy.priceCeiling.value() > 0 && op.price > policy.priceCeiling) {
    return refused("price-above-ceiling", "the price " + op.price.toYuanString() +
                                              " is above the series' ceiling of " +
                                              policy.priceCeiling.toYuanString() + " yuan");
  }
  auto royalty = op.price.share(series->royaltyBasisPoints);
  if (!royalty || *royalty != op.royalty) {
    return refused("royalty-mismatch", "the royalty must be " +
                                           std::to_string(series->royaltyBasisPoints) +
                                           " basis points of the price, rounded down");
  }
  Hash256 referenceHash = context.chain.crypto().hash(core::asBytes(op.paymentReference));
  Bytes referenceKey = state_keys::usedPaymentReference(referenceHash);
  if (context.exists(referenceKey)) {
    return refused("payment-already-settled",
                   "payment " + op.paymentReference + " has settled a trade already");
  }
  if (Status status = context.moveToken(op.token, *token, *series, op.buyer, true);
      !status.isOk()) {
    return status;
  }
  context.save(referenceKey, UsedMarkerRecord{context.height()});
  return {};
}

Status apply(TxContext& context, const RedeemRight& op) {
  if (Status status = context.requireRole(kRoleVerifier, "verifier"); !status.isOk()) return status;
  const RedemptionConsent& consent = op.consent;
  if (consent.verifier != context.signer) {
    return denied("consent-wrong-verifier", "the holder's consent names another verifier");
  }
  auto token = context.liveToken(op.token);
  if (!token) return token.status();
  if (core::addressOf(consent.holderKey) != token->owner) {
    return denied("consent-wrong-holder", "the consent was not signed by the token's holder");
  }
  if (context.now() > consent.expiresAt) {
    return refused("consent-expired", "the holder's consent (QR code) has expired");
  }
  Bytes message = redemptionConsentMessage(context.chain.chainId, op.token, op.rightId, consent);
  if (consent.holderKey.suite() != context.chain.suite ||
      !context.chain.crypto().verify(consent.holderKey, message, consent.signature)) {
    return denied("consent-bad-signature", "the holder's consent signature does not verify");
  }
  Bytes consentKey = state_keys::usedConsent(context.chain.crypto().hash(message));
  if (context.exists(consentKey)) {
    return refused("consent-already-used", "this consent (QR code) was used already");
  }
  if (token->frozen) {
    return refused("token-frozen",
                   "token " + op.token.toString() + " is frozen (" + token->frozenReason + ")");
  }
  auto series = context.series(op.token.series);
  if (!series) return series.status();
  auto right = std::find_if(series->rights.begin(), series->rights.end(),
                            [&](const RightDefinition& r) { return r.id == op.rightId; });
  if (right == series->rights.end()) {
    return missing("right-not-found", "series " + op.token.series.toString() + " has no right " +
                                          std::to_string(op.rightId));
  }
  auto index = static_cast<std::size_t>(right - series->rights.begin());
  if (index >= token->rightUsesLeft.size() || token->rightUsesLeft[index] == 0) {
    return refused("right-used-up", "right " + std::to_string(op.rightId) + " of token " +
                                        op.token.toString() + " has no uses left");
  }
  --token->rightUsesLeft[index];
  context.save(state_keys::token(op.token), *token);
  context.save(consentKey, UsedMarkerRecord{context.height()});
  context.receipt.count = token->rightUsesLeft[index];
  return {};
}

}  // namespace jiancang::chain::detail
