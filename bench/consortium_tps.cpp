// bench/consortium_tps: a 3-member consortium on this one machine (3 etcd members, 3
// `jiancang node --config` processes), driven over HTTP on loopback: transactions per second
// that became final (signed by every member's quorum), p50/p99 time from sending a transfer to
// its answer ("committed") and to its block being final, and the failover: the leader killed
// with SIGKILL -> the next transfer committed through another member (writes resume), and ->
// its block final. With 3 members the quorum is all 3 (more than two thirds), so nothing is
// final without the killed member: it is restarted at once, as a supervisor would, and the
// second figure includes its start and catch-up. Next to raw etcd put
// throughput (values the size of a transfer, as many clients) measured on the same cluster in
// the same run, and next to the solo node (`jiancang up`, one member, in-process ordering) driven
// by the same clients in the same run: every member verifies every transaction, so three
// members on this machine's two cores do three times the solo node's work, and the goal is
// 0.8 x (solo rate / 3). Medians of several runs.
//
//   build/release/bench/consortium_tps [--runs N] [--clients N] [--transfers N]
//                                      [--etcd-seconds S] [--block-interval-ms MS]
//                                      [--lease-ttl-s S]
//
// The members run with the product's default block interval (20 ms) and leader lease (2 s), as
// `jiancang node` does without those settings in its node.toml; the solo node with its default.
//
// Clients send to the members in turn (a follower forwards to the leader), each waiting for its
// answer before sending the next: a closed loop, the most the consortium commits with this many
// clients waiting.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <app/key_file.h>
#include <chain/testing/test_chain.h>
#include <ordering/etcd_client.h>

#include "bench_support.h"
#include "support/consortium_layout.h"
#include "support/node_harness.h"
#include "support/reference_servers.h"

namespace {

namespace chain = jiancang::chain;
namespace core = jiancang::core;
namespace fs = std::filesystem;
using namespace jiancang::testing;
using jiancang::bench::fail;
using jiancang::bench::median;
using jiancang::bench::percentile;
using jiancang::bench::seconds;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

struct Options {
  int runs = 3;
  std::size_t clients = 96;
  std::size_t transfers = 6'000;
  double etcdSeconds = 3;
  // The product's defaults (docs/CONSORTIUM.md), not the shorter ones the tests use for speed.
  int blockIntervalMs = 20;
  int leaseTtlSeconds = 2;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 == argc) fail("missing the value of " + flag);
    double value = std::strtod(argv[++i], nullptr);
    if (value <= 0) fail("bad value for " + flag);
    if (flag == "--runs") {
      options.runs = static_cast<int>(value);
    } else if (flag == "--clients") {
      options.clients = static_cast<std::size_t>(value);
    } else if (flag == "--transfers") {
      options.transfers = static_cast<std::size_t>(value);
    } else if (flag == "--etcd-seconds") {
      options.etcdSeconds = value;
    } else if (flag == "--block-interval-ms") {
      options.blockIntervalMs = static_cast<int>(value);
    } else if (flag == "--lease-ttl-s") {
      options.leaseTtlSeconds = static_cast<int>(value);
    } else {
      fail("unknown option " + flag);
    }
  }
  return options;
}

// Puts per second of `clients` threads writing `valueBytes`-byte values for `duration`.
double etcdPutRate(const std::vector<std::string>& urls, std::size_t clients,
                   std::size_t valueBytes, double duration) {
  std::atomic<std::uint64_t> puts{0};
  std::atomic<bool> failed{false};
  const auto until = Clock::now() + std::chrono::duration<double>(duration);
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      jiancang::ordering::EtcdClient etcd(urls, std::chrono::seconds(5));
      const core::Bytes value(valueBytes, 0x5a);
      for (std::uint64_t n = 0; Clock::now() < until; ++n) {
        auto put = etcd.put(jiancang::ordering::EtcdPut{
            "/bench/" + std::to_string(c) + "/" + std::to_string(n % 1000), value, 0});
        if (!put) {
          failed = true;
          return;
        }
        ++puts;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failed) fail("a raw etcd put failed");
  return static_cast<double>(puts.load()) / seconds(Clock::now() - started);
}

struct RunFigures {
  double finalRate = 0;                                             // transfers final per second
  double commitP50 = 0, commitP99 = 0, finalP50 = 0, finalP99 = 0;  // milliseconds
  double etcdPuts = 0;
  double failover = 0;       // seconds: leader killed -> the next commit
  double failoverFinal = 0;  // seconds: leader killed -> that commit's block final
  double soloRate = 0;       // the solo node: committed (and so final) transfers per second
};

