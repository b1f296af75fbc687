// Byte strings, fixed-size byte arrays with a type tag, and hexadecimal text.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <core/status.h>

namespace jiancang::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView asBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Lowercase hexadecimal, two digits per byte.
std::string toHex(ByteView bytes);
// Accepts upper- and lowercase digits; refuses an odd length, a "0x" prefix or any other character.
Result<Bytes> fromHex(std::string_view hex);

// Compares in time that depends only on the lengths, for secrets and MACs.
bool constantTimeEqual(ByteView a, ByteView b);
// Overwrites memory in a way the compiler may not optimise away.
void secureWipe(std::span<std::uint8_t> bytes);

// N bytes. The Tag makes distinct types of the same size (an Address is not a TxHash).
template <std::size_t N, typename Tag = void>
class FixedBytes {
 public:
  static constexpr std::size_t kSize = N;

  constexpr FixedBytes() = default;
  constexpr explicit FixedBytes(const std::array<std::uint8_t, N>& bytes) : bytes_(bytes) {}

  // The bytes of `view`, or nothing when its length is not N.
  static std::optional<FixedBytes> fromView(ByteView view) {
    if (view.size() != N) return std::nullopt;
    FixedBytes result;
    std::copy(view.begin(), view.end(), result.bytes_.begin());
    return result;
  }

  static Result<FixedBytes> fromHex(std::string_view hex) {
    auto bytes = core::fromHex(hex);
    if (!bytes) return bytes.status();
    auto fixed = fromView(*bytes);
    if (!fixed) {
      return invalidArgument(
          "hex-wrong-length",
          "expected " + std::to_string(N * 2) + " hex digits, got " + std::to_string(hex.size()));
    }
    return *fixed;
  }

  ByteView view() const { return bytes_; }
  const std::array<std::uint8_t, N>& array() const { return bytes_; }
  std::array<std::uint8_t, N>& mutableArray() { return bytes_; }
  std::string hex() const { return toHex(bytes_); }
  bool isZero() const {
    for (auto byte : bytes_) {
      if (byte != 0) return false;
    }
    return true;
  }

  friend auto operator<=>(const FixedBytes&, const FixedBytes&) = default;

 private:
  std::array<std::uint8_t, N> bytes_{};
};

// For hash tables keyed by a hash (a node hash, a transaction hash): its first bytes are already
// uniformly spread, so they are the table's hash as they are.
struct LeadingBytesHasher {
  template <std::size_t N, typename Tag>
  std::size_t operator()(const FixedBytes<N, Tag>& bytes) const {
    static_assert(N >= sizeof(std::size_t));
    std::size_t value = 0;
    for (std::size_t i = 0; i < sizeof(value); ++i) value = value << 8 | bytes.array()[i];
    return value;
  }
};

}  // namespace jiancang::core
