// The two CryptoSuite implementations; only crypto*.cpp sees them.
#pragma once

#include <core/crypto.h>

namespace jiancang::core {

class Ed25519Suite final : public CryptoSuite {
 public:
  SuiteId id() const override { return SuiteId::kEd25519Sha256; }
  HashFunction hashFunction() const override { return HashFunction::kSha256; }
  KeyPair generateKeyPair() const override;
  Result<KeyPair> keyPairFromSecret(ByteView secret) const override;
  Result<PublicKey> parsePublicKey(ByteView bytes) const override;
  Signature sign(const SecretKey& secretKey, ByteView message) const override;
  bool verify(const PublicKey& publicKey, ByteView message,
              const Signature& signature) const override;
};

class Sm2Suite final : public CryptoSuite {
 public:
  SuiteId id() const override { return SuiteId::kSm2Sm3; }
  HashFunction hashFunction() const override { return HashFunction::kSm3; }
  KeyPair generateKeyPair() const override;
  Result<KeyPair> keyPairFromSecret(ByteView secret) const override;
  Result<PublicKey> parsePublicKey(ByteView bytes) const override;
  Signature sign(const SecretKey& secretKey, ByteView message) const override;
  bool verify(const PublicKey& publicKey, ByteView message,
              const Signature& signature) const override;
};

}  // namespace jiancang::core
