#include <api/platform_api.h>

#include <charconv>
#include <limits>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include <api/json_answers.h>
#include <api/request_helpers.h>

namespace jiancang::api {
namespace {

using nlohmann::json;

json userJson(const platform::User& user) {
  return json{{"id", user.id},
              {"phone", user.phone},
              {"roles", platform::roleNames(user.roles)},
              {"must_change_password", user.mustChangePassword},
              {"identity_verified", user.identityVerified},
              {"address", user.address.hex()},
              {"created_at", user.createdAt.unixMillis()}};
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return core::constantTimeEqual(core::asBytes(a), core::asBytes(b));
}

}  // namespace

class PlatformApi::Impl {
 public:
  Impl(platform::Accounts& accounts, platform::MediaLibrary& media, platform::Catalog& catalog,
       platform::Support& support, platform::Gifts& gifts, PlatformApiOptions options)
      : accounts_(accounts),
        media_(media),
        catalog_(catalog),
        support_(support),
        gifts_(gifts),
        options_(options),
        workers_(std::max(1u, options.workerThreads)) {}

  void handle(const std::shared_ptr<Exchange>& exchange) {
    boost::asio::post(workers_, [this, exchange] {
      try {
        route(*exchange);
      } catch (...) {  // a bug or out of memory: the client still gets an answer
        exchange->respond(errorResponse(exchange->request(), 500, "internal",
                                        "the request failed unexpectedly; its id is in the log"));
      }
    });
  }

  void stop() { workers_.join(); }

 private:
  void route(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    auto parts = splitPath(request.path);
    if (parts[0] == "media") return serveMedia(exchange, parts);
    parts.erase(parts.begin(), parts.begin() + 2);  // "api", "v1": handles() checked them
    const bool post = request.method == "POST";
    auto notAllowed = [&](std::string_view allowed) {
      HttpResponse response = errorResponse(request, 405, "method-not-allowed",
                                            "use " + std::string(allowed) + " on " + request.path);
      response.headers.emplace_back("Allow", std::string(allowed));
      exchange.respond(std::move(response));
    };
    if (request.method != "GET" && request.method != "HEAD") {
      if (auto refused = checkOrigin(request); !refused.isOk()) {
        return exchange.respond(errorResponse(request, refused));
      }
    }

    if (parts.size() == 2 && parts[0] == "auth") {
      if (!post) return notAllowed("POST");
      if (parts[1] == "register") return registerUser(exchange);
      if (parts[1] == "login") return login(exchange);
      if (parts[1] == "logout") return logout(exchange);
    }
    // The published catalogue is public; a draft is shown to whoever may see it.
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (get && parts.size() >= 2 && parts.size() <= 3 && parts[0] == "catalog" &&
        parts[1] == "series") {
      return catalogRead(exchange, parts);
    }
    if (get && parts.size() == 1 && parts[0] == "announcements") return listAnnouncements(exchange);
    // Everything else needs a session.
    auto session = authenticateRequest(
        exchange, accounts_, /*allowPasswordChangePending=*/parts.size() <= 2 && parts[0] == "me" &&
                                 (parts.size() == 1 || parts[1] == "password"));
    if (!session) return;
    if (parts.size() == 1 && parts[0] == "me") {
      if (request.method != "GET") return notAllowed("GET");
      return exchange.respond(
          jsonResponse(200, json{{"user", userJson(session->user)},
                                 {"csrf_token", session->csrfToken},
                                 {"session_expires_at", session->expiresAt.unixMillis()}}));
    }
    if (parts.size() == 2 && parts[0] == "me" &&
        (parts[1] == "password" || parts[1] == "identity" || parts[1] == "key")) {
      if (!post) return notAllowed("POST");
      if (parts[1] == "password") return changePassword(exchange, *session);
      if (parts[1] == "identity") return verifyIdentity(exchange, *session);
      if (parts[1] == "key") return exportKey(exchange, *session);
    }
    if (parts.size() == 1 && parts[0] == "media") {
      if (!post) return notAllowed("POST");
      return uploadMedia(exchange, *session);
    }
    if (!parts.empty() && parts[0] == "catalog") return catalogWrite(exchange, *session, parts);
    if (!parts.empty() && parts[0] == "announcements") {
      return announcementWrite(exchange, *session, parts);
    }
    if (!parts.empty() && parts[0] == "tickets") return tickets(exchange, *session, parts);
    if (parts.size() == 3 && parts[0] == "users" && parts[2] == "roles") {
      if (request.method != "PUT") return notAllowed("PUT");
      return setRoles(exchange, *session, parts[1]);
    }
    if (parts.size() == 1 && parts[0] == "users") {
      if (!get) return notAllowed("GET");
      return listUsers(exchange, *session);
    }
    if (parts.size() == 1 && parts[0] == "gifts") {
      if (!post) return notAllowed("POST");
      return giveToken(exchange, *session);
    }
    exchange.respond(errorResponse(request, 404, "no-such-route",
                                   "there is no " + request.path + " in this API"));
  }

