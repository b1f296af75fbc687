#include <api/node_api.h>

#include <api/json_answers.h>

#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include <chain/state_keys.h>
#include <ledger/certificate.h>

namespace jiancang::api {
namespace {

using nlohmann::json;

// ---- JSON views ----------------------------------------------------------------------------

json receiptJson(const chain::Receipt& receipt) {
  json out{{"ok", receipt.ok()},
           {"code", receipt.ok() ? "ok" : receipt.reason},
           {"category", core::errorCodeName(receipt.code)},
           {"message", receipt.message}};
  if (receipt.createdId != 0) out["created_id"] = receipt.createdId;
  if (receipt.count != 0) {
    out["first_serial"] = receipt.firstSerial;
    out["count"] = receipt.count;
  }
  if (receipt.policyVersion != 0) out["policy_version"] = receipt.policyVersion;
  return out;
}

json headerJson(const chain::ChainParameters& chain, const chain::BlockHeader& header) {
  return json{{"height", header.height},
              {"hash", chain::blockHash(chain, header).hex()},
              {"previous_hash", header.previousHash.hex()},
              {"timestamp", header.timestamp.unixMillis()},
              {"transaction_count", header.transactionCount},
              {"transactions_root", header.transactionsRoot.hex()},
              {"previous_state_root", header.previousStateRoot.hex()}};
}

json operationJson(const chain::Operation& operation) {
  json out{{"type", chain::operationName(operation)}};
  if (const auto* transfer = std::get_if<chain::Transfer>(&operation)) {
    out["token"] = transfer->token.toString();
    out["to"] = transfer->to.hex();
  } else if (const auto* mint = std::get_if<chain::Mint>(&operation)) {
    out["series"] = mint->series.value();
    out["recipients"] = mint->recipients.size();
  } else if (const auto* burn = std::get_if<chain::Burn>(&operation)) {
    out["token"] = burn->token.toString();
  }
  return out;
}

json transactionJson(const chain::ChainParameters& chain,
                     const chain::SignedTransaction& transaction) {
  return json{{"hash", chain::transactionHash(chain, transaction).hex()},
              {"signer", transaction.transaction.signer.hex()},
              {"signer_address", transaction.signerAddress().hex()},
              {"nonce", transaction.transaction.nonce},
              {"operation", operationJson(transaction.transaction.operation)},
              {"encoded", core::toHex(core::encode(transaction))}};
}

json eventJson(const ledger::OwnershipEvent& event) {
  json out{{"kind", ledger::ownershipEventKindName(event.kind)},
           {"height", event.height},
           {"transaction_index", event.transactionIndex},
           {"tx_hash", event.txHash.hex()}};
  if (event.kind != ledger::OwnershipEvent::Kind::kMint) out["from"] = event.from.hex();
  if (event.kind != ledger::OwnershipEvent::Kind::kBurn) out["to"] = event.to.hex();
  return out;
}

json policyJson(const chain::PolicyVersion& version) {
  const chain::SeriesPolicy& policy = version.policy;
  return json{{"version", version.version},
              {"effective_from_height", version.effectiveFromHeight},
              {"transferable", policy.transferable},
              {"hold_before_first_transfer_ms", policy.holdBeforeFirstTransferMillis},
              {"hold_between_transfers_ms", policy.holdBetweenTransfersMillis},
              {"tradable", policy.tradable},
              {"price_ceiling_fen", policy.priceCeiling.value()}};
}

json seriesJson(const chain::SeriesRecord& series, std::uint64_t holders) {
  json policies = json::array();
  for (const auto& version : series.policyVersions) policies.push_back(policyJson(version));
  json rights = json::array();
  for (const auto& right : series.rights) {
    rights.push_back({{"id", right.id}, {"kind", right.kind}, {"uses", right.uses}});
  }
  return json{{"id", series.id.value()},
              {"title", series.title},
              {"issuer", series.issuer.hex()},
              {"creator", series.creator.hex()},
              {"edition_cap", series.editionCap},
              {"minted", series.minted},
              {"burned", series.burned},
              {"live", series.live()},
              {"reserved", series.reserved},
              {"holders", holders},
              {"royalty_basis_points", series.royaltyBasisPoints},
              {"media_hash", series.mediaHash.hex()},
              {"media_type", series.mediaType},
              {"metadata_hash", series.metadataHash.hex()},
              {"licence_hash", series.licenceHash.hex()},
              {"is_blind_box", series.isBlindBox},
              {"created_at", series.createdAt.unixMillis()},
              {"policy_versions", policies},
              {"rights", rights}};
}

// ---- parsing -------------------------------------------------------------------------------

std::optional<std::uint64_t> parseNumber(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The HTTP status of an orderer's refusal of a transaction.
unsigned refusalStatus(const core::Status& status) {
  if (status.reason() == "mempool-full") return 503;
  // Refused by the chain's rules at admission: well-formed, but it would fail.
  if (status.code() == core::ErrorCode::kFailedPrecondition ||
      status.code() == core::ErrorCode::kPermissionDenied ||
      status.code() == core::ErrorCode::kNotFound) {
    if (status.reason() != "nonce-used" && status.reason() != "nonce-gap") return 422;
  }
  return httpStatusOf(status.code());
}

// ---- metrics -------------------------------------------------------------------------------

constexpr std::array<double, 12> kLatencyBucketsSeconds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};

struct RouteMetrics {
  std::map<unsigned, std::uint64_t> byStatus;
  std::array<std::uint64_t, kLatencyBucketsSeconds.size()> buckets{};
  std::uint64_t count = 0;
  double sumSeconds = 0;

