// bench/ledger_tps: durable transactions per second of a real node (`jiancang up`, RocksDB, the
// solo orderer, the HTTP API), with signed transfers sent over HTTP on loopback by a load client
// in this process, and p50/p99 commit latency (request sent -> "committed" answer, which the node
// gives only after the block's write-ahead log is synced). Next to two references measured in the
// same run: libsodium's Ed25519 verify alone on one core, and PostgreSQL doing the same transfer
// without a chain (UPDATE owner + INSERT history, one synchronously committed transaction) driven
// by pgbench. Medians of several runs.
//
//   build/release/bench/ledger_tps [--runs N] [--connections N] [--transfers N] [--seconds S]
//                                  [--pg-clients N] [--no-postgres] [--node-args "ARGS"]
//
// Two load shapes against a fresh node each run:
//   saturation  every connection sends its next transfer as soon as the last one is committed:
//               the most the node can commit with this many clients waiting;
//   half load   an open-loop schedule at half the saturation rate; latency counts from the
//               scheduled moment, so a stalled node cannot hide its backlog.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sodium.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <app/key_file.h>
#include <chain/testing/test_chain.h>

#include "bench_support.h"
#include "support/node_harness.h"
#include "support/postgres_server.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace chain = jiancang::chain;
namespace core = jiancang::core;
namespace fs = std::filesystem;
using namespace jiancang::testing;
using Clock = std::chrono::steady_clock;
using jiancang::bench::median;
using jiancang::bench::percentile;
using jiancang::bench::seconds;

struct Options {
  int runs = 3;
  std::size_t connections = 512;
  std::size_t transfers = 60'000;  // sent at saturation, each run
  double halfLoadSeconds = 6;
  int pgClients = 32;
  bool postgres = true;
  std::string nodeArguments;  // passed to `jiancang up`
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ledger_tps: %s\n", what.c_str());
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--no-postgres") {
      options.postgres = false;
      continue;
    }
    if (i + 1 == argc) fail("missing the value of " + flag);
    if (flag == "--node-args") {
      options.nodeArguments = argv[++i];
      continue;
    }
    double value = std::strtod(argv[++i], nullptr);
    if (value <= 0) fail("bad value for " + flag);
    if (flag == "--runs")
      options.runs = static_cast<int>(value);
    else if (flag == "--connections")
      options.connections = static_cast<std::size_t>(value);
    else if (flag == "--transfers")
      options.transfers = static_cast<std::size_t>(value);
    else if (flag == "--seconds")
      options.halfLoadSeconds = value;
    else if (flag == "--pg-clients")
      options.pgClients = static_cast<int>(value);
    else
      fail("unknown flag " + flag);
  }
  return options;
}

// Reference 1: libsodium's Ed25519 verify alone, on this thread, for about a second.
double verifyRate() {
  std::vector<std::array<unsigned char, 64>> signatures(256);
  std::vector<std::array<unsigned char, 32>> publicKeys(256);
  std::vector<std::array<unsigned char, 160>> messages(256);
  for (std::size_t i = 0; i < signatures.size(); ++i) {
    std::array<unsigned char, 64> secret{};
    crypto_sign_keypair(publicKeys[i].data(), secret.data());
    randombytes_buf(messages[i].data(), messages[i].size());
    crypto_sign_detached(signatures[i].data(), nullptr, messages[i].data(), messages[i].size(),
                         secret.data());
  }
  std::size_t verified = 0;
  auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(1)) {
    for (std::size_t i = 0; i < signatures.size(); ++i, ++verified) {
      if (crypto_sign_verify_detached(signatures[i].data(), messages[i].data(), messages[i].size(),
                                      publicKeys[i].data()) != 0)
        fail("a signature did not verify");
    }
  }
  return static_cast<double>(verified) / seconds(Clock::now() - start);
}

// Reference 2: the platform without a chain. Tokens and an ownership history in PostgreSQL; one
// transfer is UPDATE owner + INSERT history in one transaction, committed synchronously (fsync).
const char* kPgbenchTransfer =
    "\\set token random(1, 100000)\n"
    "\\set owner random(1, 1000000)\n"
    "BEGIN;\n"
    "UPDATE tokens SET owner = :owner WHERE id = :token;\n"
    "INSERT INTO history (token, owner) VALUES (:token, :owner);\n"
    "END;\n";

