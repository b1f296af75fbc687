#include <core/hash.h>

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace jiancang::core {
namespace {

// FIPS 180-2 appendix B examples.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(sha256(asBytes("abc")).hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256(asBytes("")).hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256(asBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, MillionAs) {
  std::string million(1'000'000, 'a');
  EXPECT_EQ(sha256(asBytes(million)).hex(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// GB/T 32905-2016 appendix A examples.
TEST(Sm3Test, KnownAnswers) {
  EXPECT_EQ(sm3(asBytes("abc")).hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string sixtyFour;
  for (int i = 0; i < 16; ++i) sixtyFour += "abcd";
  EXPECT_EQ(sm3(asBytes(sixtyFour)).hex(),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(HashPartsTest, EqualsHashOfConcatenation) {
  for (HashFunction function : {HashFunction::kSha256, HashFunction::kSm3}) {
    EXPECT_EQ(hashParts(function, {asBytes("ab"), asBytes(""), asBytes("c")}),
              hashParts(function, {asBytes("abc")}));
  }
}

TEST(HashPartsTest, SafeFromSeveralThreads) {
  // Each thread has its own digest context; results must not interfere.
  const Hash256 expected = sha256(asBytes("abc"));
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (sha256(asBytes("abc")) != expected) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace jiancang::core