  std::optional<RequestBody> jsonBody(Exchange& exchange) const {
    return jsonObjectBody(exchange, options_.maxFieldBytes);
  }

  // Reads the named string fields, or answers with the first refusal.
  std::optional<std::vector<std::string>> fields(Exchange& exchange, const RequestBody& body,
                                                 std::initializer_list<const char*> names) {
    std::vector<std::string> values;
    for (const char* name : names) {
      auto value = body.text(name);
      if (!value) {
        exchange.respond(errorResponse(exchange.request(), value.status()));
        return std::nullopt;
      }
      values.push_back(std::move(value).value());
    }
    return values;
  }

  std::string sessionCookie(const std::string& token, std::int64_t maxAgeSeconds) const {
    return std::string(kSessionCookie) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict; " +
           "Max-Age=" + std::to_string(maxAgeSeconds) + (options_.secureCookies ? "; Secure" : "");
  }

  HttpResponse sessionAnswer(unsigned status, const platform::User& user,
                             const platform::SessionTokens& tokens) {
    HttpResponse response =
        jsonResponse(status, json{{"user", userJson(user)},
                                  {"csrf_token", tokens.csrfToken},
                                  {"session_expires_at", tokens.expiresAt.unixMillis()}});
    auto lifetime = (tokens.expiresAt - core::SystemClock().now()).count() / 1000;
    response.headers.emplace_back("Set-Cookie",
                                  sessionCookie(tokens.token, std::max<std::int64_t>(lifetime, 0)));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  }

  void registerUser(Exchange& exchange) {
    auto body = jsonBody(exchange);
    if (!body) return;
    auto values = fields(exchange, *body, {"phone", "password"});
    if (!values) return;
    auto signedUp = accounts_.signUp((*values)[0], (*values)[1]);
    if (!signedUp) return exchange.respond(errorResponse(exchange.request(), signedUp.status()));
    exchange.respond(sessionAnswer(201, signedUp->first, signedUp->second));
  }

  void login(Exchange& exchange) {
    auto body = jsonBody(exchange);
    if (!body) return;
    auto values = fields(exchange, *body, {"phone", "password"});
    if (!values) return;
    auto login = accounts_.login((*values)[0], (*values)[1], remoteAddress(exchange.request()));
    if (!login) {
      HttpResponse response = errorResponse(exchange.request(), login.status());
      if (login.status().code() == core::ErrorCode::kResourceExhausted) {
        response.headers.emplace_back("Retry-After", "900");
      }
      return exchange.respond(std::move(response));
    }
    exchange.respond(sessionAnswer(200, login->first, login->second));
  }

  void logout(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    std::string token = requestCookie(request, kSessionCookie);
    if (!token.empty()) {
      // Logging out needs the CSRF token too: otherwise any site could end a session.
      auto session = accounts_.authenticate(token);
      if (session) {
        std::string csrf = requestHeader(request, "x-csrf-token");
        if (csrf.empty() || !constantTimeEquals(csrf, session->csrfToken)) {
          return exchange.respond(errorResponse(request, 403, "csrf-token-invalid",
                                                "the request lacks this session's X-CSRF-Token"));
        }
        if (auto ended = accounts_.logout(token); !ended.isOk()) {
          return exchange.respond(errorResponse(request, ended));
        }
      }
    }
    HttpResponse response{204, "application/json", "", {}};
    response.headers.emplace_back("Set-Cookie", sessionCookie("", 0));
    exchange.respond(std::move(response));
  }

  void changePassword(Exchange& exchange, const platform::AuthenticatedSession& session) {
    auto body = jsonBody(exchange);
    if (!body) return;
    auto values = fields(exchange, *body, {"current_password", "new_password"});
    if (!values) return;
    auto tokens = accounts_.changePassword(session.user.id, (*values)[0], (*values)[1]);
    if (!tokens) return exchange.respond(errorResponse(exchange.request(), tokens.status()));
    auto user = accounts_.user(session.user.id);
    if (!user) return exchange.respond(errorResponse(exchange.request(), user.status()));
    exchange.respond(sessionAnswer(200, *user, *tokens));
  }

  void verifyIdentity(Exchange& exchange, const platform::AuthenticatedSession& session) {
    auto body = jsonBody(exchange);
    if (!body) return;
    auto values = fields(exchange, *body, {"name", "id_number"});
    if (!values) return;
    auto user = accounts_.verifyIdentity(session.user.id, {(*values)[0], (*values)[1]});
    if (!user) return exchange.respond(errorResponse(exchange.request(), user.status()));
    exchange.respond(jsonResponse(200, json{{"user", userJson(*user)}}));
  }

