#include <app/key_file.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace jiancang::app {
namespace {

constexpr const char* kFormat = "jiancang-key-v1";

core::Status ioError(const std::filesystem::path& path, std::string_view what) {
  return {core::ErrorCode::kIoError, "key-file-io",
          std::string(what) + " " + path.string() + ": " + std::strerror(errno)};
}

core::Status malformed(const std::filesystem::path& path, std::string_view what) {
  return core::invalidArgument("key-file-malformed", path.string() + ": " + std::string(what));
}

}  // namespace

std::string keyFileText(const core::KeyPair& pair) {
  nlohmann::ordered_json document = {
      {"format", kFormat},
      {"suite", core::suiteName(pair.publicKey.suite())},
      {"public_key", pair.publicKey.hex()},
      {"address", core::addressOf(pair.publicKey).hex()},
      {"secret_key", core::toHex(pair.secretKey.secretBytes())},
  };
  return document.dump(2) + "\n";
}

core::Status writeKeyFile(const std::filesystem::path& path, const core::KeyPair& pair) {
  // O_EXCL: a key is never silently replaced; O_NOFOLLOW: never written through a planted link.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return {core::ErrorCode::kAlreadyExists, "key-file-exists",
              path.string() + " already exists; jiancang never overwrites a key file"};
    }
    return ioError(path, "cannot create");
  }
  std::string text = keyFileText(pair);
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      core::Status status = ioError(path, "cannot write");
      ::close(fd);
      ::unlink(path.c_str());
      return status;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return ioError(path, "cannot flush");
  return {};
}

core::Result<core::KeyPair> readKeyFile(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return ioError(path, "cannot read");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return core::Status(core::ErrorCode::kPermissionDenied, "key-file-permissions",
                        path.string() + " can be read by others; chmod 600 it");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return ioError(path, "cannot read");
  auto document = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return malformed(path, "not a JSON object");
  auto field = [&](const char* name) -> std::string {
    auto it = document.find(name);
    return it != document.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (field("format") != kFormat) return malformed(path, "format is not jiancang-key-v1");
  auto suite = core::parseSuiteName(field("suite"));
  if (!suite) return suite.status();
  auto secret = core::fromHex(field("secret_key"));
  if (!secret) return malformed(path, "secret_key is not hex");
  auto pair = core::cryptoSuite(*suite).keyPairFromSecret(*secret);
  core::secureWipe(*secret);
  if (!pair) return pair.status();
  if (pair->publicKey.hex() != field("public_key") ||
      core::addressOf(pair->publicKey).hex() != field("address")) {
    return malformed(path, "public_key or address does not belong to secret_key");
  }
  return pair;
}

}  // namespace jiancang::app
