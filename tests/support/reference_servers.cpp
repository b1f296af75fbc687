#include "reference_servers.h"

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"
#include "test_logs.h"

namespace jiancang::testing {

namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Spawns `arguments` logging to `log` and waits up to 20 s for `port` to accept connections.
bool startAndWait(const std::vector<std::string>& arguments, const fs::path& log,
                  unsigned short port, const std::string& name, pid_t* pid, std::string* error) {
  if (!fs::exists(arguments.front())) {
    *error = name + " is not installed (" + arguments.front() + ")";
    return false;
  }
  int logFd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (logFd < 0) {
    *error = "cannot create " + log.string();
    return false;
  }
  *pid = spawn(arguments, logFd);
  ::close(logFd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepting(port)) return true;
    int status = 0;
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      *pid = -1;
      *error = name + " exited:\n" + readFile(log);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = name + " did not accept connections within 20 s:\n" + readFile(log);
  ::kill(*pid, SIGKILL);
  waitExit(*pid);
  *pid = -1;
  return false;
}

void stopProcess(pid_t* pid, int signal) {
  if (*pid <= 0) return;
  ::kill(*pid, signal);
  waitExit(*pid);
  *pid = -1;
}

}  // namespace

bool RedisServer::start(std::string* error) {
  fs::create_directories(directory_);
  port_ = freePort();
  return startAndWait(
      {"/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", std::to_string(port_), "--save",
       "", "--appendonly", "no", "--dir", directory_.string(), "--daemonize", "no"},
      directory_ / "redis.log", port_, "redis-server", &pid_, error);
}

void RedisServer::stop() {
  const bool running = pid_ > 0;
  stopProcess(&pid_, SIGTERM);
  if (running) keepLog(directory_ / "redis.log", "redis");
}

void RedisServer::kill() { stopProcess(&pid_, SIGKILL); }

bool NginxServer::start(int workers, std::string* error, int connectionsPerWorker) {
  fs::create_directories(directory_);
  port_ = freePort();
  const fs::path config = directory_ / "nginx.conf";
  std::ofstream(config) << "daemon off;\n"
                        << "master_process on;\n"
                        << "worker_processes " << workers << ";\n"
                        << "pid " << (directory_ / "nginx.pid").string() << ";\n"
                        << "error_log " << (directory_ / "error.log").string() << " warn;\n"
                        << "worker_rlimit_nofile " << connectionsPerWorker + 64 << ";\n"
                        << "events { worker_connections " << connectionsPerWorker << "; }\n"
                        << "http {\n"
                        << "  access_log off;\n"
                        << "  client_body_temp_path " << directory_.string() << ";\n"
                        << "  proxy_temp_path " << directory_.string() << ";\n"
                        << "  fastcgi_temp_path " << directory_.string() << ";\n"
                        << "  uwsgi_temp_path " << directory_.string() << ";\n"
                        << "  scgi_temp_path " << directory_.string() << ";\n"
                        << "  server {\n"
                        << "    listen 127.0.0.1:" << port_ << ";\n"
                        << "    location / { return 200 \"ok\\n\"; }\n"
                        << "  }\n"
                        << "}\n";
  return startAndWait({"/usr/sbin/nginx", "-p", directory_.string(), "-c", config.string()},
                      directory_ / "nginx.log", port_, "nginx", &pid_, error);
}

void NginxServer::stop() { stopProcess(&pid_, SIGQUIT); }  // graceful: workers finish first

}  // namespace jiancang::testing

namespace jiancang::testing {

bool EtcdCluster::start(std::size_t size, std::string* error) {
  fs::create_directories(directory_);
  members_.assign(size, Member{});
  for (Member& member : members_) {
    member.clientPort = freePort();
    member.peerPort = freePort();
  }
  // A new cluster's members serve only once they have a quorum: all are started, then waited for.
  for (std::size_t i = 0; i < size; ++i) {
    if (!startMember(i, error, false)) return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::size_t i = 0; i < size; ++i) {
    while (!accepting(members_[i].clientPort)) {
      if (std::chrono::steady_clock::now() > deadline) {
        *error = "etcd member e" + std::to_string(i) + " did not serve within 30 s:\n" +
                 readFile(directory_ / ("e" + std::to_string(i) + ".log"));
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return true;
}

bool EtcdCluster::startMember(std::size_t index, std::string* error, bool wait) {
  std::string cluster;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!cluster.empty()) cluster += ",";
    cluster +=
        "e" + std::to_string(i) + "=http://127.0.0.1:" + std::to_string(members_[i].peerPort);
  }
  Member& member = members_[index];
  const std::string name = "e" + std::to_string(index);
  const fs::path data = directory_ / name;
  const std::string state = fs::exists(data) ? "existing" : "new";
  const std::string client = "http://127.0.0.1:" + std::to_string(member.clientPort);
  const std::string peer = "http://127.0.0.1:" + std::to_string(member.peerPort);
  std::vector<std::string> arguments{"/usr/bin/etcd",
                                     "--name",
                                     name,
                                     "--data-dir",
                                     data.string(),
                                     "--listen-client-urls",
                                     client,
                                     "--advertise-client-urls",
                                     client,
                                     "--listen-peer-urls",
                                     peer,
                                     "--initial-advertise-peer-urls",
                                     peer,
                                     "--initial-cluster",
                                     cluster,
                                     "--initial-cluster-state",
                                     state,
                                     "--initial-cluster-token",
                                     "jiancang-test",
                                     "--heartbeat-interval",
                                     "50",
                                     "--election-timeout",
                                     "500"};
  if (wait) {
    return startAndWait(arguments, directory_ / (name + ".log"), member.clientPort, "etcd",
                        &member.pid, error);
  }
  int logFd = ::open((directory_ / (name + ".log")).c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  member.pid = spawn(arguments, logFd);
  ::close(logFd);
  if (member.pid <= 0) *error = "cannot start etcd";
  return member.pid > 0;
}

void EtcdCluster::killMember(std::size_t index) { stopProcess(&members_[index].pid, SIGKILL); }

void EtcdCluster::stop() {
  for (Member& member : members_) stopProcess(&member.pid, SIGTERM);
}

std::vector<std::string> EtcdCluster::clientUrls() const {
  std::vector<std::string> urls;
  for (const Member& member : members_) {
    urls.push_back("http://127.0.0.1:" + std::to_string(member.clientPort));
  }
  return urls;
}

}  // namespace jiancang::testing
