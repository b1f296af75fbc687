#include <platform/identity.h>

#include <array>
#include <chrono>
#include <optional>

namespace jiancang::platform {
namespace {

using core::Status;

Status refuse(std::string reason, std::string message) {
  return core::invalidArgument(std::move(reason), std::move(message));
}

// Province-level codes in use (GB/T 2260): the first two digits of every region code.
bool knownProvince(int code) {
  static constexpr std::array kCodes{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                     35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                     53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};
  for (int known : kCodes) {
    if (known == code) return true;
  }
  return false;
}

int daysInMonth(int year, int month) {
  static constexpr std::array kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

struct CivilDate {
  int year;
  int month;
  int day;
};

// The calendar day in China (UTC+8) at `time`.
CivilDate chinaDate(core::Timestamp time) {
  namespace chrono = std::chrono;
  auto local = chrono::sys_days{} + chrono::floor<chrono::days>(
                                        chrono::milliseconds(time.unixMillis()) + chrono::hours(8));
  chrono::year_month_day date{local};
  return {static_cast<int>(date.year()), static_cast<int>(static_cast<unsigned>(date.month())),
          static_cast<int>(static_cast<unsigned>(date.day()))};
}

// Counts UTF-8 code points; nothing if the text is not valid UTF-8.
std::optional<std::size_t> codePoints(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xe  ? 3
                         : (byte >> 3) == 0x1e ? 4
                                               : 0;
    if (length == 0 || i + length > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

}  // namespace

core::Result<CheckedIdentity> checkIdentityClaim(const IdentityClaim& claim) {
  // Names: Chinese names are 2 to about 6 characters, names of ethnic minorities and foreigners
  // with a middle dot longer; no digits, no control characters, no markup.
  auto length = codePoints(claim.name);
  if (!length || *length < 2 || *length > 30) {
    return refuse("identity-name", "the name must be 2 to 30 characters, as on the identity card");
  }
  for (char c : claim.name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || (byte >= '0' && byte <= '9') || c == '<' || c == '>' || c == '"' ||
        c == '&' || c == '\\' || c == '/') {
      return refuse("identity-name", "the name may hold no digits, symbols or control characters");
    }
  }

  std::string number = claim.idNumber;
  if (number.size() == 18 && number[17] == 'x') number[17] = 'X';
  bool shaped = number.size() == 18;
  for (std::size_t i = 0; shaped && i < 17; ++i) shaped = number[i] >= '0' && number[i] <= '9';
  if (shaped) shaped = (number[17] >= '0' && number[17] <= '9') || number[17] == 'X';
  if (!shaped) {
    return refuse("identity-number-format",
                  "a resident identity number is 17 digits followed by a digit or X");
  }
  auto digits = [&](std::size_t from, std::size_t count) {
    int value = 0;
    for (std::size_t i = from; i < from + count; ++i) value = value * 10 + (number[i] - '0');
    return value;
  };
  if (!knownProvince(digits(0, 2))) {
    return refuse("identity-region", "the identity number's region code is not a known one");
  }
  CheckedIdentity checked{claim.name, number, digits(6, 4), digits(10, 2), digits(12, 2)};
  if (checked.birthYear < 1900 || checked.birthMonth < 1 || checked.birthMonth > 12 ||
      checked.birthDay < 1 ||
      checked.birthDay > daysInMonth(checked.birthYear, checked.birthMonth)) {
    return refuse("identity-birth-date", "the identity number's birth date is not a real date");
  }
  // ISO 7064 MOD 11-2, as GB 11643 specifies it.
  static constexpr std::array kWeights{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr std::string_view kCheck = "10X98765432";
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i) sum += (number[i] - '0') * kWeights[i];
  if (kCheck[static_cast<std::size_t>(sum % 11)] != number[17]) {
    return refuse("identity-check-digit",
                  "the identity number's check character is wrong: please check it for a typo");
  }
  return checked;
}

int ageOn(const CheckedIdentity& identity, core::Timestamp now) {
  CivilDate today = chinaDate(now);
  int age = today.year - identity.birthYear;
  if (today.month < identity.birthMonth ||
      (today.month == identity.birthMonth && today.day < identity.birthDay)) {
    --age;
  }
  return age;
}

}  // namespace jiancang::platform
