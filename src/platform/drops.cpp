#include <platform/drops.h>

#include <algorithm>
#include <array>
#include <set>

#include <chain/state_keys.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

constexpr std::size_t kMaxTitleBytes = 100;
constexpr std::int64_t kMaxPriceFen = 100'000'000;  // 1,000,000 yuan
constexpr std::uint32_t kMaxPerIdentityLimit = 100;
constexpr std::size_t kMaxIdempotencyKeyBytes = 64;
// How long a drop seen sold out is answered so without asking the database. With a database
// shared by several instances, another may release a copy at any time: a second. With one of
// its own (the hint then carries the drop's order keys), this instance is the only writer and
// every release here forgets the hint at once; the time is only a safety net, and refreshing it
// re-reads every order of the drop, which once a second cost the crowd a twentieth of the
// server's time.
constexpr std::int64_t kSoldOutHintMillis = 1'000;
constexpr std::int64_t kExclusiveSoldOutHintMillis = 30'000;
constexpr int kExpireBatch = 500;
constexpr std::size_t kMaxWhitelist = 10'000;
constexpr const char* kPriorityCheck = "priority-check";  // never leaves placeOrder
constexpr std::size_t kHoldingsPage = 1'000;
constexpr int kMaxHoldingsPages = 20;  // a collector with more than 20,000 tokens is not checked

constexpr std::array<std::string_view, 7> kStateNames{
    "pending", "paid", "minting", "delivered", "expired", "refunded", "mint-failed"};

// States that hold a copy of the stock (and count against the identity's limit).
constexpr const char* kHoldingStates = "('pending', 'paid', 'minting', 'delivered', 'mint-failed')";

Status notOperator(const char* what) {
  return {ErrorCode::kPermissionDenied, "not-operator", std::string("only operators ") + what};
}

Status noSuchDrop(std::int64_t id) {
  return core::notFound("no-such-drop", "there is no drop " + std::to_string(id));
}

Status noSuchOrder(std::int64_t id) {
  return core::notFound("no-such-order", "there is no order " + std::to_string(id));
}

std::string merchantReference(std::int64_t orderId) { return "order-" + std::to_string(orderId); }

constexpr const char* kDropColumns =
    "id, series_draft_id, series_id, issuer_user_id, title, price_fen, stock, reserved, "
    "per_identity_limit, starts_at, ends_at, payment_window_ms, created_by, created_at, "
    "admit_per_second, queue_seed, queue_commitment, queue_drawn_at, priority_starts_at, "
    "priority_series_id, (SELECT COUNT(*) FROM drop_whitelist w WHERE w.drop_id = drops.id), "
    "mode";

constexpr std::array<std::string_view, 3> kModeNames{"first-come", "lottery", "airdrop"};

Drop readDrop(const SqlRow& row) {
  Drop drop;
  drop.id = row.integer(0);
  drop.seriesDraftId = row.integer(1);
  drop.seriesId = static_cast<std::uint64_t>(row.integer(2));
  drop.issuerUserId = row.integer(3);
  drop.title = row.text(4);
  drop.price = core::Fen(row.integer(5));
  drop.stock = static_cast<std::uint64_t>(row.integer(6));
  drop.reserved = static_cast<std::uint64_t>(row.integer(7));
  drop.perIdentityLimit = static_cast<std::uint32_t>(row.integer(8));
  drop.startsAt = core::Timestamp::fromUnixMillis(row.integer(9));
  drop.endsAt = core::Timestamp::fromUnixMillis(row.integer(10));
  drop.paymentWindow = core::Duration(row.integer(11));
  drop.createdBy = row.integer(12);
  drop.createdAt = core::Timestamp::fromUnixMillis(row.integer(13));
  drop.queue.admitPerSecond = static_cast<std::uint32_t>(row.integer(14));
  drop.queue.enabled = !row.isNull(15);
  if (drop.queue.enabled) {
    drop.queue.commitment = core::Hash256::fromView(row.bytes(16)).value_or(core::Hash256());
    if (!row.isNull(17)) {
      // The seed is told only once the places are drawn.
      drop.queue.drawnAt = core::Timestamp::fromUnixMillis(row.integer(17));
      drop.queue.seed = core::Hash256::fromView(row.bytes(15));
    }
  }
  if (!row.isNull(18)) {
    PriorityWindow window;
    window.startsAt = core::Timestamp::fromUnixMillis(row.integer(18));
    window.holdersOfSeries = static_cast<std::uint64_t>(row.integer(19));
    window.whitelistSize = static_cast<std::uint64_t>(row.integer(20));
    drop.priority = window;
  }
  drop.mode = parseDropMode(row.text(21)).value_or(DropMode::kFirstCome);
  return drop;
}

// A row read with readDrop(), with a lottery's progress added.
Status completeDrop(SqlSession& session, Drop* drop) {
  if (drop->mode != DropMode::kLottery) return {};
  auto lottery = loadLotteryStatus(session, drop->id);
  if (!lottery) return lottery.status();
  drop->lottery = *lottery;
  return {};
}

