#include <platform/minter.h>

#include <platform/stored_transaction.h>

namespace jiancang::platform {
namespace {

using core::Status;

core::Bytes bytesOf(core::ByteView view) { return core::Bytes(view.begin(), view.end()); }

}  // namespace

core::Result<int> Minter::runOnce(const DeliveredCallback& delivered) {
  int count = 0;
  // Batches in flight: claimed by this instance before a crash, or still waiting to commit.
  std::vector<Batch> inFlight;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    inFlight.clear();
    auto rows = session.query(
        "SELECT id, tx_hash, signed_tx FROM mint_batches WHERE state = 'signed' ORDER BY id", {});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      auto hash = core::TxHash::fromView(row.bytes(1));
      if (hash) inFlight.push_back({row.integer(0), *hash, row.bytes(2)});
    }
    return {};
  });
  if (!status.isOk()) return status;
  for (const Batch& batch : inFlight) {
    auto settled = settle(batch, delivered);
    if (!settled) return settled.status();
    count += *settled;
  }

  // Paid orders, by the series (and so the issuer key) they are minted with.
  std::vector<std::pair<std::uint64_t, std::int64_t>> work;
  status = database_.transaction([&](SqlSession& session) -> Status {
    work.clear();
    auto rows = session.query(
        "SELECT DISTINCT d.series_id, d.issuer_user_id FROM orders o JOIN drops d ON d.id = "
        "o.drop_id WHERE o.state = 'paid'",
        {});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      work.emplace_back(static_cast<std::uint64_t>(row.integer(0)), row.integer(1));
    }
    return {};
  });
  if (!status.isOk()) return status;
  for (const auto& [seriesId, issuerUserId] : work) {
    // A series' paid orders may need several batches.
    for (;;) {
      auto batch = claim(seriesId, issuerUserId);
      if (!batch) return batch.status();
      if (!batch->has_value()) break;
      auto settled = settle(**batch, delivered);
      if (!settled) return settled.status();
      count += *settled;
      if (*settled == 0) break;  // not committed yet: the next round settles it
    }
  }
  return count;
}

core::Result<std::optional<Minter::Batch>> Minter::claim(std::uint64_t seriesId,
                                                         std::int64_t issuerUserId) {
  auto key = accounts_.signingKey(issuerUserId);
  if (!key) return key.status();
  const core::Address signer = core::addressOf(key->publicKey);
  const chain::ChainParameters& parameters = ledger_.parameters();
  std::optional<Batch> claimed;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    claimed.reset();
    // One batch in flight per signer: nonces stay consecutive, never with a gap.
    auto busy =
        session.query("SELECT COUNT(*) FROM mint_batches WHERE signer = ? AND state = 'signed'",
                      {bytesOf(signer.view())});
    if (!busy) return busy.status();
    if (busy->front().integer(0) > 0) return {};
    auto rows = session.query(
        "SELECT o.id, u.address FROM orders o JOIN drops d ON d.id = o.drop_id JOIN users u ON "
        "u.id = o.user_id WHERE o.state = 'paid' AND d.series_id = ? ORDER BY o.id LIMIT ?",
        {static_cast<std::int64_t>(seriesId), static_cast<std::int64_t>(options_.maxBatch)});
    if (!rows) return rows.status();
    if (rows->empty()) return {};
    chain::Mint mint;
    mint.series = chain::SeriesId(seriesId);
    std::vector<std::int64_t> orderIds;
    for (const SqlRow& row : *rows) {
      auto address = core::Address::fromView(row.bytes(1));
      if (!address) continue;
      mint.recipients.push_back(*address);
      orderIds.push_back(row.integer(0));
    }
    const std::uint64_t nonce = committedNonce(ledger_, signer);
    chain::SignedTransaction signedTransaction = chain::signTransaction(
        parameters, chain::Transaction{parameters.chainId, key->publicKey, nonce, std::move(mint)},
        key->secretKey);
    const core::TxHash hash = chain::transactionHash(parameters, signedTransaction);
    const core::Bytes bytes = core::encode(signedTransaction);
    const core::Timestamp now = clock_.now();
    auto batch = session.query(
        "INSERT INTO mint_batches (signer, nonce, series_id, tx_hash, signed_tx, state, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'signed', ?) RETURNING id",
        {bytesOf(signer.view()), static_cast<std::int64_t>(nonce),
         static_cast<std::int64_t>(seriesId), bytesOf(hash.view()), bytes, now.unixMillis()});
    if (!batch) return batch.status();
    const std::int64_t batchId = batch->front().integer(0);
    for (std::size_t index = 0; index < orderIds.size(); ++index) {
      auto updated = session.execute(
          "UPDATE orders SET mint_batch_id = ?, mint_index = ?, mint_attempts = mint_attempts + "
          "1 WHERE id = ?",
          {batchId, static_cast<std::int64_t>(index), orderIds[index]});
      if (!updated) return updated.status();
      Status moved = recordOrderState(session, orderIds[index], OrderState::kMinting,
                                      "in mint transaction " + hash.hex(), now);
      if (!moved.isOk()) return moved;
    }
    claimed = Batch{batchId, hash, bytes};
    return {};
  });
  // Another instance claimed the same nonce first: it mints these, or the next round does.
  if (status.reason() == "sql-unique-violation") return std::optional<Batch>();
  if (!status.isOk()) return status;
  return claimed;
}

