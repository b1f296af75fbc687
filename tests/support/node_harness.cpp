#include "node_harness.h"

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <core/hash.h>

#include "test_logs.h"

namespace jiancang::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

class HttpClient::Impl {
 public:
  explicit Impl(unsigned short port) : port_(port), stream_(io_) {}

  bool connect() {
    beast::error_code error;
    stream_.socket().close(error);
    stream_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), error);
    connected_ = !error;
    return connected_;
  }

  HttpResult request(const std::string& method, const std::string& target, const std::string& body,
                     const std::string& contentType,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connected_ && !connect()) return {};
      http::request<http::string_body> request(http::string_to_verb(method), target, 11);
      request.set(http::field::host, "127.0.0.1");
      request.keep_alive(true);
      for (const auto& [name, value] : headers) request.set(name, value);
      if (!body.empty() || method == "POST") {
        request.set(http::field::content_type, contentType);
        request.body() = body;
        request.prepare_payload();
      }
      beast::error_code error;
      stream_.expires_after(std::chrono::seconds(60));
      http::write(stream_, request, error);
      if (!error) {
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        http::read(stream_, buffer, parser, error);
        if (!error) {
          HttpResult result;
          auto& response = parser.get();
          result.status = static_cast<int>(response.result_int());
          result.body = response.body();
          for (const auto& field : response) {
            std::string name(field.name_string());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            result.headers[name] = std::string(field.value());
          }
          if (!response.keep_alive()) connected_ = false;
          return result;
        }
      }
      connected_ = false;  // a closed keep-alive connection: try once more on a new one
    }
    return {};
  }

 private:
  unsigned short port_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  bool connected_ = false;
};

HttpClient::HttpClient(unsigned short port) : impl_(std::make_unique<Impl>(port)) {}
HttpClient::~HttpClient() = default;
HttpResult HttpClient::request(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& contentType,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  return impl_->request(method, target, body, contentType, headers);
}

NodeProcess::NodeProcess(fs::path dataDirectory, std::string extraArguments)
    : data_(std::move(dataDirectory)), extra_(std::move(extraArguments)) {
  log_ = data_.string() + ".out";
}

std::unique_ptr<NodeProcess> NodeProcess::member(fs::path dataDirectory, const fs::path& config) {
  auto process = std::make_unique<NodeProcess>(std::move(dataDirectory));
  process->arguments_ = "node --config '" + config.string() + "'";
  return process;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) kill();
}

std::string NodeProcess::output() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool NodeProcess::start(std::string* output, std::chrono::seconds timeout) {
  std::string command =
      std::string(JIANCANG_BINARY) + " " +
      (arguments_.empty() ? "up --data '" + data_.string() + "' --listen 127.0.0.1:0 " + extra_
                          : arguments_);
  // Truncated here, not in the child: a check racing the child would read the last run's port.
  std::ofstream(log_, std::ios::trunc).close();
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  std::regex serving("serving on http://127\\.0\\.0\\.1:([0-9]+)/");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = this->output();
    std::smatch match;
    if (std::regex_search(text, match, serving)) {
      port_ = static_cast<unsigned short>(std::stoi(match[1]));
      if (output != nullptr) *output = text;
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      keepLogs();
      if (output != nullptr) *output = text;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (output != nullptr) *output = this->output();
  kill();
  return false;
}

int NodeProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  keepLogs();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void NodeProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  keepLogs();
}

void NodeProcess::keepLogs() const {
  keepLog(log_, "node-output");
  keepLog(data_ / "access.log", "node-access");
  recordKeyFiles(data_ / "keys");
}

std::pair<int, std::string> runJiancang(const std::string& arguments) {
  std::string command = std::string(JIANCANG_BINARY) + " " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, read);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

ChainClient::ChainClient(HttpClient& http) {
  auto chain = http.get("/api/v1/chain").json();
  auto bytes = core::fromHex(chain.at("genesis").get<std::string>()).value();
  genesis_ = core::decode<chain::Genesis>(bytes).value();
  parameters_ = chain::chainParametersOf(genesis_);
}

chain::SignedTransaction ChainClient::sign(const core::KeyPair& signer, std::uint64_t nonce,
                                           chain::Operation operation) const {
  chain::Transaction transaction{parameters_.chainId, signer.publicKey, nonce,
                                 std::move(operation)};
  return chain::signTransaction(parameters_, std::move(transaction), signer.secretKey);
}

std::string ChainClient::body(const chain::SignedTransaction& transaction) {
  return nlohmann::json{{"transaction", core::toHex(core::encode(transaction))}}.dump();
}

core::KeyPair testKey(const std::string& label) {
  core::Hash256 seed = core::sha256(core::asBytes(label));
  return core::cryptoSuite(core::SuiteId::kEd25519Sha256).keyPairFromSecret(seed.view()).value();
}

fs::path freshDirectory(const std::string& name) {
  fs::path path =
      fs::temp_directory_path() / ("jiancang-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(path);
  fs::remove(path.string() + ".out");
  return path;
}

RawConnection::RawConnection(unsigned short port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

RawConnection::~RawConnection() { ::close(fd_); }

bool RawConnection::send(const std::string& data) {
  return connected_ &&
         ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

std::string RawConnection::receive(std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out = std::move(received_);
  received_.clear();
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

bool RawConnection::receiveUntil(const std::string& marker, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  timeval tv{0, 50'000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buffer[4096];
  std::size_t found = 0;
  while ((found = received_.find(marker)) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) return false;
    if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
  }
  received_.erase(0, found + marker.size());  // what came after the marker is read next
  return true;
}

}  // namespace jiancang::testing
