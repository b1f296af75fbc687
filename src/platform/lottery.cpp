#include <platform/lottery.h>

#include <chain/merkle_list.h>
#include <chain/state_keys.h>
#include <chain/transaction.h>
#include <platform/stored_transaction.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

core::Bytes bytesOf(core::ByteView view) { return core::Bytes(view.begin(), view.end()); }

Status noSuchDrop(std::int64_t id) {
  return core::notFound("no-such-drop", "there is no drop " + std::to_string(id));
}

// What the lottery steps read of a drop's row.
struct LotteryRow {
  std::int64_t dropId = 0;
  std::string mode;
  core::Timestamp startsAt;
  core::Timestamp endsAt;
  std::uint64_t stock = 0;
  std::uint64_t seriesId = 0;
  std::int64_t issuerUserId = 0;
  std::int64_t priceFen = 0;
  std::int64_t paymentWindowMs = 0;
  core::Hash256 seed;
  LotteryStatus status;
  std::optional<StoredTransaction> inFlight;
};

constexpr const char* kLotteryColumns =
    "id, mode, starts_at, ends_at, stock, series_id, issuer_user_id, price_fen, "
    "payment_window_ms, lottery_seed, lottery_commitment, lottery_state, lottery_root, "
    "lottery_entrants, lottery_winners, lottery_id, lottery_commit_tx, lottery_draw_tx, "
    "lottery_reason, lottery_tx_hash, lottery_signed_tx";

template <typename Fixed = core::Hash256>
std::optional<Fixed> hashAt(const SqlRow& row, std::size_t column) {
  if (row.isNull(column)) return std::nullopt;
  return Fixed::fromView(row.bytes(column));
}

core::Result<LotteryRow> loadLottery(SqlSession& session, std::int64_t dropId) {
  auto rows = session.query(std::string("SELECT ") + kLotteryColumns + " FROM drops WHERE id = ?",
                            {dropId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchDrop(dropId);
  const SqlRow& row = rows->front();
  LotteryRow lottery;
  lottery.dropId = row.integer(0);
  lottery.mode = row.text(1);
  if (lottery.mode != "lottery") {
    return core::failedPrecondition("not-a-lottery",
                                    "drop " + std::to_string(dropId) + " is not sold by lottery");
  }
  lottery.startsAt = core::Timestamp::fromUnixMillis(row.integer(2));
  lottery.endsAt = core::Timestamp::fromUnixMillis(row.integer(3));
  lottery.stock = static_cast<std::uint64_t>(row.integer(4));
  lottery.seriesId = static_cast<std::uint64_t>(row.integer(5));
  lottery.issuerUserId = row.integer(6);
  lottery.priceFen = row.integer(7);
  lottery.paymentWindowMs = row.integer(8);
  lottery.seed = hashAt(row, 9).value_or(core::Hash256());
  LotteryStatus& status = lottery.status;
  status.commitment = hashAt(row, 10).value_or(core::Hash256());
  status.state = row.text(11);
  status.root = hashAt(row, 12);
  status.entrants = static_cast<std::uint64_t>(row.isNull(13) ? 0 : row.integer(13));
  status.winners = static_cast<std::uint64_t>(row.isNull(14) ? 0 : row.integer(14));
  status.chainLotteryId = static_cast<std::uint64_t>(row.isNull(15) ? 0 : row.integer(15));
  status.commitTx = hashAt<core::TxHash>(row, 16);
  status.drawTx = hashAt<core::TxHash>(row, 17);
  status.reason = row.isNull(18) ? std::string() : row.text(18);
  // The seed is told once the chain has it (the draw committed).
  if (status.drawTx) status.seed = lottery.seed;
  if (auto hash = hashAt<core::TxHash>(row, 19))
    lottery.inFlight = StoredTransaction{*hash, row.bytes(20)};
  if (status.state == "open") {
    auto count = session.query("SELECT COUNT(*) FROM lottery_entries WHERE drop_id = ?", {dropId});
    if (!count) return count.status();
    status.entrants = static_cast<std::uint64_t>(count->front().integer(0));
  }
  return lottery;
}

core::Result<LotteryEntry> loadEntry(SqlSession& session, std::int64_t userId,
                                     std::int64_t dropId) {
  auto rows = session.query(
      "SELECT address, entered_at, entry_index, won, order_id FROM lottery_entries WHERE "
      "drop_id = ? AND user_id = ?",
      {dropId, userId});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return core::notFound("not-entered", "you have not entered this lottery");
  }
  const SqlRow& row = rows->front();
  LotteryEntry entry;
  entry.dropId = dropId;
  entry.address = core::Address::fromView(row.bytes(0)).value_or(core::Address());
  entry.enteredAt = core::Timestamp::fromUnixMillis(row.integer(1));
  if (!row.isNull(2)) entry.index = static_cast<std::uint64_t>(row.integer(2));
  entry.won = row.integer(3) != 0;
  entry.orderId = row.isNull(4) ? 0 : row.integer(4);
  return entry;
}

}  // namespace

