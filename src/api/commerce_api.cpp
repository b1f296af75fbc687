#include <api/commerce_api.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <api/json_answers.h>
#include <api/queue_events.h>
#include <api/request_helpers.h>

namespace jiancang::api {
namespace {

using nlohmann::json;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::size_t kMaxFieldBytes = 256;
constexpr std::size_t kMaxWhitelist = 10'000;
constexpr std::int64_t kMaxTimestampMillis = 253'402'300'799'000;  // 9999-12-31

bool isGet(const HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string dropState(const platform::Drop& drop, core::Timestamp now) {
  if (drop.mode == platform::DropMode::kAirdrop) return "airdropped";
  if (drop.lottery) {
    if (now < drop.startsAt) return "upcoming";
    if (now < drop.endsAt) return "entering";
    // "open" after the end: the entrants are about to be numbered.
    if (drop.lottery->state == "open" || drop.lottery->state == "committing" ||
        drop.lottery->state == "drawing" || drop.lottery->state == "settling") {
      return "drawing";
    }
    return drop.lottery->state == "settled" ? "drawn" : "draw-failed";
  }
  if (now < drop.startsAt) {
    return drop.priority && now >= drop.priority->startsAt ? "priority" : "upcoming";
  }
  if (now >= drop.endsAt) return "ended";
  return drop.reserved >= drop.stock ? "sold-out" : "live";
}

json dropJson(const platform::Drop& drop) {
  json out{{"id", drop.id},
           {"series_draft_id", drop.seriesDraftId},
           {"series_id", drop.seriesId},
           {"title", drop.title},
           {"price_fen", drop.price.value()},
           {"price", drop.price.toYuanString()},
           {"stock", drop.stock},
           {"available", drop.stock - std::min(drop.reserved, drop.stock)},
           {"per_identity_limit", drop.perIdentityLimit},
           {"starts_at", drop.startsAt.unixMillis()},
           {"ends_at", drop.endsAt.unixMillis()},
           {"payment_window_seconds", drop.paymentWindow.count() / 1000},
           {"state", dropState(drop, core::SystemClock().now())}};
  out["priority"] = nullptr;
  if (drop.priority) {
    out["priority"] = {{"starts_at", drop.priority->startsAt.unixMillis()},
                       {"holders_of_series", drop.priority->holdersOfSeries},
                       {"whitelist_size", drop.priority->whitelistSize}};
  }
  out["mode"] = platform::dropModeName(drop.mode);
  if (drop.lottery) {
    const platform::LotteryStatus& lottery = *drop.lottery;
    auto hexOr = [](const auto& value) { return value ? json(value->hex()) : json(nullptr); };
    out["lottery"] = {{"state", lottery.state},
                      {"seed_commitment", lottery.commitment.hex()},
                      {"seed", hexOr(lottery.seed)},
                      {"entrants", lottery.entrants},
                      {"winners", lottery.winners},
                      {"entrants_root", hexOr(lottery.root)},
                      {"chain_lottery_id",
                       lottery.chainLotteryId == 0 ? json(nullptr) : json(lottery.chainLotteryId)},
                      {"commit_tx", hexOr(lottery.commitTx)},
                      {"draw_tx", hexOr(lottery.drawTx)},
                      {"reason", lottery.reason.empty() ? json(nullptr) : json(lottery.reason)}};
  }
  if (drop.queue.enabled) {
    out["admit_per_second"] = drop.queue.admitPerSecond;
    out["queue_commitment"] = drop.queue.commitment.hex();
    out["queue_seed"] = drop.queue.seed ? json(drop.queue.seed->hex()) : json(nullptr);
  }
  return out;
}

json entryJson(const platform::LotteryEntry& entry) {
  return {{"drop_id", entry.dropId},
          {"address", entry.address.hex()},
          {"entered_at", entry.enteredAt.unixMillis()},
          {"index", entry.index ? json(*entry.index) : json(nullptr)},
          {"won", entry.won},
          {"order_id", entry.orderId == 0 ? json(nullptr) : json(entry.orderId)}};
}

json orderJson(const platform::Order& order) {
  json history = json::array();
  for (const auto& event : order.history) {
    history.push_back({{"at", event.at.unixMillis()},
                       {"state", platform::orderStateName(event.state)},
                       {"detail", event.detail}});
  }
  json out{{"id", order.id},
           {"drop_id", order.dropId},
           {"state", platform::orderStateName(order.state)},
           {"amount_fen", order.amount.value()},
           {"amount", order.amount.toYuanString()},
           {"idempotency_key", order.idempotencyKey},
           {"created_at", order.createdAt.unixMillis()},
           {"expires_at", order.expiresAt.unixMillis()},
           {"updated_at", order.updatedAt.unixMillis()},
           {"series_id", order.seriesId},
           {"history", history}};
  if (!order.paymentUrl.empty()) out["payment_url"] = order.paymentUrl;
  if (order.serial != 0) {
    out["serial"] = order.serial;
    out["token"] = std::to_string(order.seriesId) + "#" + std::to_string(order.serial);
  }
  if (!order.mintTx.isZero()) {
    out["mint_tx"] = order.mintTx.hex();
    out["mint_height"] = order.mintHeight;
  }
  return out;
}

// application/x-www-form-urlencoded, only what the sandbox page sends: "action=pay".
std::string formField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    auto end = body.find('&');
    std::string_view pair = body.substr(0, end);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
  }
  return {};
}

}  // namespace

