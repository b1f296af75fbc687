// bench/waiting_room: what a crowd held in a drop's waiting room costs the node, and how promptly
// it is told. N verified collectors (10,000 by default) join the queue of a drop that starts
// soon, and each holds GET /api/v1/drops/{id}/queue/events open on its own connection (one
// client process on the same machine, Boost.Asio, every connection on one thread).
//
//   memory      the node's resident memory (VmRSS) per open stream, measured as the growth
//               from half the crowd's streams open to all of them (what is set up once is not
//               the crowd's); next to, in the same run, nginx (one worker) holding N idle
//               keep-alive connections after one request each, measured the same way, as a
//               ratio. Then every stream is closed and N are opened again: what the second
//               crowd adds shows whether memory comes back or grows with churn.
//   promptness  at the start the node draws the places and lets them in at --admit-per-second:
//               how long after the start every watcher was told its drawn place, and how long
//               after its place's admitted_at each was told it was let in.
//
// Every run fails unless each watcher was told a distinct position in 1..N and that it was let
// in, and no stream failed.
//
//   build/release/bench/waiting_room [--runs N] [--clients N] [--admit-per-second N]
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "support/node_harness.h"
#include "support/platform_client.h"
#include "support/processes.h"
#include "support/reference_servers.h"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using namespace jiancang::testing;
using namespace jiancang::bench;
using nlohmann::json;

struct Options {
  int runs = 3;
  int clients = 10'000;
  int admitPerSecond = 2'000;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 == argc) fail("missing the value of " + flag);
    const int value = std::atoi(argv[++i]);
    if (value <= 0) fail("bad value for " + flag);
    if (flag == "--runs") {
      options.runs = value;
    } else if (flag == "--clients") {
      options.clients = value;
    } else if (flag == "--admit-per-second") {
      options.admitPerSecond = value;
    } else {
      fail("unknown option " + flag);
    }
  }
  return options;
}

// One held connection and what it was told.
struct Held {
  explicit Held(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  std::array<char, 4096> chunk{};
  std::string unread;
  std::string request;
  bool answered = false;  // some of the answer arrived
  bool open = false;      // the answer's first part arrived
  bool settled = false;   // opened or failed: counted once
  bool failed = false;    // closed by the server, or an error answer
  bool failureCounted = false;
  std::string failure;
  std::int64_t position = 0;
  std::int64_t admittedAt = 0;   // the place's admitted_at
  std::int64_t toldDrawnAt = 0;  // when the place with a position arrived
  std::int64_t toldAdmittedAt = 0;
};

// N connections to one port, each sending one request and then held, read as data comes.
// `openMarker` marks the part of the answer that counts as open (nginx's body, or the stream's
// first progress event). All on one thread; at most 256 connections being opened at a time, as
// a crowd arrives over a few seconds rather than in one instant.
class Crowd {
 public:
  Crowd(unsigned short port, std::string openMarker)
      : port_(port), openMarker_(std::move(openMarker)) {}
  ~Crowd() { close(); }
  Crowd(const Crowd&) = delete;
  Crowd& operator=(const Crowd&) = delete;

