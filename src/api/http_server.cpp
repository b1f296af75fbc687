#include <api/http_server.h>

#include <array>
#include <atomic>
#include <charconv>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace jiancang::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// A connection's socket and timers name their loop's executor type, not the type-erased
// any_io_executor, which is copied (and its target looked up) on every operation.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;

constexpr std::size_t kMaxQueuedEvents = 1'000;
constexpr std::chrono::seconds kEventKeepAlive{15};

std::string jsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string errorBody(std::string_view code, std::string_view message, std::string_view requestId) {
  return "{\"code\":\"" + jsonEscape(code) + "\",\"message\":\"" + jsonEscape(message) +
         "\",\"request_id\":\"" + jsonEscape(requestId) + "\"}";
}

// "pppppppp-nnnnnnnn...": this process's random prefix and a counter, in hex (at least 8
// digits each), written without snprintf, which showed in the profile of every request.
std::string newRequestId() {
  static std::atomic<unsigned long long> counter{0};
  static const std::uint32_t prefix = std::random_device{}();
  auto hex = [](std::string& out, unsigned long long value, int digits) {
    char buffer[16];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, value, 16).ptr;
    out.append(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, digits - (end - buffer))), '0');
    out.append(buffer, end);
  };
  std::string id;
  id.reserve(32);
  hex(id, prefix, 8);
  id.push_back('-');
  hex(id, counter.fetch_add(1) + 1, 8);
  return id;
}

void appendNumber(std::string& out, std::uint64_t number) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  out.append(digits, end);
}

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return parts;
}

bool percentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return false;
      }
      *out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (in[i] == '+') {
      *out += ' ';
    } else {
      *out += in[i];
    }
  }
  return true;
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler, RequestObserver observer)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        observer_(std::move(observer)),
        contexts_(makeContexts(std::max(1u, options_.threads))),
        acceptor_(*contexts_.front()),
        logFlushTimer_(*contexts_.front()) {
    for (std::size_t i = 0; i < contexts_.size(); ++i)
      handoffs_.push_back(std::make_unique<Handoff>());
  }

  class Session;
  class Stream;

  HttpServerOptions options_;
  HttpHandler handler_;
  RequestObserver observer_;
  // One event loop per thread, as nginx runs one per worker: a connection lives on one loop and
  // its handlers run on that loop's thread, so they need no strand, and no request wakes another
  // thread. (One io_context run by every thread woke an idle thread on almost every post.)
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::size_t nextContext_ = 0;  // where the next connection goes; on the acceptor's thread
  // Keeps a loop running while it has no connection yet; dropped by stop().
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keepRunning_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> connections_{0};
  std::mutex sessionsMutex_;
  // Every live session, for stop(); each removes itself when destroyed (a weak_ptr kept here
  // would keep its memory allocated until swept).
  std::unordered_set<Session*> sessions_;
  std::atomic<bool> stopped_{false};
  asio::steady_timer logFlushTimer_;

  static std::vector<std::unique_ptr<asio::io_context>> makeContexts(unsigned count) {
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (unsigned i = 0; i < count; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
    return contexts;
  }

  // Work handed in from threads that are not a loop's own (the orderer answering after a
  // commit), queued for that loop and posted as one batch: one wake-up per batch, where a post
  // per answer woke the loop's thread (an epoll_ctl and a context switch) once per transaction.
  struct Handoff {
    std::mutex mutex;
    std::vector<std::function<void()>> queue;
  };
  std::vector<std::unique_ptr<Handoff>> handoffs_;  // one per loop, as contexts_

  void accept();

  // Runs `work` on loop `loop`'s thread: at once when called there, batched from any other.
  void runOnLoop(std::size_t loop, std::function<void()> work) {
    if (currentLoop == contexts_[loop].get()) {
      work();
      return;
    }
    Handoff& handoff = *handoffs_[loop];
    bool first;
    {
      std::lock_guard lock(handoff.mutex);
      first = handoff.queue.empty();
      handoff.queue.push_back(std::move(work));
    }
    if (!first) return;
    asio::post(*contexts_[loop], [&handoff] {
      std::vector<std::function<void()>> batch;
      {
        std::lock_guard lock(handoff.mutex);
        batch.swap(handoff.queue);
      }
      for (auto& queued : batch) queued();
    });
  }
  static thread_local const asio::io_context* currentLoop;

  void log(const HttpRequest& request, unsigned status, std::size_t bytes,
           std::chrono::microseconds elapsed) const {
    if (observer_) observer_(request, status, elapsed);
    if (options_.accessLog == nullptr) return;
    // "ID REMOTE METHOD "TARGET" STATUS BYTES 1.234ms", formatted by hand: fprintf's number
    // formatting was a twentieth of the server's time.
    thread_local std::string line;
    line.clear();
    line.append(request.requestId).append(" ").append(request.remote).append(" ");
    line.append(request.method).append(" \"").append(request.target).append("\" ");
    appendNumber(line, status);
    line.append(" ");
    appendNumber(line, bytes);
    line.append(" ");
    const auto micros = static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count()));
    appendNumber(line, micros / 1000);
    const auto fraction = static_cast<unsigned>(micros % 1000);
    const char digits[] = {'.', static_cast<char>('0' + fraction / 100),
                           static_cast<char>('0' + fraction / 10 % 10),
                           static_cast<char>('0' + fraction % 10)};
    line.append(digits, sizeof digits).append("ms\n");
    std::fwrite(line.data(), 1, line.size(), options_.accessLog);
  }

  void flushAccessLogEverySecond() {
    if (options_.accessLog == nullptr || stopped_) return;
    logFlushTimer_.expires_after(std::chrono::seconds(1));
    logFlushTimer_.async_wait([this](beast::error_code error) {
      if (error) return;
      std::fflush(options_.accessLog);
      flushAccessLogEverySecond();
    });
  }
};