  void add(const RouteMetrics& other) {
    for (const auto& [status, n] : other.byStatus) byStatus[status] += n;
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    count += other.count;
    sumSeconds += other.sumSeconds;
  }
};

// Which metrics shard the calling thread counts into: each thread its own, in turn.
std::size_t metricsShardOfThisThread(std::size_t shards) {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next++;
  return mine % shards;
}

}  // namespace

class NodeApi::Impl {
 public:
  Impl(ledger::Ledger& ledger, ordering::Orderer& orderer, NodeApiOptions options)
      : ledger_(ledger), orderer_(orderer), options_(options) {
    commitWaitThread_ = std::thread([this] { answerLateCommits(); });
    subscription_ =
        orderer_.subscribe([this](const ledger::CommittedBlock& block) { publish(block); });
  }
  ~Impl() {
    orderer_.unsubscribe(subscription_);
    closeStreams();
    {
      std::lock_guard lock(commitWaitsMutex_);
      stopping_ = true;
    }
    commitWaitsChanged_.notify_all();
    if (commitWaitThread_.joinable()) commitWaitThread_.join();
  }

  void handle(const std::shared_ptr<Exchange>& exchange);
  void observe(const HttpRequest& request, unsigned status, std::chrono::microseconds elapsed);
  void closeStreams() {
    std::lock_guard lock(streamsMutex_);
    blockStreams_.clear();
    accountStreams_.clear();
  }

 private:
  void submit(const std::shared_ptr<Exchange>& exchange);
  HttpResponse submitBatch(const HttpRequest& request);
  HttpResponse chainInfo(const HttpRequest& request) const;
  HttpResponse blocks(const HttpRequest& request) const;
  HttpResponse block(const HttpRequest& request, std::string_view id) const;
  HttpResponse transaction(const HttpRequest& request, std::string_view hash) const;
  HttpResponse token(const HttpRequest& request, const chain::TokenId& id) const;
  HttpResponse tokenHistory(const HttpRequest& request, const chain::TokenId& id) const;
  HttpResponse certificate(const HttpRequest& request, const chain::TokenId& id) const;
  HttpResponse rawBlock(const HttpRequest& request, std::string_view id) const;
  HttpResponse consortium(const HttpRequest& request) const;
  HttpResponse series(const HttpRequest& request, std::string_view id) const;
  HttpResponse blindBox(const HttpRequest& request, std::string_view id) const;
  HttpResponse lottery(const HttpRequest& request, std::string_view id) const;
  HttpResponse account(const HttpRequest& request, const core::Address& address) const;
  HttpResponse accountTokens(const HttpRequest& request, const core::Address& address) const;
  HttpResponse metrics() const;
  std::optional<std::size_t> pageLimit(const HttpRequest& request) const;
  void publish(const ledger::CommittedBlock& block);

  ledger::Ledger& ledger_;
  ordering::Orderer& orderer_;
  NodeApiOptions options_;

  // A submission waiting for its block: answered once, by the commit or by the end of the wait,
  // whichever comes first.
  struct PendingCommit {
    std::atomic<bool> answered{false};
    std::shared_ptr<Exchange> exchange;  // released by whoever answers
    std::string hashHex;
  };
  struct CommitWait {
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<PendingCommit> pending;
  };
  void awaitCommit(std::shared_ptr<PendingCommit> pending);
  void answerLateCommits();
  // Submissions waiting for their blocks, oldest first. All wait options_.commitWait, so this is
  // also their deadlines' order, and one thread answers those whose wait ran out (a timer per
  // submission cost a post to a timer thread when it was set and another when it was cancelled).
  std::mutex commitWaitsMutex_;
  std::condition_variable commitWaitsChanged_;
  std::deque<CommitWait> commitWaits_;
  bool stopping_ = false;
  std::thread commitWaitThread_;
  std::size_t subscription_ = 0;

  std::mutex streamsMutex_;
  std::vector<std::shared_ptr<EventStream>> blockStreams_;
  std::multimap<core::Address, std::shared_ptr<EventStream>> accountStreams_;