double pgbenchRate(PostgresServer& server, const fs::path& directory, int clients,
                   double durationSeconds) {
  auto setup = server.runClient(
      "psql", {"-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c",
               "SET client_min_messages = warning; DROP TABLE IF EXISTS history, tokens;"
               "CREATE TABLE tokens (id bigint PRIMARY KEY, series int NOT NULL, owner bigint NOT "
               "NULL);"
               "INSERT INTO tokens SELECT g, 1, g % 1000 FROM generate_series(1, 100000) g;"
               "CREATE TABLE history (id bigserial PRIMARY KEY, token bigint NOT NULL, owner "
               "bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());"
               "CREATE INDEX ON history (token);"
               "ANALYZE tokens;"});
  if (setup.first != 0) fail("setting up the PostgreSQL reference failed:\n" + setup.second);
  const fs::path script = directory / "transfer.sql";
  {
    std::FILE* file = std::fopen(script.c_str(), "w");
    if (file == nullptr) fail("cannot write " + script.string());
    std::fputs(kPgbenchTransfer, file);
    std::fclose(file);
  }
  auto run =
      server.runClient("pgbench", {"-n", "-M", "prepared", "-c", std::to_string(clients), "-j", "2",
                                   "-T", std::to_string(static_cast<int>(durationSeconds)), "-f",
                                   script.string(), "postgres"});
  std::smatch match;
  static const std::regex tps("tps = ([0-9.]+) \\(without initial connection time\\)");
  if (run.first != 0 || !std::regex_search(run.second, match, tps))
    fail("pgbench failed:\n" + run.second);
  return std::stod(match[1]);
}

// The node's side of the load: pairs of collectors passing one token back and forth, so any
// number of transfers needs only `pairs` tokens, and each pair's transfers are in nonce order.
class TransferSource {
 public:
  TransferSource(const ChainClient& chain, std::size_t pairs) : chain_(chain) {
    for (std::size_t p = 0; p < pairs; ++p) {
      first_.push_back(testKey("bench-a-" + std::to_string(p)));
      second_.push_back(testKey("bench-b-" + std::to_string(p)));
    }
    sent_.assign(pairs, 0);
  }
  std::size_t pairs() const { return first_.size(); }
  const core::KeyPair& holder(std::size_t pair) const { return first_[pair]; }
  const core::KeyPair& partner(std::size_t pair) const { return second_[pair]; }

  // The request bodies of pair `pair`'s next `count` transfers (signing is not timed).
  std::vector<std::string> next(std::size_t pair, std::size_t count) {
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t step = sent_[pair]++;
      bool forth = step % 2 == 0;
      const core::KeyPair& from = forth ? first_[pair] : second_[pair];
      const core::KeyPair& to = forth ? second_[pair] : first_[pair];
      chain::Transfer transfer{chain::TokenId{chain::SeriesId(1), pair + 1},
                               core::addressOf(to.publicKey)};
      bodies.push_back(ChainClient::body(chain_.sign(from, step / 2, transfer)));
    }
    return bodies;
  }

 private:
  const ChainClient& chain_;
  std::vector<core::KeyPair> first_;
  std::vector<core::KeyPair> second_;
  std::vector<std::uint64_t> sent_;
};

struct LoadResult {
  std::size_t committed = 0;
  std::size_t busy = 0;  // 429/503 answers, retried
  double elapsedSeconds = 0;
  std::vector<double> latencyMillis;  // sorted
};

// One event-loop thread, `bodies.size()` keep-alive connections; connection i sends bodies[i] in
// order, each after the previous one is committed. `ratePerSecond` 0: as fast as commits come
// back (closed loop); otherwise transfers are due on a fixed schedule across all connections and
// wait for a free connection (open loop).
class LoadClient {
 public:
  LoadClient(unsigned short port, std::vector<std::vector<std::string>> bodies,
             double ratePerSecond)
      : endpoint_(asio::ip::make_address("127.0.0.1"), port), rate_(ratePerSecond), timer_(io_) {
    for (auto& list : bodies) {
      auto connection = std::make_unique<Connection>(io_);
      total_ += list.size();
      connection->bodies = std::move(list);
      connections_.push_back(std::move(connection));
    }
  }

