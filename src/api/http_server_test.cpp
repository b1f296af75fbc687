// The server's deadlines, on a connection as a client sees them: an idle connection is closed,
// requests keep one open, a request that does not arrive in time gets 408 (also after fast ones
// on the same connection), and a route's own longer limit is honoured.
#include <api/http_server.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace jiancang::api {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A blocking client on one connection, each read bounded by a timeout.
class Client {
 public:
  explicit Client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 &&
                 ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& data) const {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }

  // One whole answer (headers and Content-Length bytes of body), or what came before the
  // connection closed or `timeout` passed.
  std::string answer(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto end = pending_.find("\r\n\r\n"); end != std::string::npos) {
        std::size_t length = 0;
        if (auto at = pending_.find("Content-Length: "); at != std::string::npos && at < end) {
          length = std::stoul(pending_.substr(at + 16));
        }
        if (pending_.size() >= end + 4 + length) {
          std::string whole = pending_.substr(0, end + 4 + length);
          pending_.erase(0, whole.size());
          return whole;
        }
      }
      if (!readSome(deadline)) return std::exchange(pending_, {});
    }
  }

  // True once the server has closed the connection, false if it is still open at `timeout`.
  bool closedWithin(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      if (!readSome(deadline)) return closed_;
    }
    return true;
  }

 private:
  // False on timeout or close.
  bool readSome(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd poller{fd_, POLLIN, 0};
    if (::poll(&poller, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[4096];
    const ssize_t count = ::recv(fd_, buffer, sizeof buffer, 0);
    if (count <= 0) {
      closed_ = true;
      return false;
    }
    pending_.append(buffer, static_cast<std::size_t>(count));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

std::string get(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(
        std::move(options), [](const std::shared_ptr<Exchange>& exchange) {
          HttpResponse response;
          response.contentType = "text/plain";
          response.body = std::to_string(exchange->request().body.size());
          exchange->respond(std::move(response));
        });
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ClosesAConnectionIdleLongerThanTheIdleTimeout) {
  HttpServerOptions options;
  options.idleTimeout = milliseconds(300);
  start(options);
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(get("/a")));
  EXPECT_TRUE(client.answer(milliseconds(5000)).starts_with("HTTP/1.1 200"));
  const auto answered = Clock::now();
  EXPECT_TRUE(client.closedWithin(milliseconds(10'000)));
  EXPECT_GE(Clock::now() - answered, milliseconds(250));
}

TEST_F(HttpServerTest, RequestsKeepAConnectionOpenPastManyIdleTimeouts) {
  HttpServerOptions options;
  options.idleTimeout = milliseconds(400);
  start(options);
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  const auto until = Clock::now() + milliseconds(2000);
  int answered = 0;
  while (Clock::now() < until) {
    ASSERT_TRUE(client.send(get("/again")));
    std::string answer = client.answer(milliseconds(5000));
    ASSERT_TRUE(answer.starts_with("HTTP/1.1 200")) << "after " << answered << ": " << answer;
    ++answered;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(answered, 5);
  EXPECT_EQ(server_->openConnections(), 1u);
}

TEST_F(HttpServerTest, ASlowRequestGets408AlsoAfterFastOnesOnItsConnection) {
  HttpServerOptions options;
  options.requestTimeout = milliseconds(400);
  options.idleTimeout = milliseconds(60'000);
  start(options);
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(get("/fast")));
    ASSERT_TRUE(client.answer(milliseconds(5000)).starts_with("HTTP/1.1 200"));
  }
  // The connection's timer now waits for the idle deadline, a minute away; a request that
  // starts and stalls must still be cut off at its own, earlier one.
  const auto sent = Clock::now();
  ASSERT_TRUE(client.send("GET /slo"));
  std::string answer = client.answer(milliseconds(10'000));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << answer;
  EXPECT_NE(answer.find("request-timeout"), std::string::npos) << answer;
  EXPECT_GE(Clock::now() - sent, milliseconds(350));
  EXPECT_TRUE(client.closedWithin(milliseconds(5000)));
}

TEST_F(HttpServerTest, ARouteMayTakeLongerThanTheDefaultAndOnlyThatRoute) {
  HttpServerOptions options;
  options.requestTimeout = milliseconds(300);
  options.limitsFor = [](std::string_view, std::string_view target) {
    RouteLimits limits;
    if (target == "/upload") limits.requestTimeout = milliseconds(5000);
    return limits;
  };
  start(options);
  auto slowPost = [](std::string_view target) {
    return "POST " + std::string(target) +
           " HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n12345";
  };
  {
    Client client(server_->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send(slowPost("/upload")));
    std::this_thread::sleep_for(milliseconds(800));
    ASSERT_TRUE(client.send("67890"));
    std::string answer = client.answer(milliseconds(5000));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
    EXPECT_TRUE(answer.ends_with("\r\n\r\n10")) << answer;
  }
  {
    Client client(server_->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send(slowPost("/other")));
    std::string answer = client.answer(milliseconds(10'000));
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << answer;
  }
}

}  // namespace
}  // namespace jiancang::api
