#include <platform/waiting_room.h>

#include <algorithm>

#include <chain/fair_random.h>
#include <sodium.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

Status noSuchDrop(std::int64_t id) {
  return core::notFound("no-such-drop", "there is no drop " + std::to_string(id));
}

// The part of a drop's row the waiting room needs.
struct DropQueue {
  core::Timestamp startsAt;
  core::Timestamp endsAt;
  std::int64_t stock = 0;
  std::int64_t reserved = 0;
  std::uint32_t admitPerSecond = 0;
  std::optional<core::Hash256> seed;  // null for drops made before the waiting room
  core::Hash256 commitment;
  std::optional<core::Timestamp> drawnAt;
};

core::Result<DropQueue> loadDropQueue(SqlSession& session, std::int64_t dropId) {
  auto rows = session.query(
      "SELECT starts_at, ends_at, stock, reserved, admit_per_second, queue_seed, "
      "queue_commitment, queue_drawn_at FROM drops WHERE id = ?",
      {dropId});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchDrop(dropId);
  const SqlRow& row = rows->front();
  DropQueue drop;
  drop.startsAt = core::Timestamp::fromUnixMillis(row.integer(0));
  drop.endsAt = core::Timestamp::fromUnixMillis(row.integer(1));
  drop.stock = row.integer(2);
  drop.reserved = row.integer(3);
  drop.admitPerSecond = static_cast<std::uint32_t>(row.integer(4));
  if (!row.isNull(5)) {
    const core::Bytes seed = row.bytes(5);
    const core::Bytes commitment = row.bytes(6);
    drop.seed = core::Hash256::fromView(seed);
    drop.commitment = core::Hash256::fromView(commitment).value_or(core::Hash256());
  }
  if (!row.isNull(7)) drop.drawnAt = core::Timestamp::fromUnixMillis(row.integer(7));
  return drop;
}

Status noWaitingRoom(std::int64_t dropId) {
  return core::failedPrecondition("no-waiting-room",
                                  "drop " + std::to_string(dropId) + " has no waiting room");
}

std::int64_t millisSince(core::Timestamp from, core::Timestamp to) {
  return to.unixMillis() - from.unixMillis();
}

// When place `position` is let in: start + max(0, position − rate) / rate seconds, rounded up
// to the millisecond so that admittedThrough() agrees at that instant.
core::Timestamp admissionTime(core::Timestamp startsAt, std::uint32_t rate,
                              std::uint64_t position) {
  if (rate == 0 || position <= rate) return startsAt;
  const std::uint64_t waitMillis = ((position - rate) * 1'000 + rate - 1) / rate;
  return core::Timestamp::fromUnixMillis(startsAt.unixMillis() +
                                         static_cast<std::int64_t>(waitMillis));
}

}  // namespace

core::Hash256 queueKey(const core::CryptoSuite& suite, const core::Hash256& seed,
                       const core::Address& address) {
  return suite.hash({core::asBytes("jiancang/queue/v1"), seed.view(), address.view()});
}

std::uint64_t admittedThrough(core::Timestamp startsAt, std::uint32_t admitPerSecond,
                              core::Timestamp now) {
  if (now < startsAt) return 0;
  const auto elapsed = static_cast<std::uint64_t>(millisSince(startsAt, now));
  return admitPerSecond + elapsed * admitPerSecond / 1'000;
}

QueueSeed WaitingRoom::newSeed() const {
  QueueSeed made;
  randombytes_buf(made.seed.mutableArray().data(), made.seed.mutableArray().size());
  made.commitment = chain::seedCommitment(suite_, made.seed);
  return made;
}

namespace {

// A place from its queue_entries columns (position, drawn, joined_at) as of `now`.
QueuePlace placeOf(const SqlRow& row, int firstColumn, std::int64_t dropId, const DropQueue& drop,
                   core::Timestamp now) {
  QueuePlace place;
  place.dropId = dropId;
  place.position =
      row.isNull(firstColumn) ? 0 : static_cast<std::uint64_t>(row.integer(firstColumn));
  place.drawn = row.integer(firstColumn + 1) != 0;
  place.joinedAt = core::Timestamp::fromUnixMillis(row.integer(firstColumn + 2));
  if (drop.drawnAt)
    place.admittedThrough = admittedThrough(drop.startsAt, drop.admitPerSecond, now);
  if (place.position > 0) {
    place.admittedAt = admissionTime(drop.startsAt, drop.admitPerSecond, place.position);
    place.admitted = place.position <= place.admittedThrough;
  }
  return place;
}

}  // namespace

