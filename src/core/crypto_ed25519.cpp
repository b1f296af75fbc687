// Ed25519 through libsodium, which verifies about 2.3 times faster than OpenSSL here
// (shared/research/limits.md). libsodium's verify already refuses non-canonical S, small-order
// R and small-order or non-canonical public keys; parsePublicKey() refuses bad keys up front too.
#include <core/crypto_internal.h>

#include <array>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include <sodium.h>

namespace jiancang::core {

static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);
static_assert(crypto_sign_BYTES == Signature::kSize);

KeyPair Ed25519Suite::generateKeyPair() const {
  std::array<std::uint8_t, crypto_sign_SEEDBYTES> seed{};
  randombytes_buf(seed.data(), seed.size());
  auto pair = keyPairFromSecret(seed);
  secureWipe(seed);
  assert(pair.ok());  // every 32-byte seed is a valid Ed25519 secret
  return std::move(pair).value();
}

Result<KeyPair> Ed25519Suite::keyPairFromSecret(ByteView secret) const {
  if (secret.size() != crypto_sign_SEEDBYTES) {
    return invalidArgument("secret-key-wrong-length", "an Ed25519 secret key is 32 bytes, got " +
                                                          std::to_string(secret.size()));
  }
  Bytes publicBytes(crypto_sign_PUBLICKEYBYTES);
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> expanded{};
  crypto_sign_seed_keypair(publicBytes.data(), expanded.data(), secret.data());
  KeyPair pair{SecretKey(id(), expanded), PublicKey(id(), std::move(publicBytes))};
  secureWipe(expanded);
  return pair;
}

namespace {

// Keys that passed the point check lately. The check is a full scalar multiplication, as dear
// as verifying a signature (bench/ledger_tps: 40% of the submit path), and the same accounts
// sign again and again. Only keys that passed go in, so a hit can only skip a check that would
// pass: the result of parsing never depends on the cache.
class ValidKeyMemo {
 public:
  bool contains(ByteView key) {
    std::lock_guard lock(mutex_);
    return keys_.contains(toArray(key));
  }
  void add(ByteView key) {
    std::lock_guard lock(mutex_);
    if (keys_.size() >= kCapacity) keys_.clear();  // bounded; forgetting costs one check
    keys_.insert(toArray(key));
  }

 private:
  using Key = std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES>;
  struct KeyHash {
    std::size_t operator()(const Key& key) const {
      std::size_t value = 0;
      std::memcpy(&value, key.data(), sizeof value);  // points are uniformly distributed
      return value;
    }
  };
  static Key toArray(ByteView key) {
    Key out{};
    std::memcpy(out.data(), key.data(), out.size());
    return out;
  }
  static constexpr std::size_t kCapacity = 100'000;
  std::mutex mutex_;
  std::unordered_set<Key, KeyHash> keys_;
};

ValidKeyMemo& validKeys() {
  static ValidKeyMemo memo;
  return memo;
}

}  // namespace

Result<PublicKey> Ed25519Suite::parsePublicKey(ByteView bytes) const {
  if (bytes.size() != crypto_sign_PUBLICKEYBYTES) {
    return invalidArgument("public-key-wrong-length", "an Ed25519 public key is 32 bytes, got " +
                                                          std::to_string(bytes.size()));
  }
  // Refuses non-canonical encodings, points of small order and points off the main subgroup.
  if (!validKeys().contains(bytes)) {
    if (crypto_core_ed25519_is_valid_point(bytes.data()) != 1) {
      return invalidArgument("public-key-invalid-point",
                             "the Ed25519 public key is not a valid point of prime order");
    }
    validKeys().add(bytes);
  }
  return PublicKey(id(), Bytes(bytes.begin(), bytes.end()));
}

Signature Ed25519Suite::sign(const SecretKey& secretKey, ByteView message) const {
  assert(secretKey.suite() == id() && secretKey.material().size() == crypto_sign_SECRETKEYBYTES);
  Signature signature;
  crypto_sign_detached(signature.mutableArray().data(), nullptr, message.data(), message.size(),
                       secretKey.material().data());
  return signature;
}

bool Ed25519Suite::verify(const PublicKey& publicKey, ByteView message,
                          const Signature& signature) const {
  if (publicKey.suite() != id() || publicKey.bytes().size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }
  return crypto_sign_verify_detached(signature.array().data(), message.data(), message.size(),
                                     publicKey.bytes().data()) == 0;
}

}  // namespace jiancang::core
