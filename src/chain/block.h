// Blocks: ordered transactions with a header that chains to the previous block.
//
// The header carries the state root *after the previous block* (Tendermint's app-hash style),
// so ordering never waits for execution: a block can be cut before its transactions run.
#pragma once

#include <chain/transaction.h>

namespace jiancang::chain {

struct BlockHeader {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "block-header";
  core::ChainId chainId;
  std::uint64_t height = 0;
  core::BlockHash previousHash;  // the chain id for height 1
  Timestamp timestamp;
  std::uint32_t transactionCount = 0;
  Hash256 transactionsRoot;   // list Merkle root of the transaction hashes
  Hash256 previousStateRoot;  // state root after block height - 1

  void encodeTo(core::Writer& writer) const;
  static BlockHeader decodeFrom(core::Reader& reader);
  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "block";
  BlockHeader header;
  std::vector<SignedTransaction> transactions;

  void encodeTo(core::Writer& writer) const;
  static Block decodeFrom(core::Reader& reader);
  friend bool operator==(const Block&, const Block&) = default;
};

core::BlockHash blockHash(const ChainParameters& chain, const BlockHeader& header);

// The block of `transactions` that follows a block at `height - 1` with hash `previousHash` and
// state root `previousStateRoot`.
Block makeBlock(const ChainParameters& chain, std::uint64_t height,
                const core::BlockHash& previousHash, const Hash256& previousStateRoot,
                Timestamp timestamp, std::vector<SignedTransaction> transactions);
Hash256 transactionsRoot(const ChainParameters& chain,
                         const std::vector<SignedTransaction>& transactions);

}  // namespace jiancang::chain
