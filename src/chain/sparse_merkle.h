// The authenticated state: a binary sparse Merkle tree over 256-bit key hashes, compressed the
// way Diem's Jellyfish tree is: a subtree holding a single leaf is that leaf, so a path is about
// log2(n) nodes long rather than 256. Nodes are immutable and addressed by their hash, so every
// past root stays readable and provable while its nodes are kept.
//
//   leaf      = H(0x00 ‖ keyHash ‖ valueHash)
//   internal  = H(0x01 ‖ left ‖ right)
//   empty     = 32 zero bytes
//   keyHash   = H(0x02 ‖ state key),  valueHash = H(0x03 ‖ state value)
//
// Bit i of a key hash (most significant bit of byte 0 first) chooses the child at depth i.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include <core/crypto.h>

namespace jiancang::chain {

using core::Hash256;

struct MerkleNode {
  bool isLeaf = false;
  Hash256 first;   // leaf: key hash; internal: left child
  Hash256 second;  // leaf: value hash; internal: right child
  // Internal nodes only, and not part of any hash: for each child that is a single leaf, that
  // leaf's key hash. An update then never has to fetch a leaf to learn whose it is, which was a
  // quarter of its node lookups (what the Jellyfish tree keeps in its internal nodes too).
  std::optional<Hash256> firstLeafKey;
  std::optional<Hash256> secondLeafKey;
  friend bool operator==(const MerkleNode&, const MerkleNode&) = default;
};

// Where the tree's nodes live (memory, RocksDB). Reads only; new nodes come back in a batch.
class MerkleNodeSource {
 public:
  virtual ~MerkleNodeSource() = default;
  virtual std::optional<MerkleNode> findNode(const Hash256& hash) const = 0;
};

// Open addressing: a lookup is one or two cache misses, where std::unordered_map's buckets and
// nodes cost three and a division (bench/chain_apply: half of a block's tree update).
using MerkleNodeMap = absl::flat_hash_map<Hash256, MerkleNode, core::LeadingBytesHasher>;

// Nodes an update created, each with its hash, in the order made (children before parents).
using MerkleNodeList = std::vector<std::pair<Hash256, MerkleNode>>;

// Nodes in memory: the test and benchmark store, and the overlay of a block's new nodes.
class MemoryMerkleNodes final : public MerkleNodeSource {
 public:
  std::optional<MerkleNode> findNode(const Hash256& hash) const override;
  void insert(const MerkleNodeList& nodes);
  std::size_t size() const { return internal_.size() + leaves_.size(); }

 private:
  // Apart, so the internal nodes an update walks share fewer pages and cache lines with the
  // leaves it no longer fetches.
  MerkleNodeMap internal_;
  MerkleNodeMap leaves_;
};

struct MerkleUpdate {
  Hash256 keyHash;
  std::optional<Hash256> valueHash;  // nothing: delete the key
};

struct MerkleUpdateResult {
  Hash256 root;
  MerkleNodeList newNodes;  // every node the new root needs that the source may not have
};

// Applies updates (any order; at most one per key) to the tree at `root`. Returns nothing if the
// source lacks a node the update needs (a corrupt or pruned store).
std::optional<MerkleUpdateResult> updateMerkleTree(const core::CryptoSuite& suite,
                                                   const MerkleNodeSource& source,
                                                   const Hash256& root,
                                                   std::vector<MerkleUpdate> updates);

// Proof that a key hash has a given value hash under a root, or has none.
struct MerkleProof {
  static constexpr std::uint8_t kEncodingVersion = 1;
  static constexpr std::string_view kEncodingName = "merkle-proof";
  std::vector<Hash256> siblings;  // from the root down
  // Where the path ends: an empty slot, or a leaf (the key's own, or another key's sharing the
  // path so far, which proves the key absent).
  std::optional<MerkleNode> terminalLeaf;

  void encodeTo(core::Writer& writer) const;
  static MerkleProof decodeFrom(core::Reader& reader);
  friend bool operator==(const MerkleProof&, const MerkleProof&) = default;
};

std::optional<MerkleProof> proveMerkleKey(const MerkleNodeSource& source, const Hash256& root,
                                          const Hash256& keyHash);

// Checks that under `root`, `keyHash` maps to `valueHash` (or to nothing when absent).
core::Status verifyMerkleProof(const core::CryptoSuite& suite, const Hash256& root,
                               const Hash256& keyHash, const std::optional<Hash256>& valueHash,
                               const MerkleProof& proof);

// How a store keeps a node (docs/FORMATS.md, "Stored tree nodes"): not hashed, not consensus.
core::Bytes encodeMerkleNode(const MerkleNode& node);
std::optional<MerkleNode> decodeMerkleNode(core::ByteView bytes);

Hash256 merkleKeyHash(const core::CryptoSuite& suite, core::ByteView key);
Hash256 merkleValueHash(const core::CryptoSuite& suite, core::ByteView value);
Hash256 merkleLeafHash(const core::CryptoSuite& suite, const Hash256& keyHash,
                       const Hash256& valueHash);

}  // namespace jiancang::chain
