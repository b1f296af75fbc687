// The etcd orderer: consortium members order blocks through an etcd cluster (Raft), the way
// Hyperledger Fabric members each run a Raft orderer.
//
// - One member at a time cuts blocks: the leader, holder of the `leader` key under an etcd
//   lease, so a dead leader is replaced once its lease runs out.
// - A block is appended only by a transaction that compares the `tip` key's revision with the
//   one the leader built on: two writers can never both append at a height, whoever believes
//   it leads (safety never rests on the lease).
// - Every member watches the chain's keys and applies each block in order, checking every
//   signature, that it links to its own head, and that it was built on the member's own state
//   root. After applying it signs (height, block hash, state root) and publishes that
//   attestation; a block is final when a quorum of members' attestations agree.
// - A member whose state root differs from the quorum's (or from the root a block was built on)
//   stops writing and signing, and reports both roots.
// - Transactions sent to a member that does not lead are checked there and forwarded to the
//   leader's API; their waiters are told when the member applies the block holding them.
// - Final blocks older than `blocksKeptInEtcd` are deleted from etcd and its history compacted;
//   a member that falls further behind fetches them from the other members' APIs and checks
//   them by hash chain and a quorum of attestations.
// - Membership changes with the chain's quorum-signed `change-membership` transaction: the
//   members in force before block h sign block h. A node whose key is not (or no longer) a
//   member follows and checks the chain without signing or leading, so a joining member
//   catches up first and signs from the block after the one that adds it.
//
// Keys (under the prefix, "/jiancang/<chain id hex>/" by default): `tip` (height ‖ block hash),
// `blocks/<20-digit height>` (the canonical block), `attestations/<20-digit height>/<member
// key hex>` (a canonical attestation), `leader` (JSON: name and API URL, under the lease).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <core/clock.h>
#include <ordering/etcd_client.h>
#include <ordering/mempool.h>
#include <ordering/orderer.h>

namespace jiancang::ordering {

struct EtcdOrdererOptions {
  std::vector<std::string> etcdEndpoints;  // client URLs of the cluster's members
  std::string keyPrefix;                   // empty: "/jiancang/<chain id hex>/"
  std::string memberName;                  // shown in the status and the leader key
  std::string advertiseUrl;                // this node's API, for members forwarding to it
  std::vector<std::string> peerUrls;       // the other members' APIs, to fetch old blocks from
  std::size_t maxBlockTransactions = 2'000;
  std::size_t maxBlockBytes = 1u << 20;  // etcd refuses requests over 1.5 MiB
  std::chrono::milliseconds blockInterval{20};
  std::chrono::seconds leaseTtl{2};
  std::uint64_t blocksKeptInEtcd = 1'000;
  // How long a transaction forwarded to the leader may take to appear in a block before its
  // waiter is told it did not commit.
  std::chrono::seconds forwardTimeout{30};
  MempoolLimits mempool;
};

struct ConsortiumMemberStatus {
  std::string name;
  std::string key;                   // hex
  std::uint64_t attestedHeight = 0;  // the highest block it has signed, as seen here
};

struct ConsortiumStatus {
  std::string memberName;
  bool member = true;  // false: this node's key is not (or no longer) a member; it only follows
  std::uint64_t membershipVersion = 0;
  bool leading = false;
  std::string leaderName;  // empty: nobody leads right now
  std::string leaderUrl;
  std::uint64_t height = 0;       // applied here
  std::uint64_t finalHeight = 0;  // every block up to it signed by a quorum
  std::uint64_t tipHeight = 0;    // the chain's tip in etcd, as last seen
  std::size_t quorum = 0;
  std::vector<ConsortiumMemberStatus> members;
  bool diverged = false;
  std::string divergence;  // what differs, with both roots
  bool etcdReachable = false;
  std::string etcdError;  // the last failure talking to etcd, empty once it answers again
  std::vector<EtcdMemberStatus> etcd;
  std::size_t forwarding = 0;          // transactions sent to the leader, not yet seen in a block
  std::uint64_t fetchedFromPeers = 0;  // blocks etcd no longer held, taken from other members
};

class EtcdOrderer final : public Orderer {
 public:
  // `member`: this node's key; if it is not a member of the chain in `ledger` (yet), the node
  // follows until a membership change adds it.
  static core::Result<std::unique_ptr<EtcdOrderer>> start(ledger::Ledger& ledger,
                                                          core::KeyPair member,
                                                          const core::Clock& clock,
                                                          EtcdOrdererOptions options);
  ~EtcdOrderer() override;

  core::Result<core::TxHash> submit(chain::SignedTransaction transaction,
                                    CommitCallback onCommit) override;
  std::size_t subscribe(BlockCallback onBlock) override;
  void unsubscribe(std::size_t id) override;
  OrdererStats stats() const override;
  std::chrono::seconds retryAfter() const override { return std::chrono::seconds(1); }
  void shutdown() override;
  std::uint64_t finalHeight() const override;
  core::Status awaitFinal(std::uint64_t height, std::chrono::milliseconds timeout) const override;

  // For the status endpoint; asks etcd for its health (a few milliseconds).
  ConsortiumStatus status() const;

 private:
  EtcdOrderer(ledger::Ledger& ledger, core::KeyPair member, const core::Clock& clock,
              EtcdOrdererOptions options);

  struct Tip {
    std::uint64_t height = 0;
    core::BlockHash hash;
    std::int64_t modRevision = 0;  // of the tip key; 0 before the first block
  };
  struct Forwarded {
    chain::SignedTransaction transaction;
    std::chrono::steady_clock::time_point deadline;
  };

  // Threads.
  void watchLoop();
  void campaignLoop();
  void finalityLoop();
  void cutLoop();
  void forwardLoop();

