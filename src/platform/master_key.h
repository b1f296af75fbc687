// The platform's master key: what personal data and custodial keys are sealed under at rest,
// and what salts identity hashes. It lives in a file of its own (0600), never in the database,
// so a copy of the database alone reveals no name, identity number or key. Losing the file loses
// the sealed data: back it up apart from the database.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string_view>

#include <core/bytes.h>
#include <core/crypto.h>
#include <core/status.h>

namespace jiancang::platform {

class MasterKey {
 public:
  // Reads the key file, or creates it (0600, never overwritten) if there is none. Refuses a file
  // that others can read ("master-key-permissions") or that is not a key ("master-key-format").
  static core::Result<MasterKey> loadOrCreate(const std::filesystem::path& file);
  // A key from its 32 bytes (tests).
  static MasterKey fromBytes(core::ByteView bytes);

  // XChaCha20-Poly1305 with a random nonce; `context` (what the data is and whose) is bound in
  // as associated data, so a sealed value moved to another row or purpose fails to open.
  core::Bytes seal(core::ByteView plaintext, std::string_view context) const;
  core::Result<core::Bytes> open(core::ByteView sealed, std::string_view context) const;

  // A keyed hash of a normalised identity number: equal numbers give equal hashes (one identity,
  // one account) and no one without the key can test a guess against it.
  core::Hash256 identityHash(std::string_view idNumber) const;

 private:
  struct Keys {
    std::array<std::uint8_t, 32> sealing{};
    std::array<std::uint8_t, 32> identity{};
    ~Keys();  // wiped
  };
  explicit MasterKey(std::shared_ptr<const Keys> keys) : keys_(std::move(keys)) {}
  std::shared_ptr<const Keys> keys_;
};

}  // namespace jiancang::platform