core::Result<QueuePlace> WaitingRoom::loadPlace(SqlSession& session, std::int64_t userId,
                                                std::int64_t dropId) {
  auto drop = loadDropQueue(session, dropId);
  if (!drop) return drop.status();
  if (!drop->seed) return noWaitingRoom(dropId);
  auto rows = session.query(
      "SELECT position, drawn, joined_at FROM queue_entries WHERE drop_id = ? AND user_id = ?",
      {dropId, userId});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return core::notFound("not-in-queue", "you have not joined this drop's waiting room");
  }
  return placeOf(rows->front(), 0, dropId, *drop, clock_.now());
}

core::Result<QueuePlace> WaitingRoom::join(std::int64_t userId, std::int64_t dropId) {
  std::optional<core::Hash256> identity = accounts_.identityHash(userId);
  if (!identity) {
    return core::failedPrecondition("identity-required",
                                    "verify your real name (实名认证) before queueing for a drop");
  }
  auto user = accounts_.user(userId);
  if (!user) return user.status();
  const core::Bytes address(user->address.view().begin(), user->address.view().end());
  QueuePlace joined;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto drop = loadDropQueue(session, dropId);
    if (!drop) return drop.status();
    if (!drop->seed) return noWaitingRoom(dropId);
    const core::Timestamp now = clock_.now();
    auto existing = session.query("SELECT 1 FROM queue_entries WHERE drop_id = ? AND user_id = ?",
                                  {dropId, userId});
    if (!existing) return existing.status();
    if (existing->empty()) {
      if (now >= drop->endsAt) {
        return core::failedPrecondition("drop-ended", "this drop has ended");
      }
      if (drop->reserved >= drop->stock) {
        return {ErrorCode::kResourceExhausted, "sold-out", "this drop is sold out"};
      }
      // A place after the start is the next one; before it, the draw gives it.
      if (now >= drop->startsAt && !drop->drawnAt) {
        if (Status drawn = drawIn(session, dropId, drop->startsAt, *drop->seed, now);
            !drawn.isOk()) {
          return drawn;
        }
        drop->drawnAt = now;
      }
      SqlValue position;
      if (drop->drawnAt) {
        auto last = session.query(
            "SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM queue_entries WHERE "
            "drop_id = ?",
            {dropId});
        if (!last) return last.status();
        position = last->front().integer(0) + 1;
      }
      auto inserted = session.execute(
          "INSERT INTO queue_entries (drop_id, user_id, address, joined_at, position, drawn) "
          "VALUES (?, ?, ?, ?, ?, 0)",
          {dropId, userId, address, now.unixMillis(), position});
      if (!inserted) return inserted.status();
    }
    auto place = loadPlace(session, userId, dropId);
    if (!place) return place.status();
    joined = *place;
    return {};
  });
  if (!status.isOk()) return status;
  return joined;
}