core::Hash256 entrantLeaf(const core::CryptoSuite& suite, const core::Address& address) {
  return suite.hash({core::asBytes("jiancang/lottery-entrant/v1"), address.view()});
}

core::Result<LotteryStatus> loadLotteryStatus(SqlSession& session, std::int64_t dropId) {
  auto lottery = loadLottery(session, dropId);
  if (!lottery) return lottery.status();
  return lottery->status;
}

core::Result<LotteryEntry> Lotteries::enter(std::int64_t userId, std::int64_t dropId) {
  std::optional<core::Hash256> identity = accounts_.identityHash(userId);
  if (!identity) {
    return core::failedPrecondition("identity-required",
                                    "verify your real name (实名认证) before entering a lottery");
  }
  auto user = accounts_.user(userId);
  if (!user) return user.status();
  LotteryEntry entered;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto lottery = loadLottery(session, dropId);
    if (!lottery) return lottery.status();
    if (auto existing = loadEntry(session, userId, dropId)) {
      entered = *existing;
      return {};
    }
    const core::Timestamp now = clock_.now();
    if (now < lottery->startsAt) {
      return core::failedPrecondition("entries-not-open", "entries open when the drop starts");
    }
    // The state is read in this transaction: an entry can never slip in after the freeze.
    if (now >= lottery->endsAt || lottery->status.state != "open") {
      return core::failedPrecondition("entries-closed", "entries to this lottery have closed");
    }
    auto inserted = session.execute(
        "INSERT INTO lottery_entries (drop_id, user_id, identity_hash, address, entered_at) "
        "VALUES (?, ?, ?, ?, ?)",
        {dropId, userId, bytesOf(identity->view()), bytesOf(user->address.view()),
         now.unixMillis()});
    if (!inserted) return inserted.status();
    auto entry = loadEntry(session, userId, dropId);
    if (!entry) return entry.status();
    entered = *entry;
    return {};
  });
  if (!status.isOk()) return status;
  return entered;
}

core::Result<LotteryEntry> Lotteries::entry(std::int64_t userId, std::int64_t dropId) {
  LotteryEntry found;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto lottery = loadLottery(session, dropId);
    if (!lottery) return lottery.status();
    auto entry = loadEntry(session, userId, dropId);
    if (!entry) return entry.status();
    found = *entry;
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

core::Result<LotteryEntrants> Lotteries::entrants(std::int64_t dropId, std::uint64_t from,
                                                  std::uint64_t limit) {
  if (limit == 0 || limit > kMaxPage || from > static_cast<std::uint64_t>(INT64_MAX) - limit) {
    return core::invalidArgument("page-out-of-range",
                                 "a page is 1 to " + std::to_string(kMaxPage) + " entrants");
  }
  LotteryEntrants result;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto lottery = loadLottery(session, dropId);
    if (!lottery) return lottery.status();
    result.status = lottery->status;
    result.page.clear();
    auto rows = session.query(
        "SELECT entry_index, address, won FROM lottery_entries WHERE drop_id = ? AND "
        "entry_index >= ? AND entry_index < ? ORDER BY entry_index",
        {dropId, static_cast<std::int64_t>(from), static_cast<std::int64_t>(from + limit)});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      result.page.push_back({static_cast<std::uint64_t>(row.integer(0)),
                             core::Address::fromView(row.bytes(1)).value_or(core::Address()),
                             row.integer(2) != 0});
    }
    return {};
  });
  if (!status.isOk()) return status;
  return result;
}

