// The waiting room (排队) in front of a first-come drop, so that a sale is won by luck among the
// people who came in time rather than by the fastest network or the busiest script.
//
//   create  → the drop gets a secret 32-byte queue seed; only its commitment
//             H("jiancang/seed-commitment/v1" ‖ seed) is shown, from the first moment
//   join    → before the start, verified collectors join (joining again changes nothing)
//   draw    → at the start, everyone who joined before it gets a place: places 1..n in
//             ascending order of H("jiancang/queue/v1" ‖ seed ‖ entrant's chain address); the
//             seed is revealed with the entrants, so anyone can recompute every place
//   late    → who joins after the start queues behind them, in the order they came
//   admit   → places are let in at the drop's rate: place p may order from
//             start + max(0, p − rate) / rate seconds; until then an order is refused
//
// The platform chose the seed before it knew the entrants and cannot change it afterwards; the
// addresses were fixed when the accounts were made. docs/FAIRNESS.md says what it could still do.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <core/clock.h>
#include <core/crypto.h>
#include <core/status.h>
#include <platform/accounts.h>
#include <platform/database.h>

namespace jiancang::platform {

struct QueueSeed {
  core::Hash256 seed;
  core::Hash256 commitment;
};

// What a drop's row says about its waiting room (filled in by Drops).
struct QueueSettings {
  bool enabled = false;  // drops made before the waiting room existed have none
  std::uint32_t admitPerSecond = 0;
  core::Hash256 commitment;
  std::optional<core::Hash256> seed;       // once drawn
  std::optional<core::Timestamp> drawnAt;  // when the places were drawn
};

// One collector's place in a drop's queue.
struct QueuePlace {
  std::int64_t dropId = 0;
  std::uint64_t position = 0;  // 1-based; 0 until the draw at the start
  bool drawn = false;          // joined before the start: the place came from the draw
  core::Timestamp joinedAt;
  std::uint64_t admittedThrough = 0;          // places let in so far
  std::optional<core::Timestamp> admittedAt;  // when this place is let in, once it has one
  bool admitted = false;
};

struct QueueEntrant {
  core::Address address;
  std::uint64_t position = 0;
  bool drawn = false;
};

// A drop's draw, as anyone may see it: enough to recompute every drawn place.
struct QueueDraw {
  core::Hash256 commitment;
  std::optional<core::Hash256> seed;  // revealed at the draw
  std::optional<core::Timestamp> drawnAt;
  std::uint64_t entrants = 0;       // everyone in the queue
  std::uint64_t drawnEntrants = 0;  // of them, placed by the draw
  std::vector<QueueEntrant> page;   // the requested positions, in order
};

// A drop's waiting room as everyone watching it sees it at one moment: one read serves them all.
struct QueueProgress {
  std::int64_t dropId = 0;
  core::Timestamp asOf;  // when it was read
  core::Timestamp startsAt;
  core::Timestamp endsAt;
  std::uint32_t admitPerSecond = 0;
  bool drawn = false;
  std::uint64_t entrants = 0;
  std::uint64_t admittedThrough = 0;  // places let in so far, at most `entrants`
  std::int64_t available = 0;         // copies not reserved
};

// The key that orders the draw.
core::Hash256 queueKey(const core::CryptoSuite& suite, const core::Hash256& seed,
                       const core::Address& address);

// Places let in by `now` at `admitPerSecond`, for a queue drawn at a drop starting `startsAt`.
std::uint64_t admittedThrough(core::Timestamp startsAt, std::uint32_t admitPerSecond,
                              core::Timestamp now);

class WaitingRoom {
 public:
  static constexpr std::uint32_t kDefaultAdmitPerSecond = 500;
  static constexpr std::uint32_t kMaxAdmitPerSecond = 100'000;
  static constexpr std::uint64_t kMaxPage = 5'000;

  WaitingRoom(Database& database, Accounts& accounts, const core::CryptoSuite& suite,
              const core::Clock& clock)
      : database_(database), accounts_(accounts), suite_(suite), clock_(clock) {}

  // A fresh secret seed for a new drop, from the operating system's random source.
  QueueSeed newSeed() const;

  // Joins the drop's queue; joining again answers the same place. Reasons: "identity-required",
  // "no-such-drop", "no-waiting-room", "drop-ended", "sold-out".
  core::Result<QueuePlace> join(std::int64_t userId, std::int64_t dropId);
  // Reasons: "not-in-queue", "no-such-drop", "no-waiting-room".
  core::Result<QueuePlace> place(std::int64_t userId, std::int64_t dropId);
  // The drop's progress now. Reasons: "no-such-drop", "no-waiting-room".
  core::Result<QueueProgress> progress(std::int64_t dropId);
  // The places of many collectors in a drop's queue, by user id, in a few reads rather than one
  // per collector (what an event stream for every watcher needs at the draw). Users not in the
  // queue are left out. Reasons: "no-such-drop", "no-waiting-room".
  core::Result<std::map<std::int64_t, QueuePlace>> places(std::int64_t dropId,
                                                          const std::vector<std::int64_t>& userIds);
  // Positions from..from+limit-1 of the queue, the seed once drawn. Reasons: "no-such-drop",
  // "no-waiting-room", "page-out-of-range".
  core::Result<QueueDraw> draw(std::int64_t dropId, std::uint64_t from, std::uint64_t limit);
  // Draws the queue of every drop that has started and was not drawn yet; returns how many.
  core::Result<int> drawDue();

  // For Drops::placeOrder, inside its transaction, after the start: ok when the buyer's place
  // has been let in (the first order after the start draws the queue if nothing did yet).
  // Reasons: "queue-required" (never joined), "queue-not-reached" (with the place and when it
  // is let in).
  core::Status checkAdmitted(SqlSession& session, std::int64_t userId, std::int64_t dropId,
                             core::Timestamp startsAt, const QueueSettings& queue,
                             core::Timestamp now);

 private:
  core::Status drawIn(SqlSession& session, std::int64_t dropId, core::Timestamp startsAt,
                      const core::Hash256& seed, core::Timestamp now);
  core::Result<QueuePlace> loadPlace(SqlSession& session, std::int64_t userId, std::int64_t dropId);

  Database& database_;
  Accounts& accounts_;
  const core::CryptoSuite& suite_;
  const core::Clock& clock_;
};

}  // namespace jiancang::platform
