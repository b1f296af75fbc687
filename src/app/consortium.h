// The consortium commands: `genesis` (a consortium's founding document from the members' public
// keys), `node --config FILE` (a member ordering through etcd; the TOML keys are in
// docs/CONSORTIUM.md), and `membership approve|submit` (adding or removing a member with the
// approvals of a quorum of the current members).
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

// One membership change, as `membership approve` signs it and `membership submit` sends it.
struct MembershipOptions {
  std::string node;                    // a member's API URL: chain, members, version, nonce
  std::filesystem::path genesis;       // if set, the node's chain must be this genesis's
  std::string add;                     // KEY (hex or key file) to add...
  std::string name;                    // ...under this name
  std::string remove;                  // or KEY to remove
  std::filesystem::path key;           // approve: a member's key; submit: the sender's key
  std::vector<std::string> approvals;  // submit: MEMBER_KEY:SIGNATURE lines from `approve`
};

// Prints this member's approval of the change at the consortium's current membership version.
int runMembershipApprove(const MembershipOptions& options);
// Sends the change with its approvals and waits for its block.
int runMembershipSubmit(const MembershipOptions& options);
// Runs until SIGINT or SIGTERM; returns the process exit code.
int runNode(const std::filesystem::path& config);

}  // namespace jiancang::app