core::Result<QueuePlace> WaitingRoom::place(std::int64_t userId, std::int64_t dropId) {
  QueuePlace found;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto place = loadPlace(session, userId, dropId);
    if (!place) return place.status();
    found = *place;
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

core::Result<QueueProgress> WaitingRoom::progress(std::int64_t dropId) {
  QueueProgress progress;
  Status status = database_.read([&](SqlSession& session) -> Status {
    auto drop = loadDropQueue(session, dropId);
    if (!drop) return drop.status();
    if (!drop->seed) return noWaitingRoom(dropId);
    auto counted = session.query("SELECT COUNT(*) FROM queue_entries WHERE drop_id = ?", {dropId});
    if (!counted) return counted.status();
    progress.dropId = dropId;
    progress.asOf = clock_.now();
    progress.startsAt = drop->startsAt;
    progress.endsAt = drop->endsAt;
    progress.admitPerSecond = drop->admitPerSecond;
    progress.drawn = drop->drawnAt.has_value();
    progress.entrants = static_cast<std::uint64_t>(counted->front().integer(0));
    if (progress.drawn) {
      progress.admittedThrough = std::min(
          progress.entrants, admittedThrough(drop->startsAt, drop->admitPerSecond, progress.asOf));
    }
    progress.available = std::max<std::int64_t>(0, drop->stock - drop->reserved);
    return {};
  });
  if (!status.isOk()) return status;
  return progress;
}

core::Result<std::map<std::int64_t, QueuePlace>> WaitingRoom::places(
    std::int64_t dropId, const std::vector<std::int64_t>& userIds) {
  // Enough ids per statement to make a few reads of thousands of watchers, few enough for
  // SQLite's default limit of bound parameters.
  constexpr std::size_t kIdsPerRead = 500;
  std::map<std::int64_t, QueuePlace> found;
  Status status = database_.read([&](SqlSession& session) -> Status {
    found.clear();
    auto drop = loadDropQueue(session, dropId);
    if (!drop) return drop.status();
    if (!drop->seed) return noWaitingRoom(dropId);
    const core::Timestamp now = clock_.now();
    for (std::size_t first = 0; first < userIds.size(); first += kIdsPerRead) {
      const std::size_t count = std::min(kIdsPerRead, userIds.size() - first);
      std::string sql =
          "SELECT user_id, position, drawn, joined_at FROM queue_entries WHERE drop_id = ? AND "
          "user_id IN (?";
      std::vector<SqlValue> parameters{dropId, userIds[first]};
      for (std::size_t i = 1; i < count; ++i) {
        sql += ", ?";
        parameters.emplace_back(userIds[first + i]);
      }
      sql += ")";
      auto rows = session.query(sql, parameters);
      if (!rows) return rows.status();
      for (const SqlRow& row : *rows) {
        found.emplace(row.integer(0), placeOf(row, 1, dropId, *drop, now));
      }
    }
    return {};
  });
  if (!status.isOk()) return status;
  return found;
}

core::Result<QueueDraw> WaitingRoom::draw(std::int64_t dropId, std::uint64_t from,
                                          std::uint64_t limit) {
  if (from < 1 || limit < 1 || limit > kMaxPage) {
    return core::invalidArgument(
        "page-out-of-range", "positions start at 1; a page holds 1 to " + std::to_string(kMaxPage));
  }
  QueueDraw result;
  Status status = database_.read([&](SqlSession& session) -> Status {
    result = QueueDraw();
    auto drop = loadDropQueue(session, dropId);
    if (!drop) return drop.status();
    if (!drop->seed) return noWaitingRoom(dropId);
    result.commitment = drop->commitment;
    auto counts = session.query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(drawn), 0) AS BIGINT) FROM queue_entries WHERE "
        "drop_id = ?",
        {dropId});
    if (!counts) return counts.status();
    result.entrants = static_cast<std::uint64_t>(counts->front().integer(0));
    result.drawnEntrants = static_cast<std::uint64_t>(counts->front().integer(1));
    if (!drop->drawnAt) return {};  // the seed and the places stay hidden until the draw
    result.seed = drop->seed;
    result.drawnAt = drop->drawnAt;
    auto rows = session.query(
        "SELECT address, position, drawn FROM queue_entries WHERE drop_id = ? AND position >= ? "
        "ORDER BY position LIMIT ?",
        {dropId, static_cast<std::int64_t>(from), static_cast<std::int64_t>(limit)});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      const core::Bytes address = row.bytes(0);
      result.page.push_back({core::Address::fromView(address).value_or(core::Address()),
                             static_cast<std::uint64_t>(row.integer(1)), row.integer(2) != 0});
    }
    return {};
  });
  if (!status.isOk()) return status;
  return result;
}

