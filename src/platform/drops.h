// Drops (发行) and their orders: a published series put on sale at a price, in a window, with a
// stock and a limit per real-name identity, behind a waiting room (waiting_room.h).
//
//   placeOrder  → stock reserved, order "pending" with a payment deadline (default 5 minutes);
//                 one idempotency key per request: the same key gives back the same order
//   pay         → a payment at the provider; the buyer pays on the provider's page
//   notice      → a verified "paid" callback moves the order to "paid" once, however often it
//                 comes; a payment that arrives after the deadline is refunded
//   expireDue   → unpaid orders past their deadline have their payment closed at the provider,
//                 become "expired" and give their stock back (one paid just in time is paid)
//   Minter      → paid orders become mint transactions (minter.h): "minting", then "delivered"
//                 with the token's serial, transaction and block
//
// The stock count lives in the drop's row and moves in the same transaction as the order, so no
// copy is sold twice across restarts or across instances sharing PostgreSQL; a drop known to be
// sold out is refused from memory without touching the database.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <core/clock.h>
#include <core/money.h>
#include <ledger/ledger.h>
#include <platform/accounts.h>
#include <platform/catalog.h>
#include <platform/lottery.h>
#include <platform/payments.h>
#include <platform/stock_gate.h>
#include <platform/waiting_room.h>

namespace jiancang::platform {

// A window before a drop's start in which only some may buy (优先购): holders of a series, and
// the accounts of a whitelist of phone numbers. They skip the waiting room; the stock and the
// limit per identity are the drop's.
struct PriorityWindow {
  core::Timestamp startsAt;            // before the drop's start
  std::uint64_t holdersOfSeries = 0;   // a chain series whose holders may buy; 0 for none
  std::vector<std::string> whitelist;  // phone numbers (when creating)
  std::uint64_t whitelistSize = 0;     // (when read)
};

// How a drop sells: first come (through the waiting room), by lottery (lottery.h), or not at all
// (an airdrop: every recipient gets a copy for nothing).
enum class DropMode : std::uint8_t { kFirstCome, kLottery, kAirdrop };
std::string_view dropModeName(DropMode mode);  // "first-come", "lottery", "airdrop"
std::optional<DropMode> parseDropMode(std::string_view name);

struct DropFields {
  std::int64_t seriesDraftId = 0;        // a published series
  DropMode mode = DropMode::kFirstCome;  // kAirdrop is made by Drops::airdrop only
  std::string title;
  core::Fen price;
  std::uint64_t stock = 0;
  std::uint32_t perIdentityLimit = 1;
  core::Timestamp startsAt;
  core::Timestamp endsAt;
  core::Duration paymentWindow = std::chrono::minutes(5);
  std::uint32_t admitPerSecond = WaitingRoom::kDefaultAdmitPerSecond;  // out of the waiting room
  std::optional<PriorityWindow> priority;
};

struct Drop {
  std::int64_t id = 0;
  std::int64_t seriesDraftId = 0;
  std::uint64_t seriesId = 0;
  std::int64_t issuerUserId = 0;
  std::string title;
  core::Fen price;
  std::uint64_t stock = 0;
  std::uint64_t reserved = 0;  // pending, paid, minting and delivered orders
  std::uint32_t perIdentityLimit = 0;
  core::Timestamp startsAt;
  core::Timestamp endsAt;
  core::Duration paymentWindow{0};
  std::int64_t createdBy = 0;
  core::Timestamp createdAt;
  QueueSettings queue;  // the waiting room: its commitment, and its seed once drawn
  std::optional<PriorityWindow> priority;
  DropMode mode = DropMode::kFirstCome;
  std::optional<LotteryStatus> lottery;  // a lottery drop's progress
};

// An airdrop (空投): a copy of a published series for each recipient, minted for nothing. The
// recipients are the accounts of a list of phone numbers, or the holders of a chain series at a
// height (each holder once, however many tokens they held). Only real-name verified accounts
// receive one; the others are listed as skipped.
struct AirdropFields {
  std::int64_t seriesDraftId = 0;
  std::string title;
  std::vector<std::string> phones;
  std::uint64_t holdersOfSeries = 0;  // instead of phones
  std::uint64_t atHeight = 0;         // holders at this block height (0: the head)
};

struct AirdropSkip {
  std::string recipient;  // the phone number, or the chain address in hex
  std::string reason;     // "no-such-account", "identity-required"
};

struct Airdrop {
  Drop drop;
  std::vector<std::int64_t> orderIds;  // one per recipient, minted by the Minter
  std::vector<AirdropSkip> skipped;
};

enum class OrderState : std::uint8_t {
  kPending,     // stock reserved, waiting for payment
  kPaid,        // paid, waiting to be minted
  kMinting,     // in a mint transaction not yet committed
  kDelivered,   // minted: the token is the buyer's
  kExpired,     // not paid in time; stock given back
  kRefunded,    // paid, then refunded (a payment after the deadline, or by an operator)
  kMintFailed,  // the chain refused the mint after every retry; an operator refunds it
};
std::string_view orderStateName(OrderState state);
// An Idempotency-Key placeOrder() accepts: 1 to 64 printable ASCII characters, no spaces.
bool validIdempotencyKey(std::string_view key);
std::optional<OrderState> parseOrderState(std::string_view name);

struct OrderEvent {
  core::Timestamp at;
  OrderState state;
  std::string detail;
};

struct Order {
  std::int64_t id = 0;
  std::int64_t dropId = 0;
  std::int64_t userId = 0;
  std::string idempotencyKey;
  core::Fen amount;
  OrderState state = OrderState::kPending;
  core::Timestamp createdAt;
  core::Timestamp expiresAt;  // the payment deadline
  core::Timestamp updatedAt;
  std::string paymentId;
  std::string paymentUrl;
  std::uint64_t seriesId = 0;
  std::uint64_t serial = 0;  // once delivered
  core::TxHash mintTx;       // once minting
  std::uint64_t mintHeight = 0;
  std::vector<OrderEvent> history;  // filled by order(); oldest first
};

struct SalesFigures {
  std::uint64_t stock = 0;
  std::uint64_t attempts = 0;  // order requests since start (this instance), refused ones too
  std::uint64_t pending = 0;
  std::uint64_t paid = 0;  // paid and not yet delivered
  std::uint64_t delivered = 0;
  std::uint64_t expired = 0;
  std::uint64_t refunded = 0;
  std::uint64_t mintFailed = 0;
  std::uint64_t available = 0;
};

class Drops {
 public:
  // Each buyer's idempotency keys of their orders in a drop.
  using OrderKeys = std::unordered_map<std::int64_t, std::unordered_set<std::string>>;

