// The selling half of the platform's API: drops, orders and payments under /api/v1, and the
// sandbox payment provider's own pages under /sandbox (docs/API.md lists them).
//
//   GET  /api/v1/drops, /api/v1/drops/{id}        public: price, window, stock left, state
//   POST /api/v1/drops                            operator: a drop of a published series
//   GET  /api/v1/drops/{id}/figures               operator: attempts, pending, paid, delivered...
//   POST /api/v1/drops/{id}/queue                 buyer: join the waiting room; GET: one's place
//   GET  /api/v1/drops/{id}/queue/draw            public: the revealed seed and every place
//   POST /api/v1/drops/{id}/lottery               buyer: enter a lottery drop; GET: one's entry
//   GET  /api/v1/drops/{id}/lottery/entrants      public: the numbered entrants and the winners
//   POST /api/v1/drops/{id}/orders                buyer: reserve one copy (Idempotency-Key)
//   POST /api/v1/airdrops                         operator: a copy for each of a list of users
//                                                 or of a series' holders at a height
//   GET  /api/v1/orders, /api/v1/orders/{id}      the buyer's own orders with their history
//   GET  /api/v1/orders/{id}/events               the order's changes, as server-sent events
//   POST /api/v1/orders/{id}/pay                  the provider's payment page for the order
//   POST /api/v1/orders/{id}/refund               operator
//   POST /api/v1/blind-boxes/{id}/reveal          a blind box's issuer (its series draft id):
//                                                 seal the sale and reveal the seed (the node's
//                                                 GET /api/v1/series/{id}/blind-box shows it)
//   POST /api/v1/blind-boxes/open, .../refund     a box's holder: {"token": "SERIES#SERIAL"}
//   POST /api/v1/payments/sandbox/notify          the provider's signed callback (no session)
//   GET/POST /sandbox/pay/{id}                    the sandbox provider's payment page
#pragma once

#include <memory>
#include <string_view>

#include <api/http_server.h>
#include <platform/accounts.h>
#include <platform/blind_boxes.h>
#include <platform/drops.h>
#include <platform/lottery.h>
#include <platform/payments.h>
#include <platform/waiting_room.h>

namespace jiancang::api {

class CommerceApi {
 public:
  CommerceApi(platform::Accounts& accounts, platform::Drops& drops,
              platform::WaitingRoom& waitingRoom, platform::Lotteries& lotteries,
              platform::BlindBoxes& blindBoxes, platform::SandboxPayments& sandbox,
              unsigned workerThreads = 4);
  ~CommerceApi();
  CommerceApi(const CommerceApi&) = delete;
  CommerceApi& operator=(const CommerceApi&) = delete;

  static bool handles(std::string_view path);
  void handle(const std::shared_ptr<Exchange>& exchange);
  // Waits for the requests being handled.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// POSTs `body` to an http:// URL and returns the response status (0 when there was none).
// What the sandbox provider delivers its callbacks with.
unsigned postTo(const std::string& url, const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers,
                std::chrono::milliseconds timeout);

}  // namespace jiancang::api
