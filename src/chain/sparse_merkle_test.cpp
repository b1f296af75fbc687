#include <chain/sparse_merkle.h>

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace jiancang::chain {
namespace {

using core::Bytes;

const core::CryptoSuite& suite() { return core::cryptoSuite(core::SuiteId::kEd25519Sha256); }

Hash256 keyHash(std::uint64_t n) {
  return merkleKeyHash(suite(), core::asBytes(std::to_string(n)));
}
Hash256 valueHash(std::uint64_t n) {
  return merkleValueHash(suite(), core::asBytes("v" + std::to_string(n)));
}

// A tree kept in memory with the map of what it should contain.
struct Model {
  MemoryMerkleNodes nodes;
  Hash256 root;
  std::map<Hash256, Hash256> contents;

  void apply(std::vector<MerkleUpdate> updates) {
    for (const MerkleUpdate& u : updates) {
      if (u.valueHash) {
        contents[u.keyHash] = *u.valueHash;
      } else {
        contents.erase(u.keyHash);
      }
    }
    auto result = updateMerkleTree(suite(), nodes, root, std::move(updates));
    ASSERT_TRUE(result.has_value());
    nodes.insert(result->newNodes);
    root = result->root;
  }

  // The root of the same contents built in one batch from an empty tree.
  Hash256 rebuiltRoot() const {
    std::vector<MerkleUpdate> all;
    for (const auto& [key, value] : contents) all.push_back({key, value});
    MemoryMerkleNodes fresh;
    return updateMerkleTree(suite(), fresh, Hash256(), all)->root;
  }
};

TEST(SparseMerkleTest, EmptyTreeAndSingleLeaf) {
  Model model;
  EXPECT_TRUE(model.root.isZero());
  model.apply({{keyHash(1), valueHash(1)}});
  EXPECT_EQ(model.root, merkleLeafHash(suite(), keyHash(1), valueHash(1)));
  model.apply({{keyHash(1), std::nullopt}});
  EXPECT_TRUE(model.root.isZero());
  model.apply({{keyHash(2), std::nullopt}});  // deleting an absent key changes nothing
  EXPECT_TRUE(model.root.isZero());
}

TEST(SparseMerkleTest, RootDependsOnlyOnContents) {
  std::mt19937_64 random(3);
  Model incremental;
  for (int round = 0; round < 60; ++round) {
    std::vector<MerkleUpdate> batch;
    std::set<std::uint64_t> used;
    for (int i = 0; i < 1 + static_cast<int>(random() % 40); ++i) {
      std::uint64_t key = random() % 300;
      if (!used.insert(key).second) continue;
      if (random() % 4 == 0) {
        batch.push_back({keyHash(key), std::nullopt});
      } else {
        batch.push_back({keyHash(key), valueHash(random() % 5)});
      }
    }
    incremental.apply(batch);
    ASSERT_EQ(incremental.root, incremental.rebuiltRoot()) << "round " << round;
  }
  EXPECT_FALSE(incremental.contents.empty());
}

TEST(SparseMerkleTest, ProofsForPresentAndAbsentKeys) {
  Model model;
  std::vector<MerkleUpdate> batch;
  for (std::uint64_t i = 0; i < 500; i += 2) batch.push_back({keyHash(i), valueHash(i)});
  model.apply(batch);
  for (std::uint64_t i = 0; i < 500; ++i) {
    auto proof = proveMerkleKey(model.nodes, model.root, keyHash(i));
    ASSERT_TRUE(proof.has_value());
    std::optional<Hash256> expected;
    if (i % 2 == 0) expected = valueHash(i);
    EXPECT_TRUE(verifyMerkleProof(suite(), model.root, keyHash(i), expected, *proof).isOk()) << i;
    // The opposite claim fails.
    std::optional<Hash256> wrong = expected ? std::nullopt : std::optional<Hash256>(valueHash(i));
    EXPECT_FALSE(verifyMerkleProof(suite(), model.root, keyHash(i), wrong, *proof).isOk()) << i;
    if (expected) {
      EXPECT_EQ(
          verifyMerkleProof(suite(), model.root, keyHash(i), valueHash(i + 1), *proof).reason(),
          "proof-value-mismatch");
    }
  }
}

TEST(SparseMerkleTest, AnySingleByteChangeBreaksTheProof) {
  Model model;
  std::vector<MerkleUpdate> batch;
  for (std::uint64_t i = 0; i < 200; ++i) batch.push_back({keyHash(i), valueHash(i)});
  model.apply(batch);
  auto proof = proveMerkleKey(model.nodes, model.root, keyHash(7));
  ASSERT_TRUE(proof.has_value());
  Bytes encoded = core::encode(*proof);
  std::mt19937_64 random(5);
  for (int trial = 0; trial < 500; ++trial) {
    Bytes corrupted = encoded;
    std::size_t at = random() % corrupted.size();
    corrupted[at] ^= static_cast<std::uint8_t>(1 + random() % 255);
    auto decoded = core::decode<MerkleProof>(corrupted);
    if (!decoded) continue;
    EXPECT_FALSE(verifyMerkleProof(suite(), model.root, keyHash(7), valueHash(7), *decoded).isOk())
        << "byte " << at;
  }
  for (std::size_t byte = 0; byte < 32; ++byte) {
    Hash256 wrongRoot = model.root;
    wrongRoot.mutableArray()[byte] ^= 0x01;
    EXPECT_EQ(verifyMerkleProof(suite(), wrongRoot, keyHash(7), valueHash(7), *proof).reason(),
              "proof-root-mismatch");
  }
}

TEST(SparseMerkleTest, OldRootsStayProvable) {
  Model model;
  model.apply({{keyHash(1), valueHash(1)}, {keyHash(2), valueHash(2)}});
  Hash256 oldRoot = model.root;
  model.apply({{keyHash(1), valueHash(9)}, {keyHash(3), valueHash(3)}});
  auto oldProof = proveMerkleKey(model.nodes, oldRoot, keyHash(1));
  ASSERT_TRUE(oldProof.has_value());
  EXPECT_TRUE(verifyMerkleProof(suite(), oldRoot, keyHash(1), valueHash(1), *oldProof).isOk());
  auto newProof = proveMerkleKey(model.nodes, model.root, keyHash(1));
  EXPECT_TRUE(verifyMerkleProof(suite(), model.root, keyHash(1), valueHash(9), *newProof).isOk());
}

TEST(SparseMerkleTest, MissingNodesAreReportedNotGuessed) {
  Model model;
  model.apply({{keyHash(1), valueHash(1)}, {keyHash(2), valueHash(2)}});
  MemoryMerkleNodes empty;
  EXPECT_FALSE(
      updateMerkleTree(suite(), empty, model.root, {{keyHash(3), valueHash(3)}}).has_value());
  EXPECT_FALSE(proveMerkleKey(empty, model.root, keyHash(1)).has_value());
}

}  // namespace
}  // namespace jiancang::chain
