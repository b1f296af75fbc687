#include <platform/chain_writer.h>

#include <future>

#include <chain/state_keys.h>
#include <chain/types.h>

namespace jiancang::platform {

core::Result<ChainOutcome> ChainWriter::submit(const core::KeyPair& signer,
                                               chain::Operation operation) {
  std::lock_guard lock(mutex_);
  const chain::ChainParameters& parameters = ledger_.parameters();
  chain::AccountRecord account;
  if (auto bytes = ledger_.get(chain::state_keys::account(core::addressOf(signer.publicKey)))) {
    if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) account = *decoded;
  }
  chain::Transaction transaction{parameters.chainId, signer.publicKey, account.nonce,
                                 std::move(operation)};
  chain::SignedTransaction signedTransaction =
      chain::signTransaction(parameters, std::move(transaction), signer.secretKey);
  if (core::Status checked = chain::checkTransaction(parameters, signedTransaction);
      !checked.isOk()) {
    return checked;
  }
  auto promise = std::make_shared<std::promise<std::optional<ordering::CommitNotice>>>();
  auto future = promise->get_future();
  auto submitted = orderer_.submit(std::move(signedTransaction),
                                   [promise](const std::optional<ordering::CommitNotice>& notice) {
                                     promise->set_value(notice);
                                   });
  if (!submitted) return submitted.status();
  if (future.wait_for(commitWait_) != std::future_status::ready) {
    return core::Status(core::ErrorCode::kUnavailable, "chain-timeout",
                        "transaction " + submitted->hex() +
                            " was not committed in time; it may still commit: look it up");
  }
  std::optional<ordering::CommitNotice> notice = future.get();
  if (!notice) {
    return core::Status(core::ErrorCode::kUnavailable, "chain-not-committed",
                        "the node stopped before committing the transaction; try again");
  }
  return ChainOutcome{*submitted, notice->height, notice->receipt};
}

}  // namespace jiancang::platform
