// Ordering: how transactions become blocks. The Orderer interface is what the API talks to; the
// solo orderer (this module) cuts, applies and commits blocks in process for a one-member
// chain, and the etcd orderer (the consortium) does the same through a Raft log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <chain/transaction.h>
#include <ledger/ledger.h>

namespace jiancang::ordering {

using core::Status;

// Where a committed transaction ended up.
struct CommitNotice {
  std::uint64_t height = 0;
  core::BlockHash blockHash;
  std::uint32_t index = 0;
  chain::Receipt receipt;
};

// Told once when the transaction commits, or with nothing if it is dropped without committing
// (the node shuts down first).
using CommitCallback = std::function<void(const std::optional<CommitNotice>&)>;
using BlockCallback = std::function<void(const ledger::CommittedBlock&)>;

struct OrdererStats {
  std::size_t mempoolSize = 0;
  std::uint64_t height = 0;
  std::uint64_t blocksCommitted = 0;
  std::uint64_t transactionsCommitted = 0;
  std::uint64_t rejectedBusy = 0;
  double lastCommitMillis = 0;   // cut to durable, the last block
  double totalCommitMillis = 0;  // summed over blocks, for an average
  std::uint64_t finalHeight = 0;
  bool writable = true;
};

class Orderer {
 public:
  virtual ~Orderer() = default;

  // Takes a transaction into the queue for the next blocks. The transaction must already have
  // passed chain::checkTransaction() with its signature. Refusals: "nonce-used" (a replay),
  // "nonce-gap", "nonce-pending" (another transaction holds that nonce), "account-quota" and
  // "mempool-full" (kResourceExhausted: retry after retryAfter()), "not-writable". Submitting a
  // transaction that is already queued is not an error: `onCommit` joins the first one's wait.
  virtual core::Result<core::TxHash> submit(chain::SignedTransaction transaction,
                                            CommitCallback onCommit) = 0;

  // Calls `onBlock` after each committed block, on the orderer's thread: keep it short.
  virtual std::size_t subscribe(BlockCallback onBlock) = 0;
  virtual void unsubscribe(std::size_t id) = 0;

  virtual OrdererStats stats() const = 0;
  // How long a refused "busy" client should wait before trying again.
  virtual std::chrono::seconds retryAfter() const = 0;

  // The highest block signed by a quorum of members (with one member: the head).
  virtual std::uint64_t finalHeight() const = 0;
  // Waits until the block at `height` is final; "not-final" when `timeout` passes first.
  virtual Status awaitFinal(std::uint64_t height, std::chrono::milliseconds timeout) const = 0;

  // Stops taking transactions, commits what is queued, and stops.
  virtual void shutdown() = 0;
};

}  // namespace jiancang::ordering
