#include <chain/merkle_list.h>

#include <gtest/gtest.h>

namespace jiancang::chain {
namespace {

const core::CryptoSuite& suite() { return core::cryptoSuite(core::SuiteId::kEd25519Sha256); }

std::vector<Hash256> items(std::size_t n) {
  std::vector<Hash256> result;
  for (std::size_t i = 0; i < n; ++i)
    result.push_back(core::sha256(core::asBytes(std::to_string(i))));
  return result;
}

TEST(ListMerkleTest, EveryProofOfEverySizeVerifies) {
  for (std::size_t n = 1; n <= 33; ++n) {
    auto list = items(n);
    Hash256 root = listMerkleRoot(suite(), list);
    for (std::size_t i = 0; i < n; ++i) {
      ListMerkleProof proof = listMerkleProof(suite(), list, i);
      EXPECT_TRUE(verifyListMerkleProof(suite(), root, list[i], proof)) << n << " " << i;
      if (n > 1) {
        EXPECT_FALSE(verifyListMerkleProof(suite(), root, list[(i + 1) % n], proof));
        ListMerkleProof moved = proof;
        moved.index = (i + 1) % n;
        EXPECT_FALSE(verifyListMerkleProof(suite(), root, list[i], moved)) << n << " " << i;
      }
      if (!proof.path.empty()) {
        ListMerkleProof tampered = proof;
        tampered.path.back().mutableArray()[0] ^= 1;
        EXPECT_FALSE(verifyListMerkleProof(suite(), root, list[i], tampered));
        ListMerkleProof shortened = proof;
        shortened.path.pop_back();
        EXPECT_FALSE(verifyListMerkleProof(suite(), root, list[i], shortened));
      }
    }
  }
}

TEST(ListMerkleTest, RootsDependOnOrderAndContent) {
  auto list = items(5);
  Hash256 root = listMerkleRoot(suite(), list);
  std::swap(list[1], list[2]);
  EXPECT_NE(listMerkleRoot(suite(), list), root);
  EXPECT_NE(listMerkleRoot(suite(), items(4)), listMerkleRoot(suite(), items(5)));
  EXPECT_EQ(listMerkleRoot(suite(), {}), suite().hash(core::ByteView()));
}

}  // namespace
}  // namespace jiancang::chain