  LoadResult run() {
    for (auto& connection : connections_) {
      beast::error_code error;
      connection->stream.socket().connect(endpoint_, error);
      if (error) fail("cannot connect to the node: " + error.message());
      connection->stream.socket().set_option(asio::ip::tcp::no_delay(true));
    }
    start_ = Clock::now();
    if (rate_ <= 0) {
      for (auto& connection : connections_) sendNext(*connection, Clock::now());
    } else {
      for (auto& connection : connections_) idle_.push_back(connection.get());
      tick();
    }
    io_.run();
    result_.elapsedSeconds = seconds(finished_ - start_);
    std::sort(result_.latencyMillis.begin(), result_.latencyMillis.end());
    return std::move(result_);
  }

 private:
  struct Connection {
    explicit Connection(asio::io_context& io) : stream(io) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::unique_ptr<http::response_parser<http::string_body>> parser;
    std::vector<std::string> bodies;
    std::size_t next = 0;
    Clock::time_point due;
  };

  // Open loop: every millisecond, hand each transfer that is due to a free connection.
  void tick() {
    auto now = Clock::now();
    auto dueCount = static_cast<std::size_t>(seconds(now - start_) * rate_) + 1;
    while (scheduled_ < std::min(dueCount, total_) && !idle_.empty()) {
      Connection* connection = idle_.front();
      idle_.pop_front();
      if (connection->next == connection->bodies.size()) continue;  // this one has sent all
      auto due = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                              static_cast<double>(scheduled_) / rate_));
      ++scheduled_;
      sendNext(*connection, due);
    }
    if (scheduled_ < total_) {
      timer_.expires_after(std::chrono::milliseconds(1));
      timer_.async_wait([this](beast::error_code) { tick(); });
    }
  }

  void sendNext(Connection& connection, Clock::time_point due) {
    connection.due = due;
    connection.request = {http::verb::post, "/api/v1/transactions", 11};
    connection.request.set(http::field::host, "127.0.0.1");
    connection.request.set(http::field::content_type, "application/json");
    connection.request.keep_alive(true);
    connection.request.body() = connection.bodies[connection.next];
    connection.request.prepare_payload();
    http::async_write(
        connection.stream, connection.request,
        [this, &connection](beast::error_code error, std::size_t) {
          if (error) fail("sending a transfer failed: " + error.message());
          connection.parser = std::make_unique<http::response_parser<http::string_body>>();
          http::async_read(connection.stream, connection.buffer, *connection.parser,
                           [this, &connection](beast::error_code readError, std::size_t) {
                             if (readError)
                               fail("reading an answer failed: " + readError.message());
                             answered(connection);
                           });
        });
  }

  void answered(Connection& connection) {
    const auto& response = connection.parser->get();
    const std::string& body = response.body();
    unsigned status = response.result_int();
    if (status == 429 || status == 503) {  // busy: the same transfer again, shortly
      ++result_.busy;
      auto retry = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(5));
      retry->async_wait(
          [this, &connection, retry](beast::error_code) { sendNext(connection, connection.due); });
      return;
    }
    if (status != 200 || body.find("\"status\":\"committed\"") == std::string::npos ||
        body.find("\"ok\":true") == std::string::npos)
      fail("a transfer was not committed: " + std::to_string(status) + " " + body);
    result_.latencyMillis.push_back(seconds(Clock::now() - connection.due) * 1e3);
    ++result_.committed;
    ++connection.next;
    finished_ = Clock::now();
    if (connection.next == connection.bodies.size()) return;
    if (rate_ <= 0)
      sendNext(connection, Clock::now());
    else
      idle_.push_back(&connection);
  }

  asio::io_context io_;
  asio::ip::tcp::endpoint endpoint_;
  double rate_;
  asio::steady_timer timer_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::deque<Connection*> idle_;
  std::size_t total_ = 0;
  std::size_t scheduled_ = 0;
  Clock::time_point start_;
  Clock::time_point finished_;
  LoadResult result_;
};

// The bodies for one phase: `perConnection` transfers for each of the source's pairs.
std::vector<std::vector<std::string>> phaseBodies(TransferSource& source,
                                                  std::size_t perConnection) {
  std::vector<std::vector<std::string>> bodies(source.pairs());
  // Signing is not timed, but it is the slow part of the set-up: two threads.
  std::thread helper([&] {
    for (std::size_t p = 0; p < source.pairs(); p += 2) bodies[p] = source.next(p, perConnection);
  });
  for (std::size_t p = 1; p < source.pairs(); p += 2) bodies[p] = source.next(p, perConnection);
  helper.join();
  return bodies;
}