// A connection: reads requests one at a time, hands each to the handler, writes its answer.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, Socket socket, std::size_t loop)
      : server_(server),
        socket_(std::move(socket)),
        executor_(socket_.get_executor()),
        loop_(loop) {
    beast::error_code ignored;
    auto endpoint = socket_.remote_endpoint(ignored);
    remote_ =
        ignored ? "?" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }
  ~Session() {
    {
      std::lock_guard lock(server_.sessionsMutex_);
      server_.sessions_.erase(this);
    }
    --server_.connections_;
  }

  void start() { waitForRequest(); }

  void close() {
    asio::post(executor_, [self = shared_from_this()] { self->shutdown(); });
  }

  // Called by Exchange from any thread.
  // The request is shared with its exchange, not copied: its headers and body are no longer
  // needed, but the access log and the metrics read it after the handler has answered.
  void respond(std::shared_ptr<const HttpRequest> request, HttpResponse response, bool keepAlive,
               Clock::time_point start) {
    // On this connection's own thread (a handler that answered at once): written now.
    server_.runOnLoop(loop_, [self = shared_from_this(), request = std::move(request),
                              response = std::move(response), keepAlive,
                              start] { self->write(*request, response, keepAlive, start); });
  }
  void respondWith(std::shared_ptr<const HttpRequest> request, std::function<HttpResponse()> answer,
                   bool keepAlive, Clock::time_point start) {
    server_.runOnLoop(loop_, [self = shared_from_this(), request = std::move(request),
                              answer = std::move(answer), keepAlive, start] {
      HttpResponse response;
      try {
        response = answer();
      } catch (const std::exception& error) {  // as a handler that throws: 500, loop goes on
        response = HttpResponse{
            500, "application/json", errorBody("internal", error.what(), request->requestId), {}};
      }
      self->write(*request, response, keepAlive, start);
    });
  }

  std::shared_ptr<Stream> openStream(const HttpRequest& request, Clock::time_point start);

  Socket& socket() { return socket_; }
  const Executor& executor() const { return executor_; }
  // For an event stream's writes: the connection is closed unless the write ends within
  // `timeout`; noDeadline() once it has. On the connection's thread.
  void writeDeadline(Clock::duration timeout) {
    setDeadline(Phase::kWriting, Clock::now() + timeout);
  }
  void noDeadline() { phase_ = Phase::kNone; }
  // An event stream reads no more requests: the parser (with the last request's headers) and
  // the read buffer are given back, a kilobyte or two for each of thousands of open streams.
  // On the connection's thread.
  void releaseRequestBuffers() {
    parser_.reset();
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  Impl& server() { return server_; }

 private:
  void waitForRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.maxHeaderBytes));
    parser_->body_limit(boost::none);  // set per route once the headers are in
    if (buffer_.size() > 0) {
      readRequest();
      return;
    }
    // Idle: wait for the first byte of the next request.
    setDeadline(Phase::kIdle, Clock::now() + server_.options_.idleTimeout);
    if (buffer_.capacity() == 0) {
      // A connection that has sent nothing yet gets no read buffer until it does.
      socket_.async_wait(
          tcp::socket::wait_read,
          asio::bind_executor(executor_, [self = shared_from_this()](beast::error_code error) {
            if (error || self->server_.stopped_) return self->shutdown();
            self->readRequest();
          }));
      return;
    }
    // A kept-alive connection already has its buffer: read into it. The read is tried at once;
    // a wait would first re-arm the socket in epoll, a system call for every request.
    socket_.async_read_some(
        buffer_.prepare(buffer_.capacity()),
        asio::bind_executor(
            executor_, [self = shared_from_this()](beast::error_code error, std::size_t count) {
              if (error || self->server_.stopped_) return self->shutdown();
              self->buffer_.commit(count);
              self->readRequest();
            }));
  }

  void readRequest() {
    timedOut_ = false;
    requestStart_ = Clock::now();
    bodyLimit_ = server_.options_.maxBodyBytes;
    requestTimeout_ = server_.options_.requestTimeout;
    setDeadline(Phase::kReading, requestStart_ + requestTimeout_);
    http::async_read_header(
        socket_, buffer_, *parser_,
        asio::bind_executor(executor_,
                            [self = shared_from_this()](beast::error_code error, std::size_t) {
                              if (error) return self->onRead(error);
                              self->readBody();
                            }));
  }

  // One timer per connection serves every deadline (idle, reading a request, writing an
  // answer). Moving the deadline later, as each request does, is an assignment: the timer, when
  // it fires, waits again for the deadline then in force. Only an earlier deadline re-arms it.
  // (Before, two timers were armed and cancelled, and a third armed, for every request.)
  enum class Phase { kNone, kIdle, kReading, kWriting };

  void setDeadline(Phase phase, Clock::time_point at) {
    phase_ = phase;
    deadlineAt_ = at;
    if (timerArmed_ && timer_.expiry() <= at) return;
    armTimer();
  }

  void armTimer() {
    timerArmed_ = true;
    timer_.expires_at(deadlineAt_);  // a wait already pending ends with operation_aborted
    timer_.async_wait(
        asio::bind_executor(executor_, [self = shared_from_this()](beast::error_code error) {
          if (error) return;  // re-armed, or the connection is closing
          self->timerArmed_ = false;
          if (self->phase_ == Phase::kNone) return;
          if (Clock::now() < self->deadlineAt_) return self->armTimer();
          self->onDeadline();
        }));
  }

  void onDeadline() {
    switch (phase_) {
      case Phase::kReading: {
        // The read ends with an error and the client still reads its 408.
        timedOut_ = true;
        beast::error_code ignored;
        socket_.cancel(ignored);
        return;
      }
      case Phase::kIdle:
      case Phase::kWriting:
        return shutdown();
      case Phase::kNone:
        return;
    }
  }

  // The headers are in: the route's own limits apply to the body. (The header was read with no
  // body limit, so a declared length is checked here.)
  void readBody() {
    if (server_.options_.limitsFor) {
      const auto& header = parser_->get();
      RouteLimits limits = server_.options_.limitsFor(header.method_string(), header.target());
      if (limits.maxBodyBytes > 0) bodyLimit_ = limits.maxBodyBytes;
      if (limits.requestTimeout.count() > 0 && limits.requestTimeout != requestTimeout_) {
        requestTimeout_ = limits.requestTimeout;
        setDeadline(Phase::kReading, requestStart_ + requestTimeout_);
      }
    }
    if (auto declared = parser_->content_length(); declared && *declared > bodyLimit_) {
      return onRead(http::error::body_limit);
    }
    parser_->body_limit(bodyLimit_);  // for chunked bodies, counted as they arrive
    http::async_read(socket_, buffer_, *parser_,
                     asio::bind_executor(executor_, [self = shared_from_this()](
                                                        beast::error_code error, std::size_t) {
                       self->onRead(error);
                     }));
  }

  void onRead(beast::error_code error) {
    phase_ = Phase::kNone;  // the handler takes the time it needs
    if (timedOut_) error = beast::error::timeout;
    if (error == http::error::end_of_stream || error == asio::error::eof ||
        error == asio::error::connection_reset) {
      return shutdown();
    }
    HttpRequest request;
    request.requestId = newRequestId();
    request.remote = remote_;
    if (error) {
      unsigned status = 400;
      std::string code = "malformed-request";
      std::string message = "the request is not valid HTTP/1.1: " + error.message();
      if (error == beast::error::timeout) {
        status = 408;
        code = "request-timeout";
        message = "the request did not arrive in full within " +
                  std::to_string(requestTimeout_.count()) + " ms";
      } else if (error == http::error::header_limit) {
        status = 431;
        code = "headers-too-large";
        message = "the request's headers are over " +
                  std::to_string(server_.options_.maxHeaderBytes) + " bytes";
      } else if (error == http::error::body_limit) {
        status = 413;
        code = "body-too-large";
        message = "the request body is over " + std::to_string(bodyLimit_) + " bytes";
      }
      if (parser_->is_header_done()) {
        request.method = std::string(parser_->get().method_string());
        request.target = std::string(parser_->get().target());
      }
      HttpResponse response{
          status, "application/json", errorBody(code, message, request.requestId), {}};
      write(request, response, false, requestStart_);
      return;
    }
    auto& message = parser_->get();
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    if (auto given = request.headers.find("x-request-id");
        given != request.headers.end() && validRequestId(given->second)) {
      request.requestId = given->second;
    }
    request.body = std::move(message.body());
    bool keepAlive = message.keep_alive();
    std::string_view target = request.target;
    auto question = target.find('?');
    bool decoded = percentDecode(target.substr(0, question), &request.path);
    if (decoded && question != std::string_view::npos) {
      std::string_view rest = target.substr(question + 1);
      while (!rest.empty() && decoded) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        std::string key;
        std::string value;
        decoded = percentDecode(pair.substr(0, eq), &key) &&
                  (eq == std::string_view::npos || percentDecode(pair.substr(eq + 1), &value));
        if (!key.empty()) request.query[key] = value;
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      }
    }
    if (!decoded) {
      HttpResponse response{
          400,
          "application/json",
          errorBody("malformed-target", "the request target has a bad % escape", request.requestId),
          {}};
      write(request, response, false, requestStart_);
      return;
    }
    dispatch(std::move(request), keepAlive);
  }

  void dispatch(HttpRequest request, bool keepAlive);

  // The answer is written as one buffer, formatted here: Beast's serializer walks a chain of
  // buffer views for every write, which cost more than the rest of a small answer's formatting.
  void write(const HttpRequest& request, const HttpResponse& response, bool keepAlive,
             Clock::time_point start) {
    const bool keep = keepAlive && !server_.stopped_;
    const unsigned status = response.status;
    // No body, and no length, where HTTP allows none (RFC 9110, 6.4.1).
    const bool bodyless = status < 200 || status == 204 || status == 304;
    const std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    auto text = std::make_shared<std::string>();
    text->reserve(256 + response.body.size());
    auto header = [&](std::string_view name, std::string_view value) {
      // A line break in a header would let a value start a header of its own.
      if (name.find_first_of("\r\n:") != std::string_view::npos ||
          value.find_first_of("\r\n") != std::string_view::npos) {
        return;
      }
      text->append(name).append(": ").append(value).append("\r\n");
    };
    text->append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason);
    text->append("\r\n");
    header("Server", "jiancang");
    if (!response.contentType.empty()) header("Content-Type", response.contentType);
    header("X-Request-Id", request.requestId);
    header("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : response.headers) header(name, value);
    if (!bodyless) header("Content-Length", std::to_string(response.body.size()));
    if (!keep) header("Connection", "close");
    text->append("\r\n");
    // A HEAD answer says the length of the body a GET would get, without it.
    const bool sendBody = !bodyless && request.method != "HEAD";
    const std::size_t bytes = sendBody ? response.body.size() : 0;
    if (sendBody) text->append(response.body);
    server_.log(request, status, bytes,
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
    setDeadline(Phase::kWriting, Clock::now() + server_.options_.requestTimeout);
    asio::async_write(socket_, asio::buffer(*text),
                      asio::bind_executor(executor_, [self = shared_from_this(), text, keep](
                                                         beast::error_code error, std::size_t) {
                        if (error) return self->shutdown();
                        if (!keep) return self->lingeringClose();
                        self->waitForRequest();
                      }));
  }

  // After refusing a request whose body is still arriving, stop sending and read what the
  // client still sends for a moment, so it gets our answer rather than a reset.
  void lingeringClose() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    setDeadline(Phase::kWriting, Clock::now() + std::chrono::seconds(2));
    drain();
  }
  void drain() {
    auto buffer = std::make_shared<std::array<char, std::size_t{16} * 1024>>();
    socket_.async_read_some(
        asio::buffer(*buffer),
        asio::bind_executor(
            executor_, [self = shared_from_this(), buffer](beast::error_code error, std::size_t) {
              if (error) return self->shutdown();
              self->drain();
            }));
  }

  void shutdown() {
    beast::error_code ignored;
    phase_ = Phase::kNone;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Impl& server_;
  Socket socket_;
  Executor executor_;  // the connection's event loop: every handler runs there
  std::size_t loop_;   // that loop's index in the server's contexts_
  Timer timer_{executor_};
  Phase phase_ = Phase::kNone;
  Clock::time_point deadlineAt_;
  bool timerArmed_ = false;
  bool timedOut_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  Clock::time_point requestStart_;
  std::size_t bodyLimit_ = 0;
  std::chrono::milliseconds requestTimeout_{0};
};

