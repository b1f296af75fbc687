// The solo orderer: one member orders, applies and commits blocks in process. Transactions
// wait in the mempool; blocks are cut at most once per `blockInterval` (at once when it is
// full), applied on the ledger's head, attested with the member key and committed in one synced
// write. Many waiting transactions share that one sync (group commit), and the next block fills
// while the last one commits: a transaction arriving at an idle node is cut at once, and none
// waits longer than the interval plus the commit in progress.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <core/clock.h>
#include <ordering/mempool.h>
#include <ordering/orderer.h>

namespace jiancang::ordering {

struct SoloOrdererOptions {
  std::size_t maxBlockTransactions = 2'000;
  std::chrono::milliseconds blockInterval{20};
  MempoolLimits mempool;
};

class SoloOrderer final : public Orderer {
 public:
  // `member`: this node's key, which must be the chain's only member (one signature is the
  // quorum). `clock` gives block timestamps.
  SoloOrderer(ledger::Ledger& ledger, core::KeyPair member, const core::Clock& clock,
              SoloOrdererOptions options = {});
  ~SoloOrderer() override;

  core::Result<core::TxHash> submit(chain::SignedTransaction transaction,
                                    CommitCallback onCommit) override;
  std::size_t subscribe(BlockCallback onBlock) override;
  void unsubscribe(std::size_t id) override;
  OrdererStats stats() const override;
  std::chrono::seconds retryAfter() const override { return std::chrono::seconds(1); }
  void shutdown() override;
  // One member: every committed block is final.
  std::uint64_t finalHeight() const override { return ledger_.head().height; }
  Status awaitFinal(std::uint64_t height, std::chrono::milliseconds timeout) const override;

 private:
  void run();
  // Cuts, applies and commits one block from `taken`; false if the ledger refused it.
  bool commitBlock(std::vector<PendingTransaction> taken);

  ledger::Ledger& ledger_;
  core::KeyPair member_;
  const core::Clock& clock_;
  SoloOrdererOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Mempool mempool_;
  std::multimap<core::TxHash, CommitCallback> waiters_;
  // From the start: the first block, too, waits its interval (a default of the clock's epoch
  // cut it at once, whatever the interval).
  std::chrono::steady_clock::time_point lastCut_ = std::chrono::steady_clock::now();
  bool stopping_ = false;
  bool writable_ = true;
  OrdererStats stats_;

  std::mutex subscribersMutex_;
  std::map<std::size_t, BlockCallback> subscribers_;
  std::size_t nextSubscriber_ = 1;

  std::thread thread_;
};

}  // namespace jiancang::ordering
