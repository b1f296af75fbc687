// Redis and nginx as tests and benchmarks use them: a throwaway instance in a temporary
// directory, on 127.0.0.1 at a free port, started and stopped by PID (Debian's redis-server and
// nginx binaries).
#pragma once

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace jiancang::testing {

// Redis without persistence.
class RedisServer {
 public:
  explicit RedisServer(std::filesystem::path directory) : directory_(std::move(directory)) {}
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Waits until it accepts connections; false with the reason.
  bool start(std::string* error);
  void stop();  // SIGTERM and wait; idempotent
  void kill();  // SIGKILL and reap: a crash
  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path directory_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// nginx answering every request with a static 200 ("ok"), no access log: the most a web server
// on this machine answers.
class NginxServer {
 public:
  explicit NginxServer(std::filesystem::path directory) : directory_(std::move(directory)) {}
  ~NginxServer() { stop(); }
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // `connectionsPerWorker`: what each worker may hold open (nginx's worker_connections).
  bool start(int workers, std::string* error, int connectionsPerWorker = 4096);
  void stop();
  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }  // the master; its children are the workers

 private:
  std::filesystem::path directory_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace jiancang::testing
