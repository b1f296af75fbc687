// What the integration tests need to drive a real node: start `jiancang up` in a temporary
// data directory on a free port and stop or kill it by PID; a small keep-alive HTTP client; and
// signing transactions for the node's chain with the node's own admin key.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <chain/genesis.h>
#include <chain/transaction.h>

namespace jiancang::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json json() const {
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (parsed.is_discarded())
      std::fprintf(stderr, "not JSON (status %d): %.200s\n", status, body.c_str());
    return parsed;
  }
};

// One keep-alive connection, reconnecting when the server closed it.
class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     const std::string& contentType = "application/json",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult get(const std::string& target) { return request("GET", target); }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw socket, for requests no well-behaved client would send.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool send(const std::string& data);
  // Reads until the peer closes or nothing arrives for `timeout`; with what was left unread.
  std::string receive(std::chrono::milliseconds timeout);
  // Reads until what arrived contains `marker` (true) or `timeout` passes (false). What came
  // after the marker stays for the next read.
  bool receiveUntil(const std::string& marker, std::chrono::milliseconds timeout);

 private:
  std::string received_;
  int fd_ = -1;
  bool connected_ = false;
};

class NodeProcess {
 public:
  // `extraArguments` go after `up --data DIR --listen 127.0.0.1:0`.
  explicit NodeProcess(std::filesystem::path dataDirectory, std::string extraArguments = "");
  // A consortium member: `jiancang node --config CONFIG`, whose data directory is
  // `dataDirectory` (as the config says).
  static std::unique_ptr<NodeProcess> member(std::filesystem::path dataDirectory,
                                             const std::filesystem::path& config);
  ~NodeProcess();

  // Starts the node and waits up to `timeout` for it to print its address (a consortium member
  // far behind serves only once caught up). False (with the output) on failure.
  bool start(std::string* output = nullptr,
             std::chrono::seconds timeout = std::chrono::seconds(30));
  // SIGTERM and wait; returns the exit code.
  int stop();
  // SIGKILL and reap: a crash.
  void kill();
  bool running() const { return pid_ > 0; }
  unsigned short port() const { return port_; }
  int pid() const { return pid_; }
  const std::filesystem::path& dataDirectory() const { return data_; }
  std::string output() const;  // what it printed so far

 private:
  // After each run: its output and access log into the suite's kept logs, its keys' secrets
  // into the list no log may contain (tests/support/test_logs.h).
  void keepLogs() const;

  std::filesystem::path data_;
  std::string extra_;
  std::string arguments_;  // all of them, for a member
  int pid_ = -1;
  unsigned short port_ = 0;
  std::filesystem::path log_;
};

// Runs `jiancang ARGS` to completion: exit code and output.
std::pair<int, std::string> runJiancang(const std::string& arguments);

// The chain a running node serves, and signing for it.
class ChainClient {
 public:
  explicit ChainClient(HttpClient& http);
  const chain::ChainParameters& parameters() const { return parameters_; }
  const chain::Genesis& genesis() const { return genesis_; }

  chain::SignedTransaction sign(const core::KeyPair& signer, std::uint64_t nonce,
                                chain::Operation operation) const;
  static std::string body(const chain::SignedTransaction& transaction);

 private:
  chain::Genesis genesis_;
  chain::ChainParameters parameters_;
};

// A deterministic key pair for tests: the seed is H(label).
core::KeyPair testKey(const std::string& label);

std::filesystem::path freshDirectory(const std::string& name);

}  // namespace jiancang::testing