core::Result<Drop> loadDrop(SqlSession& session, std::int64_t dropId) {
  auto rows =
      session.query(std::string("SELECT ") + kDropColumns + " FROM drops WHERE id = ?", {dropId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchDrop(dropId);
  Drop drop = readDrop(rows->front());
  if (Status completed = completeDrop(session, &drop); !completed.isOk()) return completed;
  return drop;
}

// The series' issuer, if `wanted` more copies fit under its cap beside what is already promised:
// the copies minted on chain, the copies the chain holds for committed blind boxes (`reserved`),
// and the stock of its drops not minted yet ("stock-over-cap" otherwise).
core::Result<std::int64_t> issuerWithRoom(SqlSession& session, const SeriesDraft& series,
                                          const chain::SeriesRecord& onChain,
                                          std::uint64_t wanted) {
  auto issuer = session.query("SELECT user_id FROM issuers WHERE id = ?", {series.issuerId});
  if (!issuer) return issuer.status();
  if (issuer->empty()) return core::notFound("no-such-issuer", "the series has no issuer");
  auto drops = session.query(
      "SELECT CAST(COALESCE(SUM(stock), 0) AS BIGINT), (SELECT COUNT(*) FROM orders o JOIN drops "
      "d ON d.id = o.drop_id WHERE d.series_id = ? AND o.serial IS NOT NULL) FROM drops WHERE "
      "series_id = ?",
      {static_cast<std::int64_t>(series.seriesId), static_cast<std::int64_t>(series.seriesId)});
  if (!drops) return drops.status();
  const auto stock = static_cast<std::uint64_t>(drops->front().integer(0));
  const auto mintedByDrops = static_cast<std::uint64_t>(drops->front().integer(1));
  const std::uint64_t unminted = stock - std::min(stock, mintedByDrops);
  const std::uint64_t promised = onChain.minted + onChain.reserved + unminted;
  const std::uint64_t cap = series.fields.editionCap;
  if (promised + wanted > cap) {
    return core::failedPrecondition(
        "stock-over-cap", "of the series' " + std::to_string(cap) + " copies, " +
                              std::to_string(onChain.minted) + " are minted, " +
                              std::to_string(onChain.reserved) + " held for blind boxes and " +
                              std::to_string(unminted) + " in drops; at most " +
                              std::to_string(cap - std::min(cap, promised)) + " are left");
  }
  return issuer->front().integer(0);
}

}  // namespace

bool validIdempotencyKey(std::string_view key) {
  return !key.empty() && key.size() <= kMaxIdempotencyKeyBytes &&
         std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string_view orderStateName(OrderState state) {
  return kStateNames.at(static_cast<std::size_t>(state));
}

std::string_view dropModeName(DropMode mode) {
  return kModeNames.at(static_cast<std::size_t>(mode));
}

std::optional<DropMode> parseDropMode(std::string_view name) {
  for (std::size_t i = 0; i < kModeNames.size(); ++i) {
    if (kModeNames[i] == name) return static_cast<DropMode>(i);
  }
  return std::nullopt;
}

std::optional<OrderState> parseOrderState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<OrderState>(i);
  }
  return std::nullopt;
}

Status recordOrderState(SqlSession& session, std::int64_t orderId, OrderState state,
                        const std::string& detail, core::Timestamp at) {
  auto updated = session.execute("UPDATE orders SET state = ?, updated_at = ? WHERE id = ?",
                                 {std::string(orderStateName(state)), at.unixMillis(), orderId});
  if (!updated) return updated.status();
  auto inserted =
      session.execute("INSERT INTO order_events (order_id, at, state, detail) VALUES (?, ?, ?, ?)",
                      {orderId, at.unixMillis(), std::string(orderStateName(state)), detail});
  return inserted ? Status() : inserted.status();
}

core::Result<Drop> Drops::create(std::int64_t operatorId, const DropFields& fields) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) return notOperator("configure drops");
  if (fields.title.empty() || fields.title.size() > kMaxTitleBytes) {
    return core::invalidArgument("title-length", "a drop's title is 1 to 100 bytes");
  }
  if (fields.price.value() < 1 || fields.price.value() > kMaxPriceFen) {
    return core::invalidArgument("price-out-of-range", "a price is 0.01 to 1,000,000 yuan");
  }
  if (fields.perIdentityLimit < 1 || fields.perIdentityLimit > kMaxPerIdentityLimit) {
    return core::invalidArgument("limit-out-of-range", "the limit per identity is 1 to " +
                                                           std::to_string(kMaxPerIdentityLimit));
  }
  if (fields.endsAt <= fields.startsAt) {
    return core::invalidArgument("window-invalid", "a drop ends after it starts");
  }
  if (fields.paymentWindow < std::chrono::seconds(10) ||
      fields.paymentWindow > std::chrono::minutes(60)) {
    return core::invalidArgument("payment-window-out-of-range",
                                 "the time to pay is 10 seconds to 60 minutes");
  }
  if (fields.admitPerSecond < 1 || fields.admitPerSecond > WaitingRoom::kMaxAdmitPerSecond) {
    return core::invalidArgument("admit-rate-out-of-range",
                                 "the waiting room lets in 1 to 100,000 buyers a second");
  }
  if (fields.priority) {
    const PriorityWindow& window = *fields.priority;
    bool phonesValid = window.whitelist.size() <= kMaxWhitelist;
    for (const std::string& phone : window.whitelist)
      phonesValid = phonesValid && validPhone(phone);
    if (window.startsAt >= fields.startsAt || !phonesValid ||
        (window.holdersOfSeries == 0 && window.whitelist.empty())) {
      return core::invalidArgument(
          "priority-window-invalid",
          "a priority window starts before the drop and names the holders of a series, a "
          "whitelist of at most 10,000 mobile numbers, or both");
    }
  }
  const bool lottery = fields.mode == DropMode::kLottery;
  if (fields.mode == DropMode::kAirdrop ||
      (lottery && (fields.priority || fields.perIdentityLimit != 1 ||
                   fields.stock > chain::limits::kMaxLotteryWinners))) {
    return core::invalidArgument(
        "mode-invalid",
        fields.mode == DropMode::kAirdrop
            ? "airdrops are made with the airdrop request"
            : "a lottery has no priority window, one copy per identity and at most " +
                  std::to_string(chain::limits::kMaxLotteryWinners) + " winners");
  }
  const QueueSeed seed = waitingRoom_.newSeed();
  const core::Bytes seedBytes(seed.seed.view().begin(), seed.seed.view().end());
  const core::Bytes commitmentBytes(seed.commitment.view().begin(), seed.commitment.view().end());
  auto series = catalog_.find(std::nullopt, fields.seriesDraftId);
  if (!series) return series.status();
  if (series->state != SeriesState::kPublished) {
    return core::failedPrecondition("series-not-published", "the series is not published");
  }
  if (fields.stock < 1 || fields.stock > series->fields.editionCap) {
    return core::invalidArgument("stock-out-of-range",
                                 "stock is 1 to the series' edition cap (" +
                                     std::to_string(series->fields.editionCap) + ")");
  }
  auto onChain = seriesOnChain(series->seriesId);
  if (!onChain) return onChain.status();
  Drop created;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto issuer = issuerWithRoom(session, *series, *onChain, fields.stock);
    if (!issuer) return issuer.status();
    auto rows = session.query(
        std::string("INSERT INTO drops (series_draft_id, series_id, issuer_user_id, title, "
                    "price_fen, stock, per_identity_limit, starts_at, ends_at, payment_window_ms, "
                    "created_by, created_at, admit_per_second, queue_seed, queue_commitment, "
                    "priority_starts_at, priority_series_id, mode, lottery_seed, "
                    "lottery_commitment, lottery_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ") +
            kDropColumns,
        {fields.seriesDraftId, static_cast<std::int64_t>(series->seriesId), *issuer, fields.title,
         fields.price.value(), static_cast<std::int64_t>(fields.stock),
         std::int64_t{fields.perIdentityLimit}, fields.startsAt.unixMillis(),
         fields.endsAt.unixMillis(), fields.paymentWindow.count(), operatorId,
         clock_.now().unixMillis(), std::int64_t{fields.admitPerSecond},
         // A lottery's seed decides its winners, a first-come drop's its queue: never both.
         lottery ? SqlValue() : SqlValue(seedBytes),
         lottery ? SqlValue() : SqlValue(commitmentBytes),
         fields.priority ? SqlValue(fields.priority->startsAt.unixMillis()) : SqlValue(),
         static_cast<std::int64_t>(fields.priority ? fields.priority->holdersOfSeries : 0),
         std::string(dropModeName(fields.mode)), lottery ? SqlValue(seedBytes) : SqlValue(),
         lottery ? SqlValue(commitmentBytes) : SqlValue(),
         lottery ? SqlValue(std::string("open")) : SqlValue()});
    if (!rows) return rows.status();
    created = readDrop(rows->front());
    if (Status completed = completeDrop(session, &created); !completed.isOk()) return completed;
    if (fields.priority) {
      std::set<std::string> phones(fields.priority->whitelist.begin(),
                                   fields.priority->whitelist.end());
      for (const std::string& phone : phones) {
        auto listed = session.execute("INSERT INTO drop_whitelist (drop_id, phone) VALUES (?, ?)",
                                      {created.id, phone});
        if (!listed) return listed.status();
      }
      created.priority->whitelistSize = phones.size();
    }
    return {};
  });
  if (!status.isOk()) return status;
  return created;
}

