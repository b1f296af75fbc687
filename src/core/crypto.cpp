#include <core/crypto.h>

#include <algorithm>
#include <cstdlib>

#include <sodium.h>

#include <core/crypto_internal.h>

namespace jiancang::core {

std::string_view suiteName(SuiteId suite) {
  switch (suite) {
    case SuiteId::kEd25519Sha256:
      return "ed25519";
    case SuiteId::kSm2Sm3:
      return "sm2";
  }
  return "unknown";
}

Result<SuiteId> parseSuiteName(std::string_view name) {
  if (name == "ed25519") return SuiteId::kEd25519Sha256;
  if (name == "sm2") return SuiteId::kSm2Sm3;
  return invalidArgument("unknown-crypto-suite",
                         "unknown crypto suite '" + std::string(name) + "' (ed25519 or sm2)");
}

Result<SuiteId> suiteFromByte(std::uint8_t byte) {
  if (byte == static_cast<std::uint8_t>(SuiteId::kEd25519Sha256)) return SuiteId::kEd25519Sha256;
  if (byte == static_cast<std::uint8_t>(SuiteId::kSm2Sm3)) return SuiteId::kSm2Sm3;
  return invalidArgument("unknown-crypto-suite",
                         "crypto suite number " + std::to_string(byte) + " is not known");
}

void PublicKey::encodeTo(Writer& writer) const {
  writer.u8(static_cast<std::uint8_t>(suite_));
  writer.fixed(bytes_);
}

PublicKey PublicKey::decodeFrom(Reader& reader) {
  auto suite = suiteFromByte(reader.u8());
  if (reader.failed()) return {};
  if (!suite) {
    reader.fail(suite.status());
    return {};
  }
  std::array<std::uint8_t, kMaxSize> buffer{};
  std::span<std::uint8_t> keyBytes(buffer.data(), *suite == SuiteId::kEd25519Sha256 ? 32 : 65);
  reader.readInto(keyBytes);
  if (reader.failed()) return {};
  auto key = cryptoSuite(*suite).parsePublicKey(keyBytes);
  if (!key) {
    reader.fail(key.status());
    return {};
  }
  return *key;
}

SecretKey::SecretKey(SuiteId suite, ByteView material) : suite_(suite), size_(material.size()) {
  assert(material.size() <= material_.size());
  std::copy(material.begin(), material.end(), material_.begin());
}

SecretKey::SecretKey(SecretKey&& other) noexcept
    : suite_(other.suite_), material_(other.material_), size_(other.size_) {
  secureWipe(other.material_);
  other.size_ = 0;
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    secureWipe(material_);
    suite_ = other.suite_;
    material_ = other.material_;
    size_ = other.size_;
    secureWipe(other.material_);
    other.size_ = 0;
  }
  return *this;
}

SecretKey::~SecretKey() { secureWipe(material_); }

const CryptoSuite& cryptoSuite(SuiteId suite) {
  // sodium_init() is idempotent and thread-safe; doing it here means no caller can forget it.
  static const bool sodiumReady = sodium_init() >= 0;
  if (!sodiumReady) std::abort();
  static const Ed25519Suite ed25519;
  static const Sm2Suite sm2;
  return suite == SuiteId::kSm2Sm3 ? static_cast<const CryptoSuite&>(sm2) : ed25519;
}

Address addressOf(const PublicKey& publicKey) {
  const std::uint8_t suiteByte = static_cast<std::uint8_t>(publicKey.suite());
  Hash256 digest =
      cryptoSuite(publicKey.suite()).hash({ByteView(&suiteByte, 1), publicKey.bytes()});
  Address address;
  std::copy_n(digest.array().begin(), Address::kSize, address.mutableArray().begin());
  return address;
}

}  // namespace jiancang::core
