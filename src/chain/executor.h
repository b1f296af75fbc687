// Applying blocks: apply(state view, block) → state changes, receipts and the new state root.
//
// Deterministic: the same state and block give the same result on every member, byte for byte.
// Time comes only from the block header, entropy only from block hashes and revealed seeds.
// A block whose header does not follow the chain is refused whole; a transaction that fails is
// recorded as failed in its receipt, with a stable reason, and changes nothing but its signer's
// nonce (when its signature and nonce were right), so it cannot be replayed later.
#pragma once

#include <map>

#include <chain/block.h>
#include <chain/genesis.h>
#include <chain/sparse_merkle.h>

namespace jiancang::chain {

// The state after the previous block.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<Bytes> get(ByteView key) const = 0;
};

// Key → new value, or nothing for a deleted key.
using StateChanges = std::map<Bytes, std::optional<Bytes>>;

struct Receipt {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "receipt";
  core::TxHash txHash;
  core::ErrorCode code = core::ErrorCode::kOk;
  std::string reason;   // stable id, empty on success
  std::string message;  // for people
  // What the transaction produced, where it applies:
  std::uint64_t createdId = 0;      // a new series, lottery or recipe
  std::uint64_t firstSerial = 0;    // the first serial minted (mint, open box, synthesise)
  std::uint64_t count = 0;          // how many were minted
  std::uint32_t policyVersion = 0;  // the policy version a transfer or trade was checked against

  bool ok() const { return code == core::ErrorCode::kOk; }

  void encodeTo(core::Writer& writer) const;
  static Receipt decodeFrom(core::Reader& reader);
  friend bool operator==(const Receipt&, const Receipt&) = default;
};

// What one transaction wrote, in order (only when ApplyOptions::recordTransactionWrites): what
// the ledger's indexes (a token's owners, an address's tokens) are built from.
using TransactionWrites = std::vector<std::pair<Bytes, std::optional<Bytes>>>;

struct BlockOutcome {
  core::BlockHash blockHash;
  std::vector<Receipt> receipts;
  StateChanges changes;
  Hash256 stateRoot;
  MerkleNodeList newNodes;
  std::vector<TransactionWrites> transactionWrites;  // one per receipt, when recorded
};

struct ApplyOptions {
  // Off only where signatures were already checked (for example before ordering, or in a
  // benchmark that measures the state machine alone).
  bool verifySignatures = true;
  // Keep each transaction's writes in BlockOutcome::transactionWrites (costs a copy of each).
  bool recordTransactionWrites = false;
};

// Runs one transaction on `state` as if it were alone in a block with `header`, and keeps
// nothing: the status its receipt would carry (its nonce check included). A node uses it to
// refuse a transaction that would fail before it takes the signer's nonce. Signatures are not
// checked here.
core::Status dryRunTransaction(const ChainParameters& chain, const StateReader& state,
                               const BlockHeader& header, const SignedTransaction& transaction);

// The state of a new chain (height 0), from an empty tree.
core::Result<BlockOutcome> applyGenesis(const Genesis& genesis);

// Applies `block` on top of `state`, whose authenticated root is `stateRoot` and whose tree nodes
// `nodes` holds.
core::Result<BlockOutcome> applyBlock(const ChainParameters& chain, const StateReader& state,
                                      const MerkleNodeSource& nodes, const Hash256& stateRoot,
                                      const Block& block, const ApplyOptions& options = {});

}  // namespace jiancang::chain
