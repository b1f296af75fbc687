#include <platform/stored_transaction.h>

#include <future>
#include <memory>

#include <chain/state_keys.h>

namespace jiancang::platform {

std::uint64_t committedNonce(const ledger::Ledger& ledger, const core::Address& signer) {
  if (auto bytes = ledger.get(chain::state_keys::account(signer))) {
    if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) return decoded->nonce;
  }
  return 0;
}

StoredOutcome submitStored(const ledger::Ledger& ledger, ordering::Orderer& orderer,
                           const StoredTransaction& stored, std::chrono::milliseconds wait) {
  using Kind = StoredOutcome::Kind;
  auto committed = [&]() -> std::optional<StoredOutcome> {
    auto entry = ledger.transaction(stored.hash);
    if (!entry) return std::nullopt;
    return StoredOutcome{Kind::kCommitted, entry->height, entry->receipt, {}};
  };
  if (auto outcome = committed()) return *outcome;
  auto transaction = chain::decodeSignedTransaction(stored.signedTransaction);
  if (!transaction) return {Kind::kLost, 0, {}, "its stored transaction is unreadable"};
  auto promise = std::make_shared<std::promise<std::optional<ordering::CommitNotice>>>();
  auto future = promise->get_future();
  auto submitted =
      orderer.submit(*transaction, [promise](const std::optional<ordering::CommitNotice>& notice) {
        promise->set_value(notice);
      });
  if (!submitted) {
    if (submitted.status().reason() == "nonce-used") {
      // Either this very transaction committed a moment ago, or another took its nonce and it
      // can never commit.
      if (auto outcome = committed()) return *outcome;
      return {Kind::kLost, 0, {}, "its nonce was used by another transaction"};
    }
    return {};  // busy, not writable, a nonce still pending: the next round tries again
  }
  if (future.wait_for(wait) != std::future_status::ready) return {};
  std::optional<ordering::CommitNotice> notice = future.get();
  if (!notice) return {};
  return {Kind::kCommitted, notice->height, notice->receipt, {}};
}

}  // namespace jiancang::platform
