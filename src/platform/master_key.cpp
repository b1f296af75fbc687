#include <platform/master_key.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <sodium.h>

namespace jiancang::platform {
namespace {

using core::Status;

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES] = {'j', 'c', 'm', 'a', 's', 't', 'e', 'r'};
constexpr std::uint64_t kSealingSubkey = 1;
constexpr std::uint64_t kIdentitySubkey = 2;

Status keyFileError(std::string reason, const std::filesystem::path& file,
                    const std::string& what) {
  return {core::ErrorCode::kFailedPrecondition, std::move(reason), file.string() + ": " + what};
}

}  // namespace

MasterKey::Keys::~Keys() {
  sodium_memzero(sealing.data(), sealing.size());
  sodium_memzero(identity.data(), identity.size());
}

MasterKey MasterKey::fromBytes(core::ByteView bytes) {
  auto keys = std::make_shared<Keys>();
  std::array<std::uint8_t, crypto_kdf_KEYBYTES> root{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), root.size()), root.begin());
  crypto_kdf_derive_from_key(keys->sealing.data(), keys->sealing.size(), kSealingSubkey,
                             kKdfContext, root.data());
  crypto_kdf_derive_from_key(keys->identity.data(), keys->identity.size(), kIdentitySubkey,
                             kKdfContext, root.data());
  sodium_memzero(root.data(), root.size());
  return MasterKey(std::move(keys));
}

core::Result<MasterKey> MasterKey::loadOrCreate(const std::filesystem::path& file) {
  if (sodium_init() < 0) {
    return Status(core::ErrorCode::kInternal, "sodium-init", "libsodium did not initialise");
  }
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    std::array<std::uint8_t, crypto_kdf_KEYBYTES> root{};
    crypto_kdf_keygen(root.data());
    std::string hex = core::toHex(root);
    // O_EXCL: an existing key is never replaced; O_NOFOLLOW: never written through a link.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return keyFileError("master-key-create", file, "cannot be created");
    hex += '\n';
    bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
    written = ::fsync(fd) == 0 && written;
    ::close(fd);
    sodium_memzero(hex.data(), hex.size());
    MasterKey key = fromBytes(root);
    sodium_memzero(root.data(), root.size());
    if (!written) return keyFileError("master-key-create", file, "cannot be written");
    return key;
  }
  if ((info.st_mode & 077) != 0) {
    return keyFileError("master-key-permissions", file,
                        "others can read it; it must be mode 0600 (chmod 600)");
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string hex = text.str();
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto bytes = core::fromHex(hex);
  sodium_memzero(hex.data(), hex.size());
  if (!bytes || bytes->size() != crypto_kdf_KEYBYTES) {
    return keyFileError("master-key-format", file, "is not a 32-byte key in hex");
  }
  MasterKey key = fromBytes(*bytes);
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

core::Bytes MasterKey::seal(core::ByteView plaintext, std::string_view context) const {
  core::Bytes sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                     crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(sealed.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &length, plaintext.data(),
      plaintext.size(), reinterpret_cast<const unsigned char*>(context.data()), context.size(),
      nullptr, sealed.data(), keys_->sealing.data());
  return sealed;
}

core::Result<core::Bytes> MasterKey::open(core::ByteView sealed, std::string_view context) const {
  constexpr std::size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kOverhead) {
    return Status(core::ErrorCode::kCorruption, "sealed-too-short", "a sealed value is truncated");
  }
  core::Bytes plain(sealed.size() - kOverhead);
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), &length, nullptr,
          sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(context.data()), context.size(), sealed.data(),
          keys_->sealing.data()) != 0) {
    return Status(core::ErrorCode::kCorruption, "sealed-forged",
                  "a sealed value does not open under this master key (wrong key, or altered)");
  }
  return plain;
}

core::Hash256 MasterKey::identityHash(std::string_view idNumber) const {
  core::Hash256 hash;
  crypto_generichash(hash.mutableArray().data(), core::Hash256::kSize,
                     reinterpret_cast<const unsigned char*>(idNumber.data()), idNumber.size(),
                     keys_->identity.data(), keys_->identity.size());
  return hash;
}

}  // namespace jiancang::platform