core::Result<chain::SeriesRecord> Drops::seriesOnChain(std::uint64_t seriesId) const {
  auto bytes = ledger_.get(chain::state_keys::series(chain::SeriesId(seriesId)));
  if (!bytes) {
    return core::notFound("no-such-series",
                          "chain series " + std::to_string(seriesId) + " does not exist");
  }
  return core::decode<chain::SeriesRecord>(*bytes);
}

Status Drops::airdropRecipients(const AirdropFields& fields, std::vector<std::int64_t>* users,
                                std::vector<AirdropSkip>* skipped) {
  // Who receives: phone numbers as given, or the chain addresses holding the series at the
  // height (read from every token's history of owners).
  std::vector<std::string> phones = fields.phones;
  std::vector<core::Address> addresses;
  if (fields.holdersOfSeries != 0) {
    auto series = seriesOnChain(fields.holdersOfSeries);
    if (!series) return series.status();
    std::set<core::Address> holders;
    for (std::uint64_t serial = 1; serial <= series->minted; ++serial) {
      std::optional<core::Address> owner;
      std::string cursor;
      bool past = false;
      do {
        auto history = ledger_.tokenHistory({chain::SeriesId(fields.holdersOfSeries), serial},
                                            cursor, kHoldingsPage);
        if (!history) return history.status();
        for (const ledger::OwnershipEvent& event : history->items) {
          if (event.height > fields.atHeight) {
            past = true;
            break;
          }
          owner = event.kind == ledger::OwnershipEvent::Kind::kBurn
                      ? std::nullopt
                      : std::optional<core::Address>(event.to);
        }
        cursor = history->nextCursor;
      } while (!past && !cursor.empty());
      if (owner && holders.insert(*owner).second) addresses.push_back(*owner);
    }
  }
  return database_.transaction([&](SqlSession& session) -> Status {
    users->clear();
    skipped->clear();
    std::set<std::int64_t> seen;
    auto take = [&](const std::string& shown, core::Result<std::vector<SqlRow>> rows) -> Status {
      if (!rows) return rows.status();
      if (rows->empty()) {
        skipped->push_back({shown, "no-such-account"});
      } else if (rows->front().isNull(1)) {
        skipped->push_back({shown, "identity-required"});
      } else if (seen.insert(rows->front().integer(0)).second) {
        users->push_back(rows->front().integer(0));
      }
      return {};
    };
    for (const std::string& phone : phones) {
      Status taken = take(
          phone, session.query("SELECT id, identity_hash FROM users WHERE phone = ?", {phone}));
      if (!taken.isOk()) return taken;
    }
    for (const core::Address& address : addresses) {
      Status taken =
          take(address.hex(),
               session.query("SELECT id, identity_hash FROM users WHERE address = ?",
                             {core::Bytes(address.view().begin(), address.view().end())}));
      if (!taken.isOk()) return taken;
    }
    return {};
  });
}

