// Typed identifiers: an Address is not a TxHash, a series number is not a token number,
// even where the bytes underneath have the same size.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include <core/bytes.h>

namespace jiancang::core {

using Address = FixedBytes<20, struct AddressTag>;
using TxHash = FixedBytes<32, struct TxHashTag>;
using BlockHash = FixedBytes<32, struct BlockHashTag>;
// A chain is named by the hash of its genesis block, so no two chains share an id by accident.
using ChainId = FixedBytes<32, struct ChainIdTag>;

// A number that identifies something of one kind (a series, a token, an order).
template <typename Tag>
class NumericId {
 public:
  constexpr NumericId() = default;
  constexpr explicit NumericId(std::uint64_t value) : value_(value) {}
  constexpr std::uint64_t value() const { return value_; }
  std::string toString() const { return std::to_string(value_); }
  friend constexpr auto operator<=>(const NumericId&, const NumericId&) = default;

 private:
  std::uint64_t value_ = 0;
};

}  // namespace jiancang::core
