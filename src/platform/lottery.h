// Lottery drops (抽签): instead of a race, verified collectors enter during the drop's window, one
// entry per real-name identity; after it closes the winners are drawn on chain, and each winner
// gets an order with the usual time to pay.
//
//   create  → Drops::create with mode kLottery: a secret seed, only its commitment
//             H("jiancang/seed-commitment/v1" ‖ seed) shown from the first moment
//   enter   → during the window; entering again answers the same entry
//   freeze  → after the end: entrants numbered 0..n-1 in the order they entered; the list's
//             Merkle root over entrantLeaf(address) (chain/merkle_list.h) is fixed
//   commit  → the issuer's CommitLottery: root, n, winners = min(stock, n), the seed's commitment
//   draw    → in a later block, the issuer's DrawLottery reveals the seed; the chain computes the
//             winners (chain/fair_random.h) from it, the commit block's hash and the root
//   orders  → each winner gets a pending order with the drop's payment window; the rest of the
//             flow (pay, callback, mint) is the first-come one (drops.h, minter.h)
//
// Every step is recorded before the next, and the chain transactions are stored before they are
// sent (stored_transaction.h): a crash at any point resumes without a second commit or draw.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <core/clock.h>
#include <core/crypto.h>
#include <ledger/ledger.h>
#include <ordering/orderer.h>
#include <platform/accounts.h>
#include <platform/database.h>

namespace jiancang::platform {

// Where a lottery drop is: "open" (taking entries until the end), "committing", "drawing",
// "settled" (winners have orders), "failed" (the chain refused; `reason` says why).
struct LotteryStatus {
  std::string state;
  core::Hash256 commitment;
  std::optional<core::Hash256> seed;  // once drawn
  std::uint64_t entrants = 0;
  std::uint64_t winners = 0;          // once frozen: how many will win
  std::optional<core::Hash256> root;  // once frozen
  std::uint64_t chainLotteryId = 0;   // once committed
  std::optional<core::TxHash> commitTx;
  std::optional<core::TxHash> drawTx;
  std::string reason;
};

struct LotteryEntry {
  std::int64_t dropId = 0;
  core::Address address;
  core::Timestamp enteredAt;
  std::optional<std::uint64_t> index;  // once frozen
  bool won = false;
  std::int64_t orderId = 0;  // a winner's order
};

struct LotteryEntrant {
  std::uint64_t index = 0;
  core::Address address;
  bool won = false;
};

// The published entrant list: enough to rebuild the root and recompute the winners.
struct LotteryEntrants {
  LotteryStatus status;
  std::vector<LotteryEntrant> page;  // the requested indices, in order
};

// The list item of an entrant: H("jiancang/lottery-entrant/v1" ‖ chain address).
core::Hash256 entrantLeaf(const core::CryptoSuite& suite, const core::Address& address);

// For Drops, inside its transaction: a lottery drop's status ("not-a-lottery" for others).
core::Result<LotteryStatus> loadLotteryStatus(SqlSession& session, std::int64_t dropId);

class Lotteries {
 public:
  static constexpr std::uint64_t kMaxPage = 5'000;

  Lotteries(Database& database, Accounts& accounts, ledger::Ledger& ledger,
            ordering::Orderer& orderer, const core::Clock& clock,
            std::chrono::milliseconds commitWait = std::chrono::seconds(15))
      : database_(database),
        accounts_(accounts),
        ledger_(ledger),
        orderer_(orderer),
        clock_(clock),
        commitWait_(commitWait) {}

  // Reasons: "identity-required", "no-such-drop", "not-a-lottery", "entries-not-open" (before
  // the start), "entries-closed" (at or after the end).
  core::Result<LotteryEntry> enter(std::int64_t userId, std::int64_t dropId);
  // Reasons: "not-entered", "no-such-drop", "not-a-lottery".
  core::Result<LotteryEntry> entry(std::int64_t userId, std::int64_t dropId);
  // Entrants from..from+limit-1 once frozen (none before). Reasons: "no-such-drop",
  // "not-a-lottery", "page-out-of-range".
  core::Result<LotteryEntrants> entrants(std::int64_t dropId, std::uint64_t from,
                                         std::uint64_t limit);

  // Takes every lottery drop past its end one step further, as far as it can go now; returns
  // how many steps were taken.
  core::Result<int> runDue();

 private:
  core::Result<bool> step(std::int64_t dropId);
  core::Result<bool> freeze(std::int64_t dropId);
  core::Result<bool> sendTransaction(std::int64_t dropId, bool drawing);
  core::Result<bool> settle(std::int64_t dropId);

  Database& database_;
  Accounts& accounts_;
  ledger::Ledger& ledger_;
  ordering::Orderer& orderer_;
  const core::Clock& clock_;
  std::chrono::milliseconds commitWait_;
};

}  // namespace jiancang::platform
