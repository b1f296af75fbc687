#include <platform/payments.h>

#include <sodium.h>

#include <thread>

#include <nlohmann/json.hpp>

#include <core/bytes.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;
using nlohmann::json;

constexpr const char* kKeySetting = "sandbox-payments.callback-key";
constexpr std::size_t kMaxDescriptionBytes = 200;
constexpr std::size_t kMaxReferenceBytes = 64;
// Stored as a path: the sandbox lives in the node and calls it back wherever it listens now.
constexpr std::string_view kNotifyPath = "/api/v1/payments/sandbox/notify";
constexpr std::int64_t kMaxRetryDelayMillis = 60'000;

std::string randomId(std::string_view prefix) {
  std::array<std::uint8_t, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return std::string(prefix) + core::toHex(bytes);
}

Status noSuchPayment(const std::string& id) {
  // The id is echoed only when it looks like one of ours: never reflect arbitrary input.
  const bool plausible =
      id.size() <= 40 && id.find_first_not_of("0123456789abcdefp_") == std::string::npos;
  return core::notFound("no-such-payment",
                        plausible ? "there is no payment " + id : "there is no such payment");
}

std::string_view eventName(PaymentEvent event) {
  return event == PaymentEvent::kPaid ? "paid" : "refunded";
}

constexpr const char* kPaymentColumns =
    "id, merchant_reference, amount_fen, description, state, return_url";

SandboxPayments::PaymentView readPayment(const SqlRow& row) {
  return {row.text(0), row.text(1), core::Fen(row.integer(2)),
          row.text(3), row.text(4), row.text(5)};
}

core::Result<SandboxPayments::PaymentView> loadPayment(SqlSession& session, const std::string& id) {
  auto rows = session.query(
      std::string("SELECT ") + kPaymentColumns + " FROM sandbox_payments WHERE id = ?", {id});
  if (!rows) return rows.status();
  if (rows->empty()) return noSuchPayment(id);
  return readPayment(rows->front());
}

}  // namespace

core::Result<std::unique_ptr<SandboxPayments>> SandboxPayments::open(Database& database,
                                                                     const core::Clock& clock,
                                                                     SandboxOptions options) {
  if (sodium_init() < 0) {
    return Status(ErrorCode::kInternal, "sodium-init", "libsodium did not initialise");
  }
  core::Bytes key;
  Status status = database.transaction([&](SqlSession& session) -> Status {
    auto rows =
        session.query("SELECT value FROM settings WHERE name = ?", {std::string(kKeySetting)});
    if (!rows) return rows.status();
    if (!rows->empty()) {
      key = rows->front().bytes(0);
      return {};
    }
    key.resize(crypto_auth_hmacsha256_KEYBYTES);
    crypto_auth_hmacsha256_keygen(key.data());
    auto inserted = session.execute("INSERT INTO settings (name, value) VALUES (?, ?)",
                                    {std::string(kKeySetting), key});
    return inserted ? Status() : inserted.status();
  });
  if (!status.isOk()) return status;
  if (key.size() != crypto_auth_hmacsha256_KEYBYTES) {
    return Status(ErrorCode::kInternal, "sandbox-key", "the sandbox's stored key is malformed");
  }
  return std::unique_ptr<SandboxPayments>(
      new SandboxPayments(database, clock, std::move(options), std::move(key)));
}

void SandboxPayments::setBaseUrl(std::string baseUrl) {
  std::lock_guard lock(baseUrlMutex_);
  options_.baseUrl = std::move(baseUrl);
}

std::string SandboxPayments::baseUrl() const {
  std::lock_guard lock(baseUrlMutex_);
  return options_.baseUrl;
}

std::string SandboxPayments::sign(std::string_view body) const {
  std::array<std::uint8_t, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(body.data()),
                         body.size(), key_.data());
  return core::toHex(mac);
}

core::Result<PaymentSession> SandboxPayments::createPayment(const PaymentRequest& request) {
  if (request.amount.value() <= 0) {
    return core::invalidArgument("payment-amount", "a payment is for a positive amount");
  }
  if (request.merchantReference.empty() || request.merchantReference.size() > kMaxReferenceBytes ||
      request.description.size() > kMaxDescriptionBytes) {
    return core::invalidArgument("payment-request", "reference or description out of bounds");
  }
  const std::string id = randomId("sbx_");
  const std::int64_t now = clock_.now().unixMillis();
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto inserted = session.execute(
        "INSERT INTO sandbox_payments (id, merchant_reference, amount_fen, description, "
        "notify_url, return_url, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, "
        "'open', ?, ?)",
        {id, request.merchantReference, request.amount.value(), request.description,
         std::string(kNotifyPath), request.returnUrl, now, now});
    return inserted ? Status() : inserted.status();
  });
  if (!status.isOk()) return status;
  // The page is on this site: a relative address works wherever the buyer reached it from.
  return PaymentSession{id, "/sandbox/pay/" + id};
}

