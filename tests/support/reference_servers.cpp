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