class CommerceApi::Impl {
 public:
  Impl(platform::Accounts& accounts, platform::Drops& drops, platform::WaitingRoom& waitingRoom,
       platform::Lotteries& lotteries, platform::BlindBoxes& blindBoxes,
       platform::SandboxPayments& sandbox, unsigned workerThreads)
      : accounts_(accounts),
        drops_(drops),
        waitingRoom_(waitingRoom),
        lotteries_(lotteries),
        blindBoxes_(blindBoxes),
        sandbox_(sandbox),
        workers_(std::max(1u, workerThreads)) {}

  void handle(const std::shared_ptr<Exchange>& exchange) {
    if (answeredSoldOutAtOnce(*exchange)) return;
    boost::asio::post(workers_, [this, exchange] {
      try {
        route(*exchange);
      } catch (...) {
        exchange->respond(errorResponse(exchange->request(), 500, "internal",
                                        "the request failed unexpectedly; its id is in the log"));
      }
    });
  }

  void stop() {
    {
      std::lock_guard lock(watchMutex_);
      stopping_ = true;
    }
    watchWake_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    workers_.join();
    queueEvents_.stop();
    // The order streams too are let go while the HTTP server still exists (see QueueEvents).
    std::lock_guard lock(watchMutex_);
    watches_.clear();
  }

 private:
  static void notAllowed(Exchange& exchange, std::string_view allowed) {
    HttpResponse response =
        errorResponse(exchange.request(), 405, "method-not-allowed",
                      "use " + std::string(allowed) + " on " + exchange.request().path);
    response.headers.emplace_back("Allow", std::string(allowed));
    exchange.respond(std::move(response));
  }
  static void noRoute(Exchange& exchange) {
    exchange.respond(errorResponse(exchange.request(), 404, "no-such-route",
                                   "there is no " + exchange.request().path + " in this API"));
  }

  // The crowd after a sell-out, answered on the HTTP thread from memory alone (a cached session,
  // the drop's sold-out hint and its buyers): no hand-off to a worker, no database. Anything it
  // is not sure of goes the normal way.
  bool answeredSoldOutAtOnce(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    if (request.method != "POST") return false;
    auto parts = splitPath(request.path);
    if (parts.size() != 5 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "drops" ||
        parts[4] != "orders") {
      return false;
    }
    auto dropId = parseId(parts[3]);
    const std::string key = requestHeader(request, "idempotency-key");
    // A key placeOrder() would refuse gets its refusal there.
    const bool keyValid = platform::validIdempotencyKey(key);
    if (!dropId || !keyValid || !checkOrigin(request).isOk()) return false;
    auto session = accounts_.cachedSession(requestCookie(request, kSessionCookie));
    if (!session || session->user.mustChangePassword || !session->user.identityVerified) {
      return false;
    }
    const std::string csrf = requestHeader(request, "x-csrf-token");
    if (csrf.empty() ||
        !core::constantTimeEqual(core::asBytes(csrf), core::asBytes(session->csrfToken))) {
      return false;
    }
    auto soldOut = drops_.soldOutFromMemory(session->user.id, *dropId, key);
    if (!soldOut) return false;
    HttpResponse response = errorResponse(request, *soldOut);
    response.status = 409;
    exchange.respond(std::move(response));
    return true;
  }

