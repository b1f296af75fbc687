// The platform's JSON API under /api/v1: registration, login and sessions, the account's own
// page, real-name verification, key export, roles set by operators, media uploads, issuers and
// the series review workflow (/api/v1/catalog), announcements and support tickets; and the media
// themselves under /media/{sha256}.
// docs/API.md lists it.
//
// Sessions travel in an HttpOnly, SameSite=Strict cookie (`jc_session`); every state-changing
// request made with a session must carry the session's CSRF token in `X-CSRF-Token`, and a
// request whose Origin names another site is refused outright. Handlers block on the database
// and on argon2id, so they run on the API's own worker threads, never the server's.
#pragma once

#include <memory>
#include <string_view>

#include <api/http_server.h>
#include <platform/accounts.h>
#include <platform/catalog.h>
#include <platform/gifts.h>
#include <platform/media.h>
#include <platform/support.h>

namespace jiancang::api {

struct PlatformApiOptions {
  unsigned workerThreads = 4;
  // Marks the session cookie Secure: set it when the site is served over HTTPS.
  bool secureCookies = false;
  std::size_t maxFieldBytes = 256;  // any one string field of a request
};

class PlatformApi {
 public:
  PlatformApi(platform::Accounts& accounts, platform::MediaLibrary& media,
              platform::Catalog& catalog, platform::Support& support, platform::Gifts& gifts,
              PlatformApiOptions options = {});
  ~PlatformApi();
  PlatformApi(const PlatformApi&) = delete;
  PlatformApi& operator=(const PlatformApi&) = delete;

  // Whether the path is one of this API's (the rest goes to the node's API).
  static bool handles(std::string_view path);
  // For HttpServerOptions::limitsFor: uploads may be larger and slower than other requests.
  static RouteLimits limitsFor(std::string_view method, std::string_view target);
  void handle(const std::shared_ptr<Exchange>& exchange);
  // Waits for the requests being handled; later ones are refused.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jiancang::api