  // Counted in shards, one per HTTP thread (as far as there are shards), each under its own
  // lock: every request is counted, and one lock for all made the threads wait for each other.
  // GET /metrics adds them up.
  struct MetricsShard {
    std::mutex mutex;
    std::map<std::pair<std::string, std::string>, RouteMetrics> routes;
  };
  mutable std::array<MetricsShard, 8> metricsShards_;
};

void NodeApi::Impl::handle(const std::shared_ptr<Exchange>& exchange) {
  const HttpRequest& request = exchange->request();
  auto parts = splitPath(request.path);
  auto methodNotAllowed = [&](std::string_view allowed) {
    HttpResponse response = errorResponse(request, 405, "method-not-allowed",
                                          "use " + std::string(allowed) + " on " + request.path);
    response.headers.emplace_back("Allow", std::string(allowed));
    exchange->respond(std::move(response));
  };
  auto notFound = [&] {
    exchange->respond(errorResponse(request, 404, "no-such-route",
                                    "there is no " + request.path + " in this API"));
  };
  const bool get = request.method == "GET" || request.method == "HEAD";

  if (parts.size() == 1 && parts[0] == "healthz") {
    if (!get) return methodNotAllowed("GET");
    return exchange->respond(jsonResponse(200, json{{"status", "ok"}}));
  }
  if (parts.size() == 1 && parts[0] == "readyz") {
    if (!get) return methodNotAllowed("GET");
    ordering::OrdererStats stats = orderer_.stats();
    if (!stats.writable) {
      return exchange->respond(errorResponse(request, 503, "not-writable",
                                             "the node stopped accepting writes; see its log"));
    }
    return exchange->respond(
        jsonResponse(200, json{{"status", "ready"}, {"height", stats.height}}));
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (!get) return methodNotAllowed("GET");
    return exchange->respond(metrics());
  }
  if (parts.size() < 2 || parts[0] != "api" || parts[1] != "v1") return notFound();
  parts.erase(parts.begin(), parts.begin() + 2);
  if (parts.empty()) return notFound();

  auto tokenId = [&](std::size_t at) -> std::optional<chain::TokenId> {
    if (parts.size() <= at + 1) return std::nullopt;
    auto series = parseNumber(parts[at]);
    auto serial = parseNumber(parts[at + 1]);
    if (!series || !serial) return std::nullopt;
    return chain::TokenId{chain::SeriesId(*series), *serial};
  };
  auto badId = [&](std::string_view what) {
    exchange->respond(errorResponse(request, 400, "bad-id", std::string(what)));
  };

  const std::string_view resource = parts[0];
  if (resource == "transactions" && parts.size() == 1) {
    if (request.method != "POST") return methodNotAllowed("POST");
    return submit(exchange);
  }
  if (resource == "transactions" && parts.size() == 2 && parts[1] == "batch") {
    if (request.method != "POST") return methodNotAllowed("POST");
    return exchange->respond(submitBatch(request));
  }
  if (!get) return methodNotAllowed("GET");
  if (resource == "chain" && parts.size() == 1) return exchange->respond(chainInfo(request));
  if (resource == "blocks" && parts.size() == 1) return exchange->respond(blocks(request));
  if (resource == "blocks" && parts.size() == 2) return exchange->respond(block(request, parts[1]));
  if (resource == "blocks" && parts.size() == 3 && parts[2] == "raw") {
    return exchange->respond(rawBlock(request, parts[1]));
  }
  if (resource == "consortium" && parts.size() == 1) {
    return exchange->respond(consortium(request));
  }
  if (resource == "transactions" && parts.size() == 2) {
    return exchange->respond(transaction(request, parts[1]));
  }
  if (resource == "tokens" && (parts.size() == 3 || parts.size() == 4)) {
    auto id = tokenId(1);
    if (!id) return badId("a token is /tokens/{series}/{serial}, both decimal numbers");
    if (parts.size() == 3) return exchange->respond(token(request, *id));
    if (parts[3] == "history") return exchange->respond(tokenHistory(request, *id));
    if (parts[3] == "certificate") return exchange->respond(certificate(request, *id));
    return notFound();
  }
  if (resource == "series" && parts.size() == 2) {
    return exchange->respond(series(request, parts[1]));
  }
  if (resource == "series" && parts.size() == 3 && parts[2] == "blind-box") {
    return exchange->respond(blindBox(request, parts[1]));
  }
  if (resource == "lotteries" && parts.size() == 2) {
    return exchange->respond(lottery(request, parts[1]));
  }
  if (resource == "accounts" && (parts.size() == 2 || parts.size() == 3)) {
    auto address = core::Address::fromHex(parts[1]);
    if (!address) return badId("an account is its 40-hex-digit address");
    if (parts.size() == 2) return exchange->respond(account(request, *address));
    if (parts[2] == "tokens") return exchange->respond(accountTokens(request, *address));
    return notFound();
  }
  if (resource == "events" && parts.size() == 2 && parts[1] == "blocks") {
    auto stream = exchange->openStream();
    if (!stream) return;
    std::lock_guard lock(streamsMutex_);
    std::erase_if(blockStreams_, [](const auto& s) { return s->closed(); });
    blockStreams_.push_back(stream);
    return;
  }
  if (resource == "events" && parts.size() == 3 && parts[1] == "accounts") {
    auto address = core::Address::fromHex(parts[2]);
    if (!address) return badId("an account is its 40-hex-digit address");
    auto stream = exchange->openStream();
    if (!stream) return;
    std::lock_guard lock(streamsMutex_);
    std::erase_if(accountStreams_, [](const auto& entry) { return entry.second->closed(); });
    accountStreams_.emplace(*address, stream);
    return;
  }
  notFound();
}

void NodeApi::Impl::submit(const std::shared_ptr<Exchange>& exchange) {
  const HttpRequest& request = exchange->request();
  core::Bytes encoded;
  auto type = request.headers.find("content-type");
  const bool binary =
      type != request.headers.end() && type->second.starts_with("application/octet-stream");
  if (binary) {
    encoded.assign(request.body.begin(), request.body.end());
  } else {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return exchange->respond(
          errorResponse(request, 400, "invalid-json", "the body is not a JSON object"));
    }
    auto field = body.find("transaction");
    if (field == body.end() || !field->is_string()) {
      return exchange->respond(errorResponse(
          request, 400, "missing-transaction",
          "the body needs \"transaction\": the signed transaction's canonical encoding in hex"));
    }
    auto bytes = core::fromHex(field->get<std::string>());
    if (!bytes) return exchange->respond(errorResponse(request, bytes.status()));
    encoded = std::move(bytes).value();
  }
  auto transaction = chain::decodeSignedTransaction(encoded);
  if (!transaction) return exchange->respond(errorResponse(request, transaction.status()));

  const bool wait = request.query.count("wait") == 0 || request.query.at("wait") != "none";
  auto pending = std::make_shared<PendingCommit>();
  pending->exchange = exchange;
  pending->hashHex = chain::transactionHash(ledger_.parameters(), *transaction).hex();
  // On the orderer's thread: the answer is formatted on the connection's own.
  auto answer = [pending](const std::optional<ordering::CommitNotice>& notice) {
    if (pending->answered.exchange(true)) return;
    std::shared_ptr<Exchange> waiting = std::move(pending->exchange);
    if (!notice) {
      waiting->respond(errorResponse(waiting->request(), 503, "not-committed",
                                     "the node stopped before committing transaction " +
                                         pending->hashHex + "; submit it again"));
      return;
    }
    waiting->respondWith([hashHex = pending->hashHex, notice = *notice] {
      return jsonResponse(200, json{{"tx_hash", hashHex},
                                    {"status", "committed"},
                                    {"height", notice.height},
                                    {"block_hash", notice.blockHash.hex()},
                                    {"index", notice.index},
                                    {"receipt", receiptJson(notice.receipt)}});
    });
  };
  auto submitted =
      orderer_.submit(std::move(transaction).value(),
                      wait ? ordering::CommitCallback(answer) : ordering::CommitCallback());
  if (!submitted) {
    pending->answered = true;
    HttpResponse response = errorResponse(request, submitted.status());
    response.status = refusalStatus(submitted.status());
    if (submitted.status().code() == core::ErrorCode::kResourceExhausted) {
      response.headers.emplace_back("Retry-After", std::to_string(orderer_.retryAfter().count()));
    }
    return exchange->respond(std::move(response));
  }
  if (!wait) {
    pending->answered = true;
    return exchange->respond(
        jsonResponse(202, json{{"tx_hash", pending->hashHex}, {"status", "pending"}}));
  }
  // Committed already (the orderer may call back before submit returns): nothing to wait for.
  if (!pending->answered) awaitCommit(std::move(pending));
}

