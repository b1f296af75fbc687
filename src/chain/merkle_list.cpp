#include <chain/merkle_list.h>

#include <bit>

namespace jiancang::chain {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

Hash256 leafHash(const core::CryptoSuite& suite, const Hash256& item) {
  return suite.hash({core::ByteView(&kLeafPrefix, 1), item.view()});
}

Hash256 nodeHash(const core::CryptoSuite& suite, const Hash256& left, const Hash256& right) {
  return suite.hash({core::ByteView(&kNodePrefix, 1), left.view(), right.view()});
}

// The largest power of two below n (n ≥ 2): RFC 6962 splits a list there.
std::size_t splitPoint(std::size_t n) { return std::bit_floor(n - 1); }

Hash256 subtreeRoot(const core::CryptoSuite& suite, const Hash256* items, std::size_t n) {
  if (n == 1) return leafHash(suite, items[0]);
  std::size_t k = splitPoint(n);
  return nodeHash(suite, subtreeRoot(suite, items, k), subtreeRoot(suite, items + k, n - k));
}

void collectPath(const core::CryptoSuite& suite, const Hash256* items, std::size_t n,
                 std::size_t index, std::vector<Hash256>& path) {
  if (n == 1) return;
  std::size_t k = splitPoint(n);
  if (index < k) {
    collectPath(suite, items, k, index, path);
    path.push_back(subtreeRoot(suite, items + k, n - k));
  } else {
    collectPath(suite, items + k, n - k, index - k, path);
    path.push_back(subtreeRoot(suite, items, k));
  }
}

}  // namespace

Hash256 listMerkleRoot(const core::CryptoSuite& suite, const std::vector<Hash256>& items) {
  if (items.empty()) return suite.hash(core::ByteView());
  return subtreeRoot(suite, items.data(), items.size());
}

ListMerkleProof listMerkleProof(const core::CryptoSuite& suite, const std::vector<Hash256>& items,
                                std::uint64_t index) {
  ListMerkleProof proof{index, items.size(), {}};
  if (index < items.size()) collectPath(suite, items.data(), items.size(), index, proof.path);
  return proof;
}

bool verifyListMerkleProof(const core::CryptoSuite& suite, const Hash256& root, const Hash256& item,
                           const ListMerkleProof& proof) {
  if (proof.index >= proof.size) return false;
  // Walk the RFC 6962 audit path (RFC 9162 section 2.1.3.2).
  std::uint64_t fn = proof.index;
  std::uint64_t sn = proof.size - 1;
  Hash256 hash = leafHash(suite, item);
  for (const Hash256& sibling : proof.path) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      hash = nodeHash(suite, sibling, hash);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      hash = nodeHash(suite, hash, sibling);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && hash == root;
}

}  // namespace jiancang::chain
