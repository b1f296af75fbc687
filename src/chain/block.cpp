#include <chain/block.h>

#include <chain/codec_internal.h>
#include <chain/merkle_list.h>

namespace jiancang::chain {

void BlockHeader::encodeTo(core::Writer& writer) const {
  writer.fixed(chainId.view());
  writer.varint(height);
  writer.fixed(previousHash.view());
  codec::writeTime(writer, timestamp);
  writer.varint(transactionCount);
  writer.fixed(transactionsRoot.view());
  writer.fixed(previousStateRoot.view());
}

BlockHeader BlockHeader::decodeFrom(core::Reader& reader) {
  BlockHeader header;
  header.chainId = codec::readFixed<core::ChainId>(reader);
  header.height = reader.varint();
  header.previousHash = codec::readFixed<core::BlockHash>(reader);
  header.timestamp = codec::readTime(reader);
  header.transactionCount = static_cast<std::uint32_t>(
      reader.varintAtMost(limits::kMaxBlockTransactions, "transaction count"));
  header.transactionsRoot = codec::readFixed<Hash256>(reader);
  header.previousStateRoot = codec::readFixed<Hash256>(reader);
  return header;
}

void Block::encodeTo(core::Writer& writer) const {
  header.encodeTo(writer);
  codec::writeList(writer, transactions);
}

Block Block::decodeFrom(core::Reader& reader) {
  Block block;
  block.header = BlockHeader::decodeFrom(reader);
  block.transactions =
      codec::readList<SignedTransaction>(reader, limits::kMaxBlockTransactions, "transactions");
  return block;
}

core::BlockHash blockHash(const ChainParameters& chain, const BlockHeader& header) {
  Bytes encoded = core::encode(header);
  return core::BlockHash(
      chain.crypto().hash({core::asBytes("jiancang/block/v1"), encoded}).array());
}

Hash256 transactionsRoot(const ChainParameters& chain,
                         const std::vector<SignedTransaction>& transactions) {
  std::vector<Hash256> hashes;
  hashes.reserve(transactions.size());
  for (const SignedTransaction& transaction : transactions) {
    hashes.emplace_back(transactionHash(chain, transaction).array());
  }
  return listMerkleRoot(chain.crypto(), hashes);
}

Block makeBlock(const ChainParameters& chain, std::uint64_t height,
                const core::BlockHash& previousHash, const Hash256& previousStateRoot,
                Timestamp timestamp, std::vector<SignedTransaction> transactions) {
  Block block;
  block.header.chainId = chain.chainId;
  block.header.height = height;
  block.header.previousHash = previousHash;
  block.header.timestamp = timestamp;
  block.header.transactionCount = static_cast<std::uint32_t>(transactions.size());
  block.header.transactionsRoot = transactionsRoot(chain, transactions);
  block.header.previousStateRoot = previousStateRoot;
  block.transactions = std::move(transactions);
  return block;
}

}  // namespace jiancang::chain
