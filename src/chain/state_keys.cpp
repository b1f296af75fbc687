#include <chain/state_keys.h>

namespace jiancang::chain::state_keys {
namespace {

class KeyBuilder {
 public:
  explicit KeyBuilder(char prefix) { key_.push_back(static_cast<std::uint8_t>(prefix)); }
  KeyBuilder& number(std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
      key_.push_back(static_cast<std::uint8_t>(value >> shift));
    return *this;
  }
  KeyBuilder& bytes(ByteView bytes) {
    key_.insert(key_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  Bytes take() { return std::move(key_); }

 private:
  Bytes key_;
};

}  // namespace

Bytes account(const Address& address) { return KeyBuilder('a').bytes(address.view()).take(); }
Bytes issuer(const Address& address) { return KeyBuilder('i').bytes(address.view()).take(); }
Bytes series(SeriesId series) { return KeyBuilder('s').number(series.value()).take(); }
Bytes token(const TokenId& token) {
  return KeyBuilder('t').number(token.series.value()).number(token.serial).take();
}
Bytes blindBox(SeriesId boxSeries) { return KeyBuilder('b').number(boxSeries.value()).take(); }
Bytes boxAssignment(SeriesId boxSeries, std::uint64_t serial) {
  return KeyBuilder('x').number(boxSeries.value()).number(serial).take();
}
Bytes lottery(LotteryId lottery) { return KeyBuilder('l').number(lottery.value()).take(); }
Bytes recipe(RecipeId recipe) { return KeyBuilder('r').number(recipe.value()).take(); }
Bytes consortium() { return KeyBuilder('m').take(); }
Bytes chainHead() { return KeyBuilder('h').take(); }
Bytes blockHash(std::uint64_t height) { return KeyBuilder('k').number(height).take(); }
Bytes usedPaymentReference(const Hash256& referenceHash) {
  return KeyBuilder('p').bytes(referenceHash.view()).take();
}
Bytes usedConsent(const Hash256& consentHash) {
  return KeyBuilder('c').bytes(consentHash.view()).take();
}

std::optional<TokenId> parseTokenKey(ByteView key) {
  if (key.size() != 17 || key[0] != 't') return std::nullopt;
  auto number = [&](std::size_t at) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 8; ++i) value = value << 8 | key[at + i];
    return value;
  };
  return TokenId{SeriesId(number(1)), number(9)};
}

}  // namespace jiancang::chain::state_keys