  Drops(Database& database, Accounts& accounts, Catalog& catalog, PaymentProvider& payments,
        WaitingRoom& waitingRoom, const ledger::Ledger& ledger, const core::Clock& clock)
      : database_(database),
        accounts_(accounts),
        catalog_(catalog),
        payments_(payments),
        waitingRoom_(waitingRoom),
        ledger_(ledger),
        clock_(clock) {}

  // Checks free stock at `gate` (stock_gate.h) before each order instead of in this process;
  // the gate must outlive the drops. Set before the first order.
  void useStockGate(StockGate* gate) { stockGate_ = gate; }

  // By an operator. Reasons: "not-operator", "no-such-series" / "series-not-published",
  // "title-length", "price-out-of-range" (1 fen to 1,000,000 yuan), "stock-out-of-range",
  // "stock-over-cap" (with every other drop of the series, beyond its edition cap),
  // "limit-out-of-range" (1 to 100), "window-invalid", "payment-window-out-of-range" (10
  // seconds to 60 minutes), "admit-rate-out-of-range" (1 to 100,000 a second),
  // "priority-window-invalid" (a priority window starts before the drop and names holders or a
  // whitelist of at most 10,000 valid phone numbers), "mode-invalid" (a lottery has no priority
  // window, a stock of at most 10,000 winners, and one copy per identity). Every first-come
  // drop gets a waiting room with a fresh committed seed; every lottery a committed seed.
  core::Result<Drop> create(std::int64_t operatorId, const DropFields& fields);
  core::Result<Drop> find(std::int64_t dropId);

  // By an operator. Reasons: "not-operator", "title-length", "no-such-series" /
  // "series-not-published", "recipients-invalid" (a list of 1 to 10,000 phone numbers, or a
  // series and a height not above the head), "no-recipients" (nobody eligible),
  // "stock-over-cap".
  core::Result<Airdrop> airdrop(std::int64_t operatorId, const AirdropFields& fields);
  core::Result<std::vector<Drop>> list();

  // Reasons: "identity-required" (no real-name verification), "drop-not-started",
  // "priority-only" (in the priority window, for someone it does not name), "drop-ended",
  // "queue-required", "queue-not-reached" (waiting_room.h), "sold-out", "identity-limit",
  // "idempotency-key" (1 to 64 printable bytes), "no-such-drop", "not-for-sale" (a lottery
  // or an airdrop: their orders are made for the winners and recipients). The same key again
  // returns the first order, whatever its state.
  core::Result<Order> placeOrder(std::int64_t userId, std::int64_t dropId,
                                 const std::string& idempotencyKey);
  // The same for an account already read (a session's): its identity is not read again.
  core::Result<Order> placeOrder(const User& buyer, std::int64_t dropId,
                                 const std::string& idempotencyKey);
  // From memory only, for an answer that must not wait on the database: "sold-out" when this
  // instance saw the drop sold out within the last second and knows `userId` placed no order in
  // it with `idempotencyKey` (so the request cannot be a retry of one); nothing when the
  // database must be asked. Only where the database is this instance's alone (SQLite): with a
  // shared one, another instance may have sold a released copy to `userId`. Counts the attempt
  // when it answers. (A key the buyer used in another drop is answered "sold-out" here, not
  // "idempotency-key-reused": either way nothing is placed.)
  std::optional<core::Status> soldOutFromMemory(std::int64_t userId, std::int64_t dropId,
                                                const std::string& idempotencyKey);
  // The buyer's own order, or any for an operator ("no-such-order" otherwise).
  core::Result<Order> order(std::int64_t viewerId, std::int64_t orderId);
  core::Result<std::vector<Order>> ordersOf(std::int64_t userId);
  // Any order, with no access check: for the platform's own workers, never for a request.
  core::Result<Order> orderById(std::int64_t orderId);