  // Reads the tip and every block after the head from etcd (older ones from peers), applying
  // them; the revision to watch from.
  core::Result<std::int64_t> catchUp(EtcdClient& etcd);
  void handleEvent(const EtcdWatchEvent& event);
  // A block fetched from a peer with a quorum's signatures, checked against `outcome` (the
  // block applied on this member's head).
  struct FinalBlock {
    chain::BlockOutcome outcome;
    std::vector<chain::Attestation> signatures;
  };
  // Applies a block received from etcd or a peer at head + 1, checking everything. A `final`
  // block is stored with its quorum's signatures in an unsynced write (fetched again if a crash
  // loses it; the next synced write makes it durable) and its signature is not published: it
  // is final already.
  core::Status applyReceived(const chain::Block& block, FinalBlock* final = nullptr);
  core::Status fetchFromPeers(std::uint64_t upTo);
  // The other members' signatures on blocks `from`..`to`, which this member may have missed
  // while it was stopped (etcd keeps only a window of them).
  void fillSignaturesFromPeers(std::uint64_t from, std::uint64_t to);
  // When finality has not moved for a while with blocks above it: publishes this member's
  // signatures that etcd lacks (a crash between storing a block and publishing) and reads the
  // others' again from etcd, then from the peers.
  void repairFinality(EtcdClient& etcd);
  // A watch that went quiet without failing would leave this member behind for good (a test
  // saw two members stay a block behind after etcd lost and regained its quorum): when the head
  // has not moved for 2 s while etcd's tip is ahead of it, the watch is ended and etcd read again.
  void checkWatch(EtcdClient& etcd, std::uint64_t& lastHead,
                  std::chrono::steady_clock::time_point& lastMoved);
  void leadOnce(std::vector<PendingTransaction> taken);

  // After a block committed here: tell waiters, drop it from the queues, publish, attest.
  void afterCommit(const ledger::CommittedBlock& committed, const chain::Block& block,
                   const chain::Attestation* ours);
  void publishAttestation(const chain::Attestation& attestation);
  void recordAttestation(const chain::Attestation& attestation);
  // Checks the attestations gathered for `height` against the applied block (mutex_ held).
  void evaluateFinality(std::uint64_t height);
  void diverge(const std::string& what);
  void markDiverged(const std::string& what);  // mutex_ held
  // Moves the final height past every block stored with a quorum's signatures (mutex_ held):
  // after a restart, and after blocks fetched final from peers.
  void advanceThroughStoredQuorums();
  // The members who sign block `height`: those in force before it was applied (mutex_ held).
  const std::vector<chain::Member>& signersOf(std::uint64_t height) const;
  bool signs(std::uint64_t height) const;  // this member is among them (mutex_ held)
  // Block `height` was just stored here (ledgerMutex_ held): notes a membership change it made.
  void noteMembership(std::uint64_t height);
  void stepDown();

  std::string key(std::string_view suffix) const { return prefix_ + std::string(suffix); }
  static std::string heightKey(std::uint64_t height);

  ledger::Ledger& ledger_;
  core::KeyPair member_;
  const core::Clock& clock_;
  EtcdOrdererOptions options_;
  std::string prefix_;
  std::string memberKeyHex_;

  std::mutex ledgerMutex_;  // one writer of the ledger at a time (the watch or the leader)

  mutable std::mutex mutex_;
  std::condition_variable wake_;         // the cutter
  std::condition_variable forwardWake_;  // the forwarder
  mutable std::condition_variable finalWake_;
  Mempool mempool_;
  std::multimap<core::TxHash, CommitCallback> waiters_;
  std::map<core::TxHash, Forwarded> forwarded_;
  std::deque<core::TxHash> forwardQueue_;
  Tip tip_;
  bool leading_ = false;
  std::int64_t lease_ = 0;
  std::string leaderName_;
  std::string leaderUrl_;
  std::uint64_t finalHeight_ = 0;   // every block up to it holds a quorum of signatures
  std::set<std::uint64_t> sealed_;  // heights above finalHeight_ that hold a quorum already
  std::chrono::steady_clock::time_point finalAdvanced_;  // when finalHeight_ last moved
  // The member sets by the first height they sign: a change applied in block h counts from
  // block h + 1. Heights before the first entry (older than this run) are taken to have had
  // the first entry's members.
  std::map<std::uint64_t, std::vector<chain::Member>> memberSets_;
  // (block hash, state root) of blocks applied here in this run and not long final: what the
  // members' attestations must agree with, whether or not this node signs.
  std::map<std::uint64_t, std::pair<core::BlockHash, chain::Hash256>> applied_;
  // Attestations seen but not yet final, by height then member key (hex).
  std::map<std::uint64_t, std::map<std::string, chain::Attestation>> attestations_;
  std::map<std::string, std::uint64_t> attestedHeights_;  // member key hex → highest
  std::vector<chain::Attestation> unpublished_;           // this member's, not yet in etcd
  bool diverged_ = false;
  std::string divergence_;
  bool writable_ = true;
  std::string etcdError_;
  std::uint64_t fetchedFromPeers_ = 0;
  std::chrono::steady_clock::time_point lastCut_;
  OrdererStats stats_;

  std::mutex subscribersMutex_;
  std::map<std::size_t, BlockCallback> subscribers_;
  std::size_t nextSubscriber_ = 1;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> interruptWatch_{false};  // ends the current watch (shutdown, checkWatch)
  std::thread watchThread_;
  std::thread campaignThread_;
  std::thread finalityThread_;
  std::thread cutThread_;
  std::thread forwardThread_;
};

}  // namespace jiancang::ordering