void NodeApi::Impl::awaitCommit(std::shared_ptr<PendingCommit> pending) {
  bool wasEmpty;
  {
    std::lock_guard lock(commitWaitsMutex_);
    wasEmpty = commitWaits_.empty();
    commitWaits_.push_back(
        {std::chrono::steady_clock::now() + options_.commitWait, std::move(pending)});
  }
  if (wasEmpty) commitWaitsChanged_.notify_one();
}

// Not committed within the wait: say so; the transaction stays queued.
void NodeApi::Impl::answerLateCommits() {
  // Answered entries are dropped from the front at least this often, so a queue of committed
  // submissions does not wait for the oldest one's deadline to be cleared.
  constexpr std::chrono::milliseconds kSweepEvery{250};
  std::unique_lock lock(commitWaitsMutex_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<PendingCommit>> late;
    while (!commitWaits_.empty() &&
           (commitWaits_.front().pending->answered || commitWaits_.front().deadline <= now)) {
      if (!commitWaits_.front().pending->answered.exchange(true))
        late.push_back(std::move(commitWaits_.front().pending));
      commitWaits_.pop_front();
    }
    if (!late.empty()) {
      lock.unlock();
      for (const auto& pending : late) {
        std::shared_ptr<Exchange> waiting = std::move(pending->exchange);
        waiting->respond(jsonResponse(
            202, json{{"tx_hash", pending->hashHex},
                      {"status", "pending"},
                      {"message",
                       "not committed yet; poll GET /api/v1/transactions/" + pending->hashHex}}));
      }
      lock.lock();
      continue;
    }
    if (commitWaits_.empty()) {
      commitWaitsChanged_.wait(lock);
    } else {
      commitWaitsChanged_.wait_until(lock,
                                     std::min(commitWaits_.front().deadline, now + kSweepEvery));
    }
  }
}

// Many transactions in one request, queued without waiting for their blocks: how a member
// forwards what it received to the leader. The body is each signed transaction's canonical
// encoding after its length (4 bytes, big-endian); the answer has one result per transaction, in
// order: "pending" with its hash, or the refusal with the status a single submission would get.
HttpResponse NodeApi::Impl::submitBatch(const HttpRequest& request) {
  constexpr std::size_t kMaxBatch = 1'000;
  const std::string& body = request.body;
  std::vector<core::Bytes> encoded;
  for (std::size_t at = 0; at < body.size();) {
    if (body.size() - at < 4) {
      return errorResponse(request, 400, "batch-malformed",
                           "the batch ends inside a length at byte " + std::to_string(at));
    }
    std::size_t length = 0;
    for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<unsigned char>(body[at + i]);
    at += 4;
    if (length == 0 || length > chain::limits::kMaxTransactionBytes || body.size() - at < length) {
      return errorResponse(request, 400, "batch-malformed",
                           "transaction " + std::to_string(encoded.size()) + " has a length of " +
                               std::to_string(length) + " bytes, beyond its bounds");
    }
    if (encoded.size() == kMaxBatch) {
      return errorResponse(request, 400, "batch-too-large",
                           "a batch holds at most " + std::to_string(kMaxBatch) + " transactions");
    }
    encoded.emplace_back(body.begin() + static_cast<std::ptrdiff_t>(at),
                         body.begin() + static_cast<std::ptrdiff_t>(at + length));
    at += length;
  }
  if (encoded.empty()) return errorResponse(request, 400, "batch-empty", "the batch is empty");
  const chain::ChainParameters& chain = ledger_.parameters();
  json results = json::array();
  for (const core::Bytes& bytes : encoded) {
    auto transaction = chain::decodeSignedTransaction(bytes);
    if (!transaction) {
      results.push_back({{"status", 400},
                         {"code", transaction.status().reason()},
                         {"message", transaction.status().message()}});
      continue;
    }
    const std::string hash = chain::transactionHash(chain, *transaction).hex();
    auto submitted = orderer_.submit(std::move(transaction).value(), ordering::CommitCallback());
    if (!submitted) {
      results.push_back({{"tx_hash", hash},
                         {"status", refusalStatus(submitted.status())},
                         {"code", submitted.status().reason()},
                         {"message", submitted.status().message()}});
      continue;
    }
    results.push_back({{"tx_hash", hash}, {"status", 202}});
  }
  return jsonResponse(200, json{{"results", results}});
}

HttpResponse NodeApi::Impl::chainInfo(const HttpRequest&) const {
  ledger::Head head = ledger_.head();
  const chain::Genesis& genesis = ledger_.genesis();
  json members = json::array();
  for (const chain::Member& member : genesis.members) {
    members.push_back({{"name", member.name}, {"key", member.key.hex()}});
  }
  ordering::OrdererStats stats = orderer_.stats();
  return jsonResponse(200, json{{"chain_id", ledger_.parameters().chainId.hex()},
                                {"name", genesis.chainName},
                                {"suite", core::suiteName(genesis.suite)},
                                {"height", head.height},
                                {"final_height", stats.finalHeight},
                                {"head_hash", head.blockHash.hex()},
                                {"state_root", head.stateRoot.hex()},
                                {"head_time", head.timestamp.unixMillis()},
                                {"members", members},
                                {"mempool", stats.mempoolSize},
                                {"writable", stats.writable},
                                {"genesis", core::toHex(core::encode(genesis))}});
}

