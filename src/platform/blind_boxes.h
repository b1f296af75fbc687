// Blind boxes (盲盒) once published (catalog.h commits their contents and the hash of a secret
// seed before the first box is sold):
//
//   reveal, by the issuer when the sale is over: seal-blind-box (no more boxes; the sealing
//       block's hash becomes entropy nobody knew when the seed was committed), then, in a later
//       block, reveal-blind-box with the seed. The chain gives every sold box its item by the
//       documented shuffle (chain/fair_random.h), so anyone can recompute each assignment.
//   open, by a box's holder after the reveal: open-blind-box burns the box and mints its item.
//   refund, by a box's holder when the deadline passed without a reveal: refund-blind-box burns
//       the box, and the order that sold it is refunded through the payment provider.
//
// Every chain transaction is signed with the acting user's own custodial key inside their own
// request; the chain's refusal comes back as it stands.
#pragma once

#include <optional>

#include <chain/types.h>
#include <platform/accounts.h>
#include <platform/catalog.h>
#include <platform/chain_writer.h>
#include <platform/drops.h>

namespace jiancang::platform {

struct BoxOpening {
  chain::TokenId box;
  chain::TokenId item;  // the token minted to the holder
  core::TxHash txHash;
  std::uint64_t height = 0;
};

struct BoxRefund {
  chain::TokenId box;
  std::optional<Order> order;  // the refunded order, when a paid one sold the box
};

class BlindBoxes {
 public:
  BlindBoxes(Database& database, Accounts& accounts, Catalog& catalog, Drops& drops,
             ChainWriter& chain, const core::Clock& clock)
      : database_(database),
        accounts_(accounts),
        catalog_(catalog),
        drops_(drops),
        chain_(chain),
        clock_(clock) {}

  // The chain's record of a published blind box's series ("not-a-blind-box" otherwise).
  core::Result<chain::BlindBoxRecord> record(std::uint64_t seriesId) const;

  // By the issuer of the box series (its draft id). Reasons: "not-issuer", "no-such-series",
  // "not-a-blind-box", "sale-still-open" (a drop of the series has not ended),
  // "orders-in-flight" (orders not yet paid or minted), "already-revealed", and the chain's
  // ("reveal-deadline-passed", ...). Sealed but not revealed (a failure between the two): the
  // reveal is sent again.
  core::Result<chain::BlindBoxRecord> reveal(std::int64_t userId, std::int64_t draftId);

  // By the box's holder. Reasons: the chain's ("not-owner", "blind-box-wrong-stage" before the
  // reveal, "token-burned" once opened, "blind-box-not-found" for a token that is no box).
  core::Result<BoxOpening> open(std::int64_t userId, const chain::TokenId& box);

  // By the box's holder. Reasons: the chain's ("refund-not-available" before the deadline or
  // after a reveal, "not-owner", ...) and the payment provider's. Asked again after the chain
  // burned the box but the refund of its order failed, it refunds the order.
  core::Result<BoxRefund> refund(std::int64_t userId, const chain::TokenId& box);

 private:
  Database& database_;
  Accounts& accounts_;
  Catalog& catalog_;
  Drops& drops_;
  ChainWriter& chain_;
  const core::Clock& clock_;
};

}  // namespace jiancang::platform