  // Opens one connection per request and waits until every one is open (or failed).
  void open(const std::vector<std::string>& requests) {
    for (const std::string& request : requests) {
      held_.push_back(std::make_unique<Held>(io_));
      held_.back()->request = request;
    }
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
    asio::post(io_, [this] {
      for (int i = 0; i < 256; ++i) connectNext();
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (settled_.load() < static_cast<int>(held_.size())) {
      if (std::chrono::steady_clock::now() > deadline) {
        int unanswered = 0;
        visit([&](const Held& held) { unanswered += held.answered ? 0 : 1; });
        fail("the crowd did not open in 120 s: " + std::to_string(settled_.load()) + " of " +
             std::to_string(held_.size()) + " opened or failed, " + std::to_string(unanswered) +
             " without any answer");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (failed_.load() > 0)
      fail(std::to_string(failed_.load()) + " connections failed: " + firstFailure());
  }

  // Waits until `done` holds for every connection, or `timeout`; false on timeout.
  template <typename Done>
  bool waitFor(Done done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      bool all = true;
      {
        std::lock_guard lock(mutex_);
        for (const auto& held : held_) all = all && done(*held);
      }
      if (all) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Closes every connection.
  void close() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
    held_.clear();
  }

  // Each connection under the crowd's lock (the reader thread updates them).
  template <typename Visit>
  void visit(Visit visit) {
    std::lock_guard lock(mutex_);
    for (const auto& held : held_) visit(*held);
  }
  int failed() const { return failed_.load(); }
  std::string firstFailure() {
    std::lock_guard lock(mutex_);
    for (const auto& held : held_) {
      if (held->failed) return held->failure;
    }
    return "";
  }

 private:
  void connectNext() {
    if (next_ >= held_.size()) return;
    Held& held = *held_[next_++];
    held.socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_),
                              [this, &held](boost::system::error_code error) {
                                if (error) return broken(held, "connect: " + error.message());
                                asio::async_write(
                                    held.socket, asio::buffer(held.request),
                                    [this, &held](boost::system::error_code written, std::size_t) {
                                      if (written)
                                        return broken(held, "write: " + written.message());
                                      read(held);
                                    });
                              });
  }

  void read(Held& held) {
    held.socket.async_read_some(
        asio::buffer(held.chunk), [this, &held](boost::system::error_code error, std::size_t n) {
          if (error) return broken(held, "closed by the server: " + error.message());
          {
            std::lock_guard lock(mutex_);
            const bool first = !held.answered;
            held.answered = true;
            held.unread.append(held.chunk.data(), n);
            if (first && held.unread.rfind("HTTP/1.1 200", 0) != 0) {
              held.failed = true;
              held.failure = held.unread.substr(0, 300);
            } else if (!held.open && held.unread.find(openMarker_) != std::string::npos) {
              held.open = true;
            }
            readEvents(held);
          }
          if (held.failed) return broken(held, held.failure);
          if (held.open) settle(held);
          read(held);
        });
  }

  // A connection opened or failed: the next one may start.
  void settle(Held& held) {
    if (held.settled) return;
    held.settled = true;
    held.request = std::string();
    ++settled_;
    connectNext();
  }

  // The stream's complete events: a place with a position is the drawn place; admitted, let in.
  static void readEvents(Held& held) {
    std::size_t end = 0;
    while ((end = held.unread.find("\n\n")) != std::string::npos) {
      const std::string block = held.unread.substr(0, end);
      held.unread.erase(0, end + 2);
      if (block.rfind("event: place\n", 0) != 0) continue;
      const auto data = block.find("data: ");
      if (data == std::string::npos) continue;
      const json event = json::parse(block.substr(data + 6), nullptr, false);
      if (!event.is_object() || !event.contains("place")) continue;
      const json& place = event["place"];
      if (place["position"].is_null()) continue;
      const std::int64_t now = nowMillis();
      if (held.toldDrawnAt == 0) {
        held.toldDrawnAt = now;
        held.position = place["position"].get<std::int64_t>();
        held.admittedAt = place["admitted_at"].get<std::int64_t>();
      }
      if (place["admitted"].get<bool>() && held.toldAdmittedAt == 0) held.toldAdmittedAt = now;
    }
    if (held.unread.size() > 65'536) held.unread.clear();  // nginx's answer, never events
  }

  void broken(Held& held, const std::string& why) {
    {
      std::lock_guard lock(mutex_);
      if (held.failureCounted) return;
      held.failureCounted = true;
      held.failed = true;
      held.failure = why;
    }
    ++failed_;
    settle(held);
  }

  unsigned short port_;
  std::string openMarker_;
  asio::io_context io_;
  std::vector<std::unique_ptr<Held>> held_;
  std::size_t next_ = 0;  // the reader thread's
  std::mutex mutex_;
  std::atomic<int> settled_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

// What the bench is doing, on stderr: a run takes minutes.
void progress(const std::string& what) {
  std::fprintf(stderr, "waiting_room: %s\n", what.c_str());
  std::fflush(stderr);
}

std::int64_t workersResident(pid_t master) {
  std::int64_t total = 0;
  for (pid_t worker : childrenOf(master)) total += residentBytes(worker);
  return total;
}

// Resident memory after the process settles (allocators return pages lazily).
std::int64_t settledResident(const std::function<std::int64_t()>& measure) {
  std::this_thread::sleep_for(std::chrono::milliseconds(1'500));
  return measure();
}

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

struct RunFigures {
  double nginxBytesPerConnection = 0;
  double nodeBytesPerStream = 0;
  double secondCrowdGrowthBytes = 0;  // resident after the second crowd minus after the first
  double nodeResidentMiB = 0;         // with the crowd held
  double drawnAllMillis = 0;          // start → the last watcher told its drawn place
  double admittedLateP50 = 0, admittedLateP99 = 0, admittedLateMax = 0;
};

// Memory per connection as the slope between half the crowd and all of it, so that what a
// server sets up once (caches warming, pools) is not counted as the crowd's.
double perConnection(const std::vector<std::string>& requests, Crowd& firstHalf, Crowd& secondHalf,
                     const std::function<std::int64_t()>& measure) {
  const auto middle = requests.begin() + static_cast<std::ptrdiff_t>(requests.size() / 2);
  firstHalf.open(std::vector<std::string>(requests.begin(), middle));
  const std::int64_t half = settledResident(measure);
  secondHalf.open(std::vector<std::string>(middle, requests.end()));
  const std::int64_t all = settledResident(measure);
  return static_cast<double>(all - half) / static_cast<double>(requests.end() - middle);
}

double nginxPerConnection(const Options& options, const fs::path& directory) {
  NginxServer nginx(directory / "nginx");
  std::string error;
  // nginx closes idle keep-alive connections once fewer than a sixteenth of its worker's
  // connections are free: room enough that it holds them all.
  if (!nginx.start(1, &error, options.clients + options.clients / 8 + 256)) fail(error);
  const std::vector<std::string> requests(static_cast<std::size_t>(options.clients),
                                          "GET / HTTP/1.1\r\nHost: bench\r\n\r\n");
  Crowd first(nginx.port(), "\r\n\r\nok\n");
  Crowd second(nginx.port(), "\r\n\r\nok\n");
  const double bytes =
      perConnection(requests, first, second, [&] { return workersResident(nginx.pid()); });
  first.close();
  second.close();
  nginx.stop();
  return bytes;
}

RunFigures runOnce(const Options& options, int run, const fs::path& directory) {
  RunFigures figures;
  figures.nginxBytesPerConnection = nginxPerConnection(options, directory);

  fs::path data = freshDirectory("bench-waiting-room-" + std::to_string(run));
  NodeProcess node(data, "--password-ops 1 --password-memory-mib 1");
  std::string output;
  if (!node.start(&output)) fail("the node did not start:\n" + output);
  Browser admin(node.port());
  std::string failure;
  if (!signInAsOperator(admin, node.output(), &failure)) fail(failure);
  const std::int64_t series = publishSeries(admin, node.port(), 100, &failure);
  if (series == 0) fail(failure);

  // The crowd signs up and verifies, four at a time; the time it takes sets the drop's start.
  const std::int64_t signUpStart = nowMillis();
  // Sessions are kept as strings: a Browser each would hold a client's sockets and file
  // descriptors for the whole crowd.
  std::vector<Browser::Saved> people(static_cast<std::size_t>(options.clients));
  std::vector<std::string> cookies(people.size());
  onFourThreads(options.clients, [&](int i) {
    Browser browser(node.port());
    const std::string phone = "16" + std::to_string(100'000'000 + i);
    if (browser.call("POST", "/api/v1/auth/register",
                     {{"phone", phone}, {"password", "bench pass"}})
                .status != 201 ||
        browser.call("POST", "/api/v1/me/identity",
                     {{"name", "钱七"}, {"id_number", identityNumber(i)}})
                .status != 200) {
      fail("person " + std::to_string(i) + " could not sign up");
    }
    people[static_cast<std::size_t>(i)] = browser.save();
    cookies[static_cast<std::size_t>(i)] = browser.cookieHeader();
  });
  const std::int64_t signUpMillis = nowMillis() - signUpStart;
  progress("run " + std::to_string(run + 1) + ": " + std::to_string(options.clients) +
           " people signed up and verified in " + std::to_string(signUpMillis) + " ms");
  // Joining takes about half the sign-up's time, each crowd opens in a few seconds.
  const std::int64_t startsAt = nowMillis() + signUpMillis + 20'000 + options.clients * 2;
  HttpResult created = admin.call("POST", "/api/v1/drops",
                                  {{"series_draft_id", series},
                                   {"title", "排队压测"},
                                   {"price_fen", 990},
                                   {"stock", 100},
                                   {"starts_at", startsAt},
                                   {"ends_at", startsAt + 3'600'000},
                                   {"admit_per_second", options.admitPerSecond}});
  if (created.status != 201) fail("the drop was refused: " + created.body);
  const std::string drop =
      "/api/v1/drops/" + std::to_string(created.json()["drop"]["id"].get<int>());
  onFourThreads(options.clients, [&](int i) {
    Browser browser(node.port());
    browser.resume(people[static_cast<std::size_t>(i)]);
    HttpResult joined = browser.call("POST", drop + "/queue");
    if (joined.status != 200) {
      fail("person " + std::to_string(i) + " could not join the waiting room: " + joined.body);
    }
  });

  std::vector<std::string> requests;
  requests.reserve(people.size());
  for (const std::string& cookie : cookies) {
    requests.push_back("GET " + drop +
                       "/queue/events HTTP/1.1\r\nHost: bench\r\nCookie: " + cookie + "\r\n\r\n");
  }
  progress("everyone joined the waiting room");
  const auto nodeResident = [&] { return residentBytes(node.pid()); };
  std::int64_t firstCrowd = 0;
  {
    Crowd firstHalf(node.port(), "event: progress");
    Crowd secondHalf(node.port(), "event: progress");
    figures.nodeBytesPerStream = perConnection(requests, firstHalf, secondHalf, nodeResident);
    firstCrowd = residentBytes(node.pid());
    progress("the first crowd holds its streams open");
  }
  Crowd crowd(node.port(), "event: progress");
  crowd.open(requests);
  const std::int64_t secondCrowd = settledResident(nodeResident);
  progress("the second crowd holds its streams open; waiting for the start");
  figures.secondCrowdGrowthBytes = static_cast<double>(secondCrowd - firstCrowd);
  figures.nodeResidentMiB = static_cast<double>(secondCrowd) / (1024.0 * 1024.0);
  if (nowMillis() > startsAt - 1'000) {
    fail("the crowd was not in place before the start; the machine is slower than expected");
  }

  // The start: the draw, then admissions at the drop's rate.
  const auto admissionSeconds = std::chrono::seconds(options.clients / options.admitPerSecond);
  const auto waitSeconds = std::chrono::seconds((startsAt - nowMillis()) / 1000) +
                           admissionSeconds + std::chrono::seconds(60);
  if (!crowd.waitFor([](const Held& held) { return held.toldAdmittedAt != 0 || held.failed; },
                     waitSeconds)) {
    int told = 0;
    crowd.visit([&](const Held& held) { told += held.toldAdmittedAt != 0 ? 1 : 0; });
    fail(std::to_string(told) + " of " + std::to_string(options.clients) +
         " watchers were told they were let in");
  }
  if (crowd.failed() > 0) fail("streams failed during the sale: " + crowd.firstFailure());
  std::vector<bool> seen(static_cast<std::size_t>(options.clients) + 1, false);
  std::vector<double> late;
  std::int64_t lastDrawn = 0;
  crowd.visit([&](const Held& held) {
    if (held.position < 1 || held.position > options.clients ||
        seen[static_cast<std::size_t>(held.position)]) {
      fail("position " + std::to_string(held.position) + " told twice or out of range");
    }
    seen[static_cast<std::size_t>(held.position)] = true;
    lastDrawn = std::max(lastDrawn, held.toldDrawnAt);
    late.push_back(
        static_cast<double>(std::max<std::int64_t>(0, held.toldAdmittedAt - held.admittedAt)));
  });
  figures.drawnAllMillis = static_cast<double>(lastDrawn - startsAt);
  figures.admittedLateP50 = percentile(late, 0.5);
  figures.admittedLateP99 = percentile(late, 0.99);
  figures.admittedLateMax = percentile(late, 1.0);
  crowd.close();
  if (node.stop() != 0) fail("the node did not stop cleanly:\n" + node.output());
  fs::remove_all(data);
  fs::remove(data.string() + ".out");
  return figures;
}

void raiseFileLimit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  raiseFileLimit();
  const fs::path directory = freshDirectory("bench-waiting-room");
  fs::create_directories(directory);
  std::vector<double> nginxBytes, nodeBytes, growth, resident, drawn, lateP50, lateP99, lateMax;
  for (int run = 0; run < options.runs; ++run) {
    const RunFigures figures = runOnce(options, run, directory);
    nginxBytes.push_back(figures.nginxBytesPerConnection);
    nodeBytes.push_back(figures.nodeBytesPerStream);
    growth.push_back(figures.secondCrowdGrowthBytes);
    resident.push_back(figures.nodeResidentMiB);
    drawn.push_back(figures.drawnAllMillis);
    lateP50.push_back(figures.admittedLateP50);
    lateP99.push_back(figures.admittedLateP99);
    lateMax.push_back(figures.admittedLateMax);
    std::printf(
        "  run %d: nginx %.0f B/connection; node %.0f B/stream, %.1f MiB resident with the crowd, "
        "second crowd %+.1f MiB; all drawn places told %.0f ms after the start; let in told "
        "p50 %.0f / p99 %.0f / max %.0f ms after admitted_at\n",
        run + 1, figures.nginxBytesPerConnection, figures.nodeBytesPerStream,
        figures.nodeResidentMiB, figures.secondCrowdGrowthBytes / (1024.0 * 1024.0),
        figures.drawnAllMillis, figures.admittedLateP50, figures.admittedLateP99,
        figures.admittedLateMax);
    std::fflush(stdout);
  }
  fs::remove_all(directory);

  const double nginx = median(nginxBytes);
  const double node = median(nodeBytes);
  std::printf(
      "waiting_room: %d verified collectors each holding GET /api/v1/drops/{id}/queue/events "
      "open, admitted at %d/s; median of %d runs\n",
      options.clients, options.admitPerSecond, options.runs);
  std::printf("  nginx, an idle keep-alive connection         %8.0f bytes\n", nginx);
  std::printf("  node, a waiting-room event stream            %8.0f bytes   %.1f x nginx\n", node,
              node / nginx);
  std::printf("  node resident with the crowd held            %8.1f MiB\n", median(resident));
  std::printf("  a second crowd after the first left          %+8.1f MiB\n",
              median(growth) / (1024.0 * 1024.0));
  std::printf("  start -> every drawn place told              %8.0f ms\n", median(drawn));
  std::printf(
      "  admitted_at -> told it was let in            p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
      median(lateP50), median(lateP99), median(lateMax));
  std::printf("  every run: %d distinct positions told, every watcher let in, no stream failed\n",
              options.clients);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return runBench("waiting_room", run, argc, argv); }