class Consortium {
 public:
  Consortium(const fs::path& directory, const Options& options) : etcd_(directory / "etcd") {
    std::string error;
    if (!etcd_.start(3, &error)) fail(error);
    ConsortiumSettings settings;
    settings.blockIntervalMs = options.blockIntervalMs;
    settings.leaseTtlSeconds = options.leaseTtlSeconds;
    if (!writeConsortium(directory, settings, admin_.publicKey, etcd_.clientUrls(), &layout_,
                         &error)) {
      fail(error);
    }
    for (std::size_t i = 0; i < settings.members; ++i) {
      nodes_.push_back(NodeProcess::member(layout_.dataDirectory(i), layout_.config(i)));
      if (!nodes_.back()->start(&error)) fail("member " + std::to_string(i) + ":\n" + error);
    }
  }
  ~Consortium() {
    for (auto& node : nodes_) node->kill();
    etcd_.stop();
  }
  Consortium(const Consortium&) = delete;
  Consortium& operator=(const Consortium&) = delete;

  EtcdCluster& etcd() { return etcd_; }
  std::vector<std::unique_ptr<NodeProcess>>& nodes() { return nodes_; }
  const core::KeyPair& admin() const { return admin_; }

 private:
  EtcdCluster etcd_;
  ConsortiumLayout layout_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  core::KeyPair admin_ = testKey("consortium-admin");
};