  void exportKey(Exchange& exchange, const platform::AuthenticatedSession& session) {
    auto body = jsonBody(exchange);
    if (!body) return;
    auto values = fields(exchange, *body, {"password"});
    if (!values) return;
    auto key = accounts_.exportKey(session.user.id, (*values)[0]);
    if (!key) return exchange.respond(errorResponse(exchange.request(), key.status()));
    // The key file format of `jiancang keygen` (docs/FORMATS.md), so the exported key works
    // with every jiancang tool.
    json document = {{"format", "jiancang-key-v1"},
                     {"suite", core::suiteName(key->publicKey.suite())},
                     {"public_key", key->publicKey.hex()},
                     {"address", core::addressOf(key->publicKey).hex()},
                     {"secret_key", core::toHex(key->secretKey.secretBytes())}};
    HttpResponse response = jsonResponse(200, document);
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"jiancang.key\"");
    exchange.respond(std::move(response));
  }

  void setRoles(Exchange& exchange, const platform::AuthenticatedSession& session,
                std::string_view idText) {
    std::int64_t id = 0;
    auto [end, error] = std::from_chars(idText.data(), idText.data() + idText.size(), id);
    if (error != std::errc() || end != idText.data() + idText.size() || id <= 0) {
      return exchange.respond(
          errorResponse(exchange.request(), 400, "bad-id", "a user id is a positive number"));
    }
    auto body = jsonBody(exchange);
    if (!body) return;
    auto roles = body->document().find("roles");
    if (roles == body->document().end() || !roles->is_array()) {
      return exchange.respond(errorResponse(exchange.request(), 400, "wrong-type",
                                            "\"roles\" must be a list of role names"));
    }
    std::uint32_t bits = 0;
    for (const json& name : *roles) {
      auto role = name.is_string() ? platform::parseRole(name.get<std::string>()) : std::nullopt;
      if (!role) {
        return exchange.respond(
            errorResponse(exchange.request(), 400, "unknown-role",
                          "roles are collector, issuer, reviewer, operator, verifier and auditor"));
      }
      bits |= *role;
    }
    auto user = accounts_.setRoles(session.user.id, id, bits);
    if (!user) return exchange.respond(errorResponse(exchange.request(), user.status()));
    exchange.respond(jsonResponse(200, json{{"user", userJson(*user)}}));
  }

  // POST /gifts {"token": "12#3", "to_phone"}: the holder gives a token away.
  void giveToken(Exchange& exchange, const platform::AuthenticatedSession& session) {
    const HttpRequest& request = exchange.request();
    auto body = jsonBody(exchange);
    if (!body) return;
    auto tokenText = body->text("token", 64);
    if (!tokenText) return exchange.respond(errorResponse(request, tokenText.status()));
    auto phone = body->text("to_phone", 32);
    if (!phone) return exchange.respond(errorResponse(request, phone.status()));
    auto token = parseTokenId(*tokenText);
    if (!token) {
      return exchange.respond(errorResponse(request, 400, "bad-token",
                                            "token is \"SERIES#SERIAL\", both decimal numbers"));
    }
    auto gift = gifts_.give(session.user.id, *token, *phone);
    if (!gift) return exchange.respond(errorResponse(request, gift.status()));
    exchange.respond(jsonResponse(201, json{{"gift",
                                             {{"token", gift->token.toString()},
                                              {"from", gift->from.hex()},
                                              {"to", gift->to.hex()},
                                              {"tx_hash", gift->txHash.hex()},
                                              {"height", gift->height}}}}));
  }

  // GET /users?phone=PREFIX&before=ID&limit=N: accounts newest first, for operators.
  void listUsers(Exchange& exchange, const platform::AuthenticatedSession& session) {
    const HttpRequest& request = exchange.request();
    if (!session.user.hasRole(platform::kRoleOperator)) {
      return exchange.respond(
          errorResponse(request, 403, "not-operator", "only operators list accounts"));
    }
    auto number = [&](const char* name, std::int64_t fallback, std::int64_t most) {
      auto it = request.query.find(name);
      if (it == request.query.end()) return std::optional<std::int64_t>(fallback);
      std::int64_t value = 0;
      auto [end, error] =
          std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
      if (error != std::errc() || end != it->second.data() + it->second.size() || value < 1 ||
          value > most) {
        return std::optional<std::int64_t>();
      }
      return std::optional<std::int64_t>(value);
    };
    auto limit = number("limit", 50, 200);
    auto before = number("before", 0, std::numeric_limits<std::int64_t>::max());
    if (!limit || !before) {
      return exchange.respond(
          errorResponse(request, 400, "bad-query", "limit is 1 to 200 and before a user id"));
    }
    auto phone = request.query.find("phone");
    std::string prefix = phone == request.query.end() ? std::string() : phone->second;
    if (prefix.size() > 11) {
      return exchange.respond(
          errorResponse(request, 400, "phone-format", "phone is a prefix of 11 digits at most"));
    }
    auto users = accounts_.users(prefix, *before, static_cast<std::size_t>(*limit));
    if (!users) return exchange.respond(errorResponse(request, users.status()));
    json list = json::array();
    for (const auto& user : *users) list.push_back(userJson(user));
    json body{{"users", list}};
    if (users->size() == static_cast<std::size_t>(*limit)) body["next_before"] = users->back().id;
    exchange.respond(jsonResponse(200, body));
  }

