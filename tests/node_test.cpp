// The node as users run it: `jiancang up` in a temporary directory, driven over HTTP.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <app/key_file.h>
#include <chain/testing/test_chain.h>

#include "support/node_harness.h"

namespace jiancang::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int envInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

// A node, its admin key, an issuer and `collectors` collectors each holding `each` tokens of
// series 1 (collector c holds serials c*each+1 .. (c+1)*each).
class NodeTest : public ::testing::Test {
 protected:
  void startNode(const std::string& name, const std::string& extra = "--block-interval-ms 5") {
    data_ = freshDirectory(name);
    node_ = std::make_unique<NodeProcess>(data_, extra);
    std::string output;
    ASSERT_TRUE(node_->start(&output)) << output;
    http_ = std::make_unique<HttpClient>(node_->port());
    chain_ = std::make_unique<ChainClient>(*http_);
  }
  void TearDown() override {
    http_.reset();
    if (node_ && HasFailure()) std::fprintf(stderr, "node output:\n%s\n", node_->output().c_str());
    if (node_) node_->kill();
    fs::remove_all(data_);
    fs::remove(data_.string() + ".out");
  }

  HttpResult submit(const chain::SignedTransaction& transaction, const std::string& wait = "") {
    return http_->request("POST", "/api/v1/transactions" + (wait.empty() ? "" : "?wait=" + wait),
                          ChainClient::body(transaction));
  }

  // POST /transactions/batch: each transaction's encoding after its 4-byte big-endian length.
  HttpResult submitBatch(const std::vector<chain::SignedTransaction>& transactions) {
    std::string body;
    for (const auto& transaction : transactions) {
      core::Bytes bytes = core::encode(transaction);
      for (int shift = 24; shift >= 0; shift -= 8) {
        body.push_back(static_cast<char>((bytes.size() >> shift) & 0xff));
      }
      body.append(bytes.begin(), bytes.end());
    }
    return http_->request("POST", "/api/v1/transactions/batch", body, "application/octet-stream");
  }

  void setUpHoldings(std::size_t collectors, std::size_t each) {
    core::KeyPair admin = app::readKeyFile(data_ / "keys" / "admin.key").value();
    auto registered =
        submit(chain_->sign(admin, 0,
                            chain::RegisterIssuer{core::addressOf(issuer_.publicKey), "敦煌",
                                                  chain::testing::testHash("licence")}));
    ASSERT_EQ(registered.status, 200) << registered.body;
    auto series = submit(chain_->sign(
        issuer_, issuerNonce_++,
        chain::testing::TestChain::seriesTemplate(std::max<std::size_t>(collectors * each, 1))));
    ASSERT_EQ(series.status, 200) << series.body;
    ASSERT_TRUE(series.json()["receipt"]["ok"].get<bool>()) << series.body;
    for (std::size_t c = 0; c < collectors; ++c)
      collectors_.push_back(testKey("collector" + std::to_string(c)));
    std::vector<core::Address> recipients;
    for (std::size_t c = 0; c < collectors; ++c) {
      for (std::size_t i = 0; i < each; ++i)
        recipients.push_back(core::addressOf(collectors_[c].publicKey));
    }
    for (std::size_t at = 0; at < recipients.size(); at += 1000) {
      chain::Mint mint{chain::SeriesId(1), {}};
      mint.recipients.assign(
          recipients.begin() + static_cast<std::ptrdiff_t>(at),
          recipients.begin() + static_cast<std::ptrdiff_t>(std::min(recipients.size(), at + 1000)));
      auto minted = submit(chain_->sign(issuer_, issuerNonce_++, mint));
      ASSERT_EQ(minted.status, 200) << minted.body;
      ASSERT_TRUE(minted.json()["receipt"]["ok"].get<bool>()) << minted.body;
    }
  }

  std::uint64_t nonceOf(const core::KeyPair& key) {
    return http_->get("/api/v1/accounts/" + core::addressOf(key.publicKey).hex())
        .json()["nonce"]
        .get<std::uint64_t>();
  }

  fs::path data_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<ChainClient> chain_;
  core::KeyPair issuer_ = testKey("issuer");
  std::uint64_t issuerNonce_ = 0;
  std::vector<core::KeyPair> collectors_;
};

