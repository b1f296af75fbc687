#include <ledger/read_cache.h>

#include <gtest/gtest.h>

#include <chain/testing/test_chain.h>

namespace jiancang::ledger {
namespace {

core::Bytes bytesOf(const std::string& text) { return core::Bytes(text.begin(), text.end()); }

TEST(ReadCacheTest, KeepsNodesByHash) {
  ReadCache cache(1u << 20);
  chain::Hash256 hash = chain::testing::testHash("node");
  EXPECT_FALSE(cache.findNode(hash).has_value());
  chain::MerkleNode node;
  node.isLeaf = true;
  node.first = chain::testing::testHash("key");
  node.second = chain::testing::testHash("value");
  cache.putNode(hash, node);
  ASSERT_TRUE(cache.findNode(hash).has_value());
  EXPECT_EQ(*cache.findNode(hash), node);
}

TEST(ReadCacheTest, RemembersValuesAndAbsence) {
  ReadCache cache(1u << 20);
  auto miss = cache.findState(bytesOf("a"));
  EXPECT_FALSE(miss.hit);
  cache.fillState(bytesOf("a"), bytesOf("1"), miss.generation);
  auto missB = cache.findState(bytesOf("b"));
  cache.fillState(bytesOf("b"), std::nullopt, missB.generation);

  auto a = cache.findState(bytesOf("a"));
  ASSERT_TRUE(a.hit);
  EXPECT_EQ(a.value, bytesOf("1"));
  auto b = cache.findState(bytesOf("b"));
  ASSERT_TRUE(b.hit);
  EXPECT_FALSE(b.value.has_value());
}

TEST(ReadCacheTest, AFillRacingACommitIsDropped) {
  ReadCache cache(1u << 20);
  // A reader misses, then reads the old value from storage while a block commits a new one.
  auto miss = cache.findState(bytesOf("k"));
  ASSERT_FALSE(miss.hit);
  cache.commitState({{bytesOf("k"), bytesOf("new")}});
  cache.fillState(bytesOf("k"), bytesOf("old"), miss.generation);  // too late: dropped
  auto now = cache.findState(bytesOf("k"));
  ASSERT_TRUE(now.hit);
  EXPECT_EQ(now.value, bytesOf("new"));

  // A delete is cached as absence.
  cache.commitState({{bytesOf("k"), std::nullopt}});
  auto deleted = cache.findState(bytesOf("k"));
  ASSERT_TRUE(deleted.hit);
  EXPECT_FALSE(deleted.value.has_value());
}

TEST(ReadCacheTest, StaysWithinItsBudget) {
  ReadCache cache(64u << 10);  // 64 KiB: a few hundred entries
  for (int i = 0; i < 10'000; ++i) {
    auto key = bytesOf("key" + std::to_string(i));
    cache.fillState(key, core::Bytes(100, 7), cache.findState(key).generation);
  }
  int kept = 0;
  for (int i = 0; i < 10'000; ++i) kept += cache.findState(bytesOf("key" + std::to_string(i))).hit;
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 1'000);
}

}  // namespace
}  // namespace jiancang::ledger
