// Keeping what the tests' processes wrote, for one check over the whole suite: no identity
// number, name, password or key material may appear in any log (tests/check-logs, run by ctest
// after every other test). Nothing happens unless ctest set JIANCANG_TEST_LOGS to a directory.
#pragma once

#include <filesystem>
#include <string>

namespace jiancang::testing {

// Copies `file` (if it exists) into the kept logs as `<label>-<n>.log`.
void keepLog(const std::filesystem::path& file, const std::string& label);

// Adds `secret` to the list of strings no kept log may contain.
void recordSecret(const std::string& secret);

// Records the secret half of every key file (jiancang-key-v1 JSON or a bare hex master key) in
// `directory`: the first 32 bytes in hex, which is the whole seed of every suite's key.
void recordKeyFiles(const std::filesystem::path& directory);

}  // namespace jiancang::testing
