// The queue of admitted transactions: deduplicated by hash, kept in nonce order per account,
// bounded in total and per account so that one account cannot crowd out the rest. Not
// thread-safe: its owner locks.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include <chain/transaction.h>

namespace jiancang::ordering {

struct MempoolLimits {
  std::size_t capacity = 100'000;            // transactions queued in all
  std::size_t perAccount = 64;               // queued for one ordinary account
  std::size_t perPrivilegedAccount = 5'000;  // issuers and admins: a drop is not a flood
};

struct PendingTransaction {
  chain::SignedTransaction transaction;
  core::TxHash hash;
  core::Address signer;
};

class Mempool {
 public:
  explicit Mempool(MempoolLimits limits) : limits_(limits) {}

  // `stateNonce`: the signer's next nonce in the committed state; `privileged`: whether the
  // larger quota applies. On refusal nothing changes.
  core::Status admit(PendingTransaction pending, std::uint64_t stateNonce, bool privileged);
  bool contains(const core::TxHash& hash) const { return byHash_.contains(hash); }
  // Whether `signer` has transactions queued or in a block being committed.
  bool hasAccount(const core::Address& signer) const { return accounts_.contains(signer); }

  // Takes up to `max` transactions for a block, oldest accounts first, each account's in nonce
  // order. Taken transactions still count against quotas until completed().
  std::vector<PendingTransaction> take(std::size_t max);
  // The taken transactions are committed (or dropped): frees their places.
  void completed(const std::vector<PendingTransaction>& taken);
  // The taken transactions did not make it into a block: queues them again, first in line,
  // in the order they were taken.
  void putBack(std::vector<PendingTransaction> taken);
  // A queued transaction committed by another orderer: forgets it (false if not queued).
  bool dropCommitted(const core::TxHash& hash);
  // Takes every queued transaction out (for a member that stops leading).
  std::vector<PendingTransaction> drain();

  std::size_t size() const { return byHash_.size(); }
  std::size_t waiting() const { return waiting_; }

 private:
  struct Account {
    std::deque<PendingTransaction> queue;  // not yet taken, in nonce order
    std::size_t inBlock = 0;               // taken, not yet completed
    std::uint64_t nextNonce = 0;           // the nonce the next admitted transaction must have
  };

  MempoolLimits limits_;
  std::map<core::Address, Account> accounts_;
  std::deque<core::Address> ready_;  // accounts with queued transactions, in arrival order
  std::unordered_map<core::TxHash, core::Address, core::LeadingBytesHasher> byHash_;
  std::size_t waiting_ = 0;
};

}  // namespace jiancang::ordering
