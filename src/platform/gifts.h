// Gifting (转赠): a collector gives a token to another verified collector, found by phone
// number. The platform signs the chain's transfer with the giver's custodial key, inside the
// giver's own request; the chain enforces the series' policy (transferable, holding periods,
// frozen tokens) and ownership, and its refusal comes back as it stands.
#pragma once

#include <platform/accounts.h>
#include <platform/chain_writer.h>

namespace jiancang::platform {

struct Gift {
  chain::TokenId token;
  core::Address from;
  core::Address to;
  std::int64_t toUserId = 0;
  core::TxHash txHash;
  std::uint64_t height = 0;
};

class Gifts {
 public:
  Gifts(Accounts& accounts, ChainWriter& chain) : accounts_(accounts), chain_(chain) {}

  // Refusals: "identity-required" (the giver is not verified), "no-such-recipient",
  // "recipient-not-verified", "gift-to-self", and the chain's ("not-owner",
  // "hold-period-active", "not-transferable", "token-frozen", ...).
  core::Result<Gift> give(std::int64_t fromUserId, const chain::TokenId& token,
                          std::string_view toPhone);

 private:
  Accounts& accounts_;
  ChainWriter& chain_;
};

}  // namespace jiancang::platform