  void route(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    auto parts = splitPath(request.path);
    if (parts[0] == "sandbox") return sandboxPage(exchange, parts);
    parts.erase(parts.begin(), parts.begin() + 2);  // "api", "v1"
    if (parts.size() == 3 && parts[0] == "payments" && parts[1] == "sandbox" &&
        parts[2] == "notify") {
      if (request.method != "POST") return notAllowed(exchange, "POST");
      return notify(exchange);
    }
    if (!isGet(request)) {
      if (auto refused = checkOrigin(request); !refused.isOk()) {
        return exchange.respond(errorResponse(request, refused));
      }
    }
    if (parts[0] == "drops" && parts.size() <= 2 && isGet(request)) {
      return publicDrops(exchange, parts);
    }
    if (parts[0] == "drops" && parts.size() == 4 && parts[2] == "queue" && parts[3] == "draw") {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      return queueDraw(exchange, parts);
    }
    if (parts[0] == "drops" && parts.size() == 4 && parts[2] == "lottery" &&
        parts[3] == "entrants") {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      return lotteryEntrants(exchange, parts);
    }
    auto session = authenticateRequest(exchange, accounts_);
    if (!session) return;
    if (parts[0] == "drops") return dropsWrite(exchange, *session, parts);
    if (parts[0] == "orders") return orders(exchange, *session, parts);
    if (parts[0] == "airdrops" && parts.size() == 1) {
      if (request.method != "POST") return notAllowed(exchange, "POST");
      return createAirdrop(exchange, *session);
    }
    if (parts[0] == "blind-boxes" && (parts.size() == 2 || parts.size() == 3)) {
      if (request.method != "POST") return notAllowed(exchange, "POST");
      return blindBoxAction(exchange, *session, parts);
    }
    noRoute(exchange);
  }

  // POST /blind-boxes/{draft id}/reveal (its issuer), /blind-boxes/open and /refund (a box's
  // holder, {"token": "SERIES#SERIAL"}).
  void blindBoxAction(Exchange& exchange, const platform::AuthenticatedSession& session,
                      const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    const std::int64_t user = session.user.id;
    if (parts.size() == 3) {
      auto id = parseId(parts[1]);
      if (parts[2] != "reveal") return noRoute(exchange);
      if (!id) {
        return exchange.respond(
            errorResponse(request, 400, "bad-id", "a blind box is its series draft id"));
      }
      auto revealed = blindBoxes_.reveal(user, *id);
      if (!revealed) return exchange.respond(errorResponse(request, revealed.status()));
      return exchange.respond(
          jsonResponse(200, json{{"blind_box",
                                  {{"series", revealed->boxSeries.value()},
                                   {"stage", "revealed"},
                                   {"sealed_at_height", revealed->sealedAtHeight},
                                   {"seed", revealed->seed.hex()},
                                   {"shuffle_seed", revealed->shuffleSeed.hex()}}}}));
    }
    if (parts[1] != "open" && parts[1] != "refund") return noRoute(exchange);
    auto body = jsonObjectBody(exchange, kMaxFieldBytes);
    if (!body) return;
    auto tokenText = body->text("token", 64);
    if (!tokenText) return exchange.respond(errorResponse(request, tokenText.status()));
    auto token = parseTokenId(*tokenText);
    if (!token) {
      return exchange.respond(errorResponse(request, 400, "bad-token",
                                            "token is \"SERIES#SERIAL\", both decimal numbers"));
    }
    auto label = [](const chain::TokenId& id) {
      return std::to_string(id.series.value()) + "#" + std::to_string(id.serial);
    };
    if (parts[1] == "open") {
      auto opened = blindBoxes_.open(user, *token);
      if (!opened) return exchange.respond(errorResponse(request, opened.status()));
      return exchange.respond(jsonResponse(200, json{{"opening",
                                                      {{"box", label(opened->box)},
                                                       {"item", label(opened->item)},
                                                       {"item_series", opened->item.series.value()},
                                                       {"item_serial", opened->item.serial},
                                                       {"tx_hash", opened->txHash.hex()},
                                                       {"height", opened->height}}}}));
    }
    auto refunded = blindBoxes_.refund(user, *token);
    if (!refunded) return exchange.respond(errorResponse(request, refunded.status()));
    return exchange.respond(jsonResponse(
        200, json{{"refund",
                   {{"box", label(refunded->box)},
                    {"order", refunded->order ? orderJson(*refunded->order) : json(nullptr)}}}}));
  }

