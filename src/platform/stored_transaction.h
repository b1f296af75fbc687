// Submitting a transaction the platform recorded (bytes and hash) in its database before sending
// it, so that after a crash it sends those same bytes again instead of signing a second,
// different transaction for the same purpose. Used by the minter and by lottery draws.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <chain/executor.h>
#include <ledger/ledger.h>
#include <ordering/orderer.h>

namespace jiancang::platform {

struct StoredTransaction {
  core::TxHash hash;
  core::Bytes signedTransaction;
};

struct StoredOutcome {
  enum class Kind : std::uint8_t {
    kCommitted,  // in a block: `height` and `receipt` say how it went
    kWaiting,    // not committed yet (busy, pending, or still waiting): try again later
    kLost,       // can never commit (its nonce went to another transaction): sign anew
  };
  Kind kind = Kind::kWaiting;
  std::uint64_t height = 0;
  chain::Receipt receipt;
  std::string why;  // for kLost
};

// The next nonce of `signer` in the committed state.
std::uint64_t committedNonce(const ledger::Ledger& ledger, const core::Address& signer);

// Looks the transaction up; if it is not committed, submits it and waits up to `wait`.
StoredOutcome submitStored(const ledger::Ledger& ledger, ordering::Orderer& orderer,
                           const StoredTransaction& stored, std::chrono::milliseconds wait);

}  // namespace jiancang::platform
