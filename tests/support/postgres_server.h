// A real PostgreSQL server for tests and benchmarks: a new cluster in a temporary directory,
// served on 127.0.0.1 at a free port, started and stopped by PID. Uses Debian's server binaries
// (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, so when the caller is
// root the server and initdb run as the `postgres` system user that Debian's package creates.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace jiancang::testing {

// The directory holding initdb, postgres and pgbench; nullopt if PostgreSQL is not installed.
std::optional<std::filesystem::path> postgresBinDirectory();

class PostgresServer {
 public:
  explicit PostgresServer(std::filesystem::path directory);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb (trust authentication, superuser `postgres`), then the server with `settings`
  // (`name=value` each) on 127.0.0.1; waits until it accepts connections. False with the reason.
  bool start(const std::vector<std::string>& settings, std::string* error);
  // Fast shutdown (SIGINT) and wait for the PID. Idempotent.
  void stop();

  unsigned short port() const { return port_; }
  // A libpq connection string for `database` as the superuser.
  std::string connectionString(const std::string& database = "postgres") const;
  // Runs one of the cluster's client programs (psql, pgbench...) against this server as the
  // caller: the program's exit code and everything it printed.
  std::pair<int, std::string> runClient(const std::string& program,
                                        const std::vector<std::string>& arguments) const;

 private:
  std::filesystem::path directory_;
  std::filesystem::path bin_;
  int pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace jiancang::testing