core::Result<Airdrop> Drops::airdrop(std::int64_t operatorId, const AirdropFields& fields) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) return notOperator("make airdrops");
  if (fields.title.empty() || fields.title.size() > kMaxTitleBytes) {
    return core::invalidArgument("title-length", "an airdrop's title is 1 to 100 bytes");
  }
  bool phonesValid = fields.phones.size() <= kMaxWhitelist;
  for (const std::string& phone : fields.phones) phonesValid = phonesValid && validPhone(phone);
  const bool byList = !fields.phones.empty() && fields.holdersOfSeries == 0;
  const bool byHolders = fields.phones.empty() && fields.holdersOfSeries != 0 &&
                         fields.atHeight <= ledger_.head().height;
  if (!phonesValid || (!byList && !byHolders)) {
    return core::invalidArgument(
        "recipients-invalid",
        "an airdrop goes to a list of 1 to 10,000 mobile numbers, or to the holders of a chain "
        "series at a height no later than the chain's head");
  }
  auto series = catalog_.find(std::nullopt, fields.seriesDraftId);
  if (!series) return series.status();
  if (series->state != SeriesState::kPublished) {
    return core::failedPrecondition("series-not-published", "the series is not published");
  }
  std::vector<std::int64_t> recipients;
  Airdrop made;
  if (Status found = airdropRecipients(fields, &recipients, &made.skipped); !found.isOk()) {
    return found;
  }
  if (recipients.empty()) {
    return core::failedPrecondition("no-recipients",
                                    "none of the recipients has a real-name verified account");
  }
  auto onChain = seriesOnChain(series->seriesId);
  if (!onChain) return onChain.status();
  const auto count = static_cast<std::int64_t>(recipients.size());
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    made.orderIds.clear();
    auto issuer = issuerWithRoom(session, *series, *onChain, recipients.size());
    if (!issuer) return issuer.status();
    const core::Timestamp now = clock_.now();
    // Given at once: a window of one millisecond, every copy reserved by its order.
    auto rows = session.query(
        std::string("INSERT INTO drops (series_draft_id, series_id, issuer_user_id, title, "
                    "price_fen, stock, reserved, per_identity_limit, starts_at, ends_at, "
                    "payment_window_ms, created_by, created_at, mode) VALUES (?, ?, ?, ?, 0, ?, "
                    "?, 1, ?, ?, 0, ?, ?, 'airdrop') RETURNING ") +
            kDropColumns,
        {fields.seriesDraftId, static_cast<std::int64_t>(series->seriesId), *issuer, fields.title,
         count, count, now.unixMillis(), now.unixMillis() + 1, operatorId, now.unixMillis()});
    if (!rows) return rows.status();
    made.drop = readDrop(rows->front());
    for (std::int64_t userId : recipients) {
      auto order = session.query(
          "INSERT INTO orders (drop_id, user_id, identity_hash, idempotency_key, amount_fen, "
          "state, created_at, expires_at, updated_at) SELECT ?, id, identity_hash, ?, 0, 'paid', "
          "?, ?, ? FROM users WHERE id = ? RETURNING id",
          {made.drop.id, "airdrop-" + std::to_string(made.drop.id), now.unixMillis(),
           now.unixMillis(), now.unixMillis(), userId});
      if (!order) return order.status();
      if (order->empty()) return core::notFound("no-such-user", "a recipient's account is gone");
      const std::int64_t orderId = order->front().integer(0);
      auto event = session.execute(
          "INSERT INTO order_events (order_id, at, state, detail) VALUES (?, ?, 'paid', ?)",
          {orderId, now.unixMillis(), "airdropped: " + fields.title + "; minting"});
      if (!event) return event.status();
      made.orderIds.push_back(orderId);
    }
    return {};
  });
  if (!status.isOk()) return status;
  return made;
}

core::Result<Drop> Drops::find(std::int64_t dropId) {
  Drop drop;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto loaded = loadDrop(session, dropId);
    if (!loaded) return loaded.status();
    drop = *loaded;
    return {};
  });
  if (!status.isOk()) return status;
  return drop;
}

core::Result<std::vector<Drop>> Drops::list() {
  std::vector<Drop> drops;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    drops.clear();
    auto rows = session.query(
        std::string("SELECT ") + kDropColumns + " FROM drops ORDER BY starts_at DESC, id DESC", {});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      drops.push_back(readDrop(row));
      if (Status completed = completeDrop(session, &drops.back()); !completed.isOk()) {
        return completed;
      }
    }
    return {};
  });
  if (!status.isOk()) return status;
  return drops;
}

void Drops::noteAvailable(std::int64_t dropId, std::int64_t available,
                          std::optional<OrderKeys> orders) {
  std::lock_guard lock(hintsMutex_);
  hints_[dropId] = {available, clock_.now().unixMillis(), std::move(orders)};
}

bool Drops::knownSoldOut(std::int64_t dropId) {
  std::lock_guard lock(hintsMutex_);
  ++attempts_[dropId];
  if (stockGate_ != nullptr) return false;  // the gate answers instead
  auto hint = hints_.find(dropId);
  return hint != hints_.end() && hint->second.available <= 0 &&
         clock_.now().unixMillis() - hint->second.seenAtMillis < hintMillis(hint->second);
}