TEST_F(NodeTest, TenThousandTransactionsSurviveARestart) {
  startNode("node-10k");
  const std::size_t collectors = 100;
  const std::size_t each = 100;
  setUpHoldings(collectors, each);
  const core::Address sink = core::addressOf(testKey("sink").publicKey);

  // Every collector gives all its tokens to the sink: 10,000 transfers over 8 connections,
  // each collector's in nonce order, without waiting for commits (busy answers are retried).
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::vector<std::string> lastHashes(collectors);
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      HttpClient client(node_->port());
      for (std::size_t round = 0; round < each; ++round) {
        for (std::size_t c = static_cast<std::size_t>(w); c < collectors; c += 8) {
          auto transfer = chain_->sign(
              collectors_[c], round,
              chain::Transfer{chain::TokenId{chain::SeriesId(1), c * each + round + 1}, sink});
          for (int attempt = 0;; ++attempt) {
            auto result = client.request("POST", "/api/v1/transactions?wait=none",
                                         ChainClient::body(transfer));
            if (result.status == 202) {
              ++accepted;
              lastHashes[c] = result.json()["tx_hash"];
              break;
            }
            if ((result.status == 429 || result.status == 503) && attempt < 500) {
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
              continue;
            }
            ++refused;
            ADD_FAILURE() << result.status << " " << result.body;
            break;
          }
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  ASSERT_EQ(accepted.load(), 10'000);
  ASSERT_EQ(refused.load(), 0);
  for (const std::string& hash : lastHashes) {
    HttpResult found;
    for (int i = 0; i < 600; ++i) {
      found = http_->get("/api/v1/transactions/" + hash);
      if (found.status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_TRUE(found.json()["receipt"]["ok"].get<bool>()) << found.body;
  }

  auto queries = [&] {
    json snapshot;
    auto info = http_->get("/api/v1/chain").json();
    snapshot["height"] = info["height"];
    snapshot["state_root"] = info["state_root"];
    snapshot["series"] = http_->get("/api/v1/series/1").json();
    snapshot["token"] = http_->get("/api/v1/tokens/1/4242").json();
    snapshot["history"] = http_->get("/api/v1/tokens/1/4242/history").json();
    snapshot["sink_first_page"] =
        http_->get("/api/v1/accounts/" + sink.hex() + "/tokens?limit=200").json();
    snapshot["collector"] =
        http_->get("/api/v1/accounts/" + core::addressOf(collectors_[7].publicKey).hex()).json();
    return snapshot;
  };
  json before = queries();
  EXPECT_EQ(before["series"]["holders"], 1);
  EXPECT_EQ(before["token"]["owner"], sink.hex());
  EXPECT_EQ(before["history"]["items"].size(), 2u);
  EXPECT_EQ(before["collector"]["nonce"], each);

  // Count the sink's tokens through every page.
  std::size_t counted = 0;
  std::string cursor;
  do {
    auto page = http_
                    ->get("/api/v1/accounts/" + sink.hex() + "/tokens?limit=200" +
                          (cursor.empty() ? "" : "&cursor=" + cursor))
                    .json();
    counted += page["items"].size();
    cursor = page.value("next_cursor", "");
  } while (!cursor.empty());
  EXPECT_EQ(counted, collectors * each);

  EXPECT_EQ(node_->stop(), 0);
  EXPECT_NE(node_->output().find("stopped cleanly"), std::string::npos) << node_->output();
  std::string output;
  ASSERT_TRUE(node_->start(&output)) << output;
  http_ = std::make_unique<HttpClient>(node_->port());
  EXPECT_EQ(queries(), before);

  node_->stop();
  auto [code, checked] = runJiancang("check --data '" + data_.string() + "'");
  EXPECT_EQ(code, 0) << checked;
  EXPECT_NE(checked.find("ok: "), std::string::npos) << checked;
}

TEST_F(NodeTest, NothingAcknowledgedIsLostWhenKilled) {
  startNode("node-crash");
  const std::size_t workers = 4;
  const std::size_t each = 2000;
  setUpHoldings(workers, each);
  const core::Address sink = core::addressOf(testKey("sink").publicKey);
  std::mt19937 random(7);
  std::map<std::string, std::uint64_t> acknowledged;  // tx hash → height
  std::set<std::string> checked;                      // found after some restart
  std::mutex acknowledgedMutex;
  const int cycles = envInt("JIANCANG_CRASH_CYCLES", 50);

  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> load;
    for (std::size_t w = 0; w < workers; ++w) {
      std::uint64_t nonce = nonceOf(collectors_[w]);
      load.emplace_back([&, w, nonce]() mutable {
        HttpClient client(node_->port());
        while (!stop && nonce < each) {
          auto transfer = chain_->sign(
              collectors_[w], nonce,
              chain::Transfer{chain::TokenId{chain::SeriesId(1), w * each + nonce + 1}, sink});
          auto result = client.request("POST", "/api/v1/transactions", ChainClient::body(transfer));
          if (result.status != 200) break;  // the node died under us
          auto body = result.json();
          if (body["status"] == "committed") {
            std::lock_guard lock(acknowledgedMutex);
            acknowledged[body["tx_hash"]] = body["height"];
          }
          ++nonce;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 400));
    node_->kill();
    stop = true;
    for (auto& thread : load) thread.join();
    // The ledger as the crash left it replays from genesis to the same state root.
    auto [checkCode, checkOutput] = runJiancang("check --data '" + data_.string() + "'");
    ASSERT_EQ(checkCode, 0) << "after crash " << cycle << ": " << checkOutput;
    std::string output;
    ASSERT_TRUE(node_->start(&output)) << "restart " << cycle << ": " << output;
    http_ = std::make_unique<HttpClient>(node_->port());
    // Every transaction acknowledged since the last restart, and a sample of the older ones
    // (all of them were found after an earlier restart; all are searched again at the end).
    std::lock_guard lock(acknowledgedMutex);
    auto present = [&](const std::string& hash, std::uint64_t height) {
      auto found = http_->get("/api/v1/transactions/" + hash);
      EXPECT_EQ(found.status, 200) << "cycle " << cycle << ": acknowledged " << hash << " is gone";
      return found.status == 200 && found.json()["height"] == height;
    };
    for (const auto& [hash, height] : acknowledged) {
      bool fresh = !checked.contains(hash);
      if (fresh || random() % std::max<std::size_t>(1, checked.size() / 200) == 0) {
        ASSERT_TRUE(present(hash, height));
      }
      checked.insert(hash);
    }
  }
  EXPECT_GT(acknowledged.size(), static_cast<std::size_t>(cycles));
  for (const auto& [hash, height] : acknowledged) {
    auto found = http_->get("/api/v1/transactions/" + hash);
    ASSERT_EQ(found.status, 200) << "acknowledged " << hash << " is gone";
    ASSERT_EQ(found.json()["height"], height);
  }
}

TEST_F(NodeTest, BadInputGetsItsOwnAnswerAndWritesNothing) {
  startNode("node-bad", "--block-interval-ms 5 --request-timeout-ms 1000");
  setUpHoldings(1, 3);
  const core::KeyPair& collector = collectors_[0];
  auto valid = chain_->sign(collector, 0,
                            chain::Transfer{chain::TokenId{chain::SeriesId(1), 1},
                                            core::addressOf(testKey("friend").publicKey)});
  ASSERT_EQ(submit(valid).status, 200);
  auto heightBefore = http_->get("/api/v1/chain").json()["height"];

  auto expect = [&](const HttpResult& result, int status, const std::string& code) {
    EXPECT_EQ(result.status, status) << result.body;
    auto body = result.json();
    EXPECT_EQ(body.value("code", ""), code) << result.body;
    if (status != 200) {
      EXPECT_FALSE(body.value("request_id", "").empty()) << result.body;
    }
  };
  expect(http_->request("POST", "/api/v1/transactions", R"({"transaction":"00ff00ff"})"), 400,
         "decode-unknown-version");
  expect(http_->request("POST", "/api/v1/transactions", R"({"transaction":"zz"})"), 400,
         "hex-invalid-digit");
  expect(http_->request("POST", "/api/v1/transactions", "{not json"), 400, "invalid-json");
  expect(http_->request("POST", "/api/v1/transactions", R"({"tx":"00"})"), 400,
         "missing-transaction");
  {
    chain::Transaction other = valid.transaction;
    other.chainId = core::ChainId(chain::testing::testHash("another chain").array());
    other.nonce = 1;
    auto signedOther = chain::signTransaction(chain_->parameters(), other, collector.secretKey);
    expect(submit(signedOther), 400, "wrong-chain");
  }
  {
    auto forged = chain_->sign(collector, 1, chain::Burn{chain::TokenId{chain::SeriesId(1), 2}});
    forged.signature.mutableArray()[5] ^= 0x40;
    expect(submit(forged), 401, "bad-signature");
  }
  expect(submit(valid), 200, "");  // the same transaction again: its receipt, not a second copy
  {
    auto replay = chain_->sign(collector, 0, chain::Burn{chain::TokenId{chain::SeriesId(1), 2}});
    expect(submit(replay), 409, "nonce-used");
  }
  {
    chain::Mint overCap{chain::SeriesId(1), {core::addressOf(collector.publicKey)}};
    expect(submit(chain_->sign(issuer_, issuerNonce_, overCap)), 422, "series-cap-reached");
  }
  expect(http_->request("POST", "/api/v1/transactions", std::string(10 * 1024 * 1024, 'x')), 413,
         "body-too-large");
  {
    RawConnection large(node_->port());
    ASSERT_TRUE(large.send("GET /api/v1/chain HTTP/1.1\r\nHost: x\r\nX-Padding: " +
                           std::string(100 * 1024, 'a') + "\r\n\r\n"));
    std::string answer = large.receive(std::chrono::milliseconds(3000));
    EXPECT_NE(answer.find("431"), std::string::npos) << answer.substr(0, 200);
    EXPECT_NE(answer.find("headers-too-large"), std::string::npos) << answer.substr(0, 200);
  }
  expect(http_->get("/api/v1/no/such/thing"), 404, "no-such-route");
  expect(http_->request("DELETE", "/api/v1/chain"), 405, "method-not-allowed");
  expect(http_->get("/api/v1/tokens/1/abc"), 400, "bad-id");
  expect(http_->get("/api/v1/tokens/1/99"), 404, "token-not-found");
  expect(http_->get("/api/v1/accounts/00/tokens?cursor=zz"), 400, "bad-id");

  {
    // Slow drip: half a request line, then nothing.
    RawConnection slow(node_->port());
    ASSERT_TRUE(slow.send("GET /api/v1/ch"));
    std::string answer = slow.receive(std::chrono::milliseconds(5000));
    EXPECT_NE(answer.find("408"), std::string::npos) << answer;
    EXPECT_NE(answer.find("request-timeout"), std::string::npos) << answer;
  }
  {
    RawConnection garbage(node_->port());
    ASSERT_TRUE(garbage.send("\x16\x03\x01 hello\r\n\r\n"));
    std::string answer = garbage.receive(std::chrono::milliseconds(3000));
    EXPECT_NE(answer.find("400"), std::string::npos) << answer;
  }

  // Batches: malformed framing refused whole; each bad transaction refused with its own answer.
  expect(http_->request("POST", "/api/v1/transactions/batch", "", "application/octet-stream"), 400,
         "batch-empty");
  expect(http_->request("POST", "/api/v1/transactions/batch", std::string("\0\0", 2),
                        "application/octet-stream"),
         400, "batch-malformed");
  expect(http_->request("POST", "/api/v1/transactions/batch",
                        std::string("\0\0\0\x09"
                                    "abc",
                                    7),
                        "application/octet-stream"),
         400, "batch-malformed");
  expect(http_->request("GET", "/api/v1/transactions/batch"), 405, "method-not-allowed");
  {
    auto forged = chain_->sign(collector, 1, chain::Burn{chain::TokenId{chain::SeriesId(1), 2}});
    forged.signature.mutableArray()[5] ^= 0x40;
    auto replay = chain_->sign(collector, 0, chain::Burn{chain::TokenId{chain::SeriesId(1), 2}});
    HttpResult batch = submitBatch({forged, replay});
    ASSERT_EQ(batch.status, 200) << batch.body;
    const json results = batch.json()["results"];
    ASSERT_EQ(results.size(), 2u) << batch.body;
    EXPECT_EQ(results[0]["status"], 401);
    EXPECT_EQ(results[0]["code"], "bad-signature");
    EXPECT_EQ(results[1]["status"], 409);
    EXPECT_EQ(results[1]["code"], "nonce-used");
  }

  // Still serving; nothing written; the collector's next nonce is still 1.
  EXPECT_EQ(http_->get("/healthz").status, 200);
  EXPECT_EQ(http_->get("/api/v1/chain").json()["height"], heightBefore);
  EXPECT_EQ(nonceOf(collector), 1u);
  auto metrics = http_->get("/metrics");
  EXPECT_NE(metrics.body.find("status=\"413\""), std::string::npos);
  EXPECT_NE(metrics.body.find("jiancang_block_height"), std::string::npos);
}

// HEAD gets a GET's headers (its length included) and no body: on a kept-alive connection, a
// body sent after it would be read as the start of the next answer.
TEST_F(NodeTest, HeadAnswersWithoutABody) {
  startNode("node-head");
  RawConnection connection(node_->port());
  ASSERT_TRUE(connection.send("HEAD /api/v1/chain HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(connection.receiveUntil("\r\n\r\n", std::chrono::seconds(5)));
  ASSERT_TRUE(connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string next = connection.receive(std::chrono::milliseconds(500));
  EXPECT_EQ(next.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << next;
  // The HEAD answer itself: a 200 with the length of the GET's body.
  RawConnection again(node_->port());
  ASSERT_TRUE(again.send("HEAD /api/v1/chain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string head = again.receive(std::chrono::milliseconds(500));
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: "), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4) << head;
}

// A batch queues each of its transactions as a single submission would, without waiting for
// the block: how a consortium member forwards what it received to the leader.
TEST_F(NodeTest, ABatchQueuesEachTransactionOnItsOwn) {
  startNode("node-batch");
  setUpHoldings(1, 4);
  const core::KeyPair& collector = collectors_[0];
  const core::Address friendAddress = core::addressOf(testKey("friend").publicKey);
  std::vector<chain::SignedTransaction> transfers;
  for (std::uint64_t serial = 1; serial <= 3; ++serial) {
    transfers.push_back(
        chain_->sign(collector, serial - 1,
                     chain::Transfer{chain::TokenId{chain::SeriesId(1), serial}, friendAddress}));
  }
  transfers.push_back(transfers[1]);  // the same one twice: queued once
  HttpResult batch = submitBatch(transfers);
  ASSERT_EQ(batch.status, 200) << batch.body;
  const json results = batch.json()["results"];
  ASSERT_EQ(results.size(), 4u);
  for (const json& result : results) EXPECT_EQ(result["status"], 202) << batch.body;
  EXPECT_EQ(results[1]["tx_hash"], results[3]["tx_hash"]);
  for (int wait = 0; wait < 200 && nonceOf(collector) < 3; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(nonceOf(collector), 3u);
  for (std::uint64_t serial = 1; serial <= 3; ++serial) {
    EXPECT_EQ(http_->get("/api/v1/tokens/1/" + std::to_string(serial)).json()["owner"],
              friendAddress.hex());
  }
  EXPECT_EQ(http_->get("/api/v1/tokens/1/4").json()["owner"],
            core::addressOf(collector.publicKey).hex());
}

TEST_F(NodeTest, CertificatesVerifyOfflineAndEventsStream) {
  startNode("node-cert");
  setUpHoldings(2, 2);
  auto certificate = http_->get("/api/v1/tokens/1/3/certificate");
  ASSERT_EQ(certificate.status, 200) << certificate.body;
  fs::path file = data_.string() + "-certificate.json";
  std::ofstream(file) << certificate.body;
  auto [code, output] = runJiancang("verify '" + file.string() + "'");
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(
      output.find("valid: token 1#3 is held by " + core::addressOf(collectors_[1].publicKey).hex()),
      std::string::npos)
      << output;
  std::string corrupted = certificate.body;
  corrupted[corrupted.size() / 2] = corrupted[corrupted.size() / 2] == '0' ? '1' : '0';
  std::ofstream(file) << corrupted;
  auto [badCode, badOutput] = runJiancang("verify '" + file.string() + "'");
  EXPECT_EQ(badCode, 1) << badOutput;
  EXPECT_NE(badOutput.find("NOT valid"), std::string::npos) << badOutput;
  fs::remove(file);

  // A block event arrives on the stream after a commit.
  RawConnection events(node_->port());
  ASSERT_TRUE(events.send("GET /api/v1/events/blocks HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto gift = chain_->sign(collectors_[0], 0,
                           chain::Transfer{chain::TokenId{chain::SeriesId(1), 1},
                                           core::addressOf(collectors_[1].publicKey)});
  auto result = submit(gift);
  ASSERT_EQ(result.status, 200) << result.body;
  std::string stream = events.receive(std::chrono::milliseconds(1500));
  EXPECT_NE(stream.find("text/event-stream"), std::string::npos) << stream;
  EXPECT_NE(stream.find("event: block"), std::string::npos) << stream;
  EXPECT_NE(stream.find("\"height\":" + std::to_string(result.json()["height"].get<int>())),
            std::string::npos)
      << stream;
}

// Raises this process's open-file limit to its hard limit (a node started after inherits it).
rlim_t raiseOpenFileLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

// A field of /proc/PID/status, in its own unit (kB for memory).
long procStatus(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

TEST_F(NodeTest, ThousandsOfIdleConnectionsCostMemoryNotThreads) {
  const rlim_t files = raiseOpenFileLimit();
  // Keep-alive connections and event streams, as many of each as both processes' limits allow.
  const std::size_t each = std::min<std::size_t>(1'500, (files - 200) / 2);
  startNode("node-idle");
  setUpHoldings(1, 1);
  const long threadsBefore = procStatus(node_->pid(), "Threads");
  const long memoryBefore = procStatus(node_->pid(), "VmRSS");
  ASSERT_GT(threadsBefore, 0);

  std::vector<std::unique_ptr<RawConnection>> idle;
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (std::size_t i = 0; i < each; ++i) {
    auto connection = std::make_unique<RawConnection>(node_->port());
    ASSERT_TRUE(connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) << i;
    ASSERT_TRUE(connection->receiveUntil("HTTP/1.1 200", std::chrono::seconds(5))) << i;
    idle.push_back(std::move(connection));
    auto stream = std::make_unique<RawConnection>(node_->port());
    ASSERT_TRUE(stream->send("GET /api/v1/events/blocks HTTP/1.1\r\nHost: x\r\n\r\n")) << i;
    ASSERT_TRUE(stream->receiveUntil("text/event-stream", std::chrono::seconds(5))) << i;
    streams.push_back(std::move(stream));
  }
  const long threadsAfter = procStatus(node_->pid(), "Threads");
  const long memoryAfter = procStatus(node_->pid(), "VmRSS");
  const double kilobytesEach =
      static_cast<double>(memoryAfter - memoryBefore) / static_cast<double>(2 * each);
  std::printf(
      "%zu keep-alive connections and %zu event streams: %ld threads before and after, "
      "%.1f KiB of memory each\n",
      each, each, threadsAfter, kilobytesEach);
  EXPECT_EQ(threadsAfter, threadsBefore);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(kilobytesEach, 32.0);
#endif

  // The node still answers at once, every stream hears the next block, and every idle
  // connection still serves.
  HttpClient fresh(node_->port());
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(fresh.get("/api/v1/chain").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  auto gift = chain_->sign(collectors_[0], 0,
                           chain::Transfer{chain::TokenId{chain::SeriesId(1), 1},
                                           core::addressOf(testKey("friend").publicKey)});
  auto result = submit(gift);
  ASSERT_EQ(result.status, 200) << result.body;
  // One deadline for all: the block may take a while to commit on a loaded machine (ASan, tests
  // beside this one syncing to disk), and then every stream must have heard it.
  const auto heardBy = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::size_t heard = 0;
  std::vector<std::size_t> deaf;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const auto left = std::max<std::chrono::steady_clock::duration>(
        heardBy - std::chrono::steady_clock::now(), std::chrono::milliseconds(100));
    if (streams[i]->receiveUntil("event: block",
                                 std::chrono::duration_cast<std::chrono::milliseconds>(left))) {
      ++heard;
    } else if (deaf.size() < 10) {
      deaf.push_back(i);
    }
  }
  EXPECT_EQ(heard, each) << "first streams that heard nothing: " << ::testing::PrintToString(deaf);
  std::size_t served = 0;
  for (auto& connection : idle) {
    served += connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") &&
              connection->receiveUntil("HTTP/1.1 200", std::chrono::seconds(5));
  }
  EXPECT_EQ(served, each);
}

}  // namespace
}  // namespace jiancang::testing
