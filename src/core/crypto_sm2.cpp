// SM2 signatures with SM3 (GB/T 32918.2, GB/T 32905) through OpenSSL 3, which has both in
// Debian's build. Signatures travel as raw r || s (64 bytes) rather than DER, so there is exactly
// one encoding; DER exists only at the OpenSSL boundary.
#include <core/crypto_internal.h>

#include <memory>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

namespace jiancang::core {
namespace {

// The signer identity that enters SM2's Z value. GB/T 32918 gives this as the default, and
// OpenSSL 3 and GmSSL use it when none is set; setting it explicitly keeps us independent of that.
constexpr std::string_view kDefaultSignerId = "1234567812345678";
constexpr std::size_t kScalarSize = 32;
constexpr std::size_t kPointSize = 65;  // 0x04 || x || y

template <auto FreeFunction>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* pointer) const {
    FreeFunction(pointer);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using PkeyContextPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using DigestContextPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_clear_free>>;
using PointPtr = std::unique_ptr<EC_POINT, OpenSslDeleter<EC_POINT_free>>;
using ParamBuilderPtr = std::unique_ptr<OSSL_PARAM_BLD, OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpenSslDeleter<OSSL_PARAM_free>>;
using EcdsaSignaturePtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>>;

void freeOpenSslMemory(unsigned char* memory) { OPENSSL_free(memory); }

const EC_GROUP& sm2Group() {
  static EC_GROUP* const group = EC_GROUP_new_by_curve_name(NID_sm2);
  if (group == nullptr) std::abort();  // Debian's OpenSSL always has SM2
  return *group;
}

BignumPtr bignumFrom(ByteView bigEndian) {
  return BignumPtr(BN_bin2bn(bigEndian.data(), static_cast<int>(bigEndian.size()), nullptr));
}

// Builds an OpenSSL key from our bytes: a key pair when `scalar` is given, else a public key.
PkeyPtr makeKey(ByteView point, const BIGNUM* scalar) {
  ParamBuilderPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (scalar != nullptr &&
       OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar) != 1)) {
    return nullptr;
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  PkeyContextPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "SM2", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key,
                        scalar != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return nullptr;
  }
  return PkeyPtr(key);
}

// A digest context set up for SM2-with-SM3 signing or verifying under the default signer id.
DigestContextPtr sm2DigestContext(EVP_PKEY* key, bool forSigning) {
  DigestContextPtr digest(EVP_MD_CTX_new());
  if (!digest) return nullptr;
  EVP_PKEY_CTX* keyContext = nullptr;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(
                             OSSL_PKEY_PARAM_DIST_ID, const_cast<char*>(kDefaultSignerId.data()),
                             kDefaultSignerId.size()),
                         OSSL_PARAM_construct_end()};
  // The id must be set after init: OpenSSL 3.0 refuses it among the init parameters. The Z value
  // that depends on it is computed at the first update, so setting it here takes effect.
  int ok = forSigning ? EVP_DigestSignInit_ex(digest.get(), &keyContext, "SM3", nullptr, nullptr,
                                              key, nullptr)
                      : EVP_DigestVerifyInit_ex(digest.get(), &keyContext, "SM3", nullptr, nullptr,
                                                key, nullptr);
  ok = ok == 1 ? EVP_PKEY_CTX_set_params(keyContext, params) : 0;
  return ok == 1 ? std::move(digest) : nullptr;
}

}  // namespace

KeyPair Sm2Suite::generateKeyPair() const {
  std::array<std::uint8_t, kScalarSize> scalar{};
  for (;;) {
    randombytes_buf(scalar.data(), scalar.size());
    auto pair = keyPairFromSecret(scalar);
    // Fails only for a scalar outside [1, n-2], about one draw in 2^32.
    if (pair.ok()) {
      secureWipe(scalar);
      return std::move(pair).value();
    }
  }
}

