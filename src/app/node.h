// The node commands: `up` (serve a one-member chain, creating it on first start), `check`
// (re-verify a ledger from genesis) and `verify` (check a certificate offline).
#pragma once

#include <csignal>
#include <cstddef>
#include <filesystem>
#include <string>

#include <ledger/ledger.h>
#include <ordering/etcd_orderer.h>

namespace jiancang::app {

struct UpOptions {
  std::filesystem::path dataDirectory = "jiancang-data";
  std::string listen = "127.0.0.1:8080";
  std::string suite = "ed25519";
  std::string chainName = "jiancang-local";
  unsigned httpThreads = 2;
  unsigned blockIntervalMillis = 20;
  unsigned requestTimeoutMillis = 10'000;
  std::size_t accountQuota = 64;    // transactions one account may have waiting
  std::size_t issuerQuota = 5'000;  // the same for issuers and admins
  std::size_t mempoolCapacity = 100'000;
  // The platform's database: empty for SQLite in the data directory, or a libpq connection
  // string ("host=... dbname=...", or "postgresql://...") for a shared PostgreSQL.
  std::string database;
  // Where uploaded media are kept (content-addressed); default: media/ in the data directory.
  // Instances sharing a database must share this directory too.
  std::filesystem::path mediaDirectory;
  // "HOST:PORT" of a Redis server that gates drops' stock for every instance (stock_gate.h);
  // empty: each instance gates in memory.
  std::string stockRedis;
  std::string operatorPhone = "13000000000";  // the first operator's login, made on first start
  bool secureCookies = false;
  // Seed the demo (app/demo.h) on first start and print its accounts.
  bool demo = false;
  // argon2id cost (libsodium's levels: interactive 2 and 64 MiB by default).
  unsigned long long passwordOpsLimit = 2;
  std::size_t passwordMemoryMiB = 64;
};

// Runs until SIGINT or SIGTERM; returns the process exit code.
int runUp(const UpOptions& options);

// What serve() runs: a ledger and its orderer, built by `up` (solo) or `node` (etcd).
struct ServeSetup {
  std::string_view command;  // for messages: "up" or "node"
  const UpOptions& options;  // the platform's and the server's settings
  ledger::Ledger& ledger;
  ordering::Orderer& orderer;
  const core::KeyPair& admin;  // registers issuers (if the chain gave it the admin role)
  const ordering::EtcdOrderer* consortium = nullptr;
  bool fresh = false;        // the ledger was created by this start
  bool keysCreated = false;  // so were some keys
};
// Starts the platform, the API and the HTTP server over `setup`, prints where it serves, and
// runs until one of `signals` arrives (blocked in every thread by then); stops in order.
int serve(const ServeSetup& setup, const sigset_t& signals);
// SIGINT and SIGTERM blocked in every thread from now on (for serve()), and the file limit
// raised to what the system allows.
sigset_t prepareProcess();
// The data directory and its keys/ directory, created 0700.
core::Status prepareDataDirectory(const std::filesystem::path& data);
// The key at `path`, created (0600) on first start.
core::Result<core::KeyPair> loadOrCreateKey(const std::filesystem::path& path, core::SuiteId suite,
                                            bool* created);
int runCheck(const std::filesystem::path& dataDirectory);
int runVerify(const std::filesystem::path& certificate, const std::string& chainId);

}  // namespace jiancang::app
