// Driving the platform's API as a person would, for integration tests and benchmarks: a
// browser-like client that keeps its session cookie and CSRF token, the first operator's
// sign-in, an issuer with a published series, valid identity numbers and images.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "node_harness.h"

namespace jiancang::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A browser-like client of one node: keeps the session cookie and the CSRF token.
class Browser {
 public:
  explicit Browser(unsigned short port) : http_(port) {}

  HttpResult call(const std::string& method, const std::string& target,
                  const nlohmann::json& body = {}, Headers extra = {}, bool withCsrf = true);
  // A body sent as it is, with the session.
  HttpResult raw(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& contentType = "application/json");
  void adopt(const Browser& other) {
    cookie_ = other.cookie_;
    csrf_ = other.csrf_;
  }
  // The session alone, to be resumed later by another Browser (a crowd's sessions, kept
  // without a connection each).
  struct Saved {
    std::string cookie;
    std::string csrf;
  };
  Saved save() const { return {cookie_, csrf_}; }
  void resume(const Saved& saved) {
    cookie_ = saved.cookie;
    csrf_ = saved.csrf;
  }
  const std::string& csrf() const { return csrf_; }
  // The Cookie header's value, for a request sent by other means (an event stream).
  std::string cookieHeader() const { return "jc_session=" + cookie_; }

 private:
  void remember(const HttpResult& result);

  HttpClient http_;
  std::string cookie_;
  std::string csrf_;
};

// The error code of an answer, or "".
std::string codeOf(const HttpResult& result);

// The one-time password `jiancang up` printed for the first operator, or "".
std::string oneTimePassword(const std::string& nodeOutput);

// Logs `admin` in as the first operator with the one-time password in `nodeOutput` and sets
// the password to "operator secret", as the node requires. False with the reason on failure.
bool signInAsOperator(Browser& admin, const std::string& nodeOutput, std::string* failure);

// An issuer onboarded by `admin` (signed in as operator) and a series of theirs, approved by
// `admin` and published: its draft id, or 0 with the reason.
std::int64_t publishSeries(Browser& admin, unsigned short port, int editionCap,
                           std::string* failure);

// A valid 18-character resident identity number (GB 11643 check character) for person `n`
// (0 to 335,999; persons 0 to 999 born 1990-01-01), distinct for each.
std::string identityNumber(int n);

// A PNG of noise: it does not compress, so its size is about width x height x 3 bytes.
std::string noisePng(int width, int height);

}  // namespace jiancang::testing