core::Result<PaymentNotice> SandboxPayments::verifyCallback(
    std::string_view body, const std::map<std::string, std::string>& headers) {
  auto header = headers.find(kSandboxSignatureHeader);
  if (header == headers.end()) {
    return Status(ErrorCode::kUnauthenticated, "callback-signature",
                  std::string("the callback has no ") + kSandboxSignatureHeader + " header");
  }
  auto given = core::fromHex(header->second);
  if (!given || given->size() != crypto_auth_hmacsha256_BYTES ||
      crypto_auth_hmacsha256_verify(given->data(),
                                    reinterpret_cast<const unsigned char*>(body.data()),
                                    body.size(), key_.data()) != 0) {
    return Status(ErrorCode::kUnauthenticated, "callback-signature",
                  "the callback's signature does not match its body");
  }
  json document = json::parse(body, nullptr, false);
  auto text = [&](const char* field) -> const std::string* {
    if (!document.is_object()) return nullptr;
    auto found = document.find(field);
    return found != document.end() && found->is_string() ? found->get_ptr<const std::string*>()
                                                         : nullptr;
  };
  const std::string* event = text("event");
  if (text("notice_id") == nullptr || text("payment_id") == nullptr ||
      text("merchant_reference") == nullptr || text("currency") == nullptr || event == nullptr ||
      !document.contains("amount_fen") || !document["amount_fen"].is_number_integer() ||
      (*event != "paid" && *event != "refunded")) {
    return core::invalidArgument("callback-malformed",
                                 "the callback lacks a field or has one of the wrong type");
  }
  return PaymentNotice{*text("notice_id"),
                       *text("payment_id"),
                       *text("merchant_reference"),
                       core::Fen(document["amount_fen"].get<std::int64_t>()),
                       *text("currency"),
                       *event == "paid" ? PaymentEvent::kPaid : PaymentEvent::kRefunded};
}

Status SandboxPayments::queueNotice(SqlSession& session, const PaymentView& payment,
                                    PaymentEvent event) {
  auto notify = session.query("SELECT notify_url FROM sandbox_payments WHERE id = ?", {payment.id});
  if (!notify) return notify.status();
  const std::int64_t now = clock_.now().unixMillis();
  const std::string body = json{
      {"notice_id", randomId("ntc_")},
      {"payment_id", payment.id},
      {"merchant_reference", payment.merchantReference},
      {"amount_fen", payment.amount.value()},
      {"currency", "CNY"},
      {"event", eventName(event)},
      {"sent_at", now}}.dump();
  // The same notice, queued several times: a real provider's retries reach merchants twice
  // often enough that a merchant must not care.
  for (int copy = 0; copy < std::max(1, options_.deliveriesPerNotice); ++copy) {
    auto inserted = session.execute(
        "INSERT INTO sandbox_callbacks (payment_id, notify_url, body, next_attempt_at) VALUES "
        "(?, ?, ?, ?)",
        {payment.id, notify->front().text(0), body, now});
    if (!inserted) return inserted.status();
  }
  return {};
}

core::Result<SandboxPayments::PaymentView> SandboxPayments::payment(const std::string& paymentId) {
  PaymentView view;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto loaded = loadPayment(session, paymentId);
    if (!loaded) return loaded.status();
    view = *loaded;
    return {};
  });
  if (!status.isOk()) return status;
  return view;
}

core::Result<SandboxPayments::PaymentView> SandboxPayments::settle(const std::string& paymentId,
                                                                   const std::string& toState) {
  PaymentView view;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto loaded = loadPayment(session, paymentId);
    if (!loaded) return loaded.status();
    if (loaded->state != "open") {
      return core::failedPrecondition("payment-closed", "this payment is already " + loaded->state);
    }
    auto updated =
        session.execute("UPDATE sandbox_payments SET state = ?, updated_at = ? WHERE id = ?",
                        {toState, clock_.now().unixMillis(), paymentId});
    if (!updated) return updated.status();
    view = *loaded;
    view.state = toState;
    return toState == "paid" ? queueNotice(session, view, PaymentEvent::kPaid) : Status();
  });
  if (!status.isOk()) return status;
  return view;
}

core::Result<SandboxPayments::PaymentView> SandboxPayments::pay(const std::string& paymentId) {
  return settle(paymentId, "paid");
}

core::Result<SandboxPayments::PaymentView> SandboxPayments::cancel(const std::string& paymentId) {
  return settle(paymentId, "cancelled");
}