std::optional<std::size_t> NodeApi::Impl::pageLimit(const HttpRequest& request) const {
  auto given = request.query.find("limit");
  if (given == request.query.end()) return 50;
  auto limit = parseNumber(given->second);
  if (!limit || *limit == 0 || *limit > options_.maxPageSize) return std::nullopt;
  return static_cast<std::size_t>(*limit);
}

HttpResponse NodeApi::Impl::blocks(const HttpRequest& request) const {
  auto limit = pageLimit(request);
  if (!limit) {
    return errorResponse(request, 400, "bad-limit",
                         "limit is 1.." + std::to_string(options_.maxPageSize));
  }
  std::uint64_t top = ledger_.head().height;
  if (auto before = request.query.find("before"); before != request.query.end()) {
    auto value = parseNumber(before->second);
    if (!value) return errorResponse(request, 400, "bad-cursor", "before is a block height");
    top = std::min(top, *value == 0 ? 0 : *value - 1);
  }
  json items = json::array();
  std::uint64_t height = top;
  for (; height >= 1 && items.size() < *limit; --height) {
    auto found = ledger_.blockAt(height);
    if (found) items.push_back(headerJson(ledger_.parameters(), found->header));
  }
  json body{{"items", items}};
  if (height >= 1) body["next"] = "/api/v1/blocks?before=" + std::to_string(height + 1);
  return jsonResponse(200, body);
}

HttpResponse NodeApi::Impl::block(const HttpRequest& request, std::string_view id) const {
  std::optional<std::uint64_t> height = parseNumber(id);
  if (!height) {
    auto hash = core::BlockHash::fromHex(id);
    if (!hash) return errorResponse(request, 400, "bad-id", "a block is a height or a 64-hex hash");
    height = ledger_.heightOf(*hash);
    if (!height) return errorResponse(request, 404, "block-not-found", "no block has that hash");
  }
  auto found = ledger_.blockAt(*height);
  if (!found) {
    return errorResponse(request, 404, "block-not-found",
                         "no block at height " + std::to_string(*height));
  }
  json transactions = json::array();
  for (const auto& transaction : found->transactions) {
    transactions.push_back(chain::transactionHash(ledger_.parameters(), transaction).hex());
  }
  json attestations = json::array();
  for (const auto& attestation : ledger_.attestationsAt(*height)) {
    attestations.push_back({{"member", attestation.member.hex()},
                            {"state_root", attestation.stateRoot.hex()},
                            {"signature", attestation.signature.hex()}});
  }
  json body = headerJson(ledger_.parameters(), found->header);
  body["transactions"] = transactions;
  body["attestations"] = attestations;
  return jsonResponse(200, body);
}

// A block as its canonical encoding with its stored attestations: what a member that fell behind
// etcd's window fetches from the others (and checks by hash chain and attestations).
HttpResponse NodeApi::Impl::rawBlock(const HttpRequest& request, std::string_view id) const {
  std::optional<std::uint64_t> height = parseNumber(id);
  if (!height) return errorResponse(request, 400, "bad-id", "a raw block is fetched by height");
  auto found = ledger_.blockAt(*height);
  if (!found) {
    return errorResponse(request, 404, "block-not-found",
                         "no block at height " + std::to_string(*height));
  }
  json attestations = json::array();
  for (const auto& attestation : ledger_.attestationsAt(*height)) {
    attestations.push_back(core::toHex(core::encode(attestation)));
  }
  return jsonResponse(200, json{{"height", *height},
                                {"block", core::toHex(core::encode(*found))},
                                {"attestations", attestations}});
}

HttpResponse NodeApi::Impl::consortium(const HttpRequest&) const {
  if (options_.consortium == nullptr) {
    std::uint64_t version = 0;
    if (auto bytes = ledger_.get(chain::state_keys::consortium())) {
      if (auto record = core::decode<chain::ConsortiumRecord>(*bytes)) {
        version = record->membershipVersion;
      }
    }
    ledger::Head head = ledger_.head();
    const chain::Member& only = ledger_.genesis().members.front();
    return jsonResponse(200, json{{"mode", "solo"},
                                  {"member", only.name},
                                  {"is_member", true},
                                  {"membership_version", version},
                                  {"leader", only.name},
                                  {"height", head.height},
                                  {"final_height", head.height},
                                  {"finality_lag", 0},
                                  {"quorum", 1},
                                  {"members", json::array({{{"name", only.name},
                                                            {"key", only.key.hex()},
                                                            {"attested_height", head.height}}})},
                                  {"diverged", false}});
  }
  ordering::ConsortiumStatus status = options_.consortium->status();
  json members = json::array();
  for (const auto& member : status.members) {
    members.push_back(
        {{"name", member.name},
         {"key", member.key},
         {"attested_height", member.attestedHeight},
         {"lag",
          status.height > member.attestedHeight ? status.height - member.attestedHeight : 0}});
  }
  json etcd = json::array();
  for (const auto& member : status.etcd) {
    json entry{{"endpoint", member.endpoint}, {"reachable", member.reachable}};
    if (member.reachable) {
      entry["version"] = member.version;
      entry["member_id"] = std::to_string(member.memberId);
      entry["leader_id"] = std::to_string(member.leaderId);
      entry["has_leader"] = member.leaderId != 0;
      entry["raft_term"] = member.raftTerm;
      entry["db_size"] = member.dbSize;
    } else {
      entry["error"] = member.error;
    }
    etcd.push_back(std::move(entry));
  }
  json body{{"mode", "etcd"},
            {"member", status.memberName},
            {"is_member", status.member},
            {"membership_version", status.membershipVersion},
            {"leading", status.leading},
            {"leader", status.leaderName.empty() ? json(nullptr) : json(status.leaderName)},
            {"leader_url", status.leaderUrl},
            {"height", status.height},
            {"tip_height", status.tipHeight},
            {"final_height", status.finalHeight},
            {"finality_lag", status.height - std::min(status.height, status.finalHeight)},
            {"quorum", status.quorum},
            {"members", members},
            {"forwarding", status.forwarding},
            {"fetched_from_peers", status.fetchedFromPeers},
            {"diverged", status.diverged},
            {"etcd_reachable", status.etcdReachable},
            {"etcd", etcd}};
  if (status.diverged) body["divergence"] = status.divergence;
  if (!status.etcdError.empty()) body["etcd_error"] = status.etcdError;
  return jsonResponse(200, body);
}

