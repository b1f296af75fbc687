// Redis and nginx as tests and benchmarks use them: a throwaway instance in a temporary
// directory, on 127.0.0.1 at a free port, started and stopped by PID (Debian's redis-server and
// nginx binaries).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

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

// An etcd cluster (Debian's etcd-server) of `size` members, each in its own directory under
// `directory`, on free 127.0.0.1 ports; members can be killed and started again.
class EtcdCluster {
 public:
  explicit EtcdCluster(std::filesystem::path directory) : directory_(std::move(directory)) {}
  ~EtcdCluster() { stop(); }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits until each accepts clients; false with the reason.
  bool start(std::size_t size, std::string* error);
  // Starts one member (again); `wait`: until it accepts clients.
  bool startMember(std::size_t index, std::string* error, bool wait = true);
  void killMember(std::size_t index);  // SIGKILL and reap
  void stop();                         // every member, SIGTERM and wait
  std::vector<std::string> clientUrls() const;

 private:
  struct Member {
    pid_t pid = -1;
    unsigned short clientPort = 0;
    unsigned short peerPort = 0;
  };
  std::filesystem::path directory_;
  std::vector<Member> members_;
};

}  // namespace jiancang::testing
