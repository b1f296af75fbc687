// How the platform writes to the chain: it signs an operation with a key it holds (the chain
// admin's, or a user's custodial key inside that user's request), submits it to the orderer and
// waits for the block. One transaction at a time: each signer's next nonce is read from the
// committed state, so nothing the platform sends can collide with itself. (A drop's mints will
// want batches; they come with the drops issue.)
#pragma once

#include <chrono>
#include <mutex>

#include <chain/executor.h>
#include <chain/transaction.h>
#include <ledger/ledger.h>
#include <ordering/orderer.h>

namespace jiancang::platform {

struct ChainOutcome {
  core::TxHash txHash;
  std::uint64_t height = 0;
  chain::Receipt receipt;  // ok, or the chain's refusal with its reason

  // The receipt as a Status: ok, or the chain's refusal as it stands.
  core::Status refusal() const {
    if (receipt.ok()) return {};
    return {receipt.code, receipt.reason, receipt.message};
  }
};

class ChainWriter {
 public:
  ChainWriter(ledger::Ledger& ledger, ordering::Orderer& orderer,
              std::chrono::milliseconds commitWait = std::chrono::seconds(15))
      : ledger_(ledger), orderer_(orderer), commitWait_(commitWait) {}

  // The outcome once committed. Fails ("chain-timeout", "chain-not-committed", or the orderer's
  // refusal) without knowing whether it will commit later only on a timeout, which says so.
  core::Result<ChainOutcome> submit(const core::KeyPair& signer, chain::Operation operation);

  const chain::ChainParameters& parameters() const { return ledger_.parameters(); }
  // The committed state, for reading records the platform acts on.
  const ledger::Ledger& ledger() const { return ledger_; }

 private:
  ledger::Ledger& ledger_;
  ordering::Orderer& orderer_;
  std::chrono::milliseconds commitWait_;
  std::mutex mutex_;  // one transaction at a time
};

}  // namespace jiancang::platform