core::Result<Order> Drops::loadOrder(SqlSession& session, std::int64_t orderId, bool withHistory) {
  auto rows = session.query(
      "SELECT o.id, o.drop_id, o.user_id, o.idempotency_key, o.amount_fen, o.state, "
      "o.created_at, o.expires_at, o.updated_at, o.payment_id, o.payment_url, o.serial, "
      "d.series_id, b.tx_hash, b.height FROM orders o JOIN drops d ON d.id = o.drop_id LEFT JOIN "
      "mint_batches b ON b.id = o.mint_batch_id WHERE o.id = ?",
      {orderId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchOrder(orderId);
  const SqlRow& row = rows->front();
  Order order;
  order.id = row.integer(0);
  order.dropId = row.integer(1);
  order.userId = row.integer(2);
  order.idempotencyKey = row.text(3);
  order.amount = core::Fen(row.integer(4));
  order.state = parseOrderState(row.text(5)).value_or(OrderState::kPending);
  order.createdAt = core::Timestamp::fromUnixMillis(row.integer(6));
  order.expiresAt = core::Timestamp::fromUnixMillis(row.integer(7));
  order.updatedAt = core::Timestamp::fromUnixMillis(row.integer(8));
  order.paymentId = row.text(9);
  order.paymentUrl = row.text(10);
  order.serial = static_cast<std::uint64_t>(row.integer(11));
  order.seriesId = static_cast<std::uint64_t>(row.integer(12));
  if (!row.isNull(13)) {
    if (auto hash = core::TxHash::fromView(row.bytes(13))) order.mintTx = *hash;
    order.mintHeight = static_cast<std::uint64_t>(row.integer(14));
  }
  if (withHistory) {
    auto events = session.query(
        "SELECT at, state, detail FROM order_events WHERE order_id = ? ORDER BY id", {orderId});
    if (!events) return events.status();
    for (const SqlRow& event : *events) {
      order.history.push_back({core::Timestamp::fromUnixMillis(event.integer(0)),
                               parseOrderState(event.text(1)).value_or(OrderState::kPending),
                               event.text(2)});
    }
  }
  return order;
}

core::Result<std::optional<Order>> Drops::priorOrder(SqlSession& session, std::int64_t userId,
                                                     std::int64_t dropId,
                                                     const std::string& idempotencyKey) {
  auto existing =
      session.query("SELECT id, drop_id FROM orders WHERE user_id = ? AND idempotency_key = ?",
                    {userId, idempotencyKey});
  if (!existing) return existing.status();
  if (existing->empty()) return std::optional<Order>();
  if (existing->front().integer(1) != dropId) {
    return core::failedPrecondition("idempotency-key-reused",
                                    "this idempotency key was used for another drop");
  }
  auto order = loadOrder(session, existing->front().integer(0), true);
  if (!order) return order.status();
  return std::optional<Order>(*order);
}

core::Result<Order> Drops::placeOrder(std::int64_t userId, std::int64_t dropId,
                                      const std::string& idempotencyKey) {
  std::optional<core::Hash256> identity = accounts_.identityHash(userId);
  if (!identity) {
    return core::failedPrecondition("identity-required",
                                    "verify your real name (实名认证) before buying");
  }
  return placeOrder(userId, *identity, dropId, idempotencyKey);
}

core::Result<Order> Drops::placeOrder(const User& buyer, std::int64_t dropId,
                                      const std::string& idempotencyKey) {
  if (!buyer.identityVerified) {
    return core::failedPrecondition("identity-required",
                                    "verify your real name (实名认证) before buying");
  }
  return placeOrder(buyer.id, buyer.identityHash, dropId, idempotencyKey);
}

std::int64_t Drops::hintMillis(const StockHint& hint) {
  return hint.orders ? kExclusiveSoldOutHintMillis : kSoldOutHintMillis;
}

// Whether `orders` holds an order of `userId` placed with `key`.
static bool placedWith(const Drops::OrderKeys& orders, std::int64_t userId,
                       const std::string& key) {
  auto buyer = orders.find(userId);
  return buyer != orders.end() && buyer->second.contains(key);
}

std::optional<Status> Drops::soldOutFromMemory(std::int64_t userId, std::int64_t dropId,
                                               const std::string& idempotencyKey) {
  std::lock_guard lock(hintsMutex_);
  if (stockGate_ != nullptr) return std::nullopt;
  auto hint = hints_.find(dropId);
  if (hint == hints_.end() || hint->second.available > 0 || !hint->second.orders ||
      clock_.now().unixMillis() - hint->second.seenAtMillis >= hintMillis(hint->second) ||
      placedWith(*hint->second.orders, userId, idempotencyKey)) {
    return std::nullopt;
  }
  ++attempts_[dropId];
  return Status(ErrorCode::kResourceExhausted, "sold-out", "this drop is sold out");
}

core::Result<Order> Drops::placeOrder(std::int64_t userId, const core::Hash256& identityHash,
                                      std::int64_t dropId, const std::string& idempotencyKey) {
  if (!validIdempotencyKey(idempotencyKey)) {
    return core::invalidArgument("idempotency-key",
                                 "an idempotency key is 1 to 64 printable ASCII characters");
  }
  const std::optional<core::Hash256> identity = identityHash;
  bool soldOut = knownSoldOut(dropId);
  bool taken = false;  // a copy taken from the stock gate, kept only by a new order
  if (stockGate_ != nullptr) {
    auto took = stockGate_->take(dropId, [&] { return availableInDatabase(dropId); });
    // An unreachable gate refuses nothing: the database decides alone.
    if (took) {
      soldOut = !*took;
      taken = *took;
    }
  }
  if (soldOut) {
    // No order this instance knows of was placed with this key: no retry to look up.
    {
      std::lock_guard lock(hintsMutex_);
      auto hint = hints_.find(dropId);
      if (hint != hints_.end() && hint->second.orders &&
          !placedWith(*hint->second.orders, userId, idempotencyKey)) {
        return Status(ErrorCode::kResourceExhausted, "sold-out", "this drop is sold out");
      }
    }
    // The crowd after a sell-out is answered from a read, without the write lock; a retry of
    // an order placed before still gets its order.
    std::optional<Order> earlier;
    Status looked = database_.read([&](SqlSession& session) -> Status {
      auto found = priorOrder(session, userId, dropId, idempotencyKey);
      if (!found) return found.status();
      earlier = *found;
      return {};
    });
    if (!looked.isOk()) return looked;
    if (earlier) return *earlier;
    return Status(ErrorCode::kResourceExhausted, "sold-out", "this drop is sold out");
  }
  bool created = false;
  const core::Bytes identityBytes(identity->view().begin(), identity->view().end());
  Order placed;
  std::int64_t available = -1;
  // In a priority window the buyer's holdings and phone are checked outside the transaction
  // (they are not in it), and the order is tried again; everyone else takes one pass.
  std::optional<PriorityWindow> window;
  bool mayBuyBeforeStart = false;
  const bool exclusiveDatabase = database_.dialect() == SqlDialect::kSqlite;
  std::optional<OrderKeys> orders;
  // Every order in the drop, read when it sells out (see soldOutFromMemory).
  auto readOrders = [&](SqlSession& session) -> Status {
    if (!exclusiveDatabase) return {};
    auto rows =
        session.query("SELECT user_id, idempotency_key FROM orders WHERE drop_id = ?", {dropId});
    if (!rows) return rows.status();
    orders.emplace();
    for (const SqlRow& row : *rows) (*orders)[row.integer(0)].insert(row.text(1));
    return {};
  };
  auto attempt = [&](SqlSession& session) -> Status {
    available = -1;
    orders.reset();
    // The same request again (a retry after a lost answer): the first order, as it is now.
    auto earlier = priorOrder(session, userId, dropId, idempotencyKey);
    if (!earlier) return earlier.status();
    if (*earlier) {
      placed = **earlier;
      return {};
    }
    auto drop = loadDrop(session, dropId);
    if (!drop) return drop.status();
    if (drop->mode != DropMode::kFirstCome) {
      return core::failedPrecondition(
          "not-for-sale", drop->mode == DropMode::kLottery
                              ? "this drop is sold by lottery: enter it, and pay if you win"
                              : "this is an airdrop: its copies are given, not sold");
    }
    const core::Timestamp now = clock_.now();
    if (now < drop->startsAt) {
      if (!drop->priority || now < drop->priority->startsAt) {
        return core::failedPrecondition("drop-not-started", "this drop has not started yet");
      }
      if (!window) {
        window = drop->priority;
        return core::failedPrecondition(kPriorityCheck, "check the buyer's priority first");
      }
      if (!mayBuyBeforeStart) {
        return core::failedPrecondition(
            "priority-only",
            std::string("until the drop starts, only ") +
                (drop->priority->holdersOfSeries != 0
                     ? "holders of series " + std::to_string(drop->priority->holdersOfSeries) +
                           (drop->priority->whitelistSize != 0 ? " and the whitelist" : "")
                     : std::string("the whitelist")) +
                " may buy");
      }
    } else if (now >= drop->endsAt) {
      return core::failedPrecondition("drop-ended", "this drop has ended");
    } else if (Status admitted = waitingRoom_.checkAdmitted(session, userId, dropId, drop->startsAt,
                                                            drop->queue, now);
               !admitted.isOk()) {
      return admitted;
    }
    auto held = session.query(std::string("SELECT COUNT(*) FROM orders WHERE drop_id = ? AND "
                                          "identity_hash = ? AND state IN ") +
                                  kHoldingStates,
                              {dropId, identityBytes});
    if (!held) return held.status();
    if (held->front().integer(0) >= drop->perIdentityLimit) {
      return core::failedPrecondition("identity-limit", "this drop allows " +
                                                            std::to_string(drop->perIdentityLimit) +
                                                            " per person, and you have reached it");
    }
    auto reserved = session.execute(
        "UPDATE drops SET reserved = reserved + 1 WHERE id = ? AND reserved < stock", {dropId});
    if (!reserved) return reserved.status();
    if (*reserved == 0) {
      available = 0;
      if (Status read = readOrders(session); !read.isOk()) return read;
      return {ErrorCode::kResourceExhausted, "sold-out", "this drop is sold out"};
    }
    const core::Timestamp deadline = now + drop->paymentWindow;
    auto inserted = session.query(
        "INSERT INTO orders (drop_id, user_id, identity_hash, idempotency_key, amount_fen, "
        "state, created_at, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
        "RETURNING id",
        {dropId, userId, identityBytes, idempotencyKey, drop->price.value(), now.unixMillis(),
         deadline.unixMillis(), now.unixMillis()});
    if (!inserted) return inserted.status();
    const std::int64_t orderId = inserted->front().integer(0);
    auto event = session.execute(
        "INSERT INTO order_events (order_id, at, state, detail) VALUES (?, ?, 'pending', ?)",
        {orderId, now.unixMillis(), std::string("stock reserved until the payment deadline")});
    if (!event) return event.status();
    auto order = loadOrder(session, orderId, true);
    if (!order) return order.status();
    placed = *order;
    created = true;
    available = static_cast<std::int64_t>(drop->stock - drop->reserved) - 1;
    if (available == 0) return readOrders(session);  // this order took the last copy
    return {};
  };
  Status status = database_.transaction(attempt);
  if (status.reason() == kPriorityCheck && window) {
    auto early = mayBuyEarly(userId, dropId, *window);
    if (!early) return early.status();
    mayBuyBeforeStart = *early;
    status = database_.transaction(attempt);
  }
  if (available >= 0) noteAvailable(dropId, available, std::move(orders));
  if (created) {
    std::lock_guard lock(hintsMutex_);
    auto hint = hints_.find(dropId);
    if (hint != hints_.end() && hint->second.orders) {
      (*hint->second.orders)[userId].insert(idempotencyKey);
    }
  }
  if (taken && !(status.isOk() && created)) stockGate_->giveBack(dropId, 1);
  if (!status.isOk()) return status;
  return placed;
}

core::Result<std::int64_t> Drops::availableInDatabase(std::int64_t dropId) {
  std::int64_t available = 0;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query("SELECT stock - reserved FROM drops WHERE id = ?", {dropId});
    if (!rows) return rows.status();
    if (rows->empty()) return noSuchDrop(dropId);
    available = rows->front().integer(0);
    return {};
  });
  if (!status.isOk()) return status;
  return available;
}

