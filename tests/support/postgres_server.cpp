#include "postgres_server.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"
#include "test_logs.h"

namespace jiancang::testing {

namespace fs = std::filesystem;

namespace {

// The uid/gid the server runs as: the caller's, or Debian's `postgres` user when that is root.
std::optional<Identity> serverIdentity(std::string* error) {
  if (::geteuid() != 0) return Identity{::geteuid(), ::getegid()};
  const passwd* user = ::getpwnam("postgres");
  if (user == nullptr) {
    *error = "running as root and there is no `postgres` user to run PostgreSQL as";
    return std::nullopt;
  }
  return Identity{user->pw_uid, user->pw_gid};
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<fs::path> postgresBinDirectory() {
  const fs::path root = "/usr/lib/postgresql";
  std::error_code error;
  std::optional<fs::path> best;
  int bestVersion = -1;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > bestVersion && fs::exists(entry.path() / "bin" / "postgres")) {
      bestVersion = version;
      best = entry.path() / "bin";
    }
  }
  return best;
}

PostgresServer::PostgresServer(fs::path directory) : directory_(std::move(directory)) {}

PostgresServer::~PostgresServer() { stop(); }

bool PostgresServer::start(const std::vector<std::string>& settings, std::string* error) {
  auto bin = postgresBinDirectory();
  if (!bin) {
    *error = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)";
    return false;
  }
  bin_ = *bin;
  auto identity = serverIdentity(error);
  if (!identity) return false;

  fs::remove_all(directory_);
  fs::create_directories(directory_);
  if (::chown(directory_.c_str(), identity->uid, identity->gid) != 0) {
    *error = "cannot hand " + directory_.string() + " to the server's user";
    return false;
  }
  const fs::path data = directory_ / "data";
  const fs::path log = directory_ / "server.log";
  int logFd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (logFd < 0 || ::fchown(logFd, identity->uid, identity->gid) != 0) {
    if (logFd >= 0) ::close(logFd);
    *error = "cannot create " + log.string();
    return false;
  }

  pid_t initdb = spawn({(bin_ / "initdb").string(), "-D", data.string(), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"},
                       logFd, identity);
  if (waitExit(initdb) != 0) {
    ::close(logFd);
    *error = "initdb failed:\n" + readFile(log);
    return false;
  }

  port_ = freePort();
  std::vector<std::string> server = {(bin_ / "postgres").string(),
                                     "-D",
                                     data.string(),
                                     "-p",
                                     std::to_string(port_),
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "unix_socket_directories=" + directory_.string()};
  for (const auto& setting : settings) {
    server.emplace_back("-c");
    server.push_back(setting);
  }
  pid_ = spawn(server, logFd, identity);
  ::close(logFd);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "the PostgreSQL server exited:\n" + readFile(log);
      return false;
    }
    if (runClient("pg_isready", {"-q"}).first == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "the PostgreSQL server did not accept connections within 60 s:\n" + readFile(log);
  stop();
  return false;
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown: roll back open transactions, checkpoint, exit
  waitExit(pid_);
  pid_ = -1;
  keepLog(directory_ / "server.log", "postgres");
}

std::string PostgresServer::connectionString(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

std::pair<int, std::string> PostgresServer::runClient(
    const std::string& program, const std::vector<std::string>& arguments) const {
  std::vector<std::string> command = {(bin_ / program).string(), "-h", "127.0.0.1", "-p",
                                      std::to_string(port_),     "-U", "postgres"};
  command.insert(command.end(), arguments.begin(), arguments.end());
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return {-1, "pipe failed"};
  pid_t pid = spawn(command, pipeFds[1], std::nullopt);
  ::close(pipeFds[1]);
  std::string output;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::read(pipeFds[0], buffer, sizeof buffer)) > 0)
    output.append(buffer, static_cast<std::size_t>(got));
  ::close(pipeFds[0]);
  return {waitExit(pid), output};
}

}  // namespace jiancang::testing