HttpResponse NodeApi::Impl::transaction(const HttpRequest& request, std::string_view hash) const {
  auto parsed = core::TxHash::fromHex(hash);
  if (!parsed) return errorResponse(request, 400, "bad-id", "a transaction is its 64-hex hash");
  auto entry = ledger_.transaction(*parsed);
  if (!entry) {
    return errorResponse(request, 404, "transaction-not-found",
                         "no committed transaction has hash " + std::string(hash));
  }
  json body = transactionJson(ledger_.parameters(), entry->transaction);
  body["height"] = entry->height;
  body["index"] = entry->index;
  body["receipt"] = receiptJson(entry->receipt);
  body["final"] = entry->height <= orderer_.finalHeight();
  return jsonResponse(200, body);
}

HttpResponse NodeApi::Impl::token(const HttpRequest& request, const chain::TokenId& id) const {
  auto bytes = ledger_.get(chain::state_keys::token(id));
  auto seriesBytes = ledger_.get(chain::state_keys::series(id.series));
  if (!bytes || !seriesBytes) {
    return errorResponse(request, 404, "token-not-found",
                         "token " + id.toString() + " does not exist");
  }
  auto record = core::decode<chain::TokenRecord>(*bytes);
  auto series = core::decode<chain::SeriesRecord>(*seriesBytes);
  if (!record || !series)
    return errorResponse(request, 500, "state-corrupt", "a record is damaged");
  json rights = json::array();
  for (std::size_t i = 0; i < series->rights.size(); ++i) {
    rights.push_back(
        {{"id", series->rights[i].id},
         {"kind", series->rights[i].kind},
         {"uses", series->rights[i].uses},
         {"uses_left", i < record->rightUsesLeft.size() ? record->rightUsesLeft[i] : 0}});
  }
  return jsonResponse(200, json{{"id", id.toString()},
                                {"series", id.series.value()},
                                {"serial", id.serial},
                                {"label", chain::serialLabel(id.serial, series->editionCap)},
                                {"title", series->title},
                                {"owner", record->burned ? "" : record->owner.hex()},
                                {"minted_at", record->mintedAt.unixMillis()},
                                {"last_transfer_at", record->lastTransferAt.unixMillis()},
                                {"transfer_count", record->transferCount},
                                {"burned", record->burned},
                                {"frozen", record->frozen},
                                {"frozen_reason", record->frozenReason},
                                {"policy", policyJson(series->currentPolicy())},
                                {"rights", rights}});
}

HttpResponse NodeApi::Impl::tokenHistory(const HttpRequest& request,
                                         const chain::TokenId& id) const {
  auto limit = pageLimit(request);
  if (!limit) return errorResponse(request, 400, "bad-limit", "limit is 1..200");
  auto cursor = request.query.count("cursor") ? request.query.at("cursor") : std::string();
  auto page = ledger_.tokenHistory(id, cursor, *limit);
  if (!page) return errorResponse(request, page.status());
  json items = json::array();
  for (const auto& event : page->items) items.push_back(eventJson(event));
  json body{{"token", id.toString()}, {"items", items}};
  if (!page->nextCursor.empty()) body["next_cursor"] = page->nextCursor;
  return jsonResponse(200, body);
}

HttpResponse NodeApi::Impl::certificate(const HttpRequest& request,
                                        const chain::TokenId& id) const {
  // Proven under the head, with that block's signatures once a quorum of members gave them.
  auto document = ledger::buildCertificate(ledger_, id, [this](std::uint64_t height) {
    (void)orderer_.awaitFinal(height, std::chrono::seconds(3));
  });
  if (!document) return errorResponse(request, document.status());
  HttpResponse response{200, "application/json", std::move(document).value(), {}};
  response.headers.emplace_back("Content-Disposition", "inline; filename=\"certificate-" +
                                                           std::to_string(id.series.value()) + "-" +
                                                           std::to_string(id.serial) + ".json\"");
  return response;
}

HttpResponse NodeApi::Impl::series(const HttpRequest& request, std::string_view id) const {
  auto number = parseNumber(id);
  if (!number) return errorResponse(request, 400, "bad-id", "a series is its decimal id");
  auto bytes = ledger_.get(chain::state_keys::series(chain::SeriesId(*number)));
  if (!bytes) {
    return errorResponse(request, 404, "series-not-found",
                         "series " + std::string(id) + " does not exist");
  }
  auto record = core::decode<chain::SeriesRecord>(*bytes);
  if (!record) return errorResponse(request, 500, "state-corrupt", "the series record is damaged");
  return jsonResponse(200, seriesJson(*record, ledger_.holdersOf(record->id)));
}