core::Result<int> Lotteries::runDue() {
  std::vector<std::int64_t> due;
  Status status = database_.read([&](SqlSession& session) -> Status {
    due.clear();
    auto rows = session.query(
        "SELECT id FROM drops WHERE mode = 'lottery' AND ends_at <= ? AND lottery_state IN "
        "('open', 'committing', 'drawing', 'settling') ORDER BY id",
        {clock_.now().unixMillis()});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) due.push_back(row.integer(0));
    return {};
  });
  if (!status.isOk()) return status;
  int steps = 0;
  for (std::int64_t dropId : due) {
    // As far as it goes now; a step that has to wait for the chain ends the drop's turn.
    for (int guard = 0; guard < 8; ++guard) {
      auto moved = step(dropId);
      if (!moved) return moved.status();
      if (!*moved) break;
      ++steps;
    }
  }
  return steps;
}

core::Result<bool> Lotteries::step(std::int64_t dropId) {
  std::string state;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto lottery = loadLottery(session, dropId);
    if (!lottery) return lottery.status();
    state = lottery->status.state;
    return {};
  });
  if (!status.isOk()) return status;
  if (state == "open") return freeze(dropId);
  if (state == "committing") return sendTransaction(dropId, false);
  if (state == "drawing") return sendTransaction(dropId, true);
  if (state == "settling") return settle(dropId);
  return false;
}

core::Result<bool> Lotteries::freeze(std::int64_t dropId) {
  const core::CryptoSuite& suite = ledger_.parameters().crypto();
  bool moved = false;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    moved = false;
    auto lottery = loadLottery(session, dropId);
    if (!lottery) return lottery.status();
    if (lottery->status.state != "open" || clock_.now() < lottery->endsAt) return {};
    // Numbered in the order they entered; ties (the same millisecond) by account.
    auto rows = session.query(
        "SELECT user_id, address FROM lottery_entries WHERE drop_id = ? ORDER BY entered_at, "
        "user_id",
        {dropId});
    if (!rows) return rows.status();
    std::vector<core::Hash256> leaves;
    leaves.reserve(rows->size());
    for (std::size_t index = 0; index < rows->size(); ++index) {
      const SqlRow& row = (*rows)[index];
      auto address = core::Address::fromView(row.bytes(1));
      if (!address) {
        return Status(ErrorCode::kInternal, "lottery-entry-unreadable",
                      "an entry of drop " + std::to_string(dropId) + " has no valid address");
      }
      leaves.push_back(entrantLeaf(suite, *address));
      auto numbered = session.execute(
          "UPDATE lottery_entries SET entry_index = ? WHERE drop_id = ? AND user_id = ?",
          {static_cast<std::int64_t>(index), dropId, row.integer(0)});
      if (!numbered) return numbered.status();
    }
    const std::uint64_t entrants = leaves.size();
    const std::uint64_t winners = std::min<std::uint64_t>(lottery->stock, entrants);
    const core::Hash256 root = chain::listMerkleRoot(suite, leaves);
    // Nobody entered: nothing to draw.
    const std::string next = entrants == 0 ? "settled" : "committing";
    auto updated = session.execute(
        "UPDATE drops SET lottery_state = ?, lottery_root = ?, lottery_entrants = ?, "
        "lottery_winners = ? WHERE id = ? AND lottery_state = 'open'",
        {next, bytesOf(root.view()), static_cast<std::int64_t>(entrants),
         static_cast<std::int64_t>(winners), dropId});
    if (!updated) return updated.status();
    moved = *updated == 1;
    return {};
  });
  if (!status.isOk()) return status;
  return moved;
}