// The node's own counters (its /metrics), to tell where a phase's time went.
struct NodeCounters {
  double blocks = 0;
  double transactions = 0;
  double commitSeconds = 0;
};

NodeCounters readCounters(HttpClient& http) {
  std::string text = http.get("/metrics").body;
  auto value = [&](const std::string& name) {
    std::size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) fail("the node's /metrics has no " + name);
    return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
  };
  return {value("jiancang_blocks_committed_total"), value("jiancang_transactions_committed_total"),
          value("jiancang_commit_seconds_sum")};
}

void printPhase(const char* name, const NodeCounters& before, const NodeCounters& after,
                double elapsedSeconds) {
  double blocks = after.blocks - before.blocks;
  if (blocks <= 0) return;
  double busy = (after.commitSeconds - before.commitSeconds) / elapsedSeconds;
  std::printf(
      "      %s: %.0f blocks of %.0f transfers on average, committing each took %.1f ms;"
      " the orderer was committing %.0f%% of the time\n",
      name, blocks, (after.transactions - before.transactions) / blocks,
      (after.commitSeconds - before.commitSeconds) * 1e3 / blocks, busy * 100);
}

struct NodeFigures {
  double saturationRate = 0;
  double saturationP50 = 0;
  double saturationP99 = 0;
  double halfRate = 0;
  double halfP50 = 0;
  double halfP99 = 0;
  std::size_t busy = 0;
};

