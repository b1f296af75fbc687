// Payments: how money reaches the platform. Orders talk to a PaymentProvider; the provider
// takes the buyer to its own payment page and tells the platform the outcome later, in signed
// asynchronous callbacks that may arrive more than once, late, or out of order. A forged,
// altered or replayed callback must never change anything: the provider checks the signature,
// and Orders checks that the amount, currency and order are the ones it asked for and applies
// each notice at most once.
//
// jiancang ships one provider, the sandbox, which behaves like a real one (a payment page of its
// own, HMAC-SHA256-signed callbacks retried until acknowledged and sometimes sent twice, refunds)
// without moving money. A real provider (a bank's or a wallet's gateway) implements the same
// interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <core/clock.h>
#include <core/money.h>
#include <core/status.h>
#include <platform/database.h>

namespace jiancang::platform {

struct PaymentRequest {
  std::string merchantReference;  // the platform's order reference; echoed in every notice
  core::Fen amount;
  std::string description;  // shown on the payment page
  std::string returnUrl;    // where the payment page sends the buyer afterwards
};

struct PaymentSession {
  std::string paymentId;  // the provider's id
  std::string payUrl;     // the page the buyer pays on
};

enum class PaymentEvent : std::uint8_t { kPaid, kRefunded };

// What a verified callback says.
struct PaymentNotice {
  std::string noticeId;  // unique per notice: a notice is applied once however often it comes
  std::string paymentId;
  std::string merchantReference;
  core::Fen amount;
  std::string currency;  // "CNY"
  PaymentEvent event = PaymentEvent::kPaid;
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string_view name() const = 0;
  virtual core::Result<PaymentSession> createPayment(const PaymentRequest& request) = 0;
  // Checks a callback's signature and shape. Reasons: "callback-signature" (missing, malformed
  // or wrong), "callback-malformed".
  virtual core::Result<PaymentNotice> verifyCallback(
      std::string_view body, const std::map<std::string, std::string>& headers) = 0;
  // Refunds a paid payment in full ("payment-not-paid" if it is not).
  virtual core::Status refund(const std::string& paymentId, const std::string& reason) = 0;
  // Closes an unpaid payment so that it can no longer be paid, as a merchant does when an
  // order's time to pay is over (a real gateway's "close trade"). Closing a closed payment is a
  // success. When the buyer paid first, answers the paid notice instead (its callback comes as
  // well; the notice lets the order be paid now rather than refunded when the callback is late).
  virtual core::Result<std::optional<PaymentNotice>> close(const std::string& paymentId) = 0;
};

// The sandbox provider. Its payments and pending callbacks live in the platform's database (as
// a real provider's would live in its own), so a restart loses no callback. The signing key is
// made once and kept in the database's settings: every instance sharing the database signs and
// verifies with it.
struct SandboxOptions {
  std::string baseUrl;          // e.g. "http://127.0.0.1:8080": pay pages and the notify URL
  int deliveriesPerNotice = 2;  // each callback is sent this many times: at least once, often twice
  core::Duration retryDelay = std::chrono::seconds(2);  // after a failed delivery, doubling
  int maxAttempts = 12;
  int parallelDeliveries = 16;  // callbacks sent at once
  std::size_t deliveryBatch = 500;
};

// The header that carries a callback's signature: hex HMAC-SHA256 over the body.
inline constexpr const char* kSandboxSignatureHeader = "x-sandbox-signature";

class SandboxPayments final : public PaymentProvider {
 public:
  // Loads or makes the signing key. Fails only if the database does.
  static core::Result<std::unique_ptr<SandboxPayments>> open(Database& database,
                                                             const core::Clock& clock,
                                                             SandboxOptions options);

  std::string_view name() const override { return "sandbox"; }
  core::Result<PaymentSession> createPayment(const PaymentRequest& request) override;
  core::Result<PaymentNotice> verifyCallback(
      std::string_view body, const std::map<std::string, std::string>& headers) override;
  core::Status refund(const std::string& paymentId, const std::string& reason) override;
  core::Result<std::optional<PaymentNotice>> close(const std::string& paymentId) override;

  // What the payment page shows.
  struct PaymentView {
    std::string id;
    std::string merchantReference;
    core::Fen amount;
    std::string description;
    std::string state;  // "open", "paid", "cancelled", "refunded"
    std::string returnUrl;
  };
  core::Result<PaymentView> payment(const std::string& paymentId);
  // The buyer's choice on the payment page: pays (queues the paid callback) or cancels.
  // Reasons: "no-such-payment", "payment-closed" (already paid, cancelled or refunded).
  core::Result<PaymentView> pay(const std::string& paymentId);
  core::Result<PaymentView> cancel(const std::string& paymentId);

  // Sends the callbacks that are due (up to a batch) through `post` (URL, body, signature) →
  // whether the merchant acknowledged it; `post` is called from several threads at once.
  // Returns how many were due, and how many of them acknowledged.
  using Post = std::function<bool(const std::string& notifyUrl, const std::string& body,
                                  const std::string& signature)>;
  struct Deliveries {
    int due = 0;
    int acknowledged = 0;
  };
  core::Result<Deliveries> deliverDue(const Post& post);

  // Signs `body` as the sandbox does (tests forge and alter callbacks with it).
  std::string sign(std::string_view body) const;

  // Where the pay pages and the notify URL live, once the server knows its address.
  void setBaseUrl(std::string baseUrl);

 private:
  SandboxPayments(Database& database, const core::Clock& clock, SandboxOptions options,
                  core::Bytes key)
      : database_(database), clock_(clock), options_(std::move(options)), key_(std::move(key)) {}
  core::Status queueNotice(SqlSession& session, const PaymentView& payment, PaymentEvent event);
  core::Result<PaymentView> settle(const std::string& paymentId, const std::string& toState);
  std::string baseUrl() const;

  Database& database_;
  const core::Clock& clock_;
  SandboxOptions options_;
  mutable std::mutex baseUrlMutex_;
  core::Bytes key_;
};

}  // namespace jiancang::platform
