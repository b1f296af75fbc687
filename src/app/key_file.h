// Key files: a member's or an operator's key pair as a small JSON document on disk.
//
//   {"format": "jiancang-key-v1", "suite": "ed25519", "public_key": "<hex>",
//    "address": "<hex>", "secret_key": "<hex>"}
//
// Written with mode 0600 and never over an existing file; read back only if no one but the
// owner can read it, and only if the public key and address match the secret.
#pragma once

#include <filesystem>

#include <core/crypto.h>
#include <core/status.h>

namespace jiancang::app {

core::Status writeKeyFile(const std::filesystem::path& path, const core::KeyPair& pair);
core::Result<core::KeyPair> readKeyFile(const std::filesystem::path& path);
// The JSON text of a key file, for `keygen --out -`.
std::string keyFileText(const core::KeyPair& pair);

}  // namespace jiancang::app