core::Result<bool> Lotteries::sendTransaction(std::int64_t dropId, bool drawing) {
  const char* state = drawing ? "drawing" : "committing";
  LotteryRow lottery;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto loaded = loadLottery(session, dropId);
    if (!loaded) return loaded.status();
    lottery = *loaded;
    return {};
  });
  if (!status.isOk()) return status;
  if (lottery.status.state != state) return false;

  if (!lottery.inFlight) {
    // Sign the step's transaction and record it before sending it.
    auto key = accounts_.signingKey(lottery.issuerUserId);
    if (!key) return key.status();
    const chain::ChainParameters& parameters = ledger_.parameters();
    chain::Operation operation;
    if (drawing) {
      operation = chain::DrawLottery{chain::LotteryId(lottery.status.chainLotteryId), lottery.seed};
    } else {
      operation = chain::CommitLottery{
          chain::SeriesId(lottery.seriesId), lottery.status.root.value_or(core::Hash256()),
          lottery.status.entrants, static_cast<std::uint32_t>(lottery.status.winners),
          lottery.status.commitment};
    }
    chain::SignedTransaction signedTransaction = chain::signTransaction(
        parameters,
        chain::Transaction{parameters.chainId, key->publicKey,
                           committedNonce(ledger_, core::addressOf(key->publicKey)),
                           std::move(operation)},
        key->secretKey);
    StoredTransaction stored{chain::transactionHash(parameters, signedTransaction),
                             core::encode(signedTransaction)};
    bool recorded = false;
    status = database_.transaction([&](SqlSession& session) -> Status {
      auto updated = session.execute(
          "UPDATE drops SET lottery_tx_hash = ?, lottery_signed_tx = ? WHERE id = ? AND "
          "lottery_state = ? AND lottery_tx_hash IS NULL",
          {bytesOf(stored.hash.view()), stored.signedTransaction, dropId, std::string(state)});
      if (!updated) return updated.status();
      recorded = *updated == 1;
      return {};
    });
    if (!status.isOk()) return status;
    if (!recorded) return true;  // another instance is sending one: follow it next round
    lottery.inFlight = stored;
  }

  StoredOutcome outcome = submitStored(ledger_, orderer_, *lottery.inFlight, commitWait_);
  const core::Bytes hash = bytesOf(lottery.inFlight->hash.view());
  std::string sql;
  std::vector<SqlValue> values;
  switch (outcome.kind) {
    case StoredOutcome::Kind::kWaiting:
      return false;
    case StoredOutcome::Kind::kLost:
      // It can never commit: the next step signs it again with a fresh nonce.
      sql =
          "UPDATE drops SET lottery_tx_hash = NULL, lottery_signed_tx = NULL WHERE id = ? AND "
          "lottery_tx_hash = ?";
      values = {dropId, hash};
      break;
    case StoredOutcome::Kind::kCommitted:
      if (!outcome.receipt.ok()) {
        sql =
            "UPDATE drops SET lottery_state = 'failed', lottery_reason = ?, lottery_tx_hash = "
            "NULL, lottery_signed_tx = NULL WHERE id = ? AND lottery_tx_hash = ?";
        values = {std::string(state) + " refused by the chain: " + outcome.receipt.reason, dropId,
                  hash};
      } else if (drawing) {
        sql =
            "UPDATE drops SET lottery_state = 'settling', lottery_draw_tx = ?, lottery_tx_hash "
            "= NULL, lottery_signed_tx = NULL WHERE id = ? AND lottery_tx_hash = ?";
        values = {hash, dropId, hash};
      } else {
        sql =
            "UPDATE drops SET lottery_state = 'drawing', lottery_id = ?, lottery_commit_tx = ?, "
            "lottery_tx_hash = NULL, lottery_signed_tx = NULL WHERE id = ? AND "
            "lottery_tx_hash = ?";
        values = {static_cast<std::int64_t>(outcome.receipt.createdId), hash, dropId, hash};
      }
      break;
  }
  status = database_.transaction([&](SqlSession& session) -> Status {
    auto updated = session.execute(sql, values);
    return updated ? Status() : updated.status();
  });
  if (!status.isOk()) return status;
  return true;
}