// An event stream on a session: the response header, then events as they come, with a comment
// line every 15 s so dead clients are noticed.
class HttpServer::Impl::Stream : public EventStream, public std::enable_shared_from_this<Stream> {
 public:
  explicit Stream(std::shared_ptr<Session> session)
      : session_(std::move(session)), timer_(session_->executor()) {}

  void begin() {
    asio::post(session_->executor(), [self = shared_from_this()] {
      self->session_->releaseRequestBuffers();
      self->queue_.push_back(
          "HTTP/1.1 200 OK\r\nServer: jiancang\r\nContent-Type: text/event-stream\r\n"
          "Cache-Control: no-store\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\n"
          "retry: 2000\n\n");
      self->pump();
      self->keepAlive();
      self->watchPeer();
    });
  }

  bool send(std::string event) override {
    if (closed_) return false;
    asio::post(session_->executor(),
               [self = shared_from_this(), event = std::move(event)]() mutable {
                 if (self->closed_) return;
                 if (self->queue_.size() >= kMaxQueuedEvents) return self->fail();
                 self->queue_.push_back(std::move(event));
                 self->pump();
               });
    return true;
  }
  void close() override {
    asio::post(session_->executor(), [self = shared_from_this()] {
      self->closing_ = true;
      self->pump();
    });
  }
  bool closed() const override { return closed_; }