// A blind box as the chain holds it: the contents (the published odds, with each item's title),
// H(seed), and once revealed the seed and the sealing block's hash, from which anyone recomputes
// every box's item (docs/FAIRNESS.md).
HttpResponse NodeApi::Impl::blindBox(const HttpRequest& request, std::string_view id) const {
  auto number = parseNumber(id);
  if (!number) return errorResponse(request, 400, "bad-id", "a series is its decimal id");
  auto bytes = ledger_.get(chain::state_keys::blindBox(chain::SeriesId(*number)));
  if (!bytes) {
    return errorResponse(request, 404, "blind-box-not-found",
                         "series " + std::string(id) + " is not a blind box");
  }
  auto record = core::decode<chain::BlindBoxRecord>(*bytes);
  if (!record) return errorResponse(request, 500, "state-corrupt", "the blind box is damaged");
  std::uint64_t total = 0;
  for (const auto& item : record->contents) total += item.count;
  json contents = json::array();
  for (const auto& item : record->contents) {
    json entry{
        {"series", item.series.value()},
        {"count", item.count},
        {"odds", total == 0 ? 0.0 : static_cast<double>(item.count) / static_cast<double>(total)}};
    if (auto itemBytes = ledger_.get(chain::state_keys::series(item.series))) {
      if (auto itemSeries = core::decode<chain::SeriesRecord>(*itemBytes)) {
        entry["title"] = itemSeries->title;
        entry["media_hash"] = itemSeries->mediaHash.hex();
        entry["media_type"] = itemSeries->mediaType;
      }
    }
    contents.push_back(std::move(entry));
  }
  static constexpr std::array<std::string_view, 5> kStages = {"", "committed", "sealed", "revealed",
                                                              "expired"};
  const auto stage = static_cast<std::size_t>(record->stage);
  const bool revealed = record->stage == chain::BlindBoxStage::kRevealed;
  json sealingHash = nullptr;
  if (record->sealedAtHeight > 0) {
    if (auto sealing = ledger_.blockAt(record->sealedAtHeight)) {
      sealingHash = chain::blockHash(ledger_.parameters(), sealing->header).hex();
    }
  }
  return jsonResponse(
      200, json{{"series", record->boxSeries.value()},
                {"contents", contents},
                {"boxes", total},
                {"seed_commitment", record->seedCommitment.hex()},
                {"reveal_deadline", record->revealDeadline.unixMillis()},
                {"stage", stage < kStages.size() ? kStages[stage] : "unknown"},
                {"sealed_at_height", record->sealedAtHeight},
                {"sealing_block_hash", sealingHash},
                {"seed", revealed ? json(record->seed.hex()) : json(nullptr)},
                {"shuffle_seed", revealed ? json(record->shuffleSeed.hex()) : json(nullptr)},
                {"opened", record->opened}});
}

// A lottery as the chain holds it, with the commit block's hash: with the published entrant list,
// everything needed to recompute the winners (docs/FAIRNESS.md).
HttpResponse NodeApi::Impl::lottery(const HttpRequest& request, std::string_view id) const {
  auto number = parseNumber(id);
  if (!number) return errorResponse(request, 400, "bad-id", "a lottery is its decimal id");
  auto bytes = ledger_.get(chain::state_keys::lottery(chain::LotteryId(*number)));
  if (!bytes) {
    return errorResponse(request, 404, "lottery-not-found",
                         "lottery " + std::string(id) + " does not exist");
  }
  auto record = core::decode<chain::LotteryRecord>(*bytes);
  if (!record) return errorResponse(request, 500, "state-corrupt", "the lottery record is damaged");
  auto commitBlock = ledger_.blockAt(record->committedAtHeight);
  json body{{"id", record->id.value()},
            {"issuer", record->issuer.hex()},
            {"series", record->series.value()},
            {"entrants_root", record->entrantsRoot.hex()},
            {"entrant_count", record->entrantCount},
            {"winner_count", record->winnerCount},
            {"seed_commitment", record->seedCommitment.hex()},
            {"committed_at_height", record->committedAtHeight},
            {"commit_block_hash",
             commitBlock ? json(chain::blockHash(ledger_.parameters(), commitBlock->header).hex())
                         : json(nullptr)},
            {"drawn", record->drawn},
            {"seed", record->drawn ? json(record->seed.hex()) : json(nullptr)},
            {"winners", record->winners}};
  return jsonResponse(200, body);
}

HttpResponse NodeApi::Impl::account(const HttpRequest&, const core::Address& address) const {
  chain::AccountRecord record;
  if (auto bytes = ledger_.get(chain::state_keys::account(address))) {
    if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) record = *decoded;
  }
  json roles = json::array();
  if ((record.roles & chain::kRoleAdmin) != 0) roles.push_back("admin");
  if ((record.roles & chain::kRoleGovernance) != 0) roles.push_back("governance");
  if ((record.roles & chain::kRoleVerifier) != 0) roles.push_back("verifier");
  if ((record.roles & chain::kRoleMarket) != 0) roles.push_back("market");
  return jsonResponse(200,
                      json{{"address", address.hex()},
                           {"nonce", record.nonce},
                           {"roles", roles},
                           {"issuer", ledger_.get(chain::state_keys::issuer(address)).has_value()},
                           {"frozen", record.frozen},
                           {"frozen_reason", record.frozenReason}});
}

HttpResponse NodeApi::Impl::accountTokens(const HttpRequest& request,
                                          const core::Address& address) const {
  auto limit = pageLimit(request);
  if (!limit) return errorResponse(request, 400, "bad-limit", "limit is 1..200");
  auto cursor = request.query.count("cursor") ? request.query.at("cursor") : std::string();
  auto page = ledger_.tokensOf(address, cursor, *limit);
  if (!page) return errorResponse(request, page.status());
  json items = json::array();
  for (const auto& id : page->items) {
    items.push_back({{"id", id.toString()}, {"series", id.series.value()}, {"serial", id.serial}});
  }
  json body{{"address", address.hex()}, {"items", items}};
  if (!page->nextCursor.empty()) body["next_cursor"] = page->nextCursor;
  return jsonResponse(200, body);
}

