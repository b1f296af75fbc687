#include <api/request_helpers.h>

#include <charconv>

#include <api/json_answers.h>

namespace jiancang::api {

using nlohmann::json;

std::string requestHeader(const HttpRequest& request, const std::string& name) {
  auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

std::string requestCookie(const HttpRequest& request, std::string_view name) {
  std::string_view all = request.headers.count("cookie") != 0
                             ? std::string_view(request.headers.at("cookie"))
                             : std::string_view();
  while (!all.empty()) {
    auto end = all.find(';');
    std::string_view pair = all.substr(0, end);
    all.remove_prefix(end == std::string_view::npos ? all.size() : end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
  }
  return {};
}

std::optional<std::int64_t> parseId(std::string_view text) {
  std::int64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::optional<chain::TokenId> parseTokenId(std::string_view text) {
  std::size_t hash = text.find('#');
  if (hash == std::string_view::npos) return std::nullopt;
  auto series = parseId(text.substr(0, hash));
  auto serial = parseId(text.substr(hash + 1));
  if (!series || !serial) return std::nullopt;
  return chain::TokenId{chain::SeriesId(static_cast<std::uint64_t>(*series)),
                        static_cast<std::uint64_t>(*serial)};
}

core::Status checkOrigin(const HttpRequest& request) {
  std::string origin = requestHeader(request, "origin");
  if (origin.empty()) return {};
  std::string host = requestHeader(request, "host");
  if (origin == "http://" + host || origin == "https://" + host) return {};
  return {core::ErrorCode::kPermissionDenied, "cross-origin",
          "requests that change something must come from this site's own pages"};
}

std::optional<platform::AuthenticatedSession> authenticateRequest(Exchange& exchange,
                                                                  platform::Accounts& accounts,
                                                                  bool allowPasswordChangePending) {
  const HttpRequest& request = exchange.request();
  std::string token = requestCookie(request, kSessionCookie);
  if (token.empty()) {
    exchange.respond(errorResponse(request, 401, "login-required", "log in first"));
    return std::nullopt;
  }
  auto session = accounts.authenticate(token);
  if (!session) {
    exchange.respond(errorResponse(request, session.status()));
    return std::nullopt;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    std::string csrf = requestHeader(request, "x-csrf-token");
    if (csrf.empty() ||
        !core::constantTimeEqual(core::asBytes(csrf), core::asBytes(session->csrfToken))) {
      exchange.respond(
          errorResponse(request, 403, "csrf-token-invalid",
                        "the request lacks this session's X-CSRF-Token (GET /api/v1/me gives it)"));
      return std::nullopt;
    }
  }
  if (session->user.mustChangePassword && !allowPasswordChangePending) {
    exchange.respond(errorResponse(request, 403, "password-change-required",
                                   "set a new password first (POST /api/v1/me/password)"));
    return std::nullopt;
  }
  return std::move(session).value();
}

RequestBody::RequestBody(const HttpRequest& request, std::size_t maxField)
    : document_(json::parse(request.body, nullptr, false)), maxField_(maxField) {}

core::Result<std::string> RequestBody::text(const std::string& name, std::size_t maxBytes) const {
  auto found = document_.find(name);
  if (found == document_.end() || found->is_null()) {
    return core::invalidArgument("missing-field", "the field \"" + name + "\" is required");
  }
  if (!found->is_string()) {
    return core::invalidArgument("wrong-type", "the field \"" + name + "\" must be a string");
  }
  const auto& value = found->get_ref<const std::string&>();
  if (value.size() > maxBytes) {
    return core::invalidArgument("field-too-long", "the field \"" + name + "\" is over " +
                                                       std::to_string(maxBytes) + " bytes");
  }
  return value;
}

core::Result<std::uint64_t> RequestBody::number(const json& object, const std::string& name,
                                                std::uint64_t max,
                                                std::optional<std::uint64_t> fallback) const {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) {
    if (fallback) return *fallback;
    return core::invalidArgument("missing-field", "the field \"" + name + "\" is required");
  }
  if (!found->is_number_unsigned() && !(found->is_number_integer() && *found >= 0)) {
    return core::invalidArgument("wrong-type", "the field \"" + name + "\" must be a whole number");
  }
  auto value = found->get<std::uint64_t>();
  if (value > max) {
    return core::invalidArgument("number-out-of-range",
                                 "the field \"" + name + "\" is at most " + std::to_string(max));
  }
  return value;
}

core::Result<bool> RequestBody::flag(const json& object, const std::string& name,
                                     bool fallback) const {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) return fallback;
  if (!found->is_boolean()) {
    return core::invalidArgument("wrong-type", "the field \"" + name + "\" must be true or false");
  }
  return found->get<bool>();
}

std::optional<RequestBody> jsonObjectBody(Exchange& exchange, std::size_t maxField) {
  RequestBody body(exchange.request(), maxField);
  if (!body.isObject()) {
    exchange.respond(
        errorResponse(exchange.request(), 400, "invalid-json", "the body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

}  // namespace jiancang::api