core::Result<int> Minter::settle(const Batch& batch, const DeliveredCallback& delivered) {
  StoredOutcome outcome =
      submitStored(ledger_, orderer_, {batch.hash, batch.signedTransaction}, options_.commitWait);
  switch (outcome.kind) {
    case StoredOutcome::Kind::kCommitted:
      return finish(batch, outcome.height, outcome.receipt, delivered);
    case StoredOutcome::Kind::kLost: {
      Status abandoned = abandon(batch, outcome.why);
      if (!abandoned.isOk()) return abandoned;
      return 0;
    }
    case StoredOutcome::Kind::kWaiting:
      break;
  }
  return 0;
}

core::Status Minter::abandon(const Batch& batch, const std::string& why) {
  return database_.transaction([&](SqlSession& session) -> Status {
    auto updated = session.execute(
        "UPDATE mint_batches SET state = 'abandoned', reason = ? WHERE id = ? AND state = "
        "'signed'",
        {why, batch.id});
    if (!updated) return updated.status();
    if (*updated == 0) return {};
    auto orders = session.query("SELECT id FROM orders WHERE mint_batch_id = ?", {batch.id});
    if (!orders) return orders.status();
    for (const SqlRow& row : *orders) {
      auto cleared =
          session.execute("UPDATE orders SET mint_batch_id = NULL, mint_index = NULL WHERE id = ?",
                          {row.integer(0)});
      if (!cleared) return cleared.status();
      Status moved =
          recordOrderState(session, row.integer(0), OrderState::kPaid,
                           "mint transaction abandoned (" + why + "); minting again", clock_.now());
      if (!moved.isOk()) return moved;
    }
    return {};
  });
}

core::Result<int> Minter::finish(const Batch& batch, std::uint64_t height,
                                 const chain::Receipt& receipt,
                                 const DeliveredCallback& delivered) {
  std::vector<std::int64_t> deliveredIds;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    deliveredIds.clear();
    auto updated = session.execute(
        "UPDATE mint_batches SET state = ?, height = ?, first_serial = ?, reason = ? WHERE id = "
        "? AND state = 'signed'",
        {std::string(receipt.ok() ? "committed" : "refused"), static_cast<std::int64_t>(height),
         static_cast<std::int64_t>(receipt.firstSerial), receipt.reason, batch.id});
    if (!updated) return updated.status();
    if (*updated == 0) return {};  // settled already (by another instance)
    auto orders = session.query(
        "SELECT id, mint_index, mint_attempts FROM orders WHERE mint_batch_id = ? ORDER BY "
        "mint_index",
        {batch.id});
    if (!orders) return orders.status();
    const core::Timestamp now = clock_.now();
    for (const SqlRow& row : *orders) {
      const std::int64_t orderId = row.integer(0);
      if (receipt.ok()) {
        const auto serial = receipt.firstSerial + static_cast<std::uint64_t>(row.integer(1));
        auto set = session.execute("UPDATE orders SET serial = ? WHERE id = ?",
                                   {static_cast<std::int64_t>(serial), orderId});
        if (!set) return set.status();
        Status moved = recordOrderState(
            session, orderId, OrderState::kDelivered,
            "minted serial " + std::to_string(serial) + " in block " + std::to_string(height), now);
        if (!moved.isOk()) return moved;
        deliveredIds.push_back(orderId);
        continue;
      }
      const bool giveUp = row.integer(2) >= options_.maxAttempts;
      if (!giveUp) {
        auto cleared = session.execute(
            "UPDATE orders SET mint_batch_id = NULL, mint_index = NULL WHERE id = ?", {orderId});
        if (!cleared) return cleared.status();
      }
      Status moved =
          recordOrderState(session, orderId, giveUp ? OrderState::kMintFailed : OrderState::kPaid,
                           "the chain refused the mint (" + receipt.reason + ")" +
                               (giveUp ? "; an operator will refund it" : "; trying again"),
                           now);
      if (!moved.isOk()) return moved;
    }
    return {};
  });
  if (!status.isOk()) return status;
  if (delivered) {
    for (std::int64_t orderId : deliveredIds) {
      if (auto order = drops_.orderById(orderId); order) delivered(*order);
    }
  }
  return static_cast<int>(deliveredIds.size());
}

}  // namespace jiancang::platform
