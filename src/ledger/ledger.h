// The durable ledger: blocks, transactions with receipts, state, tree nodes and query indexes in
// RocksDB. Each block is one atomic, synced write batch (block + state + nodes + indexes + head),
// so after a crash the ledger is exactly at its last committed block: nothing acknowledged is
// lost and nothing half-written is seen. docs/FORMATS.md lists the column families and keys.
//
// Thread safety: one writer (whoever orders blocks) calls commit(); any number of readers may
// query at the same time and always see whole blocks.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <chain/attestation.h>
#include <chain/executor.h>
#include <chain/genesis.h>
#include <chain/proofs.h>

namespace jiancang::ledger {

using core::Bytes;
using core::ByteView;
using core::Status;

struct Head {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "ledger-head";
  std::uint64_t height = 0;
  core::BlockHash blockHash;
  chain::Hash256 stateRoot;  // after block `height`
  core::Timestamp timestamp;

  void encodeTo(core::Writer& writer) const;
  static Head decodeFrom(core::Reader& reader);
  friend bool operator==(const Head&, const Head&) = default;
};

struct TransactionEntry {
  std::uint64_t height = 0;
  std::uint32_t index = 0;  // position in the block
  chain::SignedTransaction transaction;
  chain::Receipt receipt;
};

// One change of a token's holder, as the token's history shows it.
// A membership change the chain applied, from the index written with its block.
struct MembershipChangeEntry {
  std::uint64_t height = 0;
  chain::ChangeMembership change;
};

struct OwnershipEvent {
  enum class Kind : std::uint8_t { kMint = 1, kTransfer = 2, kBurn = 3 };
  Kind kind = Kind::kMint;
  std::uint64_t height = 0;
  std::uint32_t transactionIndex = 0;
  core::TxHash txHash;
  core::Address from;  // zero for a mint
  core::Address to;    // zero for a burn
};
std::string_view ownershipEventKindName(OwnershipEvent::Kind kind);

// What happened to one address in a committed block: what a live event stream sends.
struct AccountEvent {
  core::Address address;
  chain::TokenId token;
  OwnershipEvent event;
};

// A page of results and the cursor for the next one (empty when this is the last page).
template <typename Item>
struct Page {
  std::vector<Item> items;
  std::string nextCursor;
};

struct LedgerOptions {
  std::size_t blockCacheBytes = 256u << 20;  // RocksDB's cache of table blocks
  std::size_t readCacheBytes = 64u << 20;    // decoded tree nodes and state records
  bool syncWrites = true;                    // off only in tests that do not crash the process
};

// What commit() reports to those watching the chain.
struct CommittedBlock {
  Head head;
  std::size_t transactionCount = 0;
  std::vector<core::TxHash> transactions;
  std::vector<chain::Receipt> receipts;
  std::vector<AccountEvent> accountEvents;
};

// Progress of check(): blocks verified so far, out of how many.
using CheckProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

class Ledger final : public chain::StateReader, public chain::MerkleNodeSource {
 public:
  // Opens the ledger in `directory`, creating it from `genesis` if it is new. An existing ledger
  // must hold the same genesis when one is given.
  static core::Result<std::unique_ptr<Ledger>> open(const std::filesystem::path& directory,
                                                    const std::optional<chain::Genesis>& genesis,
                                                    const LedgerOptions& options = {});
  ~Ledger() override;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const chain::Genesis& genesis() const { return genesis_; }
  const chain::ChainParameters& parameters() const { return parameters_; }
  Head head() const;

  // The state after the head block, and its tree (what applyBlock reads).
  std::optional<Bytes> get(ByteView key) const override;
  std::optional<chain::MerkleNode> findNode(const chain::Hash256& hash) const override;

  // Makes `block`, applied as `outcome` on top of the head (with recorded transaction writes),
  // the new head, with the attestations on it; one synced write. `synced` false leaves the sync
  // to the next synced write: only for blocks that can be fetched again if a crash loses them
  // (a consortium member catching up on final blocks); the ledger still recovers to a prefix.
  core::Result<CommittedBlock> commit(const chain::Block& block, const chain::BlockOutcome& outcome,
                                      const std::vector<chain::Attestation>& attestations,
                                      bool synced = true);

  // Makes every unsynced commit before it durable.
  Status sync();

  // Queries. All read indexes or keys directly; none scans.
  std::optional<chain::Block> blockAt(std::uint64_t height) const;
  std::optional<std::uint64_t> heightOf(const core::BlockHash& hash) const;
  std::vector<chain::Attestation> attestationsAt(std::uint64_t height) const;
  // Adds other members' attestations of a committed block (the caller has verified them); those
  // of members already stored are kept as they are. A non-zero `finalHeight` is recorded with
  // them: every block up to it holds a quorum of signatures. One synced write.
  Status addAttestations(std::uint64_t height, const std::vector<chain::Attestation>& attestations,
                         std::uint64_t finalHeight = 0);
  // The last final height recorded by addAttestations(); 0 if none was.
  std::uint64_t finalHeight() const;
  std::optional<TransactionEntry> transaction(const core::TxHash& hash) const;
  // The membership changes applied in blocks below `height`, oldest first: the history that
  // links the genesis members to those signing block `height` (a certificate carries it).
  core::Result<std::vector<MembershipChangeEntry>> membershipChangesBelow(
      std::uint64_t height) const;
  core::Result<Page<OwnershipEvent>> tokenHistory(const chain::TokenId& token,
                                                  const std::string& cursor,
                                                  std::size_t limit) const;
  core::Result<Page<chain::TokenId>> tokensOf(const core::Address& owner, const std::string& cursor,
                                              std::size_t limit) const;
  std::uint64_t holdersOf(chain::SeriesId series) const;

  // A record at the head together with its proof, read consistently (the head cannot move
  // between reading the value and proving it).
  struct ProvenState {
    Head head;
    std::vector<chain::StateProof> proofs;  // one per key, in order
  };
  core::Result<ProvenState> proveAtHead(const std::vector<Bytes>& keys) const;

  // Re-verifies the whole chain: every block's hash chain, transactions root and state root,
  // by replaying from genesis, and that the stored state root equals the replayed one.
  Status check(const CheckProgress& progress) const;

 private:
  class Impl;
  Ledger(std::unique_ptr<Impl> impl, chain::Genesis genesis);

  std::unique_ptr<Impl> impl_;
  chain::Genesis genesis_;
  chain::ChainParameters parameters_;
  mutable std::mutex headMutex_;
  std::mutex attestationsMutex_;  // addAttestations() reads, merges and writes
  Head head_;
};

}  // namespace jiancang::ledger
