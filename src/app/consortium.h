// The consortium commands: `genesis` (a consortium's founding document from the members' public
// keys) and `node --config FILE` (a member ordering through etcd; the TOML keys are in
// docs/CONSORTIUM.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace jiancang::app {

struct GenesisOptions {
  std::string chainName = "jiancang-consortium";
  std::string suite = "ed25519";
  std::vector<std::string> members;  // NAME=KEY, KEY a public key in hex or a key file
  std::vector<std::string> admins;   // KEY: granted admin, governance, verifier and market roles
  std::filesystem::path out;
};

int runGenesis(const GenesisOptions& options);
// Runs until SIGINT or SIGTERM; returns the process exit code.
int runNode(const std::filesystem::path& config);

}  // namespace jiancang::app
