#include <core/money.h>

#include <limits>

namespace jiancang::core {
namespace {

Status overflow(std::string_view operation) {
  return invalidArgument("money-overflow",
                         std::string(operation) + " does not fit in a 64-bit count of fen");
}

}  // namespace

Result<Fen> Fen::parseYuan(std::string_view text) {
  auto malformed = [&] {
    return invalidArgument("money-malformed",
                           "'" + std::string(text) + "' is not an amount in yuan like 12.34");
  };
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  std::size_t point = digits.find('.');
  std::string_view whole = digits.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? "" : digits.substr(point + 1);
  if (whole.empty() || (point != std::string_view::npos && fraction.empty())) return malformed();
  auto allDigits = [](std::string_view part) {
    return part.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!allDigits(whole) || !allDigits(fraction)) return malformed();
  if (fraction.size() > 2) {
    return invalidArgument("money-too-precise",
                           "'" + std::string(text) + "' has more than two decimals (fen)");
  }
  // Accumulate as a negative number so that the most negative amount parses too.
  std::int64_t fen = 0;
  std::string allDigitsInFen(whole);
  allDigitsInFen += fraction;
  allDigitsInFen.append(2 - fraction.size(), '0');
  for (char digit : allDigitsInFen) {
    if (__builtin_mul_overflow(fen, 10, &fen) || __builtin_sub_overflow(fen, digit - '0', &fen)) {
      return overflow("the amount");
    }
  }
  if (!negative) {
    if (fen == std::numeric_limits<std::int64_t>::min()) return overflow("the amount");
    fen = -fen;
  }
  return Fen(fen);
}

std::string Fen::toYuanString() const {
  // Work in unsigned magnitude so that the most negative value prints correctly.
  std::uint64_t magnitude =
      fen_ < 0 ? 0 - static_cast<std::uint64_t>(fen_) : static_cast<std::uint64_t>(fen_);
  std::string cents = std::to_string(magnitude % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (fen_ < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." + cents;
}

Result<Fen> Fen::plus(Fen other) const {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(fen_, other.fen_, &sum)) return overflow("the sum");
  return Fen(sum);
}

Result<Fen> Fen::minus(Fen other) const {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(fen_, other.fen_, &difference)) return overflow("the difference");
  return Fen(difference);
}

Result<Fen> Fen::times(std::int64_t factor) const {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(fen_, factor, &product)) return overflow("the product");
  return Fen(product);
}

Result<Fen> Fen::share(std::uint32_t basisPoints) const {
  if (basisPoints > kBasisPointsPerWhole) {
    return invalidArgument("basis-points-out-of-range",
                           std::to_string(basisPoints) + " basis points is more than the whole");
  }
  // Split the amount so no product overflows: fen = whole × 10,000 + rest, where rest has the
  // sign of fen. Both parts have the same sign, so truncating each truncates the sum toward zero.
  const std::int64_t perWhole = kBasisPointsPerWhole;
  std::int64_t whole = fen_ / perWhole;
  std::int64_t rest = fen_ % perWhole;
  return Fen(whole * basisPoints + rest * basisPoints / perWhole);
}

}  // namespace jiancang::core