  // The body as it is: the type is read from the bytes themselves, never from Content-Type.
  void uploadMedia(Exchange& exchange, const platform::AuthenticatedSession& session) {
    const HttpRequest& request = exchange.request();
    if (!session.user.hasRole(platform::kRoleIssuer) &&
        !session.user.hasRole(platform::kRoleOperator)) {
      return exchange.respond(
          errorResponse(request, 403, "not-issuer", "only issuers and operators upload media"));
    }
    auto record = media_.upload(session.user.id, core::asBytes(request.body));
    if (!record) return exchange.respond(errorResponse(request, record.status()));
    exchange.respond(jsonResponse(201, json{{"media", mediaJson(*record)}}));
  }

  static json mediaJson(const platform::MediaRecord& record) {
    json out{{"sha256", record.sha256.hex()},
             {"mime", record.mime},
             {"size", record.size},
             {"url", "/media/" + record.sha256.hex()}};
    if (record.width > 0) {
      out["width"] = record.width;
      out["height"] = record.height;
    }
    if (record.thumbnail) out["thumbnail_url"] = "/media/" + record.thumbnail->hex();
    return out;
  }

  // GET /media/{sha256}: the bytes, with their recorded type, cached for good (the address is
  // their hash), and never run as a page: no sniffing, a sandboxing policy.
  void serveMedia(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse response =
          errorResponse(request, 405, "method-not-allowed", "use GET on " + request.path);
      response.headers.emplace_back("Allow", "GET");
      return exchange.respond(std::move(response));
    }
    auto hash = parts.size() == 2 ? core::Hash256::fromHex(parts[1])
                                  : core::Result<core::Hash256>(core::invalidArgument(
                                        "bad-id", "a media address is /media/<sha256 in hex>"));
    if (!hash) {
      return exchange.respond(
          errorResponse(request, 400, "bad-id", "a media address is /media/<sha256 in hex>"));
    }
    auto record = media_.find(*hash);
    if (!record) return exchange.respond(errorResponse(request, record.status()));
    auto bytes = media_.bytes(*hash);
    if (!bytes) return exchange.respond(errorResponse(request, bytes.status()));
    HttpResponse response{200, record->mime, std::string(bytes->begin(), bytes->end()), {}};
    response.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    response.headers.emplace_back("ETag", "\"" + hash->hex() + "\"");
    response.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
    exchange.respond(std::move(response));
  }

  // ---- the catalogue: issuers and series -------------------------------------------------

  static json issuerJson(const platform::Issuer& issuer) {
    json documents = json::array();
    for (const auto& document : issuer.documents) documents.push_back(document.hex());
    return json{{"id", issuer.id},
                {"user_id", issuer.userId},
                {"display_name", issuer.displayName},
                {"address", issuer.address.hex()},
                {"licence_hash", issuer.licenceHash.hex()},
                {"documents", documents},
                {"registration_tx", issuer.registrationTx.hex()},
                {"registration_height", issuer.registrationHeight},
                {"created_at", issuer.createdAt.unixMillis()}};
  }

  static json seriesJson(const platform::SeriesDraft& draft) {
    const auto& fields = draft.fields;
    json rights = json::array();
    for (const auto& right : fields.rights) {
      rights.push_back({{"id", right.id}, {"kind", right.kind}, {"uses", right.uses}});
    }
    json out{{"id", draft.id},
             {"issuer_id", draft.issuerId},
             {"state", platform::seriesStateName(draft.state)},
             {"title", fields.title},
             {"description", fields.description},
             {"media",
              {{"sha256", fields.media.hex()},
               {"mime", draft.mediaType},
               {"url", "/media/" + fields.media.hex()}}},
             {"edition_cap", fields.editionCap},
             {"royalty_basis_points", fields.royaltyBasisPoints},
             {"policy",
              {{"transferable", fields.policy.transferable},
               {"hold_before_first_transfer_ms", fields.policy.holdBeforeFirstTransferMillis},
               {"hold_between_transfers_ms", fields.policy.holdBetweenTransfersMillis},
               {"tradable", fields.policy.tradable},
               {"price_ceiling_fen", fields.policy.priceCeiling.value()}}},
             {"rights", rights},
             {"review_reason", draft.reviewReason},
             {"created_at", draft.createdAt.unixMillis()},
             {"updated_at", draft.updatedAt.unixMillis()}};
    if (fields.isBlindBox()) {
      json items = json::array();
      for (const auto& item : fields.blindBox) {
        items.push_back(
            {{"series_draft_id", item.seriesDraftId},
             {"series_id", item.seriesId},
             {"count", item.count},
             {"odds", static_cast<double>(item.count) /
                          static_cast<double>(std::max<std::uint64_t>(1, fields.editionCap))}});
      }
      out["blind_box"] = {{"items", items},
                          {"reveal_deadline", fields.revealDeadline.unixMillis()}};
      if (draft.state == platform::SeriesState::kPublished) {
        out["blind_box"]["seed_commitment"] = draft.boxSeedCommitment.hex();
      }
    } else {
      out["blind_box"] = nullptr;
    }
    if (draft.state == platform::SeriesState::kPublished) {
      out["series_id"] = draft.seriesId;
      out["publication_tx"] = draft.publicationTx.hex();
      out["publication_height"] = draft.publicationHeight;
      out["metadata"] = draft.metadata;
    }
    return out;
  }

  static json seriesListJson(const std::vector<platform::SeriesDraft>& drafts) {
    json list = json::array();
    for (const auto& draft : drafts) list.push_back(seriesJson(draft));
    return json{{"series", list}};
  }

  // A series' fields from a request body, or the first refusal.
  core::Result<platform::SeriesFields> seriesFields(const RequestBody& body) const {
    const json& document = body.document();
    platform::SeriesFields fields;
    auto title = body.text("title");
    if (!title) return title.status();
    fields.title = *title;
    auto description = body.text("description", 4'000);
    if (!description) return description.status();
    fields.description = *description;
    auto media = body.text("media");
    if (!media) return media.status();
    auto hash = core::Hash256::fromHex(*media);
    if (!hash) return core::invalidArgument("bad-media", "\"media\" is a media sha256 in hex");
    fields.media = *hash;
    auto cap = body.number(document, "edition_cap", chain::limits::kMaxEditionCap);
    if (!cap) return cap.status();
    fields.editionCap = *cap;
    auto royalty = body.number(document, "royalty_basis_points", 10'000, 0);
    if (!royalty) return royalty.status();
    fields.royaltyBasisPoints = static_cast<std::uint32_t>(*royalty);
    json policy = document.value("policy", json::object());
    if (!policy.is_object()) return core::invalidArgument("wrong-type", "\"policy\" is an object");
    constexpr std::uint64_t kTenYearsMillis = 10ull * 366 * 24 * 3'600'000;
    auto transferable = body.flag(policy, "transferable", true);
    auto tradable = body.flag(policy, "tradable", false);
    auto holdFirst = body.number(policy, "hold_before_first_transfer_ms", kTenYearsMillis, 0);
    auto holdBetween = body.number(policy, "hold_between_transfers_ms", kTenYearsMillis, 0);
    auto ceiling = body.number(policy, "price_ceiling_fen", 1'000'000'000'00ull, 0);
    for (const core::Status& status : {transferable.status(), tradable.status(), holdFirst.status(),
                                       holdBetween.status(), ceiling.status()}) {
      if (!status.isOk()) return status;
    }
    fields.policy.transferable = *transferable;
    fields.policy.tradable = *tradable;
    fields.policy.holdBeforeFirstTransferMillis = *holdFirst;
    fields.policy.holdBetweenTransfersMillis = *holdBetween;
    fields.policy.priceCeiling = core::Fen(static_cast<std::int64_t>(*ceiling));
    json rights = document.value("rights", json::array());
    if (!rights.is_array() || rights.size() > chain::limits::kMaxRights) {
      return core::invalidArgument("wrong-type", "\"rights\" is a list of at most 16 rights");
    }
    std::uint32_t id = 0;
    for (const json& right : rights) {
      if (!right.is_object() || !right.contains("kind") || !right["kind"].is_string() ||
          right["kind"].get_ref<const std::string&>().empty() ||
          right["kind"].get_ref<const std::string&>().size() > 64) {
        return core::invalidArgument("bad-right", "each right has a \"kind\" of 1 to 64 bytes");
      }
      auto uses = body.number(right, "uses", chain::limits::kMaxRightUses, 1);
      if (!uses) return uses.status();
      fields.rights.push_back(
          {++id, right["kind"].get<std::string>(), static_cast<std::uint32_t>(*uses)});
    }
    // A blind box: {"items": [{"series_draft_id", "count"}...], "reveal_deadline": unix ms}.
    json box = document.value("blind_box", json());
    if (box.is_null()) return fields;
    if (!box.is_object() || !box.contains("items") || !box["items"].is_array() ||
        box["items"].empty() || box["items"].size() > chain::limits::kMaxBlindBoxItemKinds) {
      return core::invalidArgument(
          "wrong-type", "\"blind_box\" is null or {\"items\": 1 to 64 items, \"reveal_deadline\"}");
    }
    for (const json& item : box["items"]) {
      if (!item.is_object()) {
        return core::invalidArgument("wrong-type",
                                     "each blind-box item is {\"series_draft_id\", \"count\"}");
      }
      auto series = body.number(item, "series_draft_id", INT64_MAX);
      if (!series) return series.status();
      auto count = body.number(item, "count", chain::limits::kMaxBlindBoxSize);
      if (!count) return count.status();
      fields.blindBox.push_back(
          {static_cast<std::int64_t>(*series), static_cast<std::uint32_t>(*count), 0});
    }
    auto deadline = body.number(box, "reveal_deadline", INT64_MAX);
    if (!deadline) return deadline.status();
    fields.revealDeadline = core::Timestamp::fromUnixMillis(static_cast<std::int64_t>(*deadline));
    return fields;
  }

  void catalogRead(Exchange& exchange, const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    std::optional<std::int64_t> viewer;
    if (std::string token = requestCookie(request, kSessionCookie); !token.empty()) {
      if (auto session = accounts_.authenticate(token)) viewer = session->user.id;
    }
    if (parts.size() == 2) {
      std::string view = request.query.count("view") != 0 ? request.query.at("view") : "";
      core::Result<std::vector<platform::SeriesDraft>> list = catalog_.listPublished();
      if (view == "mine" || view == "review") {
        if (!viewer) {
          return exchange.respond(errorResponse(request, 401, "login-required", "log in first"));
        }
        list = view == "mine" ? catalog_.listOwn(*viewer) : catalog_.listInReview(*viewer);
      } else if (!view.empty() && view != "published") {
        return exchange.respond(
            errorResponse(request, 400, "bad-view", "view is published (default), mine or review"));
      }
      if (!list) return exchange.respond(errorResponse(request, list.status()));
      return exchange.respond(jsonResponse(200, seriesListJson(*list)));
    }
    auto id = parseId(parts[2]);
    if (!id)
      return exchange.respond(
          errorResponse(request, 400, "bad-id", "a series draft id is a positive number"));
    auto draft = catalog_.find(viewer, *id);
    if (!draft) return exchange.respond(errorResponse(request, draft.status()));
    exchange.respond(jsonResponse(200, json{{"series", seriesJson(*draft)}}));
  }

  void catalogWrite(Exchange& exchange, const platform::AuthenticatedSession& session,
                    const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    const std::int64_t user = session.user.id;
    auto answer = [&](unsigned status, const core::Result<platform::SeriesDraft>& draft) {
      if (!draft) return exchange.respond(errorResponse(request, draft.status()));
      exchange.respond(jsonResponse(status, json{{"series", seriesJson(*draft)}}));
    };
    // /catalog/issuers
    if (parts.size() == 2 && parts[1] == "issuers") {
      if (request.method == "GET") {
        if (!session.user.hasRole(platform::kRoleOperator) &&
            !session.user.hasRole(platform::kRoleReviewer) &&
            !session.user.hasRole(platform::kRoleAuditor)) {
          return exchange.respond(errorResponse(request, 403, "not-operator",
                                                "issuers are listed for the platform's staff"));
        }
        auto issuers = catalog_.issuers();
        if (!issuers) return exchange.respond(errorResponse(request, issuers.status()));
        json list = json::array();
        for (const auto& issuer : *issuers) list.push_back(issuerJson(issuer));
        return exchange.respond(jsonResponse(200, json{{"issuers", list}}));
      }
      if (request.method != "POST") return notAllowed(exchange, "GET, POST");
      auto body = jsonBody(exchange);
      if (!body) return;
      auto userId = body->number(body->document(), "user_id", 1ull << 62);
      if (!userId) return exchange.respond(errorResponse(request, userId.status()));
      auto name = body->text("display_name");
      if (!name) return exchange.respond(errorResponse(request, name.status()));
      json documents = body->document().value("documents", json());
      if (!documents.is_array()) {
        return exchange.respond(
            errorResponse(request, 400, "wrong-type", "\"documents\" is a list of media sha256s"));
      }
      std::vector<core::Hash256> hashes;
      for (const json& document : documents) {
        auto hash = document.is_string() ? core::Hash256::fromHex(document.get<std::string>())
                                         : core::Result<core::Hash256>(core::invalidArgument(
                                               "bad-media", "a document is a media sha256"));
        if (!hash) {
          return exchange.respond(
              errorResponse(request, 400, "bad-media", "a document is a media sha256 in hex"));
        }
        hashes.push_back(*hash);
      }
      auto issuer = catalog_.onboardIssuer(user, static_cast<std::int64_t>(*userId), *name, hashes);
      if (!issuer) return exchange.respond(errorResponse(request, issuer.status()));
      return exchange.respond(jsonResponse(201, json{{"issuer", issuerJson(*issuer)}}));
    }
    if (parts.size() < 2 || parts[1] != "series" || parts.size() > 4) {
      return exchange.respond(errorResponse(request, 404, "no-such-route",
                                            "there is no " + request.path + " in this API"));
    }
    // /catalog/series: a new draft
    if (parts.size() == 2) {
      if (request.method != "POST") return notAllowed(exchange, "GET, POST");
      auto body = jsonBody(exchange);
      if (!body) return;
      auto fields = seriesFields(*body);
      if (!fields) return exchange.respond(errorResponse(request, fields.status()));
      return answer(201, catalog_.draft(user, *fields));
    }
    auto id = parseId(parts[2]);
    if (!id) {
      return exchange.respond(
          errorResponse(request, 400, "bad-id", "a series draft id is a positive number"));
    }
    if (parts.size() == 3) {  // /catalog/series/{id}: edit
      if (request.method != "PUT") return notAllowed(exchange, "GET, PUT");
      auto body = jsonBody(exchange);
      if (!body) return;
      auto fields = seriesFields(*body);
      if (!fields) return exchange.respond(errorResponse(request, fields.status()));
      return answer(200, catalog_.edit(user, *id, *fields));
    }
    if (request.method != "POST") return notAllowed(exchange, "POST");
    if (parts[3] == "submit") return answer(200, catalog_.submitForReview(user, *id));
    if (parts[3] == "publish") return answer(200, catalog_.publish(user, *id));
    if (parts[3] == "review") {
      auto body = jsonBody(exchange);
      if (!body) return;
      auto approve = body->flag(body->document(), "approve", false);
      if (!approve) return exchange.respond(errorResponse(request, approve.status()));
      if (!body->document().contains("approve")) {
        return exchange.respond(
            errorResponse(request, 400, "missing-field", "the field \"approve\" is required"));
      }
      std::string reason;
      if (body->document().contains("reason")) {
        auto given = body->text("reason", 1'000);
        if (!given) return exchange.respond(errorResponse(request, given.status()));
        reason = *given;
      }
      return answer(200, catalog_.review(user, *id, *approve, reason));
    }
    exchange.respond(errorResponse(request, 404, "no-such-route",
                                   "there is no " + request.path + " in this API"));
  }

  // ---- announcements and tickets -----------------------------------------------------------

  static json announcementJson(const platform::Announcement& announcement) {
    return json{{"id", announcement.id},
                {"title", announcement.title},
                {"body", announcement.body},
                {"pinned", announcement.pinned},
                {"published_at", announcement.publishedAt.unixMillis()}};
  }

  static json ticketJson(const platform::Ticket& ticket) {
    json messages = json::array();
    for (const auto& message : ticket.messages) {
      messages.push_back({{"from_staff", message.fromStaff},
                          {"body", message.body},
                          {"at", message.at.unixMillis()}});
    }
    return json{{"id", ticket.id},
                {"user_id", ticket.userId},
                {"subject", ticket.subject},
                {"open", ticket.open},
                {"created_at", ticket.createdAt.unixMillis()},
                {"updated_at", ticket.updatedAt.unixMillis()},
                {"messages", messages}};
  }

  void listAnnouncements(Exchange& exchange) {
    const HttpRequest& request = exchange.request();
    std::uint64_t limit = 20;
    if (auto given = request.query.find("limit"); given != request.query.end()) {
      auto parsed = parseId(given->second);
      if (!parsed || *parsed > 100) {
        return exchange.respond(errorResponse(request, 400, "bad-limit", "limit is 1 to 100"));
      }
      limit = static_cast<std::uint64_t>(*parsed);
    }
    auto list = support_.announcements(limit);
    if (!list) return exchange.respond(errorResponse(request, list.status()));
    json out = json::array();
    for (const auto& announcement : *list) out.push_back(announcementJson(announcement));
    exchange.respond(jsonResponse(200, json{{"announcements", out}}));
  }

  void announcementWrite(Exchange& exchange, const platform::AuthenticatedSession& session,
                         const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    if (parts.size() == 1) {
      if (request.method != "POST") return notAllowed(exchange, "GET, POST");
      auto body = jsonBody(exchange);
      if (!body) return;
      auto title = body->text("title");
      if (!title) return exchange.respond(errorResponse(request, title.status()));
      auto text = body->text("body", 10'000);
      if (!text) return exchange.respond(errorResponse(request, text.status()));
      auto pinned = body->flag(body->document(), "pinned", false);
      if (!pinned) return exchange.respond(errorResponse(request, pinned.status()));
      auto created = support_.announce(session.user.id, *title, *text, *pinned);
      if (!created) return exchange.respond(errorResponse(request, created.status()));
      return exchange.respond(
          jsonResponse(201, json{{"announcement", announcementJson(*created)}}));
    }
    auto id = parts.size() == 2 ? parseId(parts[1]) : std::nullopt;
    if (!id) {
      return exchange.respond(
          errorResponse(request, 400, "bad-id", "an announcement id is a number"));
    }
    if (request.method != "DELETE") return notAllowed(exchange, "DELETE");
    if (auto removed = support_.withdraw(session.user.id, *id); !removed.isOk()) {
      return exchange.respond(errorResponse(request, removed));
    }
    exchange.respond(HttpResponse{204, "application/json", "", {}});
  }

  void tickets(Exchange& exchange, const platform::AuthenticatedSession& session,
               const std::vector<std::string_view>& parts) {
    const HttpRequest& request = exchange.request();
    const std::int64_t user = session.user.id;
    auto answer = [&](unsigned status, const core::Result<platform::Ticket>& ticket) {
      if (!ticket) return exchange.respond(errorResponse(request, ticket.status()));
      exchange.respond(jsonResponse(status, json{{"ticket", ticketJson(*ticket)}}));
    };
    if (parts.size() == 1) {
      if (request.method == "GET") {
        bool all = request.query.count("view") != 0 && request.query.at("view") == "all";
        auto list = support_.tickets(user, all);
        if (!list) return exchange.respond(errorResponse(request, list.status()));
        json out = json::array();
        for (const auto& ticket : *list) out.push_back(ticketJson(ticket));
        return exchange.respond(jsonResponse(200, json{{"tickets", out}}));
      }
      if (request.method != "POST") return notAllowed(exchange, "GET, POST");
      auto body = jsonBody(exchange);
      if (!body) return;
      auto subject = body->text("subject");
      if (!subject) return exchange.respond(errorResponse(request, subject.status()));
      auto text = body->text("body", 10'000);
      if (!text) return exchange.respond(errorResponse(request, text.status()));
      return answer(201, support_.openTicket(user, *subject, *text));
    }
    auto id = parseId(parts[1]);
    if (!id || parts.size() > 3) {
      return exchange.respond(errorResponse(request, 400, "bad-id", "a ticket id is a number"));
    }
    if (parts.size() == 2) {
      if (request.method != "GET") return notAllowed(exchange, "GET");
      return answer(200, support_.ticket(user, *id));
    }
    if (request.method != "POST") return notAllowed(exchange, "POST");
    if (parts[2] == "close") return answer(200, support_.close(user, *id));
    if (parts[2] == "messages") {
      auto body = jsonBody(exchange);
      if (!body) return;
      auto text = body->text("body", 10'000);
      if (!text) return exchange.respond(errorResponse(request, text.status()));
      return answer(201, support_.reply(user, *id, *text));
    }
    exchange.respond(errorResponse(request, 404, "no-such-route",
                                   "there is no " + request.path + " in this API"));
  }

  static void notAllowed(Exchange& exchange, std::string_view allowed) {
    HttpResponse response =
        errorResponse(exchange.request(), 405, "method-not-allowed",
                      "use " + std::string(allowed) + " on " + exchange.request().path);
    response.headers.emplace_back("Allow", std::string(allowed));
    exchange.respond(std::move(response));
  }

  // Throttling counts by the client's address, without its port.
  static std::string remoteAddress(const HttpRequest& request) {
    const std::string& remote = request.remote;
    auto colon = remote.rfind(':');
    return colon == std::string::npos ? remote : remote.substr(0, colon);
  }

  platform::Accounts& accounts_;
  platform::MediaLibrary& media_;
  platform::Catalog& catalog_;
  platform::Support& support_;
  platform::Gifts& gifts_;
  PlatformApiOptions options_;
  boost::asio::thread_pool workers_;
};

PlatformApi::PlatformApi(platform::Accounts& accounts, platform::MediaLibrary& media,
                         platform::Catalog& catalog, platform::Support& support,
                         platform::Gifts& gifts, PlatformApiOptions options)
    : impl_(std::make_unique<Impl>(accounts, media, catalog, support, gifts, options)) {}

PlatformApi::~PlatformApi() { impl_->stop(); }

bool PlatformApi::handles(std::string_view path) {
  auto parts = splitPath(path);
  if (!parts.empty() && parts[0] == "media") return true;
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") return false;
  return parts[2] == "auth" || parts[2] == "me" || parts[2] == "users" || parts[2] == "gifts" ||
         parts[2] == "media" || parts[2] == "catalog" || parts[2] == "announcements" ||
         parts[2] == "tickets";
}

RouteLimits PlatformApi::limitsFor(std::string_view method, std::string_view target) {
  if (method == "POST" && (target == "/api/v1/media" || target.starts_with("/api/v1/media?"))) {
    return {platform::kMaxMediaBytes, std::chrono::minutes(5)};
  }
  return {};
}

void PlatformApi::handle(const std::shared_ptr<Exchange>& exchange) { impl_->handle(exchange); }

void PlatformApi::stop() { impl_->stop(); }

}  // namespace jiancang::api
