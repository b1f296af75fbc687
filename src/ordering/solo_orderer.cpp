#include <ordering/solo_orderer.h>

#include <algorithm>
#include <cstdio>

#include <chain/state_keys.h>

namespace jiancang::ordering {
namespace {

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

SoloOrderer::SoloOrderer(ledger::Ledger& ledger, core::KeyPair member, const core::Clock& clock,
                         SoloOrdererOptions options)
    : ledger_(ledger),
      member_(std::move(member)),
      clock_(clock),
      options_(options),
      mempool_(options.mempool) {
  stats_.height = ledger_.head().height;
  thread_ = std::thread([this] { run(); });
}

SoloOrderer::~SoloOrderer() { shutdown(); }

core::Result<core::TxHash> SoloOrderer::submit(chain::SignedTransaction transaction,
                                               CommitCallback onCommit) {
  const chain::ChainParameters& chain = ledger_.parameters();
  // Checked here, in the submitter's thread, once: blocks are then applied without checking
  // signatures again (every transaction in them came through here).
  if (Status status = chain::checkTransaction(chain, transaction); !status.isOk()) return status;
  const core::TxHash hash = chain::transactionHash(chain, transaction);
  const core::Address signer = transaction.signerAddress();

  std::unique_lock lock(mutex_);
  if (stopping_) {
    return Status(core::ErrorCode::kUnavailable, "shutting-down",
                  "the node is shutting down; submit to it again once it is back");
  }
  if (!writable_) {
    return Status(core::ErrorCode::kUnavailable, "not-writable",
                  "the node stopped accepting writes after a storage failure; see its log");
  }
  if (mempool_.contains(hash)) {
    waiters_.emplace(hash, std::move(onCommit));
    return hash;
  }
  if (auto committed = ledger_.transaction(hash)) {
    lock.unlock();
    auto block = ledger_.blockAt(committed->height);
    CommitNotice notice{committed->height, {}, committed->index, committed->receipt};
    if (block) notice.blockHash = chain::blockHash(chain, block->header);
    onCommit(notice);
    return hash;
  }
  chain::AccountRecord account;
  if (auto bytes = ledger_.get(chain::state_keys::account(signer))) {
    if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) account = *decoded;
  }
  const bool privileged = (account.roles & chain::kRoleAdmin) != 0 ||
                          ledger_.get(chain::state_keys::issuer(signer)).has_value();
  // A signer with nothing queued: run the transaction on the committed state first, and refuse
  // it (spending no nonce, writing nothing) if the chain would. With transactions queued ahead
  // of it, the state it will meet is not known yet; the block decides.
  if (!mempool_.hasAccount(signer) && transaction.transaction.nonce == account.nonce) {
    chain::BlockHeader next;
    next.chainId = chain.chainId;
    next.height = ledger_.head().height + 1;
    next.timestamp = std::max(clock_.now(), ledger_.head().timestamp);
    if (Status status = chain::dryRunTransaction(chain, ledger_, next, transaction);
        !status.isOk()) {
      return status;
    }
  }
  bool wasIdle = mempool_.waiting() == 0;
  Status admitted = mempool_.admit(PendingTransaction{std::move(transaction), hash, signer},
                                   account.nonce, privileged);
  if (!admitted.isOk()) {
    if (admitted.code() == core::ErrorCode::kResourceExhausted) ++stats_.rejectedBusy;
    return admitted;
  }
  waiters_.emplace(hash, std::move(onCommit));
  if (wasIdle || mempool_.waiting() >= options_.maxBlockTransactions) wake_.notify_one();
  return hash;
}

std::size_t SoloOrderer::subscribe(BlockCallback onBlock) {
  std::lock_guard lock(subscribersMutex_);
  std::size_t id = nextSubscriber_++;
  subscribers_.emplace(id, std::move(onBlock));
  return id;
}

void SoloOrderer::unsubscribe(std::size_t id) {
  std::lock_guard lock(subscribersMutex_);
  subscribers_.erase(id);
}

OrdererStats SoloOrderer::stats() const {
  std::lock_guard lock(mutex_);
  OrdererStats stats = stats_;
  stats.mempoolSize = mempool_.size();
  stats.writable = writable_;
  stats.finalHeight = stats.height;
  return stats;
}

Status SoloOrderer::awaitFinal(std::uint64_t height, std::chrono::milliseconds) const {
  if (height <= ledger_.head().height) return {};
  return Status(core::ErrorCode::kUnavailable, "not-final",
                "block " + std::to_string(height) + " is not committed yet");
}

void SoloOrderer::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SoloOrderer::run() {
  for (;;) {
    std::vector<PendingTransaction> taken;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || mempool_.waiting() > 0; });
      if (mempool_.waiting() == 0) break;  // stopping, nothing left
      // At most one block per interval: the wait overlaps the previous block's commit, so under
      // load blocks are cut back to back, each holding what arrived while the last committed.
      wake_.wait_until(lock, lastCut_ + options_.blockInterval, [&] {
        return stopping_ || mempool_.waiting() >= options_.maxBlockTransactions;
      });
      lastCut_ = std::chrono::steady_clock::now();
      if (!writable_) {
        // Nothing can commit: drop the queue and tell every waiter.
        taken = mempool_.take(mempool_.waiting());
      } else {
        taken = mempool_.take(options_.maxBlockTransactions);
      }
    }
    if (!commitBlock(std::move(taken))) {
      std::lock_guard lock(mutex_);
      writable_ = false;
    }
  }
}

