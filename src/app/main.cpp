// The jiancang command line: one binary for the node and its tools.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include <app/consortium.h>
#include <app/key_file.h>
#include <app/node.h>
#include <app/version.h>
#include <core/crypto.h>

namespace {

namespace core = jiancang::core;
namespace app = jiancang::app;

int runKeygen(const std::string& suiteName, const std::string& out) {
  auto suite = core::parseSuiteName(suiteName);
  if (!suite) {
    std::cerr << "jiancang keygen: " << suite.status().message() << "\n";
    return 2;
  }
  core::KeyPair pair = core::cryptoSuite(*suite).generateKeyPair();
  if (out == "-") {
    std::cout << app::keyFileText(pair);
    return 0;
  }
  if (core::Status status = app::writeKeyFile(out, pair); !status.isOk()) {
    std::cerr << "jiancang keygen: " << status.message() << "\n";
    return 1;
  }
  std::cout << "wrote a new " << core::suiteName(*suite) << " key to " << out << " (mode 0600)\n"
            << "public key: " << pair.publicKey.hex() << "\n"
            << "address:    " << core::addressOf(pair.publicKey).hex() << "\n";
  return 0;
}

int run(int argc, char** argv) {
  CLI::App cli{"jiancang (鉴藏): a digital collection platform on a consortium chain"};
  cli.name("jiancang");
  cli.set_version_flag("--version", std::string("jiancang ") + app::kVersion);
  cli.require_subcommand(0, 1);

  std::string suite = "ed25519";
  std::string out;
  CLI::App* keygen = cli.add_subcommand("keygen", "Generate a key pair and write it to a key file");
  keygen->add_option("--suite", suite, "Crypto suite: ed25519 (default) or sm2 (SM2 + SM3)")
      ->check(CLI::IsMember({"ed25519", "sm2"}));
  keygen
      ->add_option("--out", out, "Key file to create (mode 0600, never overwritten); - for stdout")
      ->required();

  app::UpOptions up;
  CLI::App* upCommand = cli.add_subcommand(
      "up", "Serve a one-member chain, creating its data directory and keys on first start");
  upCommand->add_option("--data", up.dataDirectory, "Data directory")->capture_default_str();
  upCommand->add_option("--listen", up.listen, "Address and port to serve on")
      ->capture_default_str();
  upCommand->add_option("--suite", up.suite, "Crypto suite of a new chain: ed25519 or sm2")
      ->check(CLI::IsMember({"ed25519", "sm2"}))
      ->capture_default_str();
  upCommand->add_option("--name", up.chainName, "Name of a new chain")->capture_default_str();
  upCommand->add_option("--http-threads", up.httpThreads, "Threads serving HTTP")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  upCommand
      ->add_option("--block-interval-ms", up.blockIntervalMillis,
                   "Shortest time between two blocks (a block is cut at once when full)")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  upCommand
      ->add_option("--account-quota", up.accountQuota,
                   "Transactions one account may have waiting (more: 429, retry later)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  upCommand
      ->add_option("--issuer-quota", up.issuerQuota,
                   "The same for issuers and admins, whose drops come in bursts")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  upCommand
      ->add_option("--mempool", up.mempoolCapacity,
                   "Transactions waiting in all (more: 503, retry later)")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  upCommand
      ->add_option("--request-timeout-ms", up.requestTimeoutMillis,
                   "Longest a request may take to arrive in full (slow clients get 408)")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();

  upCommand->add_option("--stock-redis", up.stockRedis,
                        "HOST:PORT of a Redis server that checks drops' stock for every instance "
                        "(a Lua script per order); default: each instance checks in memory");
  upCommand
      ->add_option("--database", up.database,
                   "The platform's database: a PostgreSQL connection string (\"host=... "
                   "dbname=...\" or postgresql://...) shared by several instances; default: "
                   "SQLite in the data directory")
      ->capture_default_str();
  upCommand
      ->add_option("--operator-phone", up.operatorPhone,
                   "Login of the first operator, created with a one-time password on first "
                   "start")
      ->capture_default_str();
  upCommand->add_flag("--demo", up.demo,
                      "On first start, seed a demo: an issuer, three published works made by "
                      "jiancang, drops on sale and counting down, announcements, demo accounts");
  upCommand->add_flag("--secure-cookies", up.secureCookies,
                      "Mark session cookies Secure (when the site is served over HTTPS)");
  upCommand->add_option("--password-ops", up.passwordOpsLimit, "argon2id passes per password hash")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  upCommand
      ->add_option("--password-memory-mib", up.passwordMemoryMiB,
                   "argon2id memory per password hash, MiB")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  std::filesystem::path checkData = "jiancang-data";
  CLI::App* check = cli.add_subcommand(
      "check", "Re-verify a ledger: replay every block from genesis and compare everything");
  check->add_option("--data", checkData, "Data directory")->capture_default_str();

  std::filesystem::path certificate;
  std::string chainId;
  CLI::App* verify = cli.add_subcommand(
      "verify", "Check a token certificate offline, trusting only the members' keys");
  verify->add_option("FILE", certificate, "The certificate (JSON) to check")->required();
  verify->add_option("--chain-id", chainId, "Refuse a certificate of any other chain (hex)");

  app::GenesisOptions genesisOptions;
  CLI::App* genesis = cli.add_subcommand(
      "genesis", "Write a consortium's genesis (its first block) from the members' public keys");
  genesis->add_option("--name", genesisOptions.chainName, "Name of the chain")
      ->capture_default_str();
  genesis->add_option("--suite", genesisOptions.suite, "Crypto suite: ed25519 or sm2")
      ->check(CLI::IsMember({"ed25519", "sm2"}))
      ->capture_default_str();
  genesis
      ->add_option("--member", genesisOptions.members,
                   "NAME=KEY for each member (KEY: a public key in hex, or a key file); the "
                   "quorum is more than two thirds of them")
      ->required();
  genesis->add_option("--admin", genesisOptions.admins,
                      "KEY granted the admin, governance, verifier and market roles (repeatable)");
  genesis->add_option("--out", genesisOptions.out, "File to write (never overwritten)")->required();

  std::filesystem::path nodeConfig;
  CLI::App* node = cli.add_subcommand(
      "node", "Run a consortium member: ordering through etcd, blocks signed by a quorum");
  node->add_option("--config", nodeConfig, "The member's TOML configuration (docs/CONSORTIUM.md)")
      ->required();

  app::MembershipOptions membershipOptions;
  CLI::App* membership = cli.add_subcommand(
      "membership", "Add or remove a consortium member, approved by a quorum of the members");
  membership->require_subcommand(1);
  auto changeOptions = [&](CLI::App* command) {
    command
        ->add_option("--node", membershipOptions.node,
                     "A member's API URL (reads the chain, its members and membership version)")
        ->required();
    command->add_option("--genesis", membershipOptions.genesis,
                        "This consortium's genesis file: refuse a node that serves another chain");
    command->add_option("--add", membershipOptions.add,
                        "Key to add (hex public key or key file); needs --name");
    command->add_option("--name", membershipOptions.name, "Name of the member to add");
    command->add_option("--remove", membershipOptions.remove, "Key of the member to remove");
  };
  CLI::App* approve = membership->add_subcommand(
      "approve", "Sign this member's approval of a change; prints it as KEY:SIGNATURE");
  changeOptions(approve);
  approve->add_option("--key", membershipOptions.key, "This member's key file")->required();
  CLI::App* submit = membership->add_subcommand(
      "submit", "Send a change with a quorum's approvals and wait for its block");
  changeOptions(submit);
  submit->add_option("--approval", membershipOptions.approvals, "KEY:SIGNATURE from `approve`")
      ->required();
  submit
      ->add_option("--key", membershipOptions.key,
                   "Key file that signs the transaction (any account; it pays only its nonce)")
      ->required();

  CLI11_PARSE(cli, argc, argv);

  if (*approve) return app::runMembershipApprove(membershipOptions);
  if (*submit) return app::runMembershipSubmit(membershipOptions);

  if (*genesis) return app::runGenesis(genesisOptions);
  if (*node) return app::runNode(nodeConfig);

  if (*keygen) return runKeygen(suite, out);
  if (*upCommand) return app::runUp(up);
  if (*check) return app::runCheck(checkData);
  if (*verify) return app::runVerify(certificate, chainId);
  std::cout << cli.help();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Expected failures are values; anything thrown is a bug, reported rather than left to abort().
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "jiancang: internal error: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "jiancang: internal error\n";
  }
  return 70;  // EX_SOFTWARE
}
