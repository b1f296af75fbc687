// Blind boxes and lotteries: commit before the sale, reveal after it, outcomes anyone can
// recompute (chain/fair_random.h, docs/FAIRNESS.md).
#include <algorithm>

#include <chain/executor_internal.h>
#include <chain/fair_random.h>

namespace jiancang::chain::detail {
namespace {

core::Result<BlindBoxRecord> loadBox(TxContext& context, SeriesId boxSeries) {
  auto box = context.load<BlindBoxRecord>(state_keys::blindBox(boxSeries));
  if (!box) {
    return missing("blind-box-not-found", "series " + boxSeries.toString() + " is not a blind box");
  }
  return std::move(*box);
}

Status wrongStage(const BlindBoxRecord& box, std::string_view wanted) {
  static constexpr std::string_view kStages[] = {"", "committed", "sealed", "revealed", "expired"};
  return refused("blind-box-wrong-stage", "blind box " + box.boxSeries.toString() + " is " +
                                              std::string(kStages[static_cast<int>(box.stage)]) +
                                              ", not " + std::string(wanted));
}

// Returns every item series' reservation for boxes that will never be opened.
Status releaseReservations(TxContext& context, const std::vector<SeriesCount>& items) {
  for (const SeriesCount& item : items) {
    auto series = context.series(item.series);
    if (!series) return series.status();
    series->reserved -= std::min<std::uint64_t>(series->reserved, item.count);
    context.save(state_keys::series(item.series), *series);
  }
  return {};
}

}  // namespace

Status apply(TxContext& context, const CommitBlindBox& op) {
  auto boxSeries = context.ownSeries(op.boxSeries);
  if (!boxSeries) return boxSeries.status();
  if (boxSeries->isBlindBox) {
    return refused("blind-box-exists",
                   "series " + op.boxSeries.toString() + " already has contents");
  }
  if (boxSeries->minted > 0) {
    return refused("blind-box-series-already-minted",
                   "contents must be committed before the first box is minted");
  }
  std::uint64_t total = 0;
  for (const SeriesCount& item : op.contents) total += item.count;
  if (total != boxSeries->editionCap) {
    return refused("blind-box-size-mismatch", "the contents hold " + std::to_string(total) +
                                                  " items but the box series has " +
                                                  std::to_string(boxSeries->editionCap) + " boxes");
  }
  if (!(context.now() < op.revealDeadline)) {
    return refused("reveal-deadline-passed", "the reveal deadline is already past");
  }
  for (const SeriesCount& item : op.contents) {
    auto itemSeries = context.ownSeries(item.series);
    if (!itemSeries) return itemSeries.status();
    if (itemSeries->isBlindBox) {
      return refused("blind-box-nested", "a blind box cannot contain boxes");
    }
    std::uint64_t free = itemSeries->editionCap - itemSeries->minted - itemSeries->reserved;
    if (item.count > free) {
      return refused("item-cap-insufficient",
                     "series " + item.series.toString() + " has room for " + std::to_string(free) +
                         " more tokens, the box needs " + std::to_string(item.count));
    }
    itemSeries->reserved += item.count;
    context.save(state_keys::series(item.series), *itemSeries);
  }
  boxSeries->isBlindBox = true;
  context.save(state_keys::series(op.boxSeries), *boxSeries);
  BlindBoxRecord box;
  box.boxSeries = op.boxSeries;
  box.contents = op.contents;
  box.seedCommitment = op.seedCommitment;
  box.revealDeadline = op.revealDeadline;
  context.save(state_keys::blindBox(op.boxSeries), box);
  return {};
}

Status apply(TxContext& context, const SealBlindBox& op) {
  auto boxSeries = context.ownSeries(op.boxSeries);
  if (!boxSeries) return boxSeries.status();
  auto box = loadBox(context, op.boxSeries);
  if (!box) return box.status();
  if (box->stage != BlindBoxStage::kCommitted) return wrongStage(*box, "committed");
  box->stage = BlindBoxStage::kSealed;
  box->sealedAtHeight = context.height();
  context.save(state_keys::blindBox(op.boxSeries), *box);
  return {};
}

Status apply(TxContext& context, const RevealBlindBox& op) {
  auto boxSeries = context.ownSeries(op.boxSeries);
  if (!boxSeries) return boxSeries.status();
  auto box = loadBox(context, op.boxSeries);
  if (!box) return box.status();
  if (box->stage != BlindBoxStage::kSealed) return wrongStage(*box, "sealed");
  if (context.height() <= box->sealedAtHeight) {
    return refused("reveal-too-early", "the reveal must come in a block after the sealing block");
  }
  if (context.now() > box->revealDeadline) {
    return refused("reveal-deadline-passed", "the reveal deadline passed; boxes are refundable");
  }
  if (seedCommitment(context.chain.crypto(), op.seed) != box->seedCommitment) {
    return refused("seed-mismatch", "the seed does not match the committed hash");
  }
  auto sealingHash = context.blockHashAt(box->sealedAtHeight);
  if (!sealingHash) return sealingHash.status();
  box->seed = op.seed;
  box->shuffleSeed =
      blindBoxShuffleSeed(context.chain.crypto(), op.seed, *sealingHash, op.boxSeries);
  box->stage = BlindBoxStage::kRevealed;
  std::vector<SeriesId> items =
      assignBlindBoxItems(context.chain.crypto(), box->shuffleSeed, box->contents);
  // Sold boxes get their items; the items of unsold serials go back to their series.
  std::vector<SeriesCount> unsold;
  for (std::uint64_t serial = 1; serial <= items.size(); ++serial) {
    SeriesId item = items[serial - 1];
    if (serial <= boxSeries->minted) {
      context.save(state_keys::boxAssignment(op.boxSeries, serial),
                   BoxAssignmentRecord{item, false});
      continue;
    }
    auto entry = std::find_if(unsold.begin(), unsold.end(),
                              [&](const SeriesCount& c) { return c.series == item; });
    if (entry == unsold.end()) {
      unsold.push_back(SeriesCount{item, 1});
    } else {
      ++entry->count;
    }
  }
  if (Status status = releaseReservations(context, unsold); !status.isOk()) return status;
  context.save(state_keys::blindBox(op.boxSeries), *box);
  return {};
}

Status apply(TxContext& context, const OpenBlindBox& op) {
  auto boxToken = context.signersToken(op.box);
  if (!boxToken) return boxToken.status();
  auto box = loadBox(context, op.box.series);
  if (!box) return box.status();
  if (box->stage != BlindBoxStage::kRevealed) return wrongStage(*box, "revealed");
  Bytes assignmentKey = state_keys::boxAssignment(op.box.series, op.box.serial);
  auto assignment = context.load<BoxAssignmentRecord>(assignmentKey);
  if (!assignment) return missing("box-not-assigned", "box " + op.box.toString() + " has no item");
  auto itemSeries = context.series(assignment->itemSeries);
  if (!itemSeries) return itemSeries.status();
  auto boxSeries = context.series(op.box.series);
  if (!boxSeries) return boxSeries.status();

  context.burnToken(op.box, *boxToken);
  ++boxSeries->burned;
  context.save(state_keys::series(op.box.series), *boxSeries);
  if (Status status = context.mintTokens(*itemSeries, {context.signer}, true); !status.isOk()) {
    return status;
  }
  context.save(state_keys::series(assignment->itemSeries), *itemSeries);
  assignment->opened = true;
  context.save(assignmentKey, *assignment);
  ++box->opened;
  context.save(state_keys::blindBox(op.box.series), *box);
  context.receipt.createdId = assignment->itemSeries.value();
  return {};
}

Status apply(TxContext& context, const RefundBlindBox& op) {
  auto boxToken = context.signersToken(op.box);
  if (!boxToken) return boxToken.status();
  auto box = loadBox(context, op.box.series);
  if (!box) return box.status();
  if (box->stage == BlindBoxStage::kRevealed) {
    return refused("refund-not-available", "the box was revealed: open it instead");
  }
  if (box->stage != BlindBoxStage::kExpired) {
    if (!(context.now() > box->revealDeadline)) {
      return refused("refund-not-available", "the reveal deadline has not passed yet");
    }
    // The first refund expires the box for good and frees every item it had reserved.
    box->stage = BlindBoxStage::kExpired;
    if (Status status = releaseReservations(context, box->contents); !status.isOk()) return status;
    context.save(state_keys::blindBox(op.box.series), *box);
  }
  auto boxSeries = context.series(op.box.series);
  if (!boxSeries) return boxSeries.status();
  context.burnToken(op.box, *boxToken);
  ++boxSeries->burned;
  context.save(state_keys::series(op.box.series), *boxSeries);
  return {};
}

Status apply(TxContext& context, const CommitLottery& op) {
  auto series = context.ownSeries(op.series);
  if (!series) return series.status();
  ChainHeadRecord head = context.head();
  LotteryRecord lottery;
  lottery.id = LotteryId(head.nextLotteryId++);
  lottery.issuer = context.signer;
  lottery.series = op.series;
  lottery.entrantsRoot = op.entrantsRoot;
  lottery.entrantCount = op.entrantCount;
  lottery.winnerCount = op.winnerCount;
  lottery.seedCommitment = op.seedCommitment;
  lottery.committedAtHeight = context.height();
  context.save(state_keys::lottery(lottery.id), lottery);
  context.save(state_keys::chainHead(), head);
  context.receipt.createdId = lottery.id.value();
  return {};
}

Status apply(TxContext& context, const DrawLottery& op) {
  auto lottery = context.load<LotteryRecord>(state_keys::lottery(op.lottery));
  if (!lottery)
    return missing("lottery-not-found", "lottery " + op.lottery.toString() + " does not exist");
  if (lottery->issuer != context.signer) {
    return denied("not-lottery-issuer",
                  "lottery " + op.lottery.toString() + " belongs to another issuer");
  }
  if (lottery->drawn) return refused("lottery-already-drawn", "the lottery was drawn already");
  if (context.height() <= lottery->committedAtHeight) {
    return refused("draw-too-early", "the draw must come in a block after the commit");
  }
  if (seedCommitment(context.chain.crypto(), op.seed) != lottery->seedCommitment) {
    return refused("seed-mismatch", "the seed does not match the committed hash");
  }
  auto commitHash = context.blockHashAt(lottery->committedAtHeight);
  if (!commitHash) return commitHash.status();
  Hash256 drawSeed = lotteryDrawSeed(context.chain.crypto(), op.seed, *commitHash,
                                     lottery->entrantsRoot, lottery->id);
  lottery->winners = drawLotteryWinners(context.chain.crypto(), drawSeed, lottery->entrantCount,
                                        lottery->winnerCount);
  lottery->seed = op.seed;
  lottery->drawn = true;
  context.save(state_keys::lottery(op.lottery), *lottery);
  return {};
}

}  // namespace jiancang::chain::detail