core::Result<bool> Drops::mayBuyEarly(std::int64_t userId, std::int64_t dropId,
                                      const PriorityWindow& window) {
  auto user = accounts_.user(userId);
  if (!user) return user.status();
  if (window.whitelistSize != 0) {
    bool listed = false;
    Status status = database_.transaction([&](SqlSession& session) -> Status {
      auto rows = session.query("SELECT 1 FROM drop_whitelist WHERE drop_id = ? AND phone = ?",
                                {dropId, user->phone});
      if (!rows) return rows.status();
      listed = !rows->empty();
      return {};
    });
    if (!status.isOk()) return status;
    if (listed) return true;
  }
  if (window.holdersOfSeries == 0) return false;
  // The chain says what the buyer holds now; pages of their tokens, sorted by series.
  std::string cursor;
  for (int page = 0; page < kMaxHoldingsPages; ++page) {
    auto tokens = ledger_.tokensOf(user->address, cursor, kHoldingsPage);
    if (!tokens) return tokens.status();
    for (const chain::TokenId& token : tokens->items) {
      if (token.series.value() == window.holdersOfSeries) return true;
    }
    if (tokens->nextCursor.empty()) break;
    cursor = tokens->nextCursor;
  }
  return false;
}

core::Result<Order> Drops::order(std::int64_t viewerId, std::int64_t orderId) {
  auto viewer = accounts_.user(viewerId);
  if (!viewer) return viewer.status();
  Order found;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto order = loadOrder(session, orderId, true);
    if (!order) return order.status();
    // Another user's order is answered as if it did not exist: ids reveal nothing.
    if (order->userId != viewerId && !viewer->hasRole(kRoleOperator)) return noSuchOrder(orderId);
    found = *order;
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

core::Result<Order> Drops::orderById(std::int64_t orderId) {
  Order found;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto order = loadOrder(session, orderId, true);
    if (!order) return order.status();
    found = *order;
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

core::Result<std::vector<Order>> Drops::ordersOf(std::int64_t userId) {
  std::vector<Order> orders;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    orders.clear();
    auto ids = session.query("SELECT id FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT 200",
                             {userId});
    if (!ids) return ids.status();
    for (const SqlRow& row : *ids) {
      auto order = loadOrder(session, row.integer(0), false);
      if (!order) return order.status();
      orders.push_back(*order);
    }
    return {};
  });
  if (!status.isOk()) return status;
  return orders;
}