Status WaitingRoom::drawIn(SqlSession& session, std::int64_t dropId, core::Timestamp startsAt,
                           const core::Hash256& seed, core::Timestamp now) {
  struct Entrant {
    std::int64_t userId;
    core::Hash256 key;
  };
  auto early = session.query(
      "SELECT user_id, address FROM queue_entries WHERE drop_id = ? AND joined_at < ?",
      {dropId, startsAt.unixMillis()});
  if (!early) return early.status();
  std::vector<Entrant> drawn;
  drawn.reserve(early->size());
  for (const SqlRow& row : *early) {
    const core::Bytes bytes = row.bytes(1);
    auto address = core::Address::fromView(bytes);
    if (!address)
      return {ErrorCode::kInternal, "queue-entry-corrupt", "a queue entry's address is bad"};
    drawn.push_back({row.integer(0), queueKey(suite_, seed, *address)});
  }
  std::sort(drawn.begin(), drawn.end(),
            [](const Entrant& a, const Entrant& b) { return a.key < b.key; });
  std::int64_t position = 0;
  for (const Entrant& entrant : drawn) {
    auto placed = session.execute(
        "UPDATE queue_entries SET position = ?, drawn = 1 WHERE drop_id = ? AND user_id = ?",
        {++position, dropId, entrant.userId});
    if (!placed) return placed.status();
  }
  // Who came after the start but before this draw: behind them, in the order they came.
  auto late = session.query(
      "SELECT user_id FROM queue_entries WHERE drop_id = ? AND position IS NULL ORDER BY "
      "joined_at, user_id",
      {dropId});
  if (!late) return late.status();
  for (const SqlRow& row : *late) {
    auto placed =
        session.execute("UPDATE queue_entries SET position = ? WHERE drop_id = ? AND user_id = ?",
                        {++position, dropId, row.integer(0)});
    if (!placed) return placed.status();
  }
  auto marked = session.execute("UPDATE drops SET queue_drawn_at = ? WHERE id = ?",
                                {now.unixMillis(), dropId});
  return marked ? Status() : marked.status();
}

core::Result<int> WaitingRoom::drawDue() {
  int drawnDrops = 0;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    drawnDrops = 0;
    const core::Timestamp now = clock_.now();
    auto due = session.query(
        "SELECT id FROM drops WHERE queue_seed IS NOT NULL AND queue_drawn_at IS NULL AND "
        "starts_at <= ? ORDER BY starts_at LIMIT 10",
        {now.unixMillis()});
    if (!due) return due.status();
    for (const SqlRow& row : *due) {
      auto drop = loadDropQueue(session, row.integer(0));
      if (!drop) return drop.status();
      if (Status drawn = drawIn(session, row.integer(0), drop->startsAt, *drop->seed, now);
          !drawn.isOk()) {
        return drawn;
      }
      ++drawnDrops;
    }
    return {};
  });
  if (!status.isOk()) return status;
  return drawnDrops;
}

Status WaitingRoom::checkAdmitted(SqlSession& session, std::int64_t userId, std::int64_t dropId,
                                  core::Timestamp startsAt, const QueueSettings& queue,
                                  core::Timestamp now) {
  if (!queue.enabled) return {};
  auto rows = session.query("SELECT position FROM queue_entries WHERE drop_id = ? AND user_id = ?",
                            {dropId, userId});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return core::failedPrecondition("queue-required",
                                    "join this drop's waiting room first; places are let in "
                                    "in turn");
  }
  std::int64_t drawnPosition = rows->front().integer(0);
  if (rows->front().isNull(0) || !queue.drawnAt) {
    // The start has passed and the worker has not drawn yet: this order draws.
    auto drop = loadDropQueue(session, dropId);
    if (!drop) return drop.status();
    if (!drop->drawnAt) {
      if (Status drawn = drawIn(session, dropId, startsAt, *drop->seed, now); !drawn.isOk()) {
        return drawn;
      }
    }
    auto placed = session.query(
        "SELECT position FROM queue_entries WHERE drop_id = ? AND user_id = ?", {dropId, userId});
    if (!placed) return placed.status();
    drawnPosition = placed->front().integer(0);
  }
  const auto position = static_cast<std::uint64_t>(drawnPosition);
  const std::uint64_t through = admittedThrough(startsAt, queue.admitPerSecond, now);
  if (position > through) {
    const core::Timestamp at = admissionTime(startsAt, queue.admitPerSecond, position);
    return core::failedPrecondition(
        "queue-not-reached", "your place is " + std::to_string(position) + "; places up to " +
                                 std::to_string(through) + " are in, yours in about " +
                                 std::to_string((millisSince(now, at) + 999) / 1'000) + " s");
  }
  return {};
}

}  // namespace jiancang::platform
