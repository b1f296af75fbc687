// Real-name verification (实名认证): the checks every purchase depends on. A resident identity
// number (GB 11643-1999) is 17 digits and a check character: a province-level region, a birth
// date, a sequence and the ISO 7064 MOD 11-2 check. Buyers must be adults by the birth date it
// carries. A real provider (a bank-card or face check through a licensed service) plugs in behind
// IdentityVerifier; the local checks below always run first and are the default verifier.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <core/clock.h>
#include <core/status.h>

namespace jiancang::platform {

struct IdentityClaim {
  std::string name;      // as on the identity card
  std::string idNumber;  // 18 characters; a lower-case x is accepted and stored upper-case
};

struct CheckedIdentity {
  std::string name;
  std::string idNumber;  // normalised: upper-case X
  int birthYear = 0;
  int birthMonth = 0;
  int birthDay = 0;
};

// Format, region, birth date and check character; nothing about age. Reasons:
// "identity-name", "identity-number-format", "identity-region", "identity-birth-date",
// "identity-check-digit".
core::Result<CheckedIdentity> checkIdentityClaim(const IdentityClaim& claim);

// Whole years of age on the day `now` falls on (UTC+8, the calendar the card is issued in).
int ageOn(const CheckedIdentity& identity, core::Timestamp now);

// Asks whether the person exists and the name matches the number. Implementations must not log
// the claim. The local one accepts every claim that passed checkIdentityClaim.
class IdentityVerifier {
 public:
  virtual ~IdentityVerifier() = default;
  virtual core::Status verify(const CheckedIdentity& identity) = 0;
};

class LocalIdentityVerifier final : public IdentityVerifier {
 public:
  core::Status verify(const CheckedIdentity&) override { return {}; }
};

}  // namespace jiancang::platform