// Sends until a member answers "committed"; the height, or 0 after `timeout`.
std::uint64_t commitThrough(HttpClient& http, const chain::SignedTransaction& transaction,
                            std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    HttpResult answer =
        http.request("POST", "/api/v1/transactions", ChainClient::body(transaction));
    if (answer.status == 200) return answer.json()["height"].get<std::uint64_t>();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

std::vector<core::KeyPair> collectorKeys(const Options& options) {
  std::vector<core::KeyPair> collectors;
  for (std::size_t c = 0; c < options.clients; ++c)
    collectors.push_back(testKey("collector" + std::to_string(c)));
  return collectors;
}

// An issuer, a series, and a token for every transfer (and one spare): serial s + 1 belongs to
// collector s % clients.
void setUpTransfers(HttpClient& http, const ChainClient& chainClient, const core::KeyPair& admin,
                    const core::KeyPair& issuer, const std::vector<core::KeyPair>& collectors,
                    const Options& options) {
  auto setUp = [&](const chain::SignedTransaction& transaction) {
    if (commitThrough(http, transaction, std::chrono::seconds(30)) == 0)
      fail("the chain did not commit its set-up");
  };
  setUp(chainClient.sign(admin, 0,
                         chain::RegisterIssuer{core::addressOf(issuer.publicKey), "bench",
                                               chain::testing::testHash("licence")}));
  const std::size_t tokens = options.transfers + 1;  // one more for the failover
  setUp(chainClient.sign(issuer, 0, chain::testing::TestChain::seriesTemplate(tokens)));
  std::uint64_t issuerNonce = 1;
  for (std::size_t at = 0; at < tokens; at += 500) {
    chain::Mint mint{chain::SeriesId(1), {}};
    for (std::size_t s = at; s < std::min(tokens, at + 500); ++s) {
      mint.recipients.push_back(core::addressOf(collectors[s % options.clients].publicKey));
    }
    setUp(chainClient.sign(issuer, issuerNonce++, mint));
  }
}

struct LoadFigures {
  double finalRate = 0;
  double commitP50 = 0, commitP99 = 0, finalP50 = 0, finalP99 = 0;
};

// The closed loop: each client sends its transfers one at a time to `ports` in turn (client c
// to ports[c % n]); a transfer counts once its block is final, as member ports[0] reports it.
LoadFigures driveTransfers(const std::vector<unsigned short>& ports, const ChainClient& chainClient,
                           const std::vector<core::KeyPair>& collectors, const core::Address& sink,
                           const Options& options) {
  // When each height was first seen final (polled on member 0, every 2 ms).
  std::mutex finalMutex;
  std::map<std::uint64_t, Clock::time_point> finalAt;
  std::atomic<bool> polling{true};
  std::thread poller([&] {
    HttpClient http(ports[0]);
    std::uint64_t seen = 0;
    while (polling) {
      json info = http.get("/api/v1/chain").json();
      if (info.is_object() && info["final_height"].is_number()) {
        const auto final = info["final_height"].get<std::uint64_t>();
        const auto now = Clock::now();
        std::lock_guard lock(finalMutex);
        for (std::uint64_t h = seen + 1; h <= final; ++h) finalAt.emplace(h, now);
        seen = std::max(seen, final);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  struct Sent {
    Clock::time_point at;
    Clock::duration commit;
    std::uint64_t height;
  };
  std::vector<std::vector<Sent>> sent(options.clients);
  std::atomic<bool> failed{false};
  const auto started = Clock::now();
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < options.clients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http(ports[c % ports.size()]);
      std::uint64_t nonce = 0;
      for (std::size_t s = c; s < options.transfers; s += options.clients) {
        auto transfer =
            chainClient.sign(collectors[c], nonce++,
                             chain::Transfer{chain::TokenId{chain::SeriesId(1), s + 1}, sink});
        const auto at = Clock::now();
        HttpResult answer =
            http.request("POST", "/api/v1/transactions", ChainClient::body(transfer));
        if (answer.status != 200) {
          std::fprintf(stderr, "consortium_tps: HTTP %d: %.200s\n", answer.status,
                       answer.body.c_str());
          failed = true;
          return;
        }
        sent[c].push_back(
            Sent{at, Clock::now() - at, answer.json()["height"].get<std::uint64_t>()});
      }
    });
  }
  for (auto& thread : clients) thread.join();
  if (failed) {
    polling = false;
    poller.join();
    fail("a transfer was refused under load");
  }
  std::uint64_t highest = 0;
  for (const auto& list : sent)
    for (const Sent& s : list) highest = std::max(highest, s.height);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    {
      std::lock_guard lock(finalMutex);
      if (finalAt.contains(highest)) break;
    }
    if (Clock::now() > deadline) {
      polling = false;
      poller.join();
      fail("the last block did not become final within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  polling = false;
  poller.join();

  std::vector<double> commitMs;
  std::vector<double> finalMs;
  for (const auto& list : sent) {
    for (const Sent& s : list) {
      commitMs.push_back(seconds(s.commit) * 1000);
      finalMs.push_back(seconds(finalAt.at(s.height) - s.at) * 1000);
    }
  }
  LoadFigures figures;
  figures.finalRate =
      static_cast<double>(options.transfers) / seconds(finalAt.at(highest) - started);
  std::sort(commitMs.begin(), commitMs.end());
  std::sort(finalMs.begin(), finalMs.end());
  figures.commitP50 = percentile(commitMs, 0.5);
  figures.commitP99 = percentile(commitMs, 0.99);
  figures.finalP50 = percentile(finalMs, 0.5);
  figures.finalP99 = percentile(finalMs, 0.99);
  return figures;
}

RunFigures runOnce(const Options& options, int run) {
  fs::path directory = freshDirectory("bench-consortium-" + std::to_string(run));
  fs::create_directories(directory);
  RunFigures figures;
  {
    Consortium consortium(directory, options);
    auto& nodes = consortium.nodes();
    HttpClient setupHttp(nodes[0]->port());
    ChainClient chainClient(setupHttp);

    const core::KeyPair issuer = testKey("issuer");
    std::vector<core::KeyPair> collectors = collectorKeys(options);
    setUpTransfers(setupHttp, chainClient, consortium.admin(), issuer, collectors, options);
    const core::Address sink = core::addressOf(testKey("sink").publicKey);

    figures.etcdPuts =
        etcdPutRate(consortium.etcd().clientUrls(), options.clients, 300, options.etcdSeconds);

    std::vector<unsigned short> ports;
    for (auto& node : nodes) ports.push_back(node->port());
    LoadFigures load = driveTransfers(ports, chainClient, collectors, sink, options);
    figures.finalRate = load.finalRate;
    figures.commitP50 = load.commitP50;
    figures.commitP99 = load.commitP99;
    figures.finalP50 = load.finalP50;
    figures.finalP99 = load.finalP99;

    // Failover: the leader killed, the next transfer sent to another member until it commits.
    std::size_t leader = nodes.size();
    for (std::size_t i = 0; i < nodes.size() && leader == nodes.size(); ++i) {
      HttpClient http(nodes[i]->port());
      if (http.get("/api/v1/consortium").json().value("leading", false)) leader = i;
    }
    if (leader == nodes.size()) fail("no member leads");
    const std::size_t other = (leader + 1) % nodes.size();
    HttpClient otherHttp(nodes[other]->port());
    const std::size_t serial = options.transfers;  // the spare token
    const std::size_t owner = serial % options.clients;
    auto spare = chainClient.sign(
        collectors[owner], (options.transfers - owner + options.clients - 1) / options.clients,
        chain::Transfer{chain::TokenId{chain::SeriesId(1), serial + 1}, sink});
    const auto killed = Clock::now();
    nodes[leader]->kill();
    const std::uint64_t height = commitThrough(otherHttp, spare, std::chrono::seconds(30));
    if (height == 0) fail("no write committed within 30 s of the leader's death");
    figures.failover = seconds(Clock::now() - killed);
    std::string error;
    if (!nodes[leader]->start(&error)) fail("the killed member did not restart:\n" + error);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      json info = otherHttp.get("/api/v1/chain").json();
      if (info.is_object() && info.value("final_height", std::uint64_t{0}) >= height) break;
      if (Clock::now() > deadline)
        fail("the block committed after the failover was not final in 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    figures.failoverFinal = seconds(Clock::now() - killed);
  }
  {
    // The reference: one member, the same clients and transfers, in the same run.
    const fs::path data = directory / "solo";
    NodeProcess solo(data);
    std::string output;
    if (!solo.start(&output)) fail("the solo node did not start:\n" + output);
    HttpClient http(solo.port());
    ChainClient chainClient(http);
    auto admin = jiancang::app::readKeyFile(data / "keys" / "admin.key");
    if (!admin) fail("the solo node's admin key: " + admin.status().message());
    std::vector<core::KeyPair> collectors = collectorKeys(options);
    setUpTransfers(http, chainClient, *admin, testKey("issuer"), collectors, options);
    figures.soloRate = driveTransfers({solo.port()}, chainClient, collectors,
                                      core::addressOf(testKey("sink").publicKey), options)
                           .finalRate;
  }
  fs::remove_all(directory);
  return figures;
}

int run(int argc, char** argv) {
  Options options = parse(argc, argv);
  std::vector<double> finalRates, commitP50, commitP99, finalP50, finalP99, etcdPuts, failovers,
      failoversFinal, soloRates;
  for (int run = 0; run < options.runs; ++run) {
    RunFigures f = runOnce(options, run);
    std::printf(
        "run %d: %.0f final tx/s, commit p50 %.1f ms p99 %.1f ms, final p50 %.1f ms p99 %.1f ms, "
        "raw etcd %.0f puts/s, failover %.2f s (final %.2f s), solo node %.0f tx/s\n",
        run + 1, f.finalRate, f.commitP50, f.commitP99, f.finalP50, f.finalP99, f.etcdPuts,
        f.failover, f.failoverFinal, f.soloRate);
    std::fflush(stdout);
    finalRates.push_back(f.finalRate);
    commitP50.push_back(f.commitP50);
    commitP99.push_back(f.commitP99);
    finalP50.push_back(f.finalP50);
    finalP99.push_back(f.finalP99);
    etcdPuts.push_back(f.etcdPuts);
    failovers.push_back(f.failover);
    failoversFinal.push_back(f.failoverFinal);
    soloRates.push_back(f.soloRate);
  }
  const double solo = median(soloRates);
  const double rate = median(finalRates);
  const double puts = median(etcdPuts);
  std::printf(
      "\nconsortium_tps, medians of %d runs (%zu clients, %zu transfers, 3 members, "
      "3 etcd members; block interval %d ms, leader lease %d s):\n",
      options.runs, options.clients, options.transfers, options.blockIntervalMs,
      options.leaseTtlSeconds);
  std::printf("  final transfers/s        %8.0f\n", rate);
  std::printf("  raw etcd puts/s          %8.0f   (300-byte values, %zu clients)\n", puts,
              options.clients);
  std::printf("  ratio                    %8.3f   final transfers per raw etcd put\n",
              puts > 0 ? rate / puts : 0);
  std::printf("  solo node transfers/s    %8.0f   (jiancang up, same clients)\n", solo);
  std::printf("  ratio                    %8.3f   final transfers / (solo / 3); goal >= 0.8\n",
              solo > 0 ? rate / (solo / 3) : 0);
  std::printf("  commit latency p50/p99   %8.1f / %.1f ms\n", median(commitP50), median(commitP99));
  std::printf("  time to final p50/p99    %8.1f / %.1f ms\n", median(finalP50), median(finalP99));
  std::printf("  failover (kill -9 leader -> next commit) %.2f s\n", median(failovers));
  std::printf(
      "  failover (kill -9 leader -> its block final, the member restarted at once) %.2f s\n",
      median(failoversFinal));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return jiancang::bench::runBench("consortium_tps", run, argc, argv);
}