NodeFigures measureNode(const Options& options, int run) {
  fs::path data = freshDirectory("bench-ledger-" + std::to_string(run));
  NodeProcess node(data, options.nodeArguments);
  std::string output;
  if (!node.start(&output)) fail("the node did not start:\n" + output);
  HttpClient http(node.port());
  ChainClient chain(http);

  // An issuer, a series and one token per pair.
  core::KeyPair admin = jiancang::app::readKeyFile(data / "keys" / "admin.key").value();
  core::KeyPair issuer = testKey("bench-issuer");
  auto submit = [&](const chain::SignedTransaction& transaction) {
    auto result = http.request("POST", "/api/v1/transactions", ChainClient::body(transaction));
    if (result.status != 200 || result.body.find("\"ok\":true") == std::string::npos)
      fail("setting up the node failed: " + result.body);
  };
  submit(chain.sign(admin, 0,
                    chain::RegisterIssuer{core::addressOf(issuer.publicKey), "bench",
                                          chain::testing::testHash("licence")}));
  submit(chain.sign(issuer, 0, chain::testing::TestChain::seriesTemplate(options.connections)));
  TransferSource source(chain, options.connections);
  std::uint64_t issuerNonce = 1;
  for (std::size_t at = 0; at < source.pairs(); at += chain::limits::kMaxMintBatch) {
    chain::Mint mint{chain::SeriesId(1), {}};
    for (std::size_t p = at; p < std::min(source.pairs(), at + chain::limits::kMaxMintBatch); ++p)
      mint.recipients.push_back(core::addressOf(source.holder(p).publicKey));
    submit(chain.sign(issuer, issuerNonce++, mint));
  }

  NodeFigures figures;
  std::size_t perConnection = std::max<std::size_t>(1, options.transfers / source.pairs());
  auto bodies = phaseBodies(source, perConnection);
  NodeCounters start = readCounters(http);
  LoadResult saturation = LoadClient(node.port(), std::move(bodies), 0).run();
  NodeCounters afterSaturation = readCounters(http);
  printPhase("saturation", start, afterSaturation, saturation.elapsedSeconds);
  figures.saturationRate = static_cast<double>(saturation.committed) / saturation.elapsedSeconds;
  figures.saturationP50 = percentile(saturation.latencyMillis, 0.50);
  figures.saturationP99 = percentile(saturation.latencyMillis, 0.99);

  double halfRate = figures.saturationRate / 2;
  auto halfCount = static_cast<std::size_t>(halfRate * options.halfLoadSeconds);
  std::size_t halfPerConnection = std::max<std::size_t>(1, halfCount / source.pairs() + 1);
  bodies = phaseBodies(source, halfPerConnection);
  NodeCounters beforeHalf = readCounters(http);
  LoadResult half = LoadClient(node.port(), std::move(bodies), halfRate).run();
  printPhase("half load", beforeHalf, readCounters(http), half.elapsedSeconds);
  figures.halfRate = static_cast<double>(half.committed) / half.elapsedSeconds;
  figures.halfP50 = percentile(half.latencyMillis, 0.50);
  figures.halfP99 = percentile(half.latencyMillis, 0.99);
  figures.busy = saturation.busy + half.busy;

  // What the node itself says: every pair's two accounts have used exactly as many nonces as
  // that pair had transfers acknowledged.
  std::size_t expected = saturation.committed + half.committed;
  std::size_t used = 0;
  for (std::size_t p = 0; p < source.pairs(); ++p) {
    for (const core::KeyPair* key : {&source.holder(p), &source.partner(p)}) {
      auto account = http.get("/api/v1/accounts/" + core::addressOf(key->publicKey).hex()).json();
      if (account.is_discarded() || !account.contains("nonce"))
        fail("the node did not answer an account query");
      used += account["nonce"].get<std::size_t>();
    }
  }
  if (used != expected)
    fail("the node has " + std::to_string(used) + " transfers, the client saw " +
         std::to_string(expected) + " committed");
  if (node.stop() != 0) fail("the node did not stop cleanly:\n" + node.output());
  auto [checkCode, checkOutput] = runJiancang("check --data '" + data.string() + "'");
  if (checkCode != 0) fail("jiancang check failed after the run:\n" + checkOutput);
  std::printf("    run %d: %zu transfers committed, %zu busy answers retried; jiancang check: ok\n",
              run + 1, expected, figures.busy);
  fs::remove_all(data);
  fs::remove(data.string() + ".out");
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  if (sodium_init() < 0) fail("libsodium did not initialise");

  std::unique_ptr<PostgresServer> postgres;
  fs::path pgDirectory = freshDirectory("bench-postgres");
  if (options.postgres) {
    postgres = std::make_unique<PostgresServer>(pgDirectory);
    std::string error;
    // PostgreSQL's defaults for durability: fsync on, synchronous_commit on.
    if (!postgres->start({"fsync=on", "synchronous_commit=on", "max_connections=200"}, &error))
      fail(error);
  }

  std::vector<double> verifyRates, pgRates, saturationRates, saturationP50, saturationP99,
      halfRates, halfP50, halfP99;
  for (int run = 0; run < options.runs; ++run) {
    verifyRates.push_back(verifyRate());
    if (postgres) pgRates.push_back(pgbenchRate(*postgres, pgDirectory, options.pgClients, 8));
    NodeFigures figures = measureNode(options, run);
    saturationRates.push_back(figures.saturationRate);
    saturationP50.push_back(figures.saturationP50);
    saturationP99.push_back(figures.saturationP99);
    halfRates.push_back(figures.halfRate);
    halfP50.push_back(figures.halfP50);
    halfP99.push_back(figures.halfP99);
  }
  if (postgres) postgres->stop();
  postgres.reset();
  fs::remove_all(pgDirectory);

  double verify = median(verifyRates);
  double node = median(saturationRates);
  std::printf(
      "ledger_tps: signed Ed25519 transfers over HTTP on loopback to `jiancang up` (solo orderer, "
      "RocksDB, WAL synced per block), %zu keep-alive connections, load client in the same "
      "process; median of %d runs\n",
      options.connections, options.runs);
  std::printf("  libsodium verify alone, one core (reference)   %8.0f /s\n", verify);
  if (!pgRates.empty())
    std::printf(
        "  PostgreSQL UPDATE+INSERT, synchronous commit   %8.0f /s   (pgbench, %d clients)\n",
        median(pgRates), options.pgClients);
  std::printf(
      "  node at saturation, committed durably          %8.0f /s   ratio %.3f of verify (goal "
      ">= 0.5)",
      node, node / verify);
  if (!pgRates.empty()) std::printf(", %.2f of PostgreSQL", node / median(pgRates));
  std::printf("\n      commit latency p50 %.1f ms, p99 %.1f ms\n", median(saturationP50),
              median(saturationP99));
  std::printf(
      "  node at half that load (open loop)             %8.0f /s\n"
      "      commit latency p50 %.1f ms, p99 %.1f ms (goal p99 < 100 ms)\n",
      median(halfRates), median(halfP50), median(halfP99));
  return 0;
}
