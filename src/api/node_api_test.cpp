// POST /api/v1/transactions against a real ledger and solo orderer, through a recording Exchange:
// the answer after a commit (formatted on the connection's side, respondWith) and the answer when
// the wait runs out first (the commit-wait sweep), each exactly once.
#include <api/node_api.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <optional>

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chain/testing/test_chain.h>
#include <ordering/solo_orderer.h>

namespace jiancang::api {
namespace {

namespace fs = std::filesystem;
using chain::testing::TestChain;
using json = nlohmann::json;

// Records every answer given to it; the handler must give exactly one.
class RecordingExchange final : public Exchange {
 public:
  explicit RecordingExchange(HttpRequest request) : request_(std::move(request)) {}
  const HttpRequest& request() const override { return request_; }
  void respond(HttpResponse response) override { record(std::move(response)); }
  void respondWith(std::function<HttpResponse()> answer) override { record(answer()); }
  std::shared_ptr<EventStream> openStream() override { return nullptr; }

  // The first answer, if one comes within 10 s.
  std::optional<HttpResponse> awaitAnswer() {
    auto future = first_.get_future();
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return std::nullopt;
    return future.get();
  }
  std::size_t answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
  }

 private:
  void record(HttpResponse response) {
    std::lock_guard lock(mutex_);
    if (answers_++ == 0) first_.set_value(std::move(response));
  }

  HttpRequest request_;
  mutable std::mutex mutex_;
  std::size_t answers_ = 0;
  std::promise<HttpResponse> first_;
};

class NodeApiTest : public ::testing::Test {
 protected:
  NodeApiTest() {
    dir_ = fs::temp_directory_path() /
           ("jiancang-node-api-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    chain::Genesis genesis;
    genesis.chainName = "node-api-test";
    genesis.timestamp = core::Timestamp::fromUnixMillis(1'700'000'000'000);
    genesis.members = {chain::Member{"solo", t_.member(0).publicKey}};
    genesis.roleGrants = {{TestChain::address(t_.admin()), chain::kRoleAdmin}};
    auto opened = ledger::Ledger::open(dir_, genesis, ledger::LedgerOptions{64u << 20, false});
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    ledger_ = std::move(opened).value();
  }
  ~NodeApiTest() override {
    api_.reset();
    orderer_.reset();
    ledger_.reset();
    fs::remove_all(dir_);
  }

  void start(std::chrono::milliseconds blockInterval, std::chrono::milliseconds commitWait) {
    ordering::SoloOrdererOptions options;
    options.blockInterval = blockInterval;
    orderer_ = std::make_unique<ordering::SoloOrderer>(
        *ledger_, chain::testing::copyKeyPair(t_.member(0)), clock_, options);
    NodeApiOptions apiOptions;
    apiOptions.commitWait = commitWait;
    api_ = std::make_unique<NodeApi>(*ledger_, *orderer_, apiOptions);
  }

  // POSTs the admin's next transaction: registering collector `who` as an issuer (any valid
  // transaction would do).
  std::shared_ptr<RecordingExchange> submit(std::size_t who) {
    chain::Transaction transaction{
        ledger_->parameters().chainId, t_.admin().publicKey, nonce_++,
        chain::RegisterIssuer{TestChain::address(t_.collector(who)), "IP " + std::to_string(who),
                              chain::testing::testHash("licence")}};
    auto signedTransaction =
        chain::signTransaction(ledger_->parameters(), std::move(transaction), t_.admin().secretKey);
    HttpRequest request;
    request.method = "POST";
    request.target = request.path = "/api/v1/transactions";
    request.headers["content-type"] = "application/json";
    request.body = json{{"transaction", core::toHex(core::encode(signedTransaction))}}.dump();
    request.requestId = "test-" + std::to_string(who);
    auto exchange = std::make_shared<RecordingExchange>(std::move(request));
    api_->handle(exchange);
    return exchange;
  }

  fs::path dir_;
  TestChain t_;
  core::ManualClock clock_{core::Timestamp::fromUnixMillis(1'700'000'100'000)};
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<ordering::SoloOrderer> orderer_;
  std::unique_ptr<NodeApi> api_;
  std::uint64_t nonce_ = 0;
};

TEST_F(NodeApiTest, ASubmissionIsAnsweredWithItsBlockOnceCommitted) {
  start(std::chrono::milliseconds(5), std::chrono::seconds(30));
  auto exchange = submit(0);
  std::optional<HttpResponse> answer = exchange->awaitAnswer();
  ASSERT_TRUE(answer.has_value()) << "no answer within 10 s";
  ASSERT_EQ(answer->status, 200u) << answer->body;
  json body = json::parse(answer->body);
  EXPECT_EQ(body["status"], "committed");
  EXPECT_EQ(body["height"], 1);
  EXPECT_EQ(body["receipt"]["ok"], true) << answer->body;
  EXPECT_EQ(body["block_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(ledger_->head().height, 1u);
  EXPECT_EQ(exchange->answers(), 1u);
}

TEST_F(NodeApiTest, ASubmissionNotCommittedWithinTheWaitIsAnsweredPendingOnceAndStaysQueued) {
  // No block is cut for ten minutes; each submission waits 200 ms.
  start(std::chrono::minutes(10), std::chrono::milliseconds(200));
  std::vector<std::shared_ptr<RecordingExchange>> exchanges;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < 8; ++i) exchanges.push_back(submit(i));
  for (auto& exchange : exchanges) {
    std::optional<HttpResponse> answer = exchange->awaitAnswer();
    ASSERT_TRUE(answer.has_value()) << "no answer within 10 s";
    ASSERT_EQ(answer->status, 202u) << answer->body;
    json body = json::parse(answer->body);
    EXPECT_EQ(body["status"], "pending");
    EXPECT_NE(body["message"].get<std::string>().find("not committed yet"), std::string::npos);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(ledger_->head().height, 0u);
  // A shutdown commits what was queued; the commit finds every submission answered already.
  orderer_->shutdown();
  EXPECT_EQ(ledger_->head().height, 1u);
  for (auto& exchange : exchanges) EXPECT_EQ(exchange->answers(), 1u);
}

}  // namespace
}  // namespace jiancang::api
