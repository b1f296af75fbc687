#include <ordering/mempool.h>

#include <algorithm>

namespace jiancang::ordering {

core::Status Mempool::admit(PendingTransaction pending, std::uint64_t stateNonce, bool privileged) {
  if (byHash_.contains(pending.hash)) {
    return {core::ErrorCode::kAlreadyExists, "duplicate", "the transaction is already queued"};
  }
  auto found = accounts_.find(pending.signer);
  const std::uint64_t expected = found == accounts_.end() ? stateNonce : found->second.nextNonce;
  const std::uint64_t nonce = pending.transaction.transaction.nonce;
  if (nonce < stateNonce) {
    return core::failedPrecondition("nonce-used", "nonce " + std::to_string(nonce) +
                                                      " was already used; the account's next is " +
                                                      std::to_string(expected));
  }
  if (nonce < expected) {
    return {core::ErrorCode::kAlreadyExists, "nonce-pending",
            "another queued transaction of this account has nonce " + std::to_string(nonce)};
  }
  if (nonce > expected) {
    return core::failedPrecondition("nonce-gap", "the account's next nonce is " +
                                                     std::to_string(expected) + ", not " +
                                                     std::to_string(nonce));
  }
  const std::size_t quota = privileged ? limits_.perPrivilegedAccount : limits_.perAccount;
  if (found != accounts_.end() && found->second.queue.size() + found->second.inBlock >= quota) {
    return {core::ErrorCode::kResourceExhausted, "account-quota",
            "this account already has " + std::to_string(quota) +
                " transactions waiting; retry when some have committed"};
  }
  if (byHash_.size() >= limits_.capacity) {
    return {core::ErrorCode::kResourceExhausted, "mempool-full",
            "the node has " + std::to_string(byHash_.size()) +
                " transactions waiting, its limit; retry shortly"};
  }
  Account& account = accounts_[pending.signer];
  account.nextNonce = nonce + 1;
  byHash_.emplace(pending.hash, pending.signer);
  if (account.queue.empty()) ready_.push_back(pending.signer);
  account.queue.push_back(std::move(pending));
  ++waiting_;
  return {};
}

std::vector<PendingTransaction> Mempool::take(std::size_t max) {
  std::vector<PendingTransaction> taken;
  taken.reserve(std::min(max, waiting_));
  // One transaction per account per turn, so a busy account cannot fill a block alone.
  while (taken.size() < max && !ready_.empty()) {
    core::Address signer = ready_.front();
    ready_.pop_front();
    Account& account = accounts_[signer];
    taken.push_back(std::move(account.queue.front()));
    account.queue.pop_front();
    ++account.inBlock;
    --waiting_;
    if (!account.queue.empty()) ready_.push_back(signer);
  }
  return taken;
}

void Mempool::completed(const std::vector<PendingTransaction>& taken) {
  for (const PendingTransaction& pending : taken) {
    byHash_.erase(pending.hash);
    auto found = accounts_.find(pending.signer);
    if (found == accounts_.end()) continue;
    if (found->second.inBlock > 0) --found->second.inBlock;
    if (found->second.queue.empty() && found->second.inBlock == 0) accounts_.erase(found);
  }
}

void Mempool::putBack(std::vector<PendingTransaction> taken) {
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
    Account& account = accounts_[it->signer];
    if (account.inBlock > 0) --account.inBlock;
    if (account.queue.empty()) {
      std::erase(ready_, it->signer);
      ready_.push_front(it->signer);
    }
    account.queue.push_front(std::move(*it));
    ++waiting_;
  }
}

bool Mempool::dropCommitted(const core::TxHash& hash) {
  auto found = byHash_.find(hash);
  if (found == byHash_.end()) return false;
  auto account = accounts_.find(found->second);
  if (account == accounts_.end()) return false;
  auto& queue = account->second.queue;
  auto position = std::find_if(queue.begin(), queue.end(),
                               [&](const PendingTransaction& p) { return p.hash == hash; });
  if (position == queue.end()) return false;  // taken for a block: completed() frees it
  queue.erase(position);
  --waiting_;
  byHash_.erase(found);
  if (queue.empty()) {
    std::erase(ready_, account->first);
    if (account->second.inBlock == 0) accounts_.erase(account);
  }
  return true;
}

std::vector<PendingTransaction> Mempool::drain() {
  std::vector<PendingTransaction> all = take(waiting_);
  completed(all);
  return all;
}

}  // namespace jiancang::ordering