core::Result<bool> Lotteries::settle(std::int64_t dropId) {
  LotteryRow lottery;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto loaded = loadLottery(session, dropId);
    if (!loaded) return loaded.status();
    lottery = *loaded;
    return {};
  });
  if (!status.isOk()) return status;
  if (lottery.status.state != "settling") return false;
  // The winners are what the chain drew, not what this instance computes.
  auto bytes =
      ledger_.get(chain::state_keys::lottery(chain::LotteryId(lottery.status.chainLotteryId)));
  if (!bytes) {
    return Status(ErrorCode::kInternal, "lottery-missing",
                  "chain lottery " + std::to_string(lottery.status.chainLotteryId) + " is missing");
  }
  auto record = core::decode<chain::LotteryRecord>(*bytes);
  if (!record) return record.status();
  if (!record->drawn) return false;
  bool moved = false;
  status = database_.transaction([&](SqlSession& session) -> Status {
    moved = false;
    auto claimed = session.execute(
        "UPDATE drops SET lottery_state = 'settled', reserved = reserved + ? WHERE id = ? AND "
        "lottery_state = 'settling'",
        {static_cast<std::int64_t>(record->winners.size()), dropId});
    if (!claimed) return claimed.status();
    if (*claimed == 0) return {};  // settled by another instance
    const core::Timestamp now = clock_.now();
    const core::Timestamp deadline = now + core::Duration(lottery.paymentWindowMs);
    for (std::uint64_t index : record->winners) {
      auto entrant = session.query(
          "SELECT user_id, identity_hash FROM lottery_entries WHERE drop_id = ? AND "
          "entry_index = ?",
          {dropId, static_cast<std::int64_t>(index)});
      if (!entrant) return entrant.status();
      if (entrant->empty()) {
        return Status(
            ErrorCode::kInternal, "lottery-entry-missing",
            "drop " + std::to_string(dropId) + " has no entrant " + std::to_string(index));
      }
      const std::int64_t userId = entrant->front().integer(0);
      auto order = session.query(
          "INSERT INTO orders (drop_id, user_id, identity_hash, idempotency_key, amount_fen, "
          "state, created_at, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
          "RETURNING id",
          {dropId, userId, entrant->front().bytes(1), "lottery-" + std::to_string(dropId),
           lottery.priceFen, now.unixMillis(), deadline.unixMillis(), now.unixMillis()});
      if (!order) return order.status();
      const std::int64_t orderId = order->front().integer(0);
      auto event = session.execute(
          "INSERT INTO order_events (order_id, at, state, detail) VALUES (?, ?, 'pending', ?)",
          {orderId, now.unixMillis(),
           "won the lottery as entrant " + std::to_string(index) + "; pay before the deadline"});
      if (!event) return event.status();
      auto won = session.execute(
          "UPDATE lottery_entries SET won = 1, order_id = ? WHERE drop_id = ? AND user_id = ?",
          {orderId, dropId, userId});
      if (!won) return won.status();
    }
    moved = true;
    return {};
  });
  if (!status.isOk()) return status;
  return moved;
}

}  // namespace jiancang::platform
