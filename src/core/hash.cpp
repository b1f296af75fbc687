#include <core/hash.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/evp.h>

namespace jiancang::core {
namespace {

// Fetching the algorithm once and reusing a context per thread is about twice as fast as
// OpenSSL's one-shot helpers, which fetch on every call (shared/research/limits.md, row 1e).
const EVP_MD* fetchedDigest(HashFunction function) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* const sm3 = EVP_MD_fetch(nullptr, "SM3", nullptr);
  const EVP_MD* digest = function == HashFunction::kSha256 ? sha256 : sm3;
  if (digest == nullptr) std::abort();  // the OpenSSL build lacks a digest jiancang requires
  return digest;
}

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* threadDigestContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  return context.get();
}

}  // namespace

Hash256 hashParts(HashFunction function, std::initializer_list<ByteView> parts) {
  EVP_MD_CTX* context = threadDigestContext();
  Hash256 out;
  unsigned int length = 0;
  bool ok =
      context != nullptr && EVP_DigestInit_ex2(context, fetchedDigest(function), nullptr) == 1;
  // Small inputs (tree nodes, keys) go in as one piece: each update call costs about as much as
  // hashing 16 bytes.
  std::array<std::uint8_t, 256> joined;
  std::size_t joinedSize = 0;
  for (ByteView part : parts) {
    if (joinedSize + part.size() > joined.size()) {
      joinedSize = SIZE_MAX;
      break;
    }
    if (part.empty()) continue;  // an empty view may have no data pointer at all
    std::memcpy(joined.data() + joinedSize, part.data(), part.size());
    joinedSize += part.size();
  }
  if (joinedSize != SIZE_MAX) {
    ok = ok && EVP_DigestUpdate(context, joined.data(), joinedSize) == 1;
  } else {
    for (ByteView part : parts) {
      ok = ok && EVP_DigestUpdate(context, part.data(), part.size()) == 1;
    }
  }
  ok = ok && EVP_DigestFinal_ex(context, out.mutableArray().data(), &length) == 1;
  // These calls fail only when memory is exhausted or the library is broken.
  if (!ok || length != Hash256::kSize) std::abort();
  return out;
}

}  // namespace jiancang::core
