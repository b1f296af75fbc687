#include "test_logs.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>

namespace jiancang::testing {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> keptLogsDirectory() {
  const char* directory = std::getenv("JIANCANG_TEST_LOGS");
  if (directory == nullptr || *directory == '\0') return std::nullopt;
  std::error_code error;
  fs::create_directories(directory, error);
  return fs::path(directory);
}

std::string readAll(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void keepLog(const fs::path& file, const std::string& label) {
  auto directory = keptLogsDirectory();
  std::error_code error;
  if (!directory || !fs::exists(file, error)) return;
  // The PID and a counter keep names unique across test processes and within one.
  static std::atomic<int> counter{0};
  fs::path copy = *directory / (label + "-" + std::to_string(::getpid()) + "-" +
                                std::to_string(counter++) + ".log");
  fs::copy_file(file, copy, fs::copy_options::overwrite_existing, error);
}

void recordSecret(const std::string& secret) {
  auto directory = keptLogsDirectory();
  if (!directory || secret.empty() || secret.find('\n') != std::string::npos) return;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  // Not a .log file: the check reads it as the list, not as a log.
  std::ofstream(*directory / "secrets.list", std::ios::app) << secret << '\n';
}

void recordKeyFiles(const fs::path& directory) {
  std::error_code error;
  if (!fs::is_directory(directory, error)) return;
  static const std::regex secretKey(R"re("secret_key"\s*:\s*"([0-9a-f]{64})[0-9a-f]*")re");
  static const std::regex bareHex(R"(^\s*([0-9a-f]{64})\s*$)");
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    std::string text = readAll(entry.path());
    std::smatch match;
    if (std::regex_search(text, match, secretKey) || std::regex_match(text, match, bareHex)) {
      recordSecret(match[1].str());
    }
  }
}

}  // namespace jiancang::testing