 private:
  void pump() {
    if (closing_ && !writing_ && queue_.empty()) return fail();
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    auto data = std::make_shared<std::string>(std::move(queue_.front()));
    queue_.pop_front();
    session_->writeDeadline(std::chrono::seconds(30));
    asio::async_write(
        session_->socket(), asio::buffer(*data),
        asio::bind_executor(session_->executor(), [self = shared_from_this(), data](
                                                      beast::error_code error, std::size_t) {
          self->writing_ = false;
          self->session_->noDeadline();
          if (error) return self->fail();
          self->pump();
        }));
  }
  // A client that goes away is noticed at once, not at a later write: its socket turns readable
  // with end-of-file. Whatever a client sends on an event stream is read and dropped.
  void watchPeer() {
    session_->socket().async_wait(
        tcp::socket::wait_read,
        asio::bind_executor(
            session_->executor(), [self = shared_from_this()](beast::error_code error) {
              if (error || self->closed_) return self->fail();
              std::array<char, 512> dropped{};
              beast::error_code readError;
              const std::size_t count =
                  self->session_->socket().read_some(asio::buffer(dropped), readError);
              if (readError || count == 0) return self->fail();
              self->watchPeer();
            }));
  }
  void keepAlive() {
    timer_.expires_after(kEventKeepAlive);
    timer_.async_wait(asio::bind_executor(
        session_->executor(), [self = shared_from_this()](beast::error_code error) {
          if (error || self->closed_ || self->session_->server().stopped_) return self->fail();
          self->queue_.push_back(": ping\n\n");
          self->pump();
          self->keepAlive();
        }));
  }
  void fail() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    session_->close();
  }

  std::shared_ptr<Session> session_;
  Timer timer_;
  std::list<std::string> queue_;  // not a deque: that allocates half a kilobyte even when empty
  bool writing_ = false;
  bool closing_ = false;
  std::atomic<bool> closed_{false};
};