  // ?from (default first) and ?limit (default 1,000): whole numbers, or nothing.
  static std::optional<std::pair<std::uint64_t, std::uint64_t>> pageOf(const HttpRequest& request,
                                                                       std::uint64_t first) {
    auto number = [&](const char* name, std::uint64_t fallback) -> std::optional<std::uint64_t> {
      auto found = request.query.find(name);
      if (found == request.query.end()) return fallback;
      if (found->second == "0") return 0;
      auto parsed = parseId(found->second);
      if (!parsed) return std::nullopt;
      return static_cast<std::uint64_t>(*parsed);
    };
    const auto from = number("from", first);
    const auto limit = number("limit", 1'000);
    if (!from || !limit) return std::nullopt;
    return std::make_pair(*from, *limit);
  }

  // Public: the numbered entrants (from 0) and who won, with the lottery's chain references.
  void lotteryEntrants(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    auto id = parseId(parts[1]);
    if (!id)
      return exchange.respond(errorResponse(request, 400, "bad-id", "a drop id is a number"));
    auto page = pageOf(request, 0);
    if (!page) {
      return exchange.respond(
          errorResponse(request, 400, "page-out-of-range", "from and limit are whole numbers"));
    }
    auto entrants = lotteries_.entrants(*id, page->first, page->second);
    if (!entrants) return exchange.respond(errorResponse(request, entrants.status()));
    auto drop = drops_.find(*id);
    if (!drop) return exchange.respond(errorResponse(request, drop.status()));
    json list = json::array();
    for (const auto& entrant : entrants->page) {
      list.push_back(
          {{"index", entrant.index}, {"address", entrant.address.hex()}, {"won", entrant.won}});
    }
    exchange.respond(jsonResponse(
        200, json{{"drop_id", *id}, {"lottery", dropJson(*drop)["lottery"]}, {"entrants", list}}));
  }

  // {"series_draft_id", "title", and "phones": [...] or "holders_of_series" + "at_height"}.
  void createAirdrop(Exchange& exchange, const platform::AuthenticatedSession& session) {
    const HttpRequest& request = exchange.request();
    auto body = jsonObjectBody(exchange, kMaxFieldBytes);
    if (!body) return;
    const json& document = body->document();
    auto title = body->text("title");
    auto series = body->number(document, "series_draft_id", INT64_MAX);
    auto holders = body->number(document, "holders_of_series", INT64_MAX, 0);
    auto height = body->number(document, "at_height", INT64_MAX, 0);
    for (const core::Status& status :
         {title.status(), series.status(), holders.status(), height.status()}) {
      if (!status.isOk()) return exchange.respond(errorResponse(request, status));
    }
    platform::AirdropFields fields;
    fields.seriesDraftId = static_cast<std::int64_t>(*series);
    fields.title = *title;
    fields.holdersOfSeries = *holders;
    fields.atHeight = *height;
    if (document.contains("phones")) {
      auto phones = phoneList(document["phones"], "recipients-invalid", "phones");
      if (!phones) return exchange.respond(errorResponse(request, phones.status()));
      fields.phones = *phones;
    }
    auto made = drops_.airdrop(session.user.id, fields);
    if (!made) return exchange.respond(errorResponse(request, made.status()));
    json skipped = json::array();
    for (const auto& skip : made->skipped) {
      skipped.push_back({{"recipient", skip.recipient}, {"reason", skip.reason}});
    }
    exchange.respond(jsonResponse(
        201,
        json{{"drop", dropJson(made->drop)}, {"orders", made->orderIds}, {"skipped", skipped}}));
  }

  void publicDrops(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    if (parts.size() == 1) {
      auto list = drops_.list();
      if (!list) return exchange.respond(errorResponse(request, list.status()));
      json out = json::array();
      for (const auto& drop : *list) out.push_back(dropJson(drop));
      return exchange.respond(jsonResponse(200, json{{"drops", out}}));
    }
    auto id = parseId(parts[1]);
    if (!id)
      return exchange.respond(errorResponse(request, 400, "bad-id", "a drop id is a number"));
    auto drop = drops_.find(*id);
    if (!drop) return exchange.respond(errorResponse(request, drop.status()));
    exchange.respond(jsonResponse(200, json{{"drop", dropJson(*drop)}}));
  }

  // Public: the committed seed, revealed at the draw, and a page of entrants by place.
  void queueDraw(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    auto id = parseId(parts[1]);
    if (!id)
      return exchange.respond(errorResponse(request, 400, "bad-id", "a drop id is a number"));
    auto page = pageOf(request, 1);
    if (!page) {
      return exchange.respond(
          errorResponse(request, 400, "page-out-of-range", "from and limit are whole numbers"));
    }
    auto draw = waitingRoom_.draw(*id, page->first, page->second);
    if (!draw) return exchange.respond(errorResponse(request, draw.status()));
    json entrants = json::array();
    for (const auto& entrant : draw->page) {
      entrants.push_back({{"position", entrant.position},
                          {"address", entrant.address.hex()},
                          {"drawn", entrant.drawn}});
    }
    exchange.respond(jsonResponse(
        200, json{{"drop_id", *id},
                  {"commitment", draw->commitment.hex()},
                  {"seed", draw->seed ? json(draw->seed->hex()) : json(nullptr)},
                  {"drawn_at", draw->drawnAt ? json(draw->drawnAt->unixMillis()) : json(nullptr)},
                  {"entrants_total", draw->entrants},
                  {"drawn_total", draw->drawnEntrants},
                  {"entrants", entrants}}));
  }

  void dropsWrite(Exchange& exchange, const platform::AuthenticatedSession& session,
                  const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    if (parts.size() == 1) {
      if (request.method != "POST") return notAllowed(exchange, "GET, POST");
      return createDrop(exchange, session);
    }
    auto id = parseId(parts[1]);
    if (!id)
      return exchange.respond(errorResponse(request, 400, "bad-id", "a drop id is a number"));
    if (parts.size() == 4 && parts[2] == "queue" && parts[3] == "events") {
      if (request.method != "GET") return notAllowed(exchange, "GET");
      auto place = waitingRoom_.place(session.user.id, *id);
      if (!place) return exchange.respond(errorResponse(request, place.status()));
      auto stream = exchange.openStream();
      if (stream) queueEvents_.watch(session.user.id, *place, std::move(stream));
      return;
    }
    if (parts.size() > 3) return noRoute(exchange);
    if (parts.size() == 2) return notAllowed(exchange, "GET");
    if (parts[2] == "queue") {
      if (request.method != "POST" && !isGet(request)) return notAllowed(exchange, "GET, POST");
      const bool joining = request.method == "POST";
      auto place = joining ? waitingRoom_.join(session.user.id, *id)
                           : waitingRoom_.place(session.user.id, *id);
      if (!place) {
        HttpResponse response = errorResponse(request, place.status());
        if (place.status().reason() == "sold-out") response.status = 409;
        return exchange.respond(std::move(response));
      }
      return exchange.respond(jsonResponse(200, json{{"place", queuePlaceJson(*place)}}));
    }
    if (parts[2] == "lottery") {
      if (request.method != "POST" && !isGet(request)) return notAllowed(exchange, "GET, POST");
      const bool entering = request.method == "POST";
      auto entry = entering ? lotteries_.enter(session.user.id, *id)
                            : lotteries_.entry(session.user.id, *id);
      if (!entry) return exchange.respond(errorResponse(request, entry.status()));
      return exchange.respond(
          jsonResponse(entering ? 201 : 200, json{{"entry", entryJson(*entry)}}));
    }
    if (parts[2] == "figures") {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      if (!session.user.hasRole(platform::kRoleOperator)) {
        return exchange.respond(
            errorResponse(request, 403, "not-operator", "only operators see sales figures"));
      }
      auto figures = drops_.figures(*id);
      if (!figures) return exchange.respond(errorResponse(request, figures.status()));
      auto queue = waitingRoom_.progress(*id);
      if (!queue && queue.status().reason() != "no-waiting-room") {
        return exchange.respond(errorResponse(request, queue.status()));
      }
      const std::uint64_t queued = queue ? queue->entrants : 0;  // no waiting room: no queue
      return exchange.respond(jsonResponse(200, json{{"figures",
                                                      {{"stock", figures->stock},
                                                       {"available", figures->available},
                                                       {"attempts", figures->attempts},
                                                       {"queue", queued},
                                                       {"pending", figures->pending},
                                                       {"paid", figures->paid},
                                                       {"delivered", figures->delivered},
                                                       {"expired", figures->expired},
                                                       {"refunded", figures->refunded},
                                                       {"mint_failed", figures->mintFailed}}}}));
    }
    if (parts[2] == "orders") {
      if (request.method != "POST") return notAllowed(exchange, "POST");
      // The key travels in the Idempotency-Key header, as payment APIs have it.
      std::string key = requestHeader(request, "idempotency-key");
      if (key.empty()) {
        return exchange.respond(errorResponse(
            request, 400, "idempotency-key",
            "send an Idempotency-Key header: the same key for a retry of the same purchase"));
      }
      auto order = drops_.placeOrder(session.user, *id, key);
      if (!order) {
        HttpResponse response = errorResponse(request, order.status());
        if (order.status().reason() == "sold-out") response.status = 409;
        return exchange.respond(std::move(response));
      }
      return exchange.respond(jsonResponse(201, json{{"order", orderJson(*order)}}));
    }
    noRoute(exchange);
  }

  // {"starts_at", "holders_of_series" (0: none), "whitelist": [phone...]}; Drops checks the rest.
  static core::Result<platform::PriorityWindow> priorityWindow(const RequestBody& body,
                                                               const json& object) {
    if (!object.is_object()) {
      return core::invalidArgument("wrong-type", "priority is an object");
    }
    auto starts = body.number(object, "starts_at", kMaxTimestampMillis);
    if (!starts) return starts.status();
    auto series = body.number(object, "holders_of_series", INT64_MAX, 0);
    if (!series) return series.status();
    platform::PriorityWindow window;
    window.startsAt = core::Timestamp::fromUnixMillis(static_cast<std::int64_t>(*starts));
    window.holdersOfSeries = *series;
    if (object.contains("whitelist")) {
      auto phones = phoneList(object["whitelist"], "priority-window-invalid", "whitelist");
      if (!phones) return phones.status();
      window.whitelist = *phones;
    }
    return window;
  }

  // A JSON list of at most 10,000 phone numbers (Drops checks each number); `reason` if not.
  static core::Result<std::vector<std::string>> phoneList(const json& list, const char* reason,
                                                          const std::string& name) {
    if (!list.is_array() || list.size() > kMaxWhitelist) {
      return core::invalidArgument(reason, name + " is a list of at most 10,000 phone numbers");
    }
    std::vector<std::string> phones;
    for (const json& phone : list) {
      if (!phone.is_string() || phone.get_ref<const std::string&>().size() > 20) {
        return core::invalidArgument(reason, name + " is a list of phone numbers");
      }
      phones.push_back(phone.get<std::string>());
    }
    return phones;
  }

  void createDrop(Exchange& exchange, const platform::AuthenticatedSession& session) {
    const HttpRequest& request = exchange.request();
    auto body = jsonObjectBody(exchange, kMaxFieldBytes);
    if (!body) return;
    const json& document = body->document();
    auto title = body->text("title");
    auto series = body->number(document, "series_draft_id", INT64_MAX);
    auto price = body->number(document, "price_fen", INT64_MAX);
    auto stock = body->number(document, "stock", UINT32_MAX);
    auto limit = body->number(document, "per_identity_limit", 1'000, 1);
    auto starts = body->number(document, "starts_at", kMaxTimestampMillis);
    auto ends = body->number(document, "ends_at", kMaxTimestampMillis);
    auto window = body->number(document, "payment_window_seconds", 86'400, 300);
    auto admit = body->number(document, "admit_per_second", UINT32_MAX,
                              platform::WaitingRoom::kDefaultAdmitPerSecond);
    for (const core::Status& status :
         {title.status(), series.status(), price.status(), stock.status(), limit.status(),
          starts.status(), ends.status(), window.status(), admit.status()}) {
      if (!status.isOk()) return exchange.respond(errorResponse(request, status));
    }
    platform::DropFields fields;
    fields.seriesDraftId = static_cast<std::int64_t>(*series);
    fields.title = *title;
    fields.price = core::Fen(static_cast<std::int64_t>(*price));
    fields.stock = *stock;
    fields.perIdentityLimit = static_cast<std::uint32_t>(*limit);
    fields.startsAt = core::Timestamp::fromUnixMillis(static_cast<std::int64_t>(*starts));
    fields.endsAt = core::Timestamp::fromUnixMillis(static_cast<std::int64_t>(*ends));
    fields.paymentWindow = std::chrono::seconds(*window);
    fields.admitPerSecond = static_cast<std::uint32_t>(*admit);
    if (document.contains("mode")) {
      auto mode = body->text("mode");
      if (!mode) return exchange.respond(errorResponse(request, mode.status()));
      auto parsed = platform::parseDropMode(*mode);
      if (!parsed) {
        return exchange.respond(
            errorResponse(request, 400, "mode-invalid", "mode is first-come or lottery"));
      }
      fields.mode = *parsed;
    }
    if (document.contains("priority") && !document["priority"].is_null()) {
      auto priority = priorityWindow(*body, document["priority"]);
      if (!priority) return exchange.respond(errorResponse(request, priority.status()));
      fields.priority = *priority;
    }
    auto drop = drops_.create(session.user.id, fields);
    if (!drop) return exchange.respond(errorResponse(request, drop.status()));
    exchange.respond(jsonResponse(201, json{{"drop", dropJson(*drop)}}));
  }

  void orders(Exchange& exchange, const platform::AuthenticatedSession& session,
              const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    auto answer = [&](unsigned status, const core::Result<platform::Order>& order) {
      if (!order) return exchange.respond(errorResponse(request, order.status()));
      exchange.respond(jsonResponse(status, json{{"order", orderJson(*order)}}));
    };
    if (parts.size() == 1) {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      auto list = drops_.ordersOf(session.user.id);
      if (!list) return exchange.respond(errorResponse(request, list.status()));
      json out = json::array();
      for (const auto& order : *list) out.push_back(orderJson(order));
      return exchange.respond(jsonResponse(200, json{{"orders", out}}));
    }
    auto id = parseId(parts[1]);
    if (!id || parts.size() > 3) {
      return exchange.respond(errorResponse(request, 400, "bad-id", "an order id is a number"));
    }
    if (parts.size() == 2) {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      return answer(200, drops_.order(session.user.id, *id));
    }
    if (parts[2] == "events") {
      if (!isGet(request)) return notAllowed(exchange, "GET");
      return orderEvents(exchange, session, *id);
    }
    if (request.method != "POST") return notAllowed(exchange, "POST");
    if (parts[2] == "pay") {
      // Back to the order's own page afterwards.
      return answer(200, drops_.pay(session.user.id, *id, "/orders/" + std::to_string(*id)));
    }
    if (parts[2] == "refund") {
      auto body = jsonObjectBody(exchange, kMaxFieldBytes);
      if (!body) return;
      auto reason = body->text("reason", 200);
      if (!reason) return exchange.respond(errorResponse(request, reason.status()));
      return answer(200, drops_.refund(session.user.id, *id, *reason));
    }
    noRoute(exchange);
  }

  // ---- order events: the buyer's page learns of payment and delivery without reloading ------

  static bool finalState(platform::OrderState state) {
    return state == platform::OrderState::kDelivered || state == platform::OrderState::kExpired ||
           state == platform::OrderState::kRefunded || state == platform::OrderState::kMintFailed;
  }
  static std::string orderEvent(const platform::Order& order) {
    return "event: order\ndata: " + json{{"order", orderJson(order)}}.dump() + "\n\n";
  }

  // The order as it is now, then every change of it until a final state. Changes are read from
  // the database (another instance sharing it may have made them), every quarter second.
  void orderEvents(Exchange& exchange, const platform::AuthenticatedSession& session,
                   std::int64_t orderId) {
    auto order = drops_.order(session.user.id, orderId);
    if (!order) return exchange.respond(errorResponse(exchange.request(), order.status()));
    auto stream = exchange.openStream();
    if (!stream || !stream->send(orderEvent(*order)) || finalState(order->state)) return;
    std::lock_guard lock(watchMutex_);
    watches_.push_back({orderId, stream, order->state, order->updatedAt});
    watchWake_.notify_one();
  }

  struct Watch {
    std::int64_t orderId;
    std::shared_ptr<EventStream> stream;
    platform::OrderState state;
    core::Timestamp updatedAt;
  };

  void watchOrders() {
    std::unique_lock lock(watchMutex_);
    while (!stopping_) {
      watchWake_.wait_for(lock, std::chrono::milliseconds(250));
      if (stopping_) return;
      std::vector<Watch> current = watches_;
      lock.unlock();
      std::map<std::int64_t, platform::Order> seen;
      std::vector<Watch> kept;
      for (Watch& watch : current) {
        if (watch.stream->closed()) continue;
        auto found = seen.find(watch.orderId);
        if (found == seen.end()) {
          auto order = drops_.orderById(watch.orderId);
          if (!order) {
            kept.push_back(watch);  // the database is busy or down: next round
            continue;
          }
          found = seen.emplace(watch.orderId, *order).first;
        }
        const platform::Order& order = found->second;
        if (order.state != watch.state || order.updatedAt != watch.updatedAt) {
          if (!watch.stream->send(orderEvent(order)) || finalState(order.state)) continue;
          watch.state = order.state;
          watch.updatedAt = order.updatedAt;
        }
        kept.push_back(watch);
      }
      lock.lock();
      // Keep what was added while this round ran.
      kept.insert(kept.end(), watches_.begin() + static_cast<std::ptrdiff_t>(current.size()),
                  watches_.end());
      watches_ = std::move(kept);
    }
  }

  // The provider's callback: its signature is the only credential. Acknowledged (200) once
  // applied or when it was applied before, so the provider stops resending it.
  void notify(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    auto notice = sandbox_.verifyCallback(request.body, request.headers);
    if (!notice) return exchange.respond(errorResponse(request, notice.status()));
    if (core::Status applied = drops_.applyNotice(*notice); !applied.isOk()) {
      return exchange.respond(errorResponse(request, applied));
    }
    exchange.respond(jsonResponse(200, json{{"received", true}}));
  }

  // ---- the sandbox provider's own payment page ---------------------------------------------

  void sandboxPage(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    if (parts.size() != 3 || parts[1] != "pay") return noRoute(exchange);
    const std::string id(parts[2]);
    core::Result<platform::SandboxPayments::PaymentView> payment = sandbox_.payment(id);
    if (request.method == "POST") {
      const std::string action = formField(request.body, "action");
      if (action != "pay" && action != "cancel") {
        return exchange.respond(errorResponse(request, 400, "bad-action",
                                              "the form's action is \"pay\" or \"cancel\""));
      }
      payment = action == "pay" ? sandbox_.pay(id) : sandbox_.cancel(id);
    } else if (!isGet(request)) {
      return notAllowed(exchange, "GET, POST");
    }
    if (!payment) return exchange.respond(errorResponse(request, payment.status()));
    HttpResponse response{200, "text/html; charset=utf-8", pageHtml(*payment), {}};
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'none'; style-src 'unsafe-inline'; form-action "
                                  "'self'");
    response.headers.emplace_back("X-Frame-Options", "DENY");
    exchange.respond(std::move(response));
  }

  static std::string pageHtml(const platform::SandboxPayments::PaymentView& payment) {
    std::string html =
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta "
        "name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>沙箱支付 "
        "Sandbox payment</title><style>body{font-family:sans-serif;max-width:420px;margin:2em "
        "auto;padding:0 1em}button{font-size:1.1em;padding:.6em 1.4em;margin:.3em}"
        ".amount{font-size:2em}</style></head><body><h1>沙箱支付 · Sandbox payment</h1>"
        "<p>No real money moves: this page stands in for a payment provider.</p><p>" +
        htmlEscape(payment.description) + "</p><p class=\"amount\">¥" +
        payment.amount.toYuanString() + "</p>";
    if (payment.state == "open") {
      html +=
          "<form method=\"post\"><button name=\"action\" value=\"pay\">支付 Pay</button>"
          "<button name=\"action\" value=\"cancel\">取消 Cancel</button></form>";
    } else {
      html += "<p id=\"state\">" + htmlEscape(payment.state) + "</p>";
    }
    if (payment.returnUrl.starts_with("/")) {
      html +=
          "<p><a href=\"" + htmlEscape(payment.returnUrl) + "\">返回商户 Back to the shop</a></p>";
    }
    return html + "</body></html>";
  }

  platform::Accounts& accounts_;
  platform::Drops& drops_;
  platform::WaitingRoom& waitingRoom_;
  platform::Lotteries& lotteries_;
  platform::BlindBoxes& blindBoxes_;
  platform::SandboxPayments& sandbox_;
  QueueEvents queueEvents_{waitingRoom_};
  boost::asio::thread_pool workers_;
  std::mutex watchMutex_;
  std::condition_variable watchWake_;
  bool stopping_ = false;
  std::vector<Watch> watches_;
  std::thread watcher_{[this] { watchOrders(); }};  // last: starts once the rest exists
};

CommerceApi::CommerceApi(platform::Accounts& accounts, platform::Drops& drops,
                         platform::WaitingRoom& waitingRoom, platform::Lotteries& lotteries,
                         platform::BlindBoxes& blindBoxes, platform::SandboxPayments& sandbox,
                         unsigned workerThreads)
    : impl_(std::make_unique<Impl>(accounts, drops, waitingRoom, lotteries, blindBoxes, sandbox,
                                   workerThreads)) {}

CommerceApi::~CommerceApi() { impl_->stop(); }

bool CommerceApi::handles(std::string_view path) {
  auto parts = splitPath(path);
  if (!parts.empty() && parts[0] == "sandbox") return true;
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") return false;
  return parts[2] == "drops" || parts[2] == "orders" || parts[2] == "payments" ||
         parts[2] == "airdrops" || parts[2] == "blind-boxes";
}

void CommerceApi::handle(const std::shared_ptr<Exchange>& exchange) { impl_->handle(exchange); }

void CommerceApi::stop() { impl_->stop(); }

unsigned postTo(const std::string& url, const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers,
                std::chrono::milliseconds timeout) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return 0;
  std::string_view rest{url};
  rest.remove_prefix(kScheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string target =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto colon = authority.rfind(':');
  const std::string host(authority.substr(0, colon));
  const std::string port =
      colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.set(http::field::host, std::string(authority));
    request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    return response.result_int();
  } catch (const std::exception&) {
    return 0;  // refused, reset or timed out: the provider tries again later
  }
}

}  // namespace jiancang::api