core::Result<Order> Drops::pay(std::int64_t userId, std::int64_t orderId,
                               const std::string& returnUrl) {
  auto current = order(userId, orderId);
  if (!current) return current.status();
  if (current->userId != userId) return noSuchOrder(orderId);
  if (current->state != OrderState::kPending) {
    return core::failedPrecondition("order-not-pending",
                                    "this order is " + std::string(orderStateName(current->state)) +
                                        ", not waiting for payment");
  }
  if (clock_.now() >= current->expiresAt) {
    return core::failedPrecondition("order-expired", "the time to pay for this order is over");
  }
  if (!current->paymentId.empty()) return current;  // already started: the same page
  auto drop = find(current->dropId);
  if (!drop) return drop.status();
  auto session = payments_.createPayment(
      {merchantReference(orderId), current->amount, drop->title.substr(0, 100), returnUrl});
  if (!session) return session.status();
  Order updated;
  Status status = database_.transaction([&](SqlSession& sql) -> Status {
    // Two payment requests at once: the first to record its payment wins, the other answers
    // with it. An order that expired meanwhile takes no payment at all.
    auto claimed = sql.execute(
        "UPDATE orders SET payment_id = ?, payment_url = ? WHERE id = ? AND payment_id IS NULL "
        "AND state = 'pending'",
        {session->paymentId, session->payUrl, orderId});
    if (!claimed) return claimed.status();
    auto order = loadOrder(sql, orderId, true);
    if (!order) return order.status();
    updated = *order;
    return {};
  });
  if (!status.isOk()) return status;
  if (updated.paymentId != session->paymentId) {
    // The losing payment is closed so that it can never be paid; a failure here only leaves an
    // unreachable page open (its URL was never shown to anyone).
    (void)payments_.close(session->paymentId);
    if (updated.state != OrderState::kPending) {
      return core::failedPrecondition("order-expired", "the time to pay for this order is over");
    }
  }
  return updated;
}

Status Drops::applyNotice(const PaymentNotice& notice) {
  bool refundLatePayment = false;
  std::string paymentId;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    refundLatePayment = false;
    auto seen =
        session.query("SELECT 1 FROM payment_notices WHERE notice_id = ?", {notice.noticeId});
    if (!seen) return seen.status();
    if (!seen->empty()) return {};  // applied before: once is enough
    auto rows = session.query("SELECT id FROM orders WHERE payment_id = ?", {notice.paymentId});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return core::notFound("payment-unknown", "no order is waiting for this payment");
    }
    auto order = loadOrder(session, rows->front().integer(0), false);
    if (!order) return order.status();
    if (notice.merchantReference != merchantReference(order->id) ||
        notice.amount != order->amount || notice.currency != "CNY") {
      return core::failedPrecondition("payment-mismatch",
                                      "the notice's order, amount or currency differs from the "
                                      "payment asked for");
    }
    const core::Timestamp now = clock_.now();
    if (notice.event == PaymentEvent::kPaid) {
      if (order->state == OrderState::kPending) {
        Status moved = recordOrderState(session, order->id, OrderState::kPaid,
                                        "paid: " + notice.paymentId, now);
        if (!moved.isOk()) return moved;
      } else if (order->state == OrderState::kExpired) {
        // Paid after the deadline: the stock went back already, so the money goes back too.
        Status moved = recordOrderState(session, order->id, OrderState::kRefunded,
                                        "paid after the payment deadline; refunded", now);
        if (!moved.isOk()) return moved;
        refundLatePayment = true;
        paymentId = notice.paymentId;
      }
    }
    // A "refunded" notice confirms a refund this platform asked for: the order says so already.
    auto recorded = session.execute(
        "INSERT INTO payment_notices (notice_id, payment_id, event, received_at) VALUES (?, ?, "
        "?, ?)",
        {notice.noticeId, notice.paymentId,
         std::string(notice.event == PaymentEvent::kPaid ? "paid" : "refunded"), now.unixMillis()});
    return recorded ? Status() : recorded.status();
  });
  if (!status.isOk()) return status;
  if (refundLatePayment) return refundPayment(paymentId, "paid after the deadline");
  return {};
}

Status Drops::refundPayment(const std::string& paymentId, const std::string& reason) {
  return payments_.refund(paymentId, reason);
}

core::Result<int> Drops::expireDue() {
  struct Due {
    std::int64_t orderId;
    std::int64_t dropId;
    std::string paymentId;  // empty: the buyer never reached the payment page
  };
  std::vector<Due> due;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    due.clear();
    auto rows = session.query(
        "SELECT id, drop_id, COALESCE(payment_id, '') FROM orders WHERE state = 'pending' AND "
        "expires_at <= ? ORDER BY expires_at LIMIT ?",
        {clock_.now().unixMillis(), std::int64_t{kExpireBatch}});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) due.push_back({row.integer(0), row.integer(1), row.text(2)});
    return {};
  });
  if (!status.isOk()) return status;

  // The payment is closed at the provider before the stock goes back, so that nobody can pay
  // for a copy sold again to someone else. A buyer who paid just in time (their callback is
  // still on its way) gets the copy: the provider's answer pays the order now.
  std::vector<Due> expirable;
  Status firstFailure;
  for (const Due& order : due) {
    if (order.paymentId.empty()) {
      expirable.push_back(order);
      continue;
    }
    auto closed = payments_.close(order.paymentId);
    if (!closed && closed.status().reason() != "no-such-payment") {
      if (firstFailure.isOk()) firstFailure = closed.status();  // tried again next round
      continue;
    }
    if (closed && closed->has_value()) {
      if (Status paid = applyNotice(**closed); !paid.isOk() && firstFailure.isOk()) {
        firstFailure = paid;
      }
      continue;
    }
    expirable.push_back(order);
  }

  int expired = 0;
  std::map<std::int64_t, std::int64_t> released;
  status = database_.transaction([&](SqlSession& session) -> Status {
    expired = 0;
    released.clear();
    const core::Timestamp now = clock_.now();
    for (const Due& order : expirable) {
      // Paid meanwhile, or a payment started after the list was read (closed next round).
      auto current = session.query(
          "SELECT state, COALESCE(payment_id, '') FROM orders WHERE id = ?", {order.orderId});
      if (!current) return current.status();
      if (current->empty() || current->front().text(0) != "pending" ||
          current->front().text(1) != order.paymentId) {
        continue;
      }
      Status moved = recordOrderState(session, order.orderId, OrderState::kExpired,
                                      "not paid in time; stock released", now);
      if (!moved.isOk()) return moved;
      auto freed =
          session.execute("UPDATE drops SET reserved = reserved - 1 WHERE id = ?", {order.dropId});
      if (!freed) return freed.status();
      ++released[order.dropId];
      ++expired;
    }
    return {};
  });
  if (!status.isOk()) return status;
  {
    std::lock_guard lock(hintsMutex_);
    for (const auto& [dropId, count] : released) hints_.erase(dropId);
  }
  if (stockGate_ != nullptr) {
    for (const auto& [dropId, count] : released) stockGate_->giveBack(dropId, count);
  }
  if (!firstFailure.isOk() && expired == 0) return firstFailure;
  return expired;
}

