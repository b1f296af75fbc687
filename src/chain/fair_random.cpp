#include <chain/fair_random.h>

#include <unordered_map>

namespace jiancang::chain {
namespace {

std::array<std::uint8_t, 8> bigEndian(std::uint64_t value) {
  std::array<std::uint8_t, 8> bytes{};
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
  return bytes;
}

}  // namespace

DeterministicRandom::DeterministicRandom(const core::CryptoSuite& suite, const Hash256& seed)
    : suite_(suite), seed_(seed) {}

std::uint64_t DeterministicRandom::next() {
  if (used_ == 4) {
    auto index = bigEndian(blockIndex_++);
    block_ = suite_.hash({core::asBytes("jiancang/random/v1"), seed_.view(), index});
    used_ = 0;
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = value << 8 | block_.array()[used_ * 8 + i];
  ++used_;
  return value;
}

std::uint64_t DeterministicRandom::uniformBelow(std::uint64_t bound) {
  assert(bound >= 1);
  // Accept only draws below the largest multiple of bound: no residue is favoured.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    std::uint64_t value = next();
    if (value < limit) return value % bound;
  }
}

Hash256 seedCommitment(const core::CryptoSuite& suite, const Hash256& seed) {
  return suite.hash({core::asBytes("jiancang/seed-commitment/v1"), seed.view()});
}

Hash256 blindBoxShuffleSeed(const core::CryptoSuite& suite, const Hash256& seed,
                            const core::BlockHash& sealingBlockHash, SeriesId boxSeries) {
  auto series = bigEndian(boxSeries.value());
  return suite.hash(
      {core::asBytes("jiancang/blind-box/v1"), seed.view(), sealingBlockHash.view(), series});
}

std::vector<SeriesId> assignBlindBoxItems(const core::CryptoSuite& suite,
                                          const Hash256& shuffleSeed,
                                          const std::vector<SeriesCount>& contents) {
  std::vector<SeriesId> items;
  for (const SeriesCount& entry : contents) items.insert(items.end(), entry.count, entry.series);
  DeterministicRandom random(suite, shuffleSeed);
  for (std::size_t i = items.size(); i-- > 1;) {
    std::swap(items[i], items[random.uniformBelow(i + 1)]);
  }
  return items;
}

Hash256 lotteryDrawSeed(const core::CryptoSuite& suite, const Hash256& seed,
                        const core::BlockHash& commitBlockHash, const Hash256& entrantsRoot,
                        LotteryId lottery) {
  auto id = bigEndian(lottery.value());
  return suite.hash({core::asBytes("jiancang/lottery/v1"), seed.view(), commitBlockHash.view(),
                     entrantsRoot.view(), id});
}

std::vector<std::uint64_t> drawLotteryWinners(const core::CryptoSuite& suite,
                                              const Hash256& drawSeed, std::uint64_t entrantCount,
                                              std::uint32_t winnerCount) {
  // A sparse Fisher–Yates: only swapped positions are stored, so ten million entrants cost
  // memory in proportion to the winners, not the entrants.
  std::unordered_map<std::uint64_t, std::uint64_t> swapped;
  auto at = [&](std::uint64_t index) {
    auto found = swapped.find(index);
    return found == swapped.end() ? index : found->second;
  };
  DeterministicRandom random(suite, drawSeed);
  std::vector<std::uint64_t> winners;
  winners.reserve(winnerCount);
  for (std::uint64_t i = 0; i < winnerCount && i < entrantCount; ++i) {
    std::uint64_t j = i + random.uniformBelow(entrantCount - i);
    std::uint64_t valueAtI = at(i);
    std::uint64_t valueAtJ = at(j);
    swapped[j] = valueAtI;
    swapped[i] = valueAtJ;
    winners.push_back(valueAtJ);
  }
  return winners;
}

}  // namespace jiancang::chain
