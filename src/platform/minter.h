// The Minter turns paid orders into tokens: one mint transaction per batch of paid orders of a
// series, signed with the issuer's custodial key, each recipient the buyer's address.
//
// Exactly once, across crashes and across instances sharing one database:
//   1. claim: in one SQL transaction, the batch's signed transaction (bytes and hash) and its
//      nonce are recorded, and its orders move to "minting" with their place in the batch.
//      (signer, nonce) is unique, so two instances can never both claim one nonce.
//   2. submit those exact bytes; after a restart, submit them again: the same hash, so the
//      orderer either joins the queued one or the chain refuses the nonce as used.
//   3. settle from the committed receipt: serial = receipt's first serial + place in batch,
//      orders "delivered". A batch whose nonce another transaction took can never commit: its
//      orders go back to "paid" for a new batch. A batch the chain refused likewise, until an
//      order has been tried `maxAttempts` times ("mint-failed", for an operator to refund).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <core/clock.h>
#include <ledger/ledger.h>
#include <ordering/orderer.h>
#include <platform/accounts.h>
#include <platform/drops.h>

namespace jiancang::platform {

struct MinterOptions {
  std::size_t maxBatch = 500;  // recipients per mint transaction (the chain allows 1,000)
  int maxAttempts = 5;
  std::chrono::milliseconds commitWait = std::chrono::seconds(15);
};

// Told about each order the minter delivered (for the buyer's event stream).
using DeliveredCallback = std::function<void(const Order& order)>;

class Minter {
 public:
  Minter(Database& database, Accounts& accounts, Drops& drops, ledger::Ledger& ledger,
         ordering::Orderer& orderer, const core::Clock& clock, MinterOptions options = {})
      : database_(database),
        accounts_(accounts),
        drops_(drops),
        ledger_(ledger),
        orderer_(orderer),
        clock_(clock),
        options_(options) {}

  // One round: settles the batches in flight (after a restart too), then mints every paid
  // order. Returns how many orders it delivered.
  core::Result<int> runOnce(const DeliveredCallback& delivered = {});

 private:
  struct Batch {
    std::int64_t id = 0;
    core::TxHash hash;
    core::Bytes signedTransaction;
  };
  core::Result<int> settle(const Batch& batch, const DeliveredCallback& delivered);
  core::Result<int> finish(const Batch& batch, std::uint64_t height, const chain::Receipt& receipt,
                           const DeliveredCallback& delivered);
  core::Status abandon(const Batch& batch, const std::string& why);
  core::Result<std::optional<Batch>> claim(std::uint64_t seriesId, std::int64_t issuerUserId);

  Database& database_;
  Accounts& accounts_;
  Drops& drops_;
  ledger::Ledger& ledger_;
  ordering::Orderer& orderer_;
  const core::Clock& clock_;
  MinterOptions options_;
};

}  // namespace jiancang::platform