core::Result<Order> Drops::refund(std::int64_t operatorId, std::int64_t orderId,
                                  const std::string& reason) {
  auto actor = accounts_.user(operatorId);
  if (!actor) return actor.status();
  if (!actor->hasRole(kRoleOperator)) return notOperator("refund orders");
  if (reason.empty() || reason.size() > 200) {
    return core::invalidArgument("reason-required", "a refund needs a reason of 1 to 200 bytes");
  }
  OrderState before = OrderState::kPaid;
  std::string paymentId;
  std::int64_t dropId = 0;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto order = loadOrder(session, orderId, false);
    if (!order) return order.status();
    // Only what no token exists for: a minting order might commit at any moment.
    if (order->state != OrderState::kPaid && order->state != OrderState::kMintFailed) {
      return core::failedPrecondition("order-not-refundable",
                                      "only a paid order not yet minted can be refunded; this "
                                      "one is " +
                                          std::string(orderStateName(order->state)));
    }
    before = order->state;
    paymentId = order->paymentId;
    dropId = order->dropId;
    Status moved = recordOrderState(session, orderId, OrderState::kRefunded, "refunded: " + reason,
                                    clock_.now());
    if (!moved.isOk()) return moved;
    auto freed =
        session.execute("UPDATE drops SET reserved = reserved - 1 WHERE id = ?", {order->dropId});
    return freed ? Status() : freed.status();
  });
  if (!status.isOk()) return status;
  if (Status refunded = refundPayment(paymentId, reason); !refunded.isOk()) {
    // The provider did not take it: put the order back as it was, stock held again.
    Status restored = database_.transaction([&](SqlSession& session) -> Status {
      Status moved = recordOrderState(session, orderId, before,
                                      "refund failed: " + refunded.message(), clock_.now());
      if (!moved.isOk()) return moved;
      auto held =
          session.execute("UPDATE drops SET reserved = reserved + 1 WHERE id = ?", {dropId});
      return held ? Status() : held.status();
    });
    return restored.isOk() ? refunded : restored;
  }
  if (stockGate_ != nullptr) stockGate_->giveBack(dropId, 1);
  {
    std::lock_guard lock(hintsMutex_);
    hints_.erase(dropId);
  }
  return order(operatorId, orderId);
}

core::Result<std::optional<Order>> Drops::refundSoldToken(std::uint64_t seriesId,
                                                          std::uint64_t serial,
                                                          const std::string& reason) {
  std::optional<std::int64_t> orderId;
  std::string paymentId;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    orderId.reset();
    auto rows = session.query(
        "SELECT o.id, o.state, COALESCE(o.payment_id, '') FROM orders o JOIN drops d ON "
        "o.drop_id = d.id WHERE d.series_id = ? AND o.serial = ? AND o.amount_fen > 0",
        {static_cast<std::int64_t>(seriesId), static_cast<std::int64_t>(serial)});
    if (!rows) return rows.status();
    if (rows->empty() || rows->front().text(2).empty()) return {};
    if (rows->front().text(1) != orderStateName(OrderState::kDelivered)) {
      return core::failedPrecondition("order-not-refundable",
                                      "the order that sold this token is " +
                                          std::string(rows->front().text(1)) + ", not delivered");
    }
    orderId = rows->front().integer(0);
    paymentId = rows->front().text(2);
    // Marked first: a second request for the same token finds it refunded and stops here.
    return recordOrderState(session, *orderId, OrderState::kRefunded, "refunded: " + reason,
                            clock_.now());
  });
  if (!status.isOk()) return status;
  if (!orderId) return std::optional<Order>();
  if (Status refunded = refundPayment(paymentId, reason); !refunded.isOk()) {
    Status restored = database_.transaction([&](SqlSession& session) -> Status {
      return recordOrderState(session, *orderId, OrderState::kDelivered,
                              "refund failed: " + refunded.message(), clock_.now());
    });
    return restored.isOk() ? refunded : restored;
  }
  auto refundedOrder = orderById(*orderId);
  if (!refundedOrder) return refundedOrder.status();
  return std::optional<Order>(std::move(refundedOrder).value());
}

core::Result<SalesFigures> Drops::figures(std::int64_t dropId) {
  SalesFigures figures;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    figures = {};
    auto drop = loadDrop(session, dropId);
    if (!drop) return drop.status();
    figures.stock = drop->stock;
    figures.available = drop->stock - drop->reserved;
    auto rows = session.query("SELECT state, COUNT(*) FROM orders WHERE drop_id = ? GROUP BY state",
                              {dropId});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      auto state = parseOrderState(row.text(0));
      const auto count = static_cast<std::uint64_t>(row.integer(1));
      if (!state) continue;
      switch (*state) {
        case OrderState::kPending:
          figures.pending += count;
          break;
        case OrderState::kPaid:
        case OrderState::kMinting:
          figures.paid += count;
          break;
        case OrderState::kDelivered:
          figures.delivered += count;
          break;
        case OrderState::kExpired:
          figures.expired += count;
          break;
        case OrderState::kRefunded:
          figures.refunded += count;
          break;
        case OrderState::kMintFailed:
          figures.mintFailed += count;
          break;
      }
    }
    return {};
  });
  if (!status.isOk()) return status;
  std::lock_guard lock(hintsMutex_);
  figures.attempts = attempts_[dropId];
  return figures;
}

}  // namespace jiancang::platform
