// What the platform's JSON routes share: reading a request's JSON body and its fields with the
// refusals every route gives, the session cookie, the CSRF and same-origin checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <api/http_server.h>
#include <chain/types.h>
#include <core/status.h>
#include <platform/accounts.h>

namespace jiancang::api {

inline constexpr std::string_view kSessionCookie = "jc_session";

std::string requestHeader(const HttpRequest& request, const std::string& name);
std::string requestCookie(const HttpRequest& request, std::string_view name);

// A positive decimal id, or nothing.
std::optional<std::int64_t> parseId(std::string_view text);
// A token as "SERIES#SERIAL", both positive decimal numbers, or nothing.
std::optional<chain::TokenId> parseTokenId(std::string_view text);

// A state-changing request from a page of another site is refused whatever it carries: the
// browser names the page's origin, and it must be this host's ("cross-origin").
core::Status checkOrigin(const HttpRequest& request);

// The session's account, or nothing with an answer already sent: "login-required",
// "session-invalid", "csrf-token-invalid" (a state-changing request must echo the session's
// X-CSRF-Token), "password-change-required" (unless `allowPasswordChangePending`).
std::optional<platform::AuthenticatedSession> authenticateRequest(
    Exchange& exchange, platform::Accounts& accounts, bool allowPasswordChangePending = false);

// A request's JSON body and its fields.
class RequestBody {
 public:
  RequestBody(const HttpRequest& request, std::size_t maxField);
  bool isObject() const { return document_.is_object(); }
  // The field as a string of at most the default or `maxBytes` bytes: "missing-field",
  // "wrong-type", "field-too-long".
  core::Result<std::string> text(const std::string& name) const { return text(name, maxField_); }
  core::Result<std::string> text(const std::string& name, std::size_t maxBytes) const;
  // A whole number in [0, max], or `fallback` when absent and optional ("number-out-of-range").
  core::Result<std::uint64_t> number(const nlohmann::json& object, const std::string& name,
                                     std::uint64_t max,
                                     std::optional<std::uint64_t> fallback = std::nullopt) const;
  core::Result<bool> flag(const nlohmann::json& object, const std::string& name,
                          bool fallback) const;
  const nlohmann::json& document() const { return document_; }

 private:
  nlohmann::json document_;
  std::size_t maxField_;
};

// The body as a JSON object, or nothing with "invalid-json" already answered.
std::optional<RequestBody> jsonObjectBody(Exchange& exchange, std::size_t maxField);

}  // namespace jiancang::api