void NodeApi::Impl::publish(const ledger::CommittedBlock& block) {
  json blockEvent{{"height", block.head.height},
                  {"hash", block.head.blockHash.hex()},
                  {"state_root", block.head.stateRoot.hex()},
                  {"timestamp", block.head.timestamp.unixMillis()},
                  {"transaction_count", block.transactionCount}};
  std::string message = "event: block\nid: " + std::to_string(block.head.height) +
                        "\ndata: " + blockEvent.dump() + "\n\n";
  std::lock_guard lock(streamsMutex_);
  std::erase_if(blockStreams_, [&](const auto& stream) { return !stream->send(message); });
  if (accountStreams_.empty()) return;
  for (const ledger::AccountEvent& event : block.accountEvents) {
    auto [first, last] = accountStreams_.equal_range(event.address);
    if (first == last) continue;
    json data = eventJson(event.event);
    data["token"] = event.token.toString();
    data["address"] = event.address.hex();
    std::string text = "event: token\ndata: " + data.dump() + "\n\n";
    for (auto it = first; it != last;) {
      if (!it->second->send(text)) {
        it = accountStreams_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

namespace {

// The route template a path belongs to, so metrics do not grow with every id.
std::string routeLabel(const std::string& path) {
  auto parts = splitPath(path);
  if (parts.size() == 1 &&
      (parts[0] == "healthz" || parts[0] == "readyz" || parts[0] == "metrics")) {
    return "/" + std::string(parts[0]);
  }
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") return "other";
  std::string label = "/api/v1/" + std::string(parts[2]);
  for (std::size_t i = 3; i < parts.size() && i < 7; ++i) {
    bool word = parts[i] == "history" || parts[i] == "certificate" || parts[i] == "tokens" ||
                parts[i] == "blocks" || parts[i] == "accounts";
    label += word ? "/" + std::string(parts[i]) : std::string("/{id}");
  }
  return label;
}

}  // namespace

void NodeApi::Impl::observe(const HttpRequest& request, unsigned status,
                            std::chrono::microseconds elapsed) {
  double seconds = static_cast<double>(elapsed.count()) / 1e6;
  std::pair<std::string, std::string> key{request.method.empty() ? "?" : request.method,
                                          routeLabel(request.path)};
  MetricsShard& shard = metricsShards_[metricsShardOfThisThread(metricsShards_.size())];
  std::lock_guard lock(shard.mutex);
  RouteMetrics& route = shard.routes[std::move(key)];
  ++route.byStatus[status];
  ++route.count;
  route.sumSeconds += seconds;
  for (std::size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
    if (seconds <= kLatencyBucketsSeconds[i]) ++route.buckets[i];
  }
}

HttpResponse NodeApi::Impl::metrics() const {
  std::string out;
  out += "# HELP jiancang_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE jiancang_http_requests_total counter\n";
  std::string latency =
      "# HELP jiancang_http_request_duration_seconds Time from a request's first byte to its "
      "answer.\n# TYPE jiancang_http_request_duration_seconds histogram\n";
  std::map<std::pair<std::string, std::string>, RouteMetrics> routes;
  for (MetricsShard& shard : metricsShards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [key, counted] : shard.routes) routes[key].add(counted);
  }
  for (const auto& [key, route] : routes) {
    std::string labels = "method=\"" + key.first + "\",route=\"" + key.second + "\"";
    for (const auto& [status, count] : route.byStatus) {
      out += "jiancang_http_requests_total{" + labels + ",status=\"" + std::to_string(status) +
             "\"} " + std::to_string(count) + "\n";
    }
    for (std::size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", kLatencyBucketsSeconds[i]);
      latency += "jiancang_http_request_duration_seconds_bucket{" + labels + ",le=\"" + bound +
                 "\"} " + std::to_string(route.buckets[i]) + "\n";
    }
    latency += "jiancang_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(route.count) + "\n";
    latency += "jiancang_http_request_duration_seconds_sum{" + labels + "} " +
               std::to_string(route.sumSeconds) + "\n";
    latency += "jiancang_http_request_duration_seconds_count{" + labels + "} " +
               std::to_string(route.count) + "\n";
  }
  out += latency;
  ordering::OrdererStats stats = orderer_.stats();
  auto gauge = [&](const char* name, const char* help, const char* type, double value) {
    char number[64];
    std::snprintf(number, sizeof number, "%.17g", value);
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + number + "\n";
  };
  gauge("jiancang_mempool_transactions", "Transactions waiting to be ordered.", "gauge",
        static_cast<double>(stats.mempoolSize));
  gauge("jiancang_block_height", "Height of the last committed block.", "gauge",
        static_cast<double>(stats.height));
  gauge("jiancang_final_height", "Height of the last block signed by a quorum of members.", "gauge",
        static_cast<double>(stats.finalHeight));
  gauge("jiancang_blocks_committed_total", "Blocks committed since start.", "counter",
        static_cast<double>(stats.blocksCommitted));
  gauge("jiancang_transactions_committed_total", "Transactions committed since start.", "counter",
        static_cast<double>(stats.transactionsCommitted));
  gauge("jiancang_submissions_refused_busy_total", "Submissions refused as busy.", "counter",
        static_cast<double>(stats.rejectedBusy));
  gauge("jiancang_commit_seconds_last", "Cut-to-durable time of the last block.", "gauge",
        stats.lastCommitMillis / 1000.0);
  gauge("jiancang_commit_seconds_sum", "Cut-to-durable time summed over blocks.", "counter",
        stats.totalCommitMillis / 1000.0);
  gauge("jiancang_writable", "1 while the node accepts writes.", "gauge", stats.writable ? 1 : 0);
  return HttpResponse{200, "text/plain; version=0.0.4", std::move(out), {}};
}

NodeApi::NodeApi(ledger::Ledger& ledger, ordering::Orderer& orderer, NodeApiOptions options)
    : impl_(std::make_unique<Impl>(ledger, orderer, options)) {}
NodeApi::~NodeApi() = default;
void NodeApi::handle(const std::shared_ptr<Exchange>& exchange) { impl_->handle(exchange); }
void NodeApi::observe(const HttpRequest& request, unsigned status,
                      std::chrono::microseconds elapsed) {
  impl_->observe(request, status, elapsed);
}
void NodeApi::closeStreams() { impl_->closeStreams(); }

}  // namespace jiancang::api
