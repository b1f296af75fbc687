#include <platform/gifts.h>

namespace jiancang::platform {

core::Result<Gift> Gifts::give(std::int64_t fromUserId, const chain::TokenId& token,
                               std::string_view toPhone) {
  auto giver = accounts_.user(fromUserId);
  if (!giver) return giver.status();
  if (!giver->identityVerified) {
    return core::failedPrecondition("identity-required",
                                    "verify your identity before giving a token away");
  }
  // Phones are unique; an 11-digit prefix can only be the phone itself.
  auto found = accounts_.users(toPhone, 0, 1);
  if (!found) return found.status();
  if (toPhone.size() != 11 || found->empty() || found->front().phone != toPhone) {
    return core::notFound("no-such-recipient",
                          "no account has the phone number " + std::string(toPhone));
  }
  const User& recipient = found->front();
  if (recipient.id == fromUserId) {
    return core::invalidArgument("gift-to-self", "a token cannot be given to its own holder");
  }
  if (!recipient.identityVerified) {
    return core::failedPrecondition(
        "recipient-not-verified",
        "the recipient has not verified their identity yet, and may not receive tokens");
  }
  auto key = accounts_.signingKey(fromUserId);
  if (!key) return key.status();
  auto outcome = chain_.submit(*key, chain::Transfer{token, recipient.address});
  if (!outcome) return outcome.status();
  if (core::Status refused = outcome->refusal(); !refused.isOk()) return refused;
  return Gift{token,        giver->address,  recipient.address,
              recipient.id, outcome->txHash, outcome->height};
}

}  // namespace jiancang::platform