Result<KeyPair> Sm2Suite::keyPairFromSecret(ByteView secret) const {
  if (secret.size() != kScalarSize) {
    return invalidArgument("secret-key-wrong-length",
                           "an SM2 secret key is 32 bytes, got " + std::to_string(secret.size()));
  }
  const EC_GROUP& group = sm2Group();
  BignumPtr scalar = bignumFrom(secret);
  BignumPtr limit(BN_dup(EC_GROUP_get0_order(&group)));
  if (!scalar || !limit || BN_sub_word(limit.get(), 1) != 1) std::abort();
  // GB/T 32918.1: the private key d lies in [1, n-2].
  if (BN_is_zero(scalar.get()) || BN_cmp(scalar.get(), limit.get()) >= 0) {
    return invalidArgument("secret-key-out-of-range", "the SM2 secret key is not in [1, n-2]");
  }
  PointPtr point(EC_POINT_new(&group));
  std::array<std::uint8_t, kScalarSize + kPointSize> material{};
  std::copy(secret.begin(), secret.end(), material.begin());
  if (!point || EC_POINT_mul(&group, point.get(), scalar.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(&group, point.get(), POINT_CONVERSION_UNCOMPRESSED,
                         material.data() + kScalarSize, kPointSize, nullptr) != kPointSize) {
    std::abort();
  }
  Bytes publicBytes(material.begin() + kScalarSize, material.end());
  KeyPair pair{SecretKey(id(), material), PublicKey(id(), std::move(publicBytes))};
  secureWipe(material);
  return pair;
}

Result<PublicKey> Sm2Suite::parsePublicKey(ByteView bytes) const {
  if (bytes.size() != kPointSize) {
    return invalidArgument("public-key-wrong-length",
                           "an SM2 public key is 65 bytes, got " + std::to_string(bytes.size()));
  }
  if (bytes[0] != 0x04) {
    return invalidArgument("public-key-invalid-point",
                           "an SM2 public key must be an uncompressed point (first byte 0x04)");
  }
  const EC_GROUP& group = sm2Group();
  PointPtr point(EC_POINT_new(&group));
  if (!point) std::abort();
  if (EC_POINT_oct2point(&group, point.get(), bytes.data(), bytes.size(), nullptr) != 1 ||
      EC_POINT_is_on_curve(&group, point.get(), nullptr) != 1 ||
      EC_POINT_is_at_infinity(&group, point.get()) == 1) {
    return invalidArgument("public-key-invalid-point", "the SM2 public key is not on the curve");
  }
  return PublicKey(id(), Bytes(bytes.begin(), bytes.end()));
}

Signature Sm2Suite::sign(const SecretKey& secretKey, ByteView message) const {
  assert(secretKey.suite() == id() && secretKey.material().size() == kScalarSize + kPointSize);
  ByteView material = secretKey.material();
  BignumPtr scalar = bignumFrom(material.first(kScalarSize));
  PkeyPtr key = makeKey(material.subspan(kScalarSize), scalar.get());
  DigestContextPtr digest = key ? sm2DigestContext(key.get(), true) : nullptr;
  std::array<std::uint8_t, 80> der{};  // a DER SM2 signature is at most 72 bytes
  std::size_t derLength = der.size();
  if (!digest ||
      EVP_DigestSign(digest.get(), der.data(), &derLength, message.data(), message.size()) != 1) {
    std::abort();  // only out of memory or a broken library gets here: the key was checked
  }
  const std::uint8_t* cursor = der.data();
  EcdsaSignaturePtr parsed(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(derLength)));
  Signature signature;
  if (!parsed ||
      BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), signature.mutableArray().data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), signature.mutableArray().data() + 32, 32) !=
          32) {
    std::abort();
  }
  return signature;
}

bool Sm2Suite::verify(const PublicKey& publicKey, ByteView message,
                      const Signature& signature) const {
  if (publicKey.suite() != id() || publicKey.bytes().size() != kPointSize) return false;
  // r and s must lie in [1, n-1] (GB/T 32918.2, verification step B1/B2).
  const BIGNUM* order = EC_GROUP_get0_order(&sm2Group());
  BignumPtr r = bignumFrom(signature.view().first(32));
  BignumPtr s = bignumFrom(signature.view().subspan(32));
  if (!r || !s) return false;
  for (const BIGNUM* value : {r.get(), s.get()}) {
    if (BN_is_zero(value) || BN_cmp(value, order) >= 0) return false;
  }
  EcdsaSignaturePtr parsed(ECDSA_SIG_new());
  if (!parsed || ECDSA_SIG_set0(parsed.get(), r.get(), s.get()) != 1) return false;
  (void)r.release();  // now owned by `parsed`
  (void)s.release();
  unsigned char* der = nullptr;
  int derLength = i2d_ECDSA_SIG(parsed.get(), &der);
  if (derLength <= 0) return false;
  std::unique_ptr<unsigned char, OpenSslDeleter<freeOpenSslMemory>> derOwner(der);
  PkeyPtr key = makeKey(publicKey.bytes(), nullptr);
  DigestContextPtr digest = key ? sm2DigestContext(key.get(), false) : nullptr;
  return digest && EVP_DigestVerify(digest.get(), der, static_cast<std::size_t>(derLength),
                                    message.data(), message.size()) == 1;
}

}  // namespace jiancang::core
