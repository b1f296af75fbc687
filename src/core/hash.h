// Cryptographic hash functions. Which one a chain uses is part of its crypto suite
// (core/crypto.h); call these directly only where a standard fixes the function.
#pragma once

#include <initializer_list>

#include <core/bytes.h>

namespace jiancang::core {

using Hash256 = FixedBytes<32>;

enum class HashFunction : std::uint8_t { kSha256 = 1, kSm3 = 2 };

// The hash of the concatenation of `parts`, without building the concatenation.
Hash256 hashParts(HashFunction function, std::initializer_list<ByteView> parts);

inline Hash256 sha256(ByteView data) { return hashParts(HashFunction::kSha256, {data}); }
inline Hash256 sm3(ByteView data) { return hashParts(HashFunction::kSm3, {data}); }

}  // namespace jiancang::core
