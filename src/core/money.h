// Money: integer fen (分, 1/100 yuan), never floating point. Every operation that could
// overflow is checked and says so instead of wrapping.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <core/status.h>

namespace jiancang::core {

class Fen {
 public:
  static constexpr std::uint32_t kBasisPointsPerWhole = 10'000;

  constexpr Fen() = default;
  constexpr explicit Fen(std::int64_t fen) : fen_(fen) {}

  constexpr std::int64_t value() const { return fen_; }

  // Parses yuan as written by people: "12", "12.3", "12.34", "-0.05". Refuses more than two
  // decimals, signs other than a leading '-', exponents, spaces and amounts beyond int64 fen.
  static Result<Fen> parseYuan(std::string_view text);
  // "12.34", "-0.05", "0.00".
  std::string toYuanString() const;

  Result<Fen> plus(Fen other) const;
  Result<Fen> minus(Fen other) const;
  Result<Fen> times(std::int64_t factor) const;
  // The share of this amount given in basis points (1/10,000), rounded toward zero: the
  // royalty on a price. `basisPoints` may not exceed 10,000.
  Result<Fen> share(std::uint32_t basisPoints) const;

  friend constexpr auto operator<=>(Fen, Fen) = default;

 private:
  std::int64_t fen_ = 0;
};

}  // namespace jiancang::core