namespace {

class SessionExchange final : public Exchange {
 public:
  SessionExchange(std::shared_ptr<HttpServer::Impl::Session> session, HttpRequest request,
                  bool keepAlive)
      : session_(std::move(session)),
        request_(std::make_shared<const HttpRequest>(std::move(request))),
        keepAlive_(keepAlive),
        start_(Clock::now()) {}
  ~SessionExchange() override {
    // A handler that forgot to answer: the client still hears something.
    try {
      if (answered_.exchange(true)) return;
      session_->respond(
          request_,
          HttpResponse{500,
                       "application/json",
                       errorBody("internal", "the request was not answered", request_->requestId),
                       {}},
          false, start_);
    } catch (...) {  // out of memory while unwinding: the connection just closes
    }
  }
  const HttpRequest& request() const override { return *request_; }
  void respond(HttpResponse response) override {
    if (answered_.exchange(true)) return;
    session_->respond(request_, std::move(response), keepAlive_, start_);
  }
  void respondWith(std::function<HttpResponse()> answer) override {
    if (answered_.exchange(true)) return;
    session_->respondWith(request_, std::move(answer), keepAlive_, start_);
  }
  std::shared_ptr<EventStream> openStream() override {
    if (answered_.exchange(true)) return nullptr;
    return session_->openStream(*request_, start_);
  }

