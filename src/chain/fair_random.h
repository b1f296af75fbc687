// The documented functions behind blind boxes and lotteries. Anyone can recompute every outcome
// from public values: the revealed seed, a block hash fixed after the seed was committed, and the
// committed contents or entrant list. docs/FAIRNESS.md explains who can influence what.
#pragma once

#include <cstdint>
#include <vector>

#include <chain/types.h>

namespace jiancang::chain {

// A stream of uniform numbers from a 32-byte seed: block i of the stream is
// H("jiancang/random/v1" ‖ seed ‖ i as 8 big-endian bytes); each block yields four 64-bit numbers
// (big-endian). uniformBelow() rejects draws from the biased tail, so every outcome is equally
// likely.
class DeterministicRandom {
 public:
  DeterministicRandom(const core::CryptoSuite& suite, const Hash256& seed);
  std::uint64_t next();
  // Uniform in [0, bound); bound ≥ 1.
  std::uint64_t uniformBelow(std::uint64_t bound);

 private:
  const core::CryptoSuite& suite_;
  Hash256 seed_;
  std::uint64_t blockIndex_ = 0;
  Hash256 block_;
  std::size_t used_ = 4;
};

// H("jiancang/seed-commitment/v1" ‖ seed): what an issuer publishes before a sale.
Hash256 seedCommitment(const core::CryptoSuite& suite, const Hash256& seed);

// H("jiancang/blind-box/v1" ‖ seed ‖ sealing block hash ‖ box series id as 8 big-endian bytes).
Hash256 blindBoxShuffleSeed(const core::CryptoSuite& suite, const Hash256& seed,
                            const core::BlockHash& sealingBlockHash, SeriesId boxSeries);

// The item of every box, index = serial - 1. The committed contents are laid out in commit order
// (count copies of each item series) and shuffled by Fisher–Yates (i from n-1 down to 1, swap
// with uniformBelow(i+1)) driven by DeterministicRandom(shuffleSeed).
std::vector<SeriesId> assignBlindBoxItems(const core::CryptoSuite& suite,
                                          const Hash256& shuffleSeed,
                                          const std::vector<SeriesCount>& contents);

// H("jiancang/lottery/v1" ‖ seed ‖ commit block hash ‖ entrants root ‖ lottery id, 8 bytes BE).
Hash256 lotteryDrawSeed(const core::CryptoSuite& suite, const Hash256& seed,
                        const core::BlockHash& commitBlockHash, const Hash256& entrantsRoot,
                        LotteryId lottery);

// The winning entrant indices in draw order: the first winnerCount positions of a Fisher–Yates
// shuffle of 0..entrantCount-1 (i from 0 up, swap with i + uniformBelow(n - i)).
std::vector<std::uint64_t> drawLotteryWinners(const core::CryptoSuite& suite,
                                              const Hash256& drawSeed, std::uint64_t entrantCount,
                                              std::uint32_t winnerCount);

}  // namespace jiancang::chain
