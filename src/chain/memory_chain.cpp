#include <chain/memory_chain.h>

namespace jiancang::chain {

core::Result<MemoryChain> MemoryChain::create(const Genesis& genesis) {
  auto outcome = applyGenesis(genesis);
  if (!outcome) return outcome.status();
  MemoryChain chain;
  chain.parameters_ = chainParametersOf(genesis);
  chain.absorb(*outcome, 0);
  return chain;
}

std::optional<Bytes> MemoryChain::get(ByteView key) const {
  auto found = entries_.find(Bytes(key.begin(), key.end()));
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

Block MemoryChain::nextBlock(std::vector<SignedTransaction> transactions,
                             Timestamp timestamp) const {
  return makeBlock(parameters_, height_ + 1, headHash_, stateRoot_, timestamp,
                   std::move(transactions));
}

core::Result<BlockOutcome> MemoryChain::apply(const Block& block, const ApplyOptions& options) {
  auto outcome = applyBlock(parameters_, *this, nodes_, stateRoot_, block, options);
  if (outcome) absorb(*outcome, block.header.height);
  return outcome;
}

core::Result<BlockOutcome> MemoryChain::commit(std::vector<SignedTransaction> transactions,
                                               Timestamp timestamp, const ApplyOptions& options) {
  return apply(nextBlock(std::move(transactions), timestamp), options);
}

core::Result<StateProof> MemoryChain::prove(const Bytes& key) const {
  return proveState(nodes_, stateRoot_, parameters_.crypto(), key, get(key));
}

void MemoryChain::absorb(const BlockOutcome& outcome, std::uint64_t height) {
  for (const auto& [key, value] : outcome.changes) {
    if (value) {
      entries_[key] = *value;
    } else {
      entries_.erase(key);
    }
  }
  nodes_.insert(outcome.newNodes);
  stateRoot_ = outcome.stateRoot;
  height_ = height;
  headHash_ = outcome.blockHash;
}

}  // namespace jiancang::chain