 private:
  std::shared_ptr<HttpServer::Impl::Session> session_;
  std::shared_ptr<const HttpRequest> request_;
  bool keepAlive_;
  Clock::time_point start_;
  std::atomic<bool> answered_{false};
};

}  // namespace

std::shared_ptr<HttpServer::Impl::Stream> HttpServer::Impl::Session::openStream(
    const HttpRequest& request, Clock::time_point start) {
  server_.log(request, 200, 0,
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
  auto stream = std::make_shared<Stream>(shared_from_this());
  stream->begin();
  return stream;
}

thread_local const asio::io_context* HttpServer::Impl::currentLoop = nullptr;

void HttpServer::Impl::Session::dispatch(HttpRequest request, bool keepAlive) {
  auto exchange =
      std::make_shared<SessionExchange>(shared_from_this(), std::move(request), keepAlive);
  try {
    server_.handler_(exchange);
  } catch (const std::exception& error) {
    exchange->respond(
        HttpResponse{500,
                     "application/json",
                     errorBody("internal", error.what(), exchange->request().requestId),
                     {}});
  }
}

void HttpServer::Impl::accept() {
  // Connections are dealt to the event loops in turn.
  const std::size_t loop = nextContext_++ % contexts_.size();
  acceptor_.async_accept(*contexts_[loop], [this, loop](beast::error_code error, Socket socket) {
    if (stopped_) return;
    if (!error) {
      if (connections_.load() >= options_.maxConnections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        ++connections_;
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(*this, std::move(socket), loop);
        {
          std::lock_guard lock(sessionsMutex_);
          sessions_.insert(session.get());
        }
        // Started on its own loop's thread, which may be another than the acceptor's.
        asio::post(session->executor(), [session] { session->start(); });
      }
    }
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, RequestObserver observer)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(observer))) {}

HttpServer::~HttpServer() {
  try {
    stop();
  } catch (...) {  // joining threads failed: nothing more to do on the way out
  }
}

bool HttpServer::start(std::string* error) {
  beast::error_code code;
  auto address = asio::ip::make_address(impl_->options_.address, code);
  if (code) {
    *error = "not an IP address: " + impl_->options_.address;
    return false;
  }
  tcp::endpoint endpoint(address, impl_->options_.port);
  impl_->acceptor_.open(endpoint.protocol(), code);
  if (!code) impl_->acceptor_.set_option(asio::socket_base::reuse_address(true), code);
  if (!code) impl_->acceptor_.bind(endpoint, code);
  if (!code) impl_->acceptor_.listen(asio::socket_base::max_listen_connections, code);
  if (code) {
    *error = "cannot listen on " + impl_->options_.address + ":" +
             std::to_string(impl_->options_.port) + ": " + code.message();
    return false;
  }
  impl_->accept();
  impl_->flushAccessLogEverySecond();
  for (auto& context : impl_->contexts_) {
    impl_->keepRunning_.push_back(asio::make_work_guard(*context));
    impl_->threads_.emplace_back([loop = context.get()] {
      Impl::currentLoop = loop;
      loop->run();
    });
  }
  return true;
}

unsigned short HttpServer::port() const {
  beast::error_code ignored;
  return impl_->acceptor_.local_endpoint(ignored).port();
}

std::size_t HttpServer::openConnections() const { return impl_->connections_.load(); }

void HttpServer::stop() {
  if (impl_->stopped_.exchange(true)) return;
  asio::post(*impl_->contexts_.front(), [this] {
    beast::error_code ignored;
    impl_->acceptor_.close(ignored);
    impl_->logFlushTimer_.cancel();
  });
  std::vector<std::shared_ptr<Impl::Session>> open;
  {
    std::lock_guard lock(impl_->sessionsMutex_);
    open.reserve(impl_->sessions_.size());
    for (Impl::Session* live : impl_->sessions_) {
      // One being destroyed waits for this lock in its destructor and cannot be locked.
      if (auto session = live->weak_from_this().lock()) open.push_back(std::move(session));
    }
  }
  // Outside the lock: the last reference to a session may go here, and its destructor locks.
  for (auto& session : open) session->close();
  open.clear();
  // Let closes and in-flight writes finish, then stop.
  auto deadline = Clock::now() + std::chrono::seconds(2);
  while (impl_->connections_.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& context : impl_->contexts_) context->stop();
  for (auto& thread : impl_->threads_) {
    if (thread.joinable()) thread.join();
  }
  if (impl_->options_.accessLog != nullptr) std::fflush(impl_->options_.accessLog);
}

}  // namespace jiancang::api
