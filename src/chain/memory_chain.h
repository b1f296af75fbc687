// A whole chain in memory: state, tree nodes and head, advanced block by block. The fake for
// tests, fuzz targets and benchmarks; the ledger module is the durable equivalent.
#pragma once

#include <map>

#include <chain/proofs.h>

namespace jiancang::chain {

class MemoryChain final : public StateReader {
 public:
  static core::Result<MemoryChain> create(const Genesis& genesis);

  std::optional<Bytes> get(ByteView key) const override;

  // A block of `transactions` at the next height with a correct header.
  Block nextBlock(std::vector<SignedTransaction> transactions, Timestamp timestamp) const;
  // Applies the block and, if it is valid, makes its outcome the new state.
  core::Result<BlockOutcome> apply(const Block& block, const ApplyOptions& options = {});
  core::Result<BlockOutcome> commit(std::vector<SignedTransaction> transactions,
                                    Timestamp timestamp, const ApplyOptions& options = {});

  // Makes an outcome of applyBlock() (for the block at `height`) the new state: what apply()
  // does after applying. Separate so that a benchmark can time the state machine alone.
  void absorb(const BlockOutcome& outcome, std::uint64_t height);

  // A proof for `key` under the current state root.
  core::Result<StateProof> prove(const Bytes& key) const;

  const ChainParameters& parameters() const { return parameters_; }
  const Hash256& stateRoot() const { return stateRoot_; }
  std::uint64_t height() const { return height_; }
  const core::BlockHash& headHash() const { return headHash_; }
  const std::map<Bytes, Bytes>& entries() const { return entries_; }
  const MemoryMerkleNodes& nodes() const { return nodes_; }

 private:
  MemoryChain() = default;

  ChainParameters parameters_;
  std::map<Bytes, Bytes> entries_;
  MemoryMerkleNodes nodes_;
  Hash256 stateRoot_;
  std::uint64_t height_ = 0;
  core::BlockHash headHash_;
};

}  // namespace jiancang::chain
