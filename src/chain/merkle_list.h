// Merkle trees over ordered lists (RFC 6962's shape, with the chain's hash function): the
// transactions of a block, the entrants of a lottery. Leaves and inner nodes are hashed with
// different prefixes (0x00, 0x01), so a leaf can never pass for a node.
#pragma once

#include <cstdint>
#include <vector>

#include <core/crypto.h>

namespace jiancang::chain {

using core::Hash256;

struct ListMerkleProof {
  std::uint64_t index = 0;
  std::uint64_t size = 0;
  std::vector<Hash256> path;  // sibling hashes, from the leaf up
};

// The root of `items` (each item already a hash). The empty list's root is the hash of nothing.
Hash256 listMerkleRoot(const core::CryptoSuite& suite, const std::vector<Hash256>& items);
ListMerkleProof listMerkleProof(const core::CryptoSuite& suite, const std::vector<Hash256>& items,
                                std::uint64_t index);
bool verifyListMerkleProof(const core::CryptoSuite& suite, const Hash256& root, const Hash256& item,
                           const ListMerkleProof& proof);

}  // namespace jiancang::chain
