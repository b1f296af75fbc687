#include <platform/blind_boxes.h>

#include <chain/state_keys.h>

namespace jiancang::platform {

using core::Status;

core::Result<chain::BlindBoxRecord> BlindBoxes::record(std::uint64_t seriesId) const {
  auto bytes = chain_.ledger().get(chain::state_keys::blindBox(chain::SeriesId(seriesId)));
  if (!bytes) {
    return core::failedPrecondition("not-a-blind-box",
                                    "series " + std::to_string(seriesId) + " is not a blind box");
  }
  auto decoded = core::decode<chain::BlindBoxRecord>(*bytes);
  if (!decoded) return decoded.status();
  return std::move(decoded).value();
}

core::Result<chain::BlindBoxRecord> BlindBoxes::reveal(std::int64_t userId, std::int64_t draftId) {
  auto draft = catalog_.ownDraft(userId, draftId);
  if (!draft) return draft.status();
  if (!draft->fields.isBlindBox() || draft->state != SeriesState::kPublished) {
    return core::failedPrecondition(
        "not-a-blind-box", "series " + std::to_string(draftId) + " is not a published blind box");
  }
  auto box = record(draft->seriesId);
  if (!box) return box.status();
  if (box->stage == chain::BlindBoxStage::kRevealed) {
    return core::failedPrecondition("already-revealed", "this blind box was revealed already");
  }
  // Sealing ends the sale for good: no box sold or paid for may still be waiting for its mint.
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto open =
        session.query("SELECT COUNT(*) FROM drops WHERE series_draft_id = ? AND ends_at > ?",
                      {draftId, clock_.now().unixMillis()});
    if (!open) return open.status();
    if (open->front().integer(0) > 0) {
      return core::failedPrecondition("sale-still-open",
                                      "a drop of this blind box has not ended; reveal after it");
    }
    auto inFlight = session.query(
        "SELECT COUNT(*) FROM orders o JOIN drops d ON o.drop_id = d.id WHERE "
        "d.series_draft_id = ? AND o.state IN ('pending', 'paid', 'minting')",
        {draftId});
    if (!inFlight) return inFlight.status();
    if (inFlight->front().integer(0) > 0) {
      return core::failedPrecondition("orders-in-flight",
                                      std::to_string(inFlight->front().integer(0)) +
                                          " orders of this blind box are not paid or minted yet; "
                                          "reveal once they are settled");
    }
    return {};
  });
  if (!status.isOk()) return status;

  auto key = accounts_.signingKey(userId);
  if (!key) return key.status();
  const chain::SeriesId series(draft->seriesId);
  if (box->stage == chain::BlindBoxStage::kCommitted) {
    auto sealed = chain_.submit(*key, chain::SealBlindBox{series});
    if (!sealed) return sealed.status();
    if (Status refused = sealed->refusal(); !refused.isOk()) return refused;
  }
  auto seed = catalog_.blindBoxSeed(draftId);
  if (!seed) return seed.status();
  // Submitted after the seal committed, so it lands in a later block, as the chain requires.
  auto revealed = chain_.submit(*key, chain::RevealBlindBox{series, *seed});
  if (!revealed) return revealed.status();
  if (Status refused = revealed->refusal(); !refused.isOk()) return refused;
  return record(draft->seriesId);
}

core::Result<BoxOpening> BlindBoxes::open(std::int64_t userId, const chain::TokenId& box) {
  auto key = accounts_.signingKey(userId);
  if (!key) return key.status();
  auto outcome = chain_.submit(*key, chain::OpenBlindBox{box});
  if (!outcome) return outcome.status();
  if (Status refused = outcome->refusal(); !refused.isOk()) return refused;
  return BoxOpening{
      box,
      chain::TokenId{chain::SeriesId(outcome->receipt.createdId), outcome->receipt.firstSerial},
      outcome->txHash, outcome->height};
}

core::Result<BoxRefund> BlindBoxes::refund(std::int64_t userId, const chain::TokenId& box) {
  auto user = accounts_.user(userId);
  if (!user) return user.status();
  auto key = accounts_.signingKey(userId);
  if (!key) return key.status();
  auto outcome = chain_.submit(*key, chain::RefundBlindBox{box});
  // The orderer refuses at admission what the chain would refuse: either way, the same reasons.
  Status refused = outcome ? outcome->refusal() : outcome.status();
  if (refused.reason() == "token-burned") {
    // Burned by an earlier refund whose order refund failed? Only then is it refunded now.
    auto boxRecord = record(box.series.value());
    auto bytes = chain_.ledger().get(chain::state_keys::token(box));
    auto token = bytes ? core::decode<chain::TokenRecord>(*bytes)
                       : core::Result<chain::TokenRecord>(refused);
    if (!boxRecord || boxRecord->stage != chain::BlindBoxStage::kExpired || !token ||
        token->owner != user->address) {
      return refused;
    }
  } else if (!refused.isOk()) {
    return refused;
  }
  auto order = drops_.refundSoldToken(box.series.value(), box.serial,
                                      "blind box " + box.toString() + " was never revealed");
  if (!order) return order.status();
  return BoxRefund{box, std::move(order).value()};
}

}  // namespace jiancang::platform
