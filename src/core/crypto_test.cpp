#include <core/crypto.h>

#include <gtest/gtest.h>

namespace jiancang::core {
namespace {

Bytes hex(std::string_view text) {
  auto bytes = fromHex(text);
  EXPECT_TRUE(bytes.ok()) << text;
  return bytes.ok() ? *bytes : Bytes{};
}

Signature signatureFromHex(std::string_view text) {
  auto signature = Signature::fromHex(text);
  EXPECT_TRUE(signature.ok());
  return signature.ok() ? *signature : Signature{};
}

const CryptoSuite& ed25519() { return cryptoSuite(SuiteId::kEd25519Sha256); }
const CryptoSuite& sm2() { return cryptoSuite(SuiteId::kSm2Sm3); }

struct Rfc8032Vector {
  const char* secret;
  const char* publicKey;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, tests 1-3.
const Rfc8032Vector kRfc8032Vectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519Test, Rfc8032KnownAnswers) {
  for (const auto& vector : kRfc8032Vectors) {
    SCOPED_TRACE(vector.publicKey);
    auto pair = ed25519().keyPairFromSecret(hex(vector.secret));
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(pair->publicKey.hex(), vector.publicKey);
    Bytes message = hex(vector.message);
    Signature signature = ed25519().sign(pair->secretKey, message);
    EXPECT_EQ(signature.hex(), vector.signature);
    EXPECT_TRUE(ed25519().verify(pair->publicKey, message, signature));

    Bytes altered = message;
    altered.push_back(0);
    EXPECT_FALSE(ed25519().verify(pair->publicKey, altered, signature));
  }
}

TEST(Ed25519Test, RejectsNonCanonicalS) {
  KeyPair pair = ed25519().generateKeyPair();
  Bytes message = hex("00112233");
  Signature signature = ed25519().sign(pair.secretKey, message);
  ASSERT_TRUE(ed25519().verify(pair.publicKey, message, signature));

  // S + L, where L is the group order, verifies under a lax check; strict verification refuses it.
  const Bytes order = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  Signature malleated = signature;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned sum = malleated.array()[32 + i] + order[i] + carry;
    malleated.mutableArray()[32 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);
  EXPECT_FALSE(ed25519().verify(pair.publicKey, message, malleated));
}

TEST(Ed25519Test, RejectsSmallOrderAndNonCanonicalPublicKeys) {
  const char* bad[] = {
      // the identity point (order 1)
      "0100000000000000000000000000000000000000000000000000000000000000",
      // a point of order 2
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      // order 8
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      // y = p: not a canonical field element
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  for (const char* key : bad) {
    SCOPED_TRACE(key);
    EXPECT_EQ(ed25519().parsePublicKey(hex(key)).status().reason(), "public-key-invalid-point");
  }
  EXPECT_EQ(ed25519().parsePublicKey(Bytes(31)).status().reason(), "public-key-wrong-length");
}

TEST(Ed25519Test, RejectsSignatureFromAnotherKey) {
  KeyPair alice = ed25519().generateKeyPair();
  KeyPair bob = ed25519().generateKeyPair();
  Bytes message = hex("abcdef");
  EXPECT_FALSE(ed25519().verify(bob.publicKey, message, ed25519().sign(alice.secretKey, message)));
}

// GM/T 0003.5-2012 appendix A: the signature example on the recommended curve, signer id
// "1234567812345678", message "message digest".
constexpr const char* kSm2Secret =
    "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
constexpr const char* kSm2Public =
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
constexpr const char* kSm2Signature =
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";

TEST(Sm2Test, StandardExampleVerifies) {
  auto pair = sm2().keyPairFromSecret(hex(kSm2Secret));
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->publicKey.hex(), kSm2Public);
  Signature signature = signatureFromHex(kSm2Signature);
  EXPECT_TRUE(sm2().verify(pair->publicKey, asBytes("message digest"), signature));
  EXPECT_FALSE(sm2().verify(pair->publicKey, asBytes("message digesT"), signature));
}

TEST(Sm2Test, SignVerifyRoundTrips) {
  for (int i = 0; i < 10; ++i) {
    KeyPair pair = sm2().generateKeyPair();
    Bytes message(static_cast<std::size_t>(i * 37), static_cast<std::uint8_t>(i));
    Signature signature = sm2().sign(pair.secretKey, message);
    EXPECT_TRUE(sm2().verify(pair.publicKey, message, signature));

    auto rebuilt = sm2().keyPairFromSecret(pair.secretKey.secretBytes());
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(rebuilt->publicKey, pair.publicKey);
  }
}

TEST(Sm2Test, RejectsAlteredMessageSignatureAndKey) {
  KeyPair pair = sm2().generateKeyPair();
  KeyPair other = sm2().generateKeyPair();
  Bytes message = hex("0102030405");
  Signature signature = sm2().sign(pair.secretKey, message);
  ASSERT_TRUE(sm2().verify(pair.publicKey, message, signature));

  Bytes alteredMessage = message;
  alteredMessage[2] ^= 0x01;
  EXPECT_FALSE(sm2().verify(pair.publicKey, alteredMessage, signature));
  for (std::size_t byte : {0u, 31u, 32u, 63u}) {
    Signature alteredSignature = signature;
    alteredSignature.mutableArray()[byte] ^= 0x80;
    EXPECT_FALSE(sm2().verify(pair.publicKey, message, alteredSignature)) << byte;
  }
  EXPECT_FALSE(sm2().verify(other.publicKey, message, signature));
}

TEST(Sm2Test, RejectsOutOfRangeSignatureValues) {
  auto pair = sm2().keyPairFromSecret(hex(kSm2Secret));
  ASSERT_TRUE(pair.ok());
  const std::string order = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
  const std::string r = std::string(kSm2Signature).substr(0, 64);
  const std::string s = std::string(kSm2Signature).substr(64);
  for (const std::string& candidate :
       {std::string(64, '0') + s, r + std::string(64, '0'), order + s, r + order}) {
    EXPECT_FALSE(
        sm2().verify(pair->publicKey, asBytes("message digest"), signatureFromHex(candidate)));
  }
}

TEST(Sm2Test, RejectsInvalidKeys) {
  Bytes offCurve = hex(kSm2Public);
  offCurve[64] ^= 0x01;
  EXPECT_EQ(sm2().parsePublicKey(offCurve).status().reason(), "public-key-invalid-point");
  Bytes compressed = hex(kSm2Public);
  compressed[0] = 0x02;
  EXPECT_EQ(sm2().parsePublicKey(compressed).status().reason(), "public-key-invalid-point");
  EXPECT_EQ(sm2().parsePublicKey(Bytes(33)).status().reason(), "public-key-wrong-length");
  EXPECT_EQ(sm2().keyPairFromSecret(Bytes(32, 0)).status().reason(), "secret-key-out-of-range");
  EXPECT_EQ(sm2().keyPairFromSecret(Bytes(32, 0xff)).status().reason(), "secret-key-out-of-range");
  EXPECT_EQ(sm2().keyPairFromSecret(Bytes(31, 1)).status().reason(), "secret-key-wrong-length");
}

TEST(CryptoSuiteTest, SuitesDoNotAcceptEachOthersKeys) {
  KeyPair edPair = ed25519().generateKeyPair();
  KeyPair smPair = sm2().generateKeyPair();
  Bytes message = hex("00");
  EXPECT_FALSE(sm2().verify(edPair.publicKey, message, ed25519().sign(edPair.secretKey, message)));
  EXPECT_FALSE(ed25519().verify(smPair.publicKey, message, sm2().sign(smPair.secretKey, message)));
}

TEST(CryptoSuiteTest, NamesAndNumbers) {
  EXPECT_EQ(*parseSuiteName("sm2"), SuiteId::kSm2Sm3);
  EXPECT_EQ(parseSuiteName("rsa").status().reason(), "unknown-crypto-suite");
  EXPECT_EQ(*suiteFromByte(1), SuiteId::kEd25519Sha256);
  EXPECT_FALSE(suiteFromByte(3).ok());
  EXPECT_EQ(sm2().hash(asBytes("abc")), sm3(asBytes("abc")));
  EXPECT_EQ(ed25519().hash(asBytes("abc")), sha256(asBytes("abc")));
}

TEST(PublicKeyTest, EncodingRoundTripsAndValidates) {
  for (SuiteId suite : {SuiteId::kEd25519Sha256, SuiteId::kSm2Sm3}) {
    KeyPair pair = cryptoSuite(suite).generateKeyPair();
    Writer writer;
    pair.publicKey.encodeTo(writer);
    Bytes encoded = writer.data();
    EXPECT_EQ(encoded.size(), suite == SuiteId::kSm2Sm3 ? 66u : 33u);
    Reader reader(encoded);
    PublicKey decoded = PublicKey::decodeFrom(reader);
    ASSERT_TRUE(reader.finish().isOk());
    EXPECT_EQ(decoded, pair.publicKey);
  }
  Bytes identity = hex("010100000000000000000000000000000000000000000000000000000000000000");
  Reader reader(identity);
  (void)PublicKey::decodeFrom(reader);
  EXPECT_EQ(reader.finish().reason(), "public-key-invalid-point");
  Bytes unknownSuite = hex("07");
  Reader suiteReader(unknownSuite);
  (void)PublicKey::decodeFrom(suiteReader);
  EXPECT_EQ(suiteReader.finish().reason(), "unknown-crypto-suite");
}

TEST(AddressTest, DerivedFromSuiteAndKey) {
  auto pair = ed25519().keyPairFromSecret(hex(kRfc8032Vectors[0].secret));
  ASSERT_TRUE(pair.ok());
  Address address = addressOf(pair->publicKey);
  const std::uint8_t suiteByte = 1;
  Hash256 expected = ed25519().hash({ByteView(&suiteByte, 1), pair->publicKey.bytes()});
  EXPECT_EQ(address.hex(), expected.hex().substr(0, 40));
  EXPECT_EQ(addressOf(pair->publicKey), address);
}

TEST(SecretKeyTest, MoveLeavesSourceEmpty) {
  KeyPair pair = ed25519().generateKeyPair();
  Bytes secret(pair.secretKey.secretBytes().begin(), pair.secretKey.secretBytes().end());
  SecretKey moved = std::move(pair.secretKey);
  EXPECT_TRUE(constantTimeEqual(moved.secretBytes(), secret));
}

}  // namespace
}  // namespace jiancang::core