  // Starts (or returns the already started) payment of a pending order: where to pay.
  // Reasons: "order-not-pending", "order-expired", and the provider's.
  core::Result<Order> pay(std::int64_t userId, std::int64_t orderId, const std::string& returnUrl);
  // Applies a notice the provider verified. Reasons for refusing one: "payment-unknown",
  // "payment-mismatch" (amount, currency or order differs from what was asked). A notice
  // applied before is a success that changes nothing.
  core::Status applyNotice(const PaymentNotice& notice);

  // Expires unpaid orders past their deadline, closing their payments at the provider first;
  // returns how many expired. An order whose payment the provider could not close stays
  // pending and is tried again next time.
  core::Result<int> expireDue();

  // Operator's refund of a paid order not yet minted, or of one the chain refused to mint.
  // Reasons: "not-operator", "order-not-refundable".
  core::Result<Order> refund(std::int64_t operatorId, std::int64_t orderId,
                             const std::string& reason);

  // Refunds the delivered order that sold token `serial` of `seriesId`, once the token is gone
  // for a reason that entitles its buyer to their money (a blind box whose seed was never
  // revealed): the payment is refunded to whoever paid. Nothing when no paid order sold it
  // (an airdrop, a gift of a token bought elsewhere); "order-not-refundable" if the order is
  // not delivered.
  core::Result<std::optional<Order>> refundSoldToken(std::uint64_t seriesId, std::uint64_t serial,
                                                     const std::string& reason);

  core::Result<SalesFigures> figures(std::int64_t dropId);

 private:
  core::Result<Order> loadOrder(SqlSession& session, std::int64_t orderId, bool withHistory);
  // The buyer's order placed with this key before, if any ("idempotency-key-reused" when it
  // was for another drop).
  core::Result<std::optional<Order>> priorOrder(SqlSession& session, std::int64_t userId,
                                                std::int64_t dropId,
                                                const std::string& idempotencyKey);
  core::Status refundPayment(const std::string& paymentId, const std::string& reason);
  // `orders`: every order in the drop, read with a sell-out (soldOutFromMemory).
  void noteAvailable(std::int64_t dropId, std::int64_t available,
                     std::optional<OrderKeys> orders = std::nullopt);
  core::Result<Order> placeOrder(std::int64_t userId, const core::Hash256& identity,
                                 std::int64_t dropId, const std::string& idempotencyKey);
  // Whether `userId` may buy in the drop's priority window.
  core::Result<bool> mayBuyEarly(std::int64_t userId, std::int64_t dropId,
                                 const PriorityWindow& window);
  // Counts the attempt; true when this instance saw the drop sold out within the last second
  // (never with a stock gate: the gate answers instead).
  bool knownSoldOut(std::int64_t dropId);
  core::Result<std::int64_t> availableInDatabase(std::int64_t dropId);
  // The series as the chain has it now (minted, held for blind boxes). A mint the chain has
  // made and the order not yet recorded counts twice for a moment: room is never overstated.
  core::Result<chain::SeriesRecord> seriesOnChain(std::uint64_t seriesId) const;
  // The recipients of an airdrop: user ids, and who was skipped.
  core::Status airdropRecipients(const AirdropFields& fields, std::vector<std::int64_t>* users,
                                 std::vector<AirdropSkip>* skipped);

  Database& database_;
  Accounts& accounts_;
  Catalog& catalog_;
  PaymentProvider& payments_;
  WaitingRoom& waitingRoom_;
  const ledger::Ledger& ledger_;
  const core::Clock& clock_;
  StockGate* stockGate_ = nullptr;

  // What this instance last saw of each drop's free stock: a drop seen sold out is refused
  // from memory for a while (hintMillis) before the database is asked again (another instance
  // may have released stock since); releasing stock here forgets it at once.
  struct StockHint {
    std::int64_t available = 0;
    std::int64_t seenAtMillis = 0;
    // Sold out, with the database this instance's alone: every order in the drop (who placed
    // it, with which key), read in the transaction that found it sold out and added to as this
    // instance places orders.
    std::optional<OrderKeys> orders;
  };
  static std::int64_t hintMillis(const StockHint& hint);
  std::mutex hintsMutex_;
  std::map<std::int64_t, StockHint> hints_;
  std::map<std::int64_t, std::uint64_t> attempts_;
};

// Records an order's move to `state` (its row and its history) inside a transaction.
core::Status recordOrderState(SqlSession& session, std::int64_t orderId, OrderState state,
                              const std::string& detail, core::Timestamp at);

}  // namespace jiancang::platform