core::Result<std::optional<PaymentNotice>> SandboxPayments::close(const std::string& paymentId) {
  std::optional<PaymentNotice> paid;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    paid.reset();
    auto loaded = loadPayment(session, paymentId);
    if (!loaded) return loaded.status();
    if (loaded->state == "paid") {
      // What a gateway's query answers: the same facts as the callback, under a notice id of
      // its own so that asking twice applies once.
      paid = PaymentNotice{"query_" + paymentId, paymentId, loaded->merchantReference,
                           loaded->amount,       "CNY",     PaymentEvent::kPaid};
      return {};
    }
    if (loaded->state != "open") return {};  // cancelled or refunded: nothing can be paid
    auto updated = session.execute(
        "UPDATE sandbox_payments SET state = 'cancelled', updated_at = ? WHERE id = ?",
        {clock_.now().unixMillis(), paymentId});
    return updated ? Status() : updated.status();
  });
  if (!status.isOk()) return status;
  return paid;
}

Status SandboxPayments::refund(const std::string& paymentId, const std::string& reason) {
  return database_.transaction([&](SqlSession& session) -> Status {
    auto loaded = loadPayment(session, paymentId);
    if (!loaded) return loaded.status();
    if (loaded->state == "refunded") return {};  // asked again: already done
    if (loaded->state != "paid") {
      return core::failedPrecondition(
          "payment-not-paid",
          "payment " + paymentId + " is " + loaded->state + ", not paid: " + reason.substr(0, 64));
    }
    auto updated = session.execute(
        "UPDATE sandbox_payments SET state = 'refunded', updated_at = ? WHERE id = ?",
        {clock_.now().unixMillis(), paymentId});
    if (!updated) return updated.status();
    PaymentView view = *loaded;
    return queueNotice(session, view, PaymentEvent::kRefunded);
  });
}

core::Result<SandboxPayments::Deliveries> SandboxPayments::deliverDue(const Post& post) {
  struct Due {
    std::int64_t id;
    std::string notifyUrl;
    std::string body;
    std::int64_t attempts;
  };
  std::vector<Due> due;
  const std::int64_t now = clock_.now().unixMillis();
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    due.clear();
    auto rows = session.query(
        "SELECT id, notify_url, body, attempts FROM sandbox_callbacks WHERE delivered_at IS NULL "
        "AND next_attempt_at <= ? AND attempts < ? ORDER BY id LIMIT ?",
        {now, std::int64_t{options_.maxAttempts},
         static_cast<std::int64_t>(options_.deliveryBatch)});
    if (!rows) return rows.status();
    for (const SqlRow& row : *rows) {
      due.push_back({row.integer(0), row.text(1), row.text(2), row.integer(3)});
    }
    return {};
  });
  if (!status.isOk()) return status;
  // Sent in parallel, as a provider's delivery fleet would: one slow merchant answer must not
  // hold up the rest. Then one transaction records every outcome.
  const std::string base = baseUrl();
  std::vector<char> acknowledgedBy(due.size(), 0);
  const std::size_t senders = std::min<std::size_t>(
      due.size(), static_cast<std::size_t>(std::max(1, options_.parallelDeliveries)));
  std::vector<std::thread> threads;
  threads.reserve(senders);
  for (std::size_t sender = 0; sender < senders; ++sender) {
    threads.emplace_back([&, sender] {
      for (std::size_t i = sender; i < due.size(); i += senders) {
        const std::string& notifyUrl = due[i].notifyUrl;
        const std::string url = notifyUrl.starts_with("/") ? base + notifyUrl : notifyUrl;
        acknowledgedBy[i] = post(url, due[i].body, sign(due[i].body)) ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int acknowledged = 0;
  Status saved = database_.transaction([&](SqlSession& session) -> Status {
    acknowledged = 0;
    const std::int64_t at = clock_.now().unixMillis();
    for (std::size_t i = 0; i < due.size(); ++i) {
      const Due& callback = due[i];
      const std::int64_t backoff =
          std::min(options_.retryDelay.count() << std::min<std::int64_t>(callback.attempts, 16),
                   kMaxRetryDelayMillis);
      auto updated =
          acknowledgedBy[i] != 0
              ? session.execute(
                    "UPDATE sandbox_callbacks SET attempts = attempts + 1, delivered_at = ? WHERE "
                    "id = ?",
                    {at, callback.id})
              : session.execute(
                    "UPDATE sandbox_callbacks SET attempts = attempts + 1, next_attempt_at = ? "
                    "WHERE id = ?",
                    {at + backoff, callback.id});
      if (!updated) return updated.status();
      acknowledged += acknowledgedBy[i];
    }
    return {};
  });
  if (!saved.isOk()) return saved;
  return Deliveries{static_cast<int>(due.size()), acknowledged};
}

}  // namespace jiancang::platform
