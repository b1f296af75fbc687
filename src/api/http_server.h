// The HTTP/1.1 server under the API: asynchronous (Boost.Beast on Asio), so thousands of idle
// keep-alive and event-stream connections cost memory, not threads. It enforces the limits every
// request meets before any handler runs: header and body size, a deadline for a whole request
// (a slow-drip client gets 408), an idle timeout between requests, a connection cap. It gives
// each request an id, writes one access-log line per request, and knows nothing of jiancang.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jiancang::api {

// Limits for one request, chosen from its method and target once its headers have arrived
// (an upload route takes a larger body and more time than the defaults).
struct RouteLimits {
  std::size_t maxBodyBytes = 0;
  std::chrono::milliseconds requestTimeout{0};
};

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (tests)
  unsigned threads = 2;
  std::size_t maxHeaderBytes = std::size_t{16} * 1024;
  std::size_t maxBodyBytes = std::size_t{1024} * 1024;
  std::chrono::milliseconds requestTimeout{10'000};  // from a request's first byte to its last
  std::chrono::milliseconds idleTimeout{75'000};     // a kept-alive connection with no request
  std::size_t maxConnections = 20'000;
  // One line per request; nothing if null. Flushed once a second, not per line (a write call per
  // request was a tenth of the server's system calls), so a crash loses at most that second.
  std::FILE* accessLog = nullptr;
  // Per-route limits in place of maxBodyBytes and requestTimeout; those when not set.
  std::function<RouteLimits(std::string_view method, std::string_view target)> limitsFor;
};

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // decoded, without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string requestId;
  std::string remote;
};

struct HttpResponse {
  unsigned status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A server-sent-event stream opened on a request. Thread-safe.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Queues one event (already formatted: "event: ...\ndata: ...\n\n"). False once the client
  // has gone or fell too far behind (its stream is then closed).
  virtual bool send(std::string event) = 0;
  // Ends the stream once the events already queued are written.
  virtual void close() = 0;
  virtual bool closed() const = 0;
};

// One request in flight. The handler answers exactly once, from any thread, now or later:
// respond(), or openStream() for an event stream.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const HttpRequest& request() const = 0;
  virtual void respond(HttpResponse response) = 0;
  // Answers with what `answer` returns, called on the connection's own thread: for an answer
  // decided on another thread (the orderer's, after a commit), so that thread spends nothing on
  // formatting it and many such answers reach the connection's thread in one wake-up.
  virtual void respondWith(std::function<HttpResponse()> answer) = 0;
  virtual std::shared_ptr<EventStream> openStream() = 0;
};

using HttpHandler = std::function<void(std::shared_ptr<Exchange>)>;

// Called once per finished request for metrics: method, route label, status, duration.
using RequestObserver =
    std::function<void(const HttpRequest&, unsigned status, std::chrono::microseconds elapsed)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, RequestObserver observer = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on the server's own threads. Returns the port bound, or an error
  // message.
  bool start(std::string* error);
  unsigned short port() const;
  std::size_t openConnections() const;
  // Stops accepting, closes every connection, joins the threads.
  void stop();

  class Impl;  // in the .cpp; public only so its helpers there can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// The non-empty segments of a decoded path: "/api//v1/x" gives {"api", "v1", "x"}.
std::vector<std::string_view> splitPath(std::string_view path);

// Percent-decoding of a path or query component; nothing on a malformed escape.
bool percentDecode(std::string_view in, std::string* out);

}  // namespace jiancang::api