bool SoloOrderer::commitBlock(std::vector<PendingTransaction> taken) {
  const auto start = std::chrono::steady_clock::now();
  const chain::ChainParameters& chain = ledger_.parameters();
  bool writable;
  {
    std::lock_guard lock(mutex_);
    writable = writable_;
  }
  std::optional<ledger::CommittedBlock> committed;
  core::BlockHash committedHash;
  if (writable) {
    ledger::Head head = ledger_.head();
    std::vector<chain::SignedTransaction> transactions;
    transactions.reserve(taken.size());
    for (const PendingTransaction& pending : taken) transactions.push_back(pending.transaction);
    core::Timestamp now = std::max(clock_.now(), head.timestamp);
    chain::Block block = chain::makeBlock(chain, head.height + 1, head.blockHash, head.stateRoot,
                                          now, std::move(transactions));
    auto outcome = chain::applyBlock(chain, ledger_, ledger_, head.stateRoot, block,
                                     chain::ApplyOptions{false, true});
    if (!outcome) {
      std::fprintf(stderr, "jiancang: block %llu could not be applied: %s\n",
                   static_cast<unsigned long long>(block.header.height),
                   outcome.status().message().c_str());
    } else {
      chain::Attestation attestation = chain::signAttestation(
          chain, block.header.height, outcome->blockHash, outcome->stateRoot, member_);
      auto result = ledger_.commit(block, *outcome, {attestation});
      if (!result) {
        std::fprintf(stderr, "jiancang: block %llu could not be stored: %s\n",
                     static_cast<unsigned long long>(block.header.height),
                     result.status().message().c_str());
      } else {
        committed = std::move(result).value();
        committedHash = outcome->blockHash;
      }
    }
  }

  // Hand each waiter its receipt (or nothing), outside the lock.
  std::vector<std::pair<CommitCallback, std::optional<CommitNotice>>> calls;
  {
    std::lock_guard lock(mutex_);
    mempool_.completed(taken);
    for (std::size_t i = 0; i < taken.size(); ++i) {
      std::optional<CommitNotice> notice;
      if (committed) {
        notice = CommitNotice{committed->head.height, committedHash, static_cast<std::uint32_t>(i),
                              committed->receipts[i]};
      }
      auto [first, last] = waiters_.equal_range(taken[i].hash);
      for (auto it = first; it != last; ++it) calls.emplace_back(std::move(it->second), notice);
      waiters_.erase(first, last);
    }
    if (committed) {
      double millis = millisSince(start);
      stats_.height = committed->head.height;
      ++stats_.blocksCommitted;
      stats_.transactionsCommitted += committed->transactionCount;
      stats_.lastCommitMillis = millis;
      stats_.totalCommitMillis += millis;
    }
  }
  for (auto& [callback, notice] : calls) {
    if (callback) callback(notice);
  }
  if (committed) {
    std::lock_guard lock(subscribersMutex_);
    for (auto& [id, subscriber] : subscribers_) subscriber(*committed);
  }
  return !writable || committed.has_value();
}

}  // namespace jiancang::ordering
