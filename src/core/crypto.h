// Keys, signatures and the crypto suite a chain chose at genesis.
//
// Two suites exist: Ed25519 with SHA-256 (the default) and the Chinese national suite SM2 with
// SM3 (国密, GB/T 32918 and GB/T 32905). Everything above this header handles keys, signatures
// and hashes through CryptoSuite and never asks which suite it is.
//
// Verification is strict: a signature or key has one accepted form. Ed25519 refuses
// non-canonical S values and small-order or non-canonical points (no malleability); SM2 refuses
// r or s outside [1, n-1] and points off the curve.
#pragma once

#include <cstdint>
#include <string_view>

#include <core/bytes.h>
#include <core/encoding.h>
#include <core/hash.h>
#include <core/ids.h>

namespace jiancang::core {

// Stored in genesis and in every encoded key: never renumber.
enum class SuiteId : std::uint8_t { kEd25519Sha256 = 1, kSm2Sm3 = 2 };

// "ed25519" or "sm2".
std::string_view suiteName(SuiteId suite);
Result<SuiteId> parseSuiteName(std::string_view name);
Result<SuiteId> suiteFromByte(std::uint8_t byte);

// A public key of one suite: 32 bytes for Ed25519, 65 (0x04 || x || y) for SM2.
class PublicKey {
 public:
  static constexpr std::size_t kMaxSize = 65;

  PublicKey() = default;
  SuiteId suite() const { return suite_; }
  ByteView bytes() const { return bytes_; }
  std::string hex() const { return toHex(bytes_); }

  // Encoded as the suite byte, then the key bytes (their length follows from the suite).
  void encodeTo(Writer& writer) const;
  static PublicKey decodeFrom(Reader& reader);

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
  friend auto operator<=>(const PublicKey&, const PublicKey&) = default;

 private:
  friend class Ed25519Suite;
  friend class Sm2Suite;
  PublicKey(SuiteId suite, Bytes bytes) : suite_(suite), bytes_(std::move(bytes)) {}

  SuiteId suite_ = SuiteId::kEd25519Sha256;
  Bytes bytes_;
};

// 64 bytes in both suites: Ed25519's R || S, or SM2's r || s as 32-byte big-endian numbers.
using Signature = FixedBytes<64, struct SignatureTag>;

// A secret key. Not copyable, wiped when destroyed; never log it or put it in an error.
class SecretKey {
 public:
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  ~SecretKey();

  SuiteId suite() const { return suite_; }
  // The 32 bytes from which the key pair can be rebuilt (the Ed25519 seed, the SM2 scalar):
  // what a key file stores and what keyPairFromSecret() takes.
  ByteView secretBytes() const { return ByteView(material_).first(32); }

 private:
  friend class Ed25519Suite;
  friend class Sm2Suite;
  SecretKey(SuiteId suite, ByteView material);
  ByteView material() const { return ByteView(material_).first(size_); }

  SuiteId suite_;
  // Ed25519 keeps libsodium's 64-byte form (seed || public key), SM2 the 32-byte scalar and
  // then its 65-byte public key: signing needs no re-derivation in either suite.
  std::array<std::uint8_t, 97> material_{};
  std::size_t size_ = 0;
};

struct KeyPair {
  SecretKey secretKey;
  PublicKey publicKey;
};

class CryptoSuite {
 public:
  virtual ~CryptoSuite() = default;

  virtual SuiteId id() const = 0;
  virtual HashFunction hashFunction() const = 0;
  Hash256 hash(ByteView data) const { return hashParts(hashFunction(), {data}); }
  Hash256 hash(std::initializer_list<ByteView> parts) const {
    return hashParts(hashFunction(), parts);
  }

  // A fresh key pair from the operating system's random source.
  virtual KeyPair generateKeyPair() const = 0;
  // Rebuilds a key pair from SecretKey::secretBytes(); refuses out-of-range secrets.
  virtual Result<KeyPair> keyPairFromSecret(ByteView secret) const = 0;
  // Refuses keys of the wrong length, non-canonical encodings and invalid or weak points.
  virtual Result<PublicKey> parsePublicKey(ByteView bytes) const = 0;
  virtual Signature sign(const SecretKey& secretKey, ByteView message) const = 0;
  // False for any key, message or signature that is not an exact, valid match.
  virtual bool verify(const PublicKey& publicKey, ByteView message,
                      const Signature& signature) const = 0;
};

const CryptoSuite& cryptoSuite(SuiteId suite);

// An account's address: the first 20 bytes of the suite's hash of (suite byte || public key).
Address addressOf(const PublicKey& publicKey);

}  // namespace jiancang::core
